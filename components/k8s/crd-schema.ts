import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/**
 * Schema validation of the custom resources the platform layer builds (Istio security,
 * prometheus-operator), against the OpenAPI schemas shipped by @kubernetes-models.
 *
 * Those packages are ES modules with only an "import" export condition, so `require` cannot load
 * them. tsx and vitest keep a dynamic `import()` as it is written; TypeScript's CommonJS output
 * (Pulumi's ts-node, `tsc`) turns it into `require`, which fails: then the import is made through
 * a Function, which the compiler cannot rewrite (vitest's sandbox, in turn, cannot run that one).
 */
const nativeImport = new Function("specifier", "return import(specifier)") as (specifier: string) => Promise<Record<string, unknown>>;

async function loadModels(pkg: string): Promise<Record<string, unknown>> {
  try {
    return (await import(pkg)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "ERR_PACKAGE_PATH_NOT_EXPORTED" && code !== "ERR_REQUIRE_ESM") throw error;
    return nativeImport(pkg);
  }
}

/** The model packages of the API groups built here. */
const MODEL_PACKAGES: Record<string, string> = {
  "security.istio.io/v1": "@kubernetes-models/istio/security.istio.io/v1",
  "networking.istio.io/v1": "@kubernetes-models/istio/networking.istio.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "keda.sh/v1alpha1": "@kubernetes-models/keda/keda.sh/v1alpha1",
  "karpenter.sh/v1": "@kubernetes-models/karpenter/karpenter.sh/v1",
  "karpenter.k8s.aws/v1": "@kubernetes-models/karpenter/karpenter.k8s.aws/v1",
};

/** A namespaced custom resource as the API server receives it. */
export interface CrdObject<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Spec;
}

/** A cluster-scoped custom resource (Karpenter's NodePool and EC2NodeClass): no namespace. */
export interface ClusterCrdObject<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Spec;
}

type AnyCrdObject<Spec = unknown> = CrdObject<Spec> | ClusterCrdObject<Spec>;

interface SchemaModel {
  validate(): void;
}

function describe(error: unknown): string {
  const e = error as { message?: string; errors?: { instancePath?: string; message?: string }[] };
  if (Array.isArray(e.errors) && e.errors.length)
    return e.errors.map((x) => `${x.instancePath || "/"} ${x.message ?? ""}`.trim()).join("; ");
  return e.message ?? String(error);
}

/**
 * Resolves to the object when it matches its kind's schema; rejects naming the object, the
 * field path and what is wrong otherwise (and for a kind with no known schema).
 */
export async function validateCrd<T extends AnyCrdObject>(object: T): Promise<T> {
  const namespace = "namespace" in object.metadata ? `${object.metadata.namespace}/` : "";
  const where = `${object.kind} ${namespace}${object.metadata.name}`;
  const pkg = MODEL_PACKAGES[object.apiVersion];
  if (!pkg) throw new Error(`${where}: no schema for ${object.apiVersion}; add its model package to components/k8s/crd-schema.ts`);
  const Model = (await loadModels(pkg))[object.kind] as (new (data: unknown) => SchemaModel) | undefined;
  if (!Model) throw new Error(`${where}: ${pkg} has no ${object.kind}`);
  try {
    new Model(object).validate();
  } catch (error) {
    throw new Error(`${where} does not match its schema: ${describe(error)}`);
  }
  return object;
}

/**
 * A custom resource whose spec reaches the engine only after it passed its schema: an invalid
 * object fails its own registration (and so the plan) with the reason.
 */
export function validatedCustomResource(
  name: string,
  object: AnyCrdObject<pulumi.Input<object> | undefined>,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  // The spec may hold outputs (ids of subnets, roles); it is validated once they are known.
  const spec = pulumi
    .output((object.spec ?? {}) as pulumi.Input<object>)
    .apply((resolved) => validateCrd({ ...object, spec: resolved }))
    .apply((o) => o.spec);
  return new k8s.apiextensions.CustomResource(
    name,
    { apiVersion: object.apiVersion, kind: object.kind, metadata: object.metadata, spec },
    opts,
  );
}
