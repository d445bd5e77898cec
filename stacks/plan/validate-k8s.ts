import type { K8sObject } from "./k8s-objects";

/** Where the OpenAPI-derived models of each API group live. */
function modulePath(apiVersion: string): string | undefined {
  const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
  if (group === "") return `kubernetes-models/${version}`;
  if (group.endsWith(".istio.io")) return `@kubernetes-models/istio/${group}/${version}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}`;
  if (group === "keda.sh") return `@kubernetes-models/keda/${group}/${version}`;
  // No model package covers KEDA's HTTP add-on: its schema is restated from the CRD there.
  if (apiVersion === "http.keda.sh/v1alpha1") return "../../components/k8s/keda-http-schema";
  if (group === "karpenter.sh" || group === "karpenter.k8s.aws") return `@kubernetes-models/karpenter/${group}/${version}`;
  if (!group.includes(".") || group.endsWith(".k8s.io")) {
    // Built-in groups: "apps", "batch", "policy", "autoscaling" and the *.k8s.io ones.
    return `kubernetes-models/${group}/${version}`;
  }
  return undefined;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

const cache = new Map<string, Promise<Record<string, unknown> | null>>();

/** The model packages are ES modules with only an "import" export condition: load them with import(). */
function loadGroup(path: string): Promise<Record<string, unknown> | null> {
  let group = cache.get(path);
  if (!group) {
    group = (import(path) as Promise<Record<string, unknown>>).catch(() => null);
    cache.set(path, group);
  }
  return group;
}

export interface ValidationProblem {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  message: string;
}

/**
 * Validates an object against its OpenAPI schema (kubernetes-models for core, Istio and
 * prometheus-operator). An object whose kind has no schema is a problem too: the plan must not
 * let unvalidated objects through.
 */
export async function validateK8sObject(object: K8sObject): Promise<ValidationProblem | undefined> {
  const where = {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata?.name ?? "(unnamed)",
    namespace: object.metadata?.namespace,
  };
  const path = modulePath(object.apiVersion);
  const group = path ? await loadGroup(path) : null;
  const Model = group?.[object.kind] as ModelClass | undefined;
  if (!Model)
    return { ...where, message: `no schema for ${object.apiVersion} ${object.kind}; add its model package to stacks/plan/validate-k8s.ts` };
  try {
    new Model(object).validate();
    return undefined;
  } catch (error) {
    return { ...where, message: describe(error) };
  }
}

function describe(error: unknown): string {
  const e = error as { message?: string; errors?: { instancePath?: string; message?: string; params?: unknown }[] };
  if (Array.isArray(e.errors) && e.errors.length) {
    return e.errors
      .slice(0, 5)
      .map((x) => `${x.instancePath || "/"} ${x.message ?? ""}${x.params ? ` ${JSON.stringify(x.params)}` : ""}`)
      .join("; ");
  }
  return e.message ?? String(error);
}
