import type { PolicyResource } from "@pulumi/policy";
import { isKind, objectMeta } from "./kubernetes";
import { safeProp } from "./links";
import { asArray, asRecord, get, type PlatformPolicy, violation } from "./support";

/**
 * Istio traffic security beyond mTLS mode and default deny (security-mesh.ts): an ALLOW policy
 * that matches every request voids the default deny; a DestinationRule can switch TLS off for a
 * host; a Gateway server can accept plain HTTP from outside the mesh.
 */

const meta = (r: PolicyResource) => objectMeta(asRecord(r.props), r.name);
const spec = (r: PolicyResource) => asRecord(safeProp(r, "spec"));

/** Whether a Source or Operation constrains nothing: no field, or only empty lists (Istio reads an empty list as unset). */
const constrainsNothing = (fields: unknown) => Object.values(asRecord(fields)).every((v) => Array.isArray(v) && v.length === 0);

/** Whether a from (or to) entry matches every request: `{}`, or a source (operation) that constrains nothing. */
const entryMatchesAll = (entry: unknown, part: "source" | "operation") =>
  Object.keys(asRecord(entry)).every((k) => k === part) && constrainsNothing(get(entry, part));

/**
 * Whether an ALLOW rule matches every request. Istio matches a rule when at least one of its from
 * entries, at least one of its to entries and all of its when conditions match: so an empty or
 * missing from (to), or one entry in it that matches everything, leaves the rule unconstrained.
 */
export function ruleAllowsAll(rule: unknown): boolean {
  const r = asRecord(rule);
  const matchesAll = (entries: unknown[], part: "source" | "operation") =>
    entries.length === 0 || entries.some((e) => entryMatchesAll(e, part));
  return matchesAll(asArray(r.from), "source") && matchesAll(asArray(r.to), "operation") && asArray(r.when).length === 0;
}

/** What an AuthorizationPolicy applies to, for its message: a selector without labels selects the whole namespace. */
function scopeOf(policy: PolicyResource): string {
  const s = spec(policy);
  if (s.targetRef || asArray(s.targetRefs).length) return "the resources it targets";
  if (Object.keys(asRecord(get(s.selector, "matchLabels"))).length) return "the workloads it selects";
  return `all of namespace ${meta(policy).namespace}`;
}

export const istioNoAllowAll: PlatformPolicy = {
  area: "security",
  name: "istio-no-allow-all",
  description:
    "No ALLOW AuthorizationPolicy matches every request (a rule `{}`, empty from/to/when, or a from or to entry that constrains nothing): it voids the default deny for the workloads it selects, or for the whole namespace.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const policies = args.resources.filter((r) => isKind(r.type, "security.istio.io", "AuthorizationPolicy"));
    if (policies.length === 0) args.notApplicable("no AuthorizationPolicies in the stack");
    for (const p of policies) {
      const s = spec(p);
      if ((s.action ?? "ALLOW") !== "ALLOW") continue;
      if (asArray(s.rules).some(ruleAllowsAll))
        report(
          violation(
            `AuthorizationPolicy "${meta(p).ref}"`,
            `has a rule that matches every request, so ${scopeOf(p)} accept any caller`,
            "name the callers in rules[].from (principals or namespaces) and the ports or paths in rules[].to",
          ),
          p.urn,
        );
    }
  },
};

/** TLS modes of a DestinationRule's policy and its port-level overrides. */
function tlsModes(trafficPolicy: unknown): unknown[] {
  return [get(trafficPolicy, "tls", "mode"), ...asArray(get(trafficPolicy, "portLevelSettings")).map((p) => get(p, "tls", "mode"))];
}

export const istioDestinationRuleTls: PlatformPolicy = {
  area: "security",
  name: "istio-destination-rule-tls",
  description: "No DestinationRule (or subset, or port) sets tls.mode DISABLE: traffic to the host would leave the sidecar in plain text.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const rules = args.resources.filter((r) => isKind(r.type, "networking.istio.io", "DestinationRule"));
    if (rules.length === 0) args.notApplicable("no DestinationRules in the stack");
    for (const dr of rules) {
      const s = spec(dr);
      const modes = [...tlsModes(s.trafficPolicy), ...asArray(s.subsets).flatMap((sub) => tlsModes(get(sub, "trafficPolicy")))];
      if (modes.includes("DISABLE"))
        report(
          violation(
            `DestinationRule "${meta(dr).ref}"`,
            `sets tls.mode DISABLE for ${String(s.host)}`,
            'use mode "ISTIO_MUTUAL" inside the mesh (or "SIMPLE"/"MUTUAL" to an external TLS host)',
          ),
          dr.urn,
        );
    }
  },
};

/** Gateway protocols that carry plain text; the HTTP ones may answer with a redirect to HTTPS instead (tls.httpsRedirect). */
const PLAIN_HTTP = ["HTTP", "HTTP2", "GRPC", "GRPC-WEB"];
const PLAIN_TCP = ["TCP", "MONGO"];
/** Server TLS modes that need no certificate on the gateway: the backend's TLS passes through, or the mesh's own certificate. */
const NO_CERTIFICATE_NEEDED = ["PASSTHROUGH", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL"];

export const istioGatewayTls: PlatformPolicy = {
  area: "security",
  name: "istio-gateway-tls",
  description:
    "Every Istio Gateway server terminates TLS (HTTPS/TLS with a credentialName, or PASSTHROUGH to a TLS backend), or is an HTTP, HTTP2 or gRPC server that only redirects to HTTPS (tls.httpsRedirect); no plain TCP or MONGO server.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const gateways = args.resources.filter((r) => isKind(r.type, "networking.istio.io", "Gateway"));
    if (gateways.length === 0) args.notApplicable("no Gateways in the stack");
    for (const gw of gateways) {
      for (const [i, server] of asArray(spec(gw).servers).entries()) {
        const protocol = String(get(server, "port", "protocol") ?? "").toUpperCase();
        const tls = asRecord(get(server, "tls"));
        const subject = `Gateway "${meta(gw).ref}" server ${i} (port ${String(get(server, "port", "number"))})`;
        const http = PLAIN_HTTP.includes(protocol);
        if (http || PLAIN_TCP.includes(protocol)) {
          if (!(http && tls.httpsRedirect === true))
            report(
              violation(
                subject,
                `accepts plain ${protocol} from outside the mesh`,
                http
                  ? "serve HTTPS with tls.credentialName, or set tls.httpsRedirect: true"
                  : "serve protocol TLS with tls.mode SIMPLE (or MUTUAL) and tls.credentialName; tls.httpsRedirect only redirects HTTP",
              ),
              gw.urn,
            );
          continue;
        }
        if (
          (protocol === "HTTPS" || protocol === "TLS") &&
          !NO_CERTIFICATE_NEEDED.includes(String(tls.mode)) &&
          !tls.credentialName &&
          !tls.serverCertificate
        )
          report(
            violation(subject, `is ${protocol} without a certificate`, "set tls.mode SIMPLE (or MUTUAL) and tls.credentialName"),
            gw.urn,
          );
      }
    }
  },
};

export const istioPolicies: PlatformPolicy[] = [istioNoAllowAll, istioDestinationRuleTls, istioGatewayTls];
