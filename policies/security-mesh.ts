import type { PolicyResource } from "@pulumi/policy";
import { isKind, objectMeta } from "./kubernetes";
import { safeProp } from "./links";
import { asArray, asRecord, facts, get, type PlatformPolicy, violation } from "./support";

/**
 * The service mesh: mesh-wide STRICT mutual TLS, and a default-deny AuthorizationPolicy so a
 * workload is reachable only by the callers an explicit ALLOW policy names.
 */

const ISTIO_SECURITY = "security.istio.io";
const rootNamespace = {
  type: "string",
  default: "istio-system",
  description: "Istio's root namespace: policies there apply mesh-wide.",
} as const;

function meta(resource: PolicyResource) {
  return objectMeta(asRecord(resource.props), resource.name);
}

function spec(resource: PolicyResource): Record<string, unknown> {
  return asRecord(safeProp(resource, "spec"));
}

/**
 * Whether a policy's spec picks workloads (or, for an AuthorizationPolicy, targets) rather than a
 * whole namespace. Istio reads a selector without labels as no selector (pilot applies a policy
 * whose `selector.matchLabels` is empty namespace-wide) and an empty `targetRefs` as none.
 */
function workloadScoped(s: Record<string, unknown>): boolean {
  const labels = Object.keys(asRecord(get(s, "selector", "matchLabels")));
  return labels.length > 0 || s.targetRef !== undefined || asArray(s.targetRefs).length > 0;
}

export const istioStrictMtls: PlatformPolicy = {
  area: "security",
  name: "istio-strict-mtls",
  description: "A mesh-wide PeerAuthentication in Istio's root namespace sets mTLS STRICT, and no PeerAuthentication relaxes it.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { rootNamespace } },
  validateStack: (args, report) => {
    const { rootNamespace: root } = args.getConfig<{ rootNamespace: string }>();
    const peers = args.resources.filter((r) => isKind(r.type, ISTIO_SECURITY, "PeerAuthentication"));
    const meshWide = peers.find((p) => meta(p).namespace === root && !workloadScoped(spec(p)) && get(spec(p), "mtls", "mode") === "STRICT");
    if (!meshWide) {
      report(
        violation(
          "the stack",
          `has no mesh-wide STRICT PeerAuthentication in namespace ${root}`,
          `create a security.istio.io/v1 PeerAuthentication "default" in ${root} with spec: { mtls: { mode: "STRICT" } }`,
        ),
      );
    }
    for (const peer of peers) {
      const modes = [get(spec(peer), "mtls", "mode"), ...Object.values(asRecord(spec(peer).portLevelMtls)).map((m) => get(m, "mode"))];
      const weak = modes.filter((m) => m === "PERMISSIVE" || m === "DISABLE");
      if (weak.length)
        report(
          violation(
            `PeerAuthentication "${meta(peer).ref}"`,
            `sets mTLS ${weak.join(", ")}`,
            'use mode "STRICT" (or UNSET to inherit the mesh-wide STRICT)',
          ),
          peer.urn,
        );
    }
  },
};

/** An AuthorizationPolicy that matches nothing (ALLOW with no rules) or denies everything. */
function isDenyAll(policy: PolicyResource): boolean {
  const s = spec(policy);
  if (workloadScoped(s)) return false;
  const action = s.action ?? "ALLOW";
  const rules = asArray(s.rules);
  if (action === "ALLOW") return rules.length === 0;
  return action === "DENY" && rules.some((r) => Object.keys(asRecord(r)).length === 0);
}

export const istioDefaultDeny: PlatformPolicy = {
  area: "security",
  name: "istio-default-deny",
  description:
    "A default-deny AuthorizationPolicy (allow-nothing) covers every namespace the platform runs workloads in, mesh-wide or per namespace.",
  enforcementLevel: "mandatory",
  configSchema: { properties: { rootNamespace, servingNamespace: facts.servingNamespace, platformNamespace: facts.platformNamespace } },
  validateStack: (args, report) => {
    const cfg = args.getConfig<{ rootNamespace: string; servingNamespace: string; platformNamespace: string }>();
    const denyAll = args.resources.filter((r) => isKind(r.type, ISTIO_SECURITY, "AuthorizationPolicy") && isDenyAll(r));
    const covered = new Set(denyAll.map((p) => meta(p).namespace));
    if (covered.has(cfg.rootNamespace)) return;
    // Namespaces with sidecars: the platform's own two, and any Namespace labelled for injection.
    const injected = args.resources
      .filter((r) => isKind(r.type, "core", "Namespace"))
      .filter((ns) => {
        const labels = meta(ns).labels;
        // Istio's revision webhook selects `istio.io/rev in (rev), istio-injection DoesNotExist`.
        const injection = labels["istio-injection"];
        return injection === "enabled" || (injection === undefined && labels["istio.io/rev"] !== undefined);
      })
      .map((ns) => meta(ns).name);
    for (const namespace of new Set([cfg.platformNamespace, cfg.servingNamespace, ...injected])) {
      if (!covered.has(namespace)) {
        report(
          violation(
            `namespace ${namespace}`,
            "has no default-deny AuthorizationPolicy, so every workload in the mesh may call its services",
            `create a security.istio.io/v1 AuthorizationPolicy "allow-nothing" with spec: {} in ${namespace} (or one in ${cfg.rootNamespace} for the whole mesh), then ALLOW policies per caller`,
          ),
        );
      }
    }
  },
};

export const meshPolicies: PlatformPolicy[] = [istioStrictMtls, istioDefaultDeny];
