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

/** Whether an ALLOW rule matches every request: an empty rule, or one whose only parts are empty. */
export function ruleAllowsAll(rule: unknown): boolean {
  const r = asRecord(rule);
  const parts = ["from", "to", "when"].filter((k) => r[k] !== undefined);
  return parts.every(
    (k) => asArray(r[k]).length === 0 || asArray(r[k]).every((e) => Object.keys(asRecord(e)).length === 0 || isEmptySource(e)),
  );
}

function isEmptySource(entry: unknown): boolean {
  const inner = asRecord(entry);
  const source = asRecord(inner.source ?? inner.operation);
  return Object.keys(inner).length === 1 && Object.keys(source).length === 0;
}

export const istioNoAllowAll: PlatformPolicy = {
  area: "security",
  name: "istio-no-allow-all",
  description:
    "No ALLOW AuthorizationPolicy matches every request (a rule `{}` or empty from/to/when): it voids the default deny for the workloads it selects, or for the whole namespace.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const policies = args.resources.filter((r) => isKind(r.type, "security.istio.io", "AuthorizationPolicy"));
    if (policies.length === 0) args.notApplicable("no AuthorizationPolicies in the stack");
    for (const p of policies) {
      const s = spec(p);
      if ((s.action ?? "ALLOW") !== "ALLOW" || s.provider) continue;
      const rules = asArray(s.rules);
      if (rules.some(ruleAllowsAll))
        report(
          violation(
            `AuthorizationPolicy "${meta(p).ref}"`,
            `has a rule that matches every request, so ${s.selector ? "the workloads it selects" : `all of namespace ${meta(p).namespace}`} accept any caller`,
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

export const istioGatewayTls: PlatformPolicy = {
  area: "security",
  name: "istio-gateway-tls",
  description:
    "Every Istio Gateway server terminates TLS (HTTPS/TLS with a credentialName, or PASSTHROUGH to a TLS backend), or is plain HTTP that only redirects to HTTPS (tls.httpsRedirect).",
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
        if (protocol === "HTTP" || protocol === "TCP" || protocol === "GRPC" || protocol === "HTTP2") {
          if (tls.httpsRedirect !== true)
            report(
              violation(
                subject,
                `accepts plain ${protocol} from outside the mesh`,
                "serve HTTPS with tls.credentialName, or set tls.httpsRedirect: true",
              ),
              gw.urn,
            );
          continue;
        }
        if (
          (protocol === "HTTPS" || protocol === "TLS") &&
          tls.mode !== "PASSTHROUGH" &&
          tls.mode !== "ISTIO_MUTUAL" &&
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
