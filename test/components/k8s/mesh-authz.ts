import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { MeshObject } from "../../../components/k8s";

/** A request as Istio's authorization sees it at the destination's sidecar. */
export interface AuthzRequest {
  source: { principal: string; namespace: string };
  namespace: string;
  labels: Record<string, string>;
  port: number;
  method: string;
  path: string;
}

export interface Policy {
  namespace: string;
  spec: NonNullable<IAuthorizationPolicy["spec"]>;
}

export function policiesOf(objects: MeshObject[]): Policy[] {
  return objects
    .map((o) => o.object)
    .filter((o) => o.kind === "AuthorizationPolicy")
    .map((o) => ({ namespace: o.metadata.namespace, spec: (o.spec ?? {}) as Policy["spec"] }));
}

const any = <T>(list: T[] | undefined, test: (v: T) => boolean) => list === undefined || list.some(test);

/**
 * Istio's ALLOW semantics for the subset the platform uses (selector matchLabels; source
 * principals/namespaces; operation ports/methods/paths): when any ALLOW policy applies to the
 * workload, a request is allowed only if some rule of some applicable policy matches it.
 */
export function allowed(policies: Policy[], r: AuthzRequest): boolean {
  const applicable = policies.filter(
    (p) =>
      p.namespace === r.namespace &&
      (p.spec.action ?? "ALLOW") === "ALLOW" &&
      Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => r.labels[k] === v),
  );
  if (applicable.length === 0) return true;
  return applicable.some((p) =>
    (p.spec.rules ?? []).some(
      (rule) =>
        any(
          rule.from,
          (f) => any(f.source?.principals, (x) => x === r.source.principal) && any(f.source?.namespaces, (x) => x === r.source.namespace),
        ) &&
        any(
          rule.to,
          (t) =>
            any(t.operation?.ports, (x) => x === String(r.port)) &&
            any(t.operation?.methods, (x) => x === r.method) &&
            any(t.operation?.paths, (x) => x === r.path),
        ),
    ),
  );
}
