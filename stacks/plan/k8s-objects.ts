import type { PlanResource } from "../../components/plan-resource";

/** A Kubernetes object as it would be sent to the API server. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Types that are Pulumi Kubernetes resources but not API objects (providers, Helm releases, components). */
const NOT_OBJECTS = [/^pulumi:providers:/, /^kubernetes:helm\.sh\//, /^kubernetes:yaml:/, /^kubernetes:kustomize:/];

/**
 * The Kubernetes object a plan resource would create, or undefined when it is not one.
 * Typed resources carry apiVersion/kind in their token ("kubernetes:apps/v1:Deployment" ->
 * apps/v1 Deployment; "core/v1" is the core group "v1"); CustomResources carry them in their inputs.
 */
export function toK8sObject(resource: PlanResource): K8sObject | undefined {
  if (!resource.custom || !resource.type.startsWith("kubernetes:")) return undefined;
  if (NOT_OBJECTS.some((re) => re.test(resource.type))) return undefined;
  const [, groupVersion = "", kindFromType = ""] = resource.type.split(":");
  const inputs = resource.inputs as Record<string, unknown>;
  const apiVersion = (inputs.apiVersion as string | undefined) ?? (groupVersion.startsWith("core/") ? groupVersion.slice(5) : groupVersion);
  const kind = (inputs.kind as string | undefined) ?? kindFromType;
  const object: K8sObject = { ...inputs, apiVersion, kind };
  // Pulumi auto-names objects without metadata.name (name + random suffix); the API server needs one.
  object.metadata = {
    ...(inputs.metadata as K8sObject["metadata"]),
    name: (inputs.metadata as K8sObject["metadata"])?.name ?? resource.name,
  };
  return stripUndefined(object) as K8sObject;
}

function stripUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripUndefined);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, stripUndefined(v)]),
    );
  }
  return value;
}
