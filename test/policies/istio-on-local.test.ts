import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The Istio traffic policies (policies/security-istio.ts) over local's real plan, broken one way at
 * a time, each case asserting the whole list of violations (message and fix). local's mesh: per
 * namespace an allow-nothing "deny-all" and ALLOW policies that name their callers (allow-features
 * and allow-tracking select workloads, allow-prometheus-scrape is namespace-wide), a DestinationRule
 * per model with ISTIO_MUTUAL, and no Gateway (the cases add one).
 */

const AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
const GATEWAY = "kubernetes:networking.istio.io/v1:Gateway";

const resources = realPlan("local");

/** The plan with the resource of `type` whose metadata is namespace/name changed. */
function broken(type: string, ref: string, change: (r: Props) => void): PlanResource[] {
  const [namespace, name] = ref.split("/");
  const match = (r: PlanResource) => (r.inputs as Props).metadata?.name === name && (r.inputs as Props).metadata?.namespace === namespace;
  return withBreakage(resources, { type, match, change });
}

const ALLOW_ALL_FIX = "name the callers in rules[].from (principals or namespaces) and the ports or paths in rules[].to";
const allowsAll = (ref: string, who: string) => ({
  message: `AuthorizationPolicy "${ref}": has a rule that matches every request, so ${who} accept any caller.`,
  fix: ALLOW_ALL_FIX,
});

describe("istio-no-allow-all on local's real policies", () => {
  const allowAll = (all: PlanResource[]) => violationsOf(all, "local", "istio-no-allow-all");
  /** mlops/allow-features (selects the feature server) with `rules`. */
  const features = (rules: Props[]) => broken(AUTHZ, "mlops/allow-features", (r) => (r.spec.rules = rules));
  /** mlops/allow-prometheus-scrape (no selector: namespace-wide) with `spec`. */
  const scrape = (spec: Props) => broken(AUTHZ, "mlops/allow-prometheus-scrape", (r) => (r.spec = spec));
  const FEATURES = allowsAll("mlops/allow-features", "the workloads it selects");
  const NAMESPACE = allowsAll("mlops/allow-prometheus-scrape", "all of namespace mlops");

  it("passes the real output", () => {
    expect(allowAll(resources)).toEqual([]);
  });

  it("an empty rule among the real ones matches every request of the workloads it selects", () => {
    expect(allowAll(broken(AUTHZ, "mlops/allow-features", (r) => r.spec.rules.push({})))).toEqual([FEATURES]);
  });

  it("a rule whose from, to and when are all empty lists matches every request", () => {
    expect(allowAll(features([{ from: [], to: [], when: [] }]))).toEqual([FEATURES]);
  });

  it("a rule whose only from entry is empty, or has an empty source, matches every request", () => {
    expect(allowAll(features([{ from: [{}] }]))).toEqual([FEATURES]);
    expect(allowAll(features([{ from: [{ source: {} }] }]))).toEqual([FEATURES]);
  });

  it("a rule whose only to entry has an empty operation matches every request", () => {
    expect(allowAll(features([{ to: [{ operation: {} }] }]))).toEqual([FEATURES]);
  });

  it("an empty source with a port in to is limited to that port", () => {
    expect(allowAll(features([{ from: [{ source: {} }], to: [{ operation: { ports: ["6566"] } }] }]))).toEqual([]);
  });

  it("an empty from with a when condition is limited by the condition", () => {
    expect(allowAll(features([{ from: [], when: [{ key: "source.namespace", values: ["models"] }] }]))).toEqual([]);
  });

  it("from entries are alternatives: an empty source next to a named one still admits everyone", () => {
    expect(allowAll(features([{ from: [{ source: { namespaces: ["models"] } }, { source: {} }] }]))).toEqual([FEATURES]);
  });

  it("to entries are alternatives: an empty operation next to a port still matches every request", () => {
    expect(allowAll(features([{ to: [{ operation: { ports: ["6566"] } }, { operation: {} }] }]))).toEqual([FEATURES]);
  });

  it("a source whose fields are all empty lists is an empty source (Istio reads an empty list as unset)", () => {
    expect(allowAll(features([{ from: [{ source: { principals: [], namespaces: [] } }] }]))).toEqual([FEATURES]);
    expect(allowAll(features([{ from: [{ source: { principals: [], namespaces: ["models"] } }] }]))).toEqual([]);
  });

  it("a namespace-wide policy that allows from an empty source opens the whole namespace", () => {
    expect(allowAll(scrape({ action: "ALLOW", rules: [{ from: [{ source: {} }] }] }))).toEqual([NAMESPACE]);
  });

  it("a policy without an action is an ALLOW policy", () => {
    expect(allowAll(scrape({ rules: [{}] }))).toEqual([NAMESPACE]);
  });

  it("an empty selector, or empty matchLabels, selects the whole namespace", () => {
    expect(allowAll(scrape({ selector: {}, rules: [{}] }))).toEqual([NAMESPACE]);
    expect(allowAll(scrape({ selector: { matchLabels: {} }, rules: [{}] }))).toEqual([NAMESPACE]);
  });

  it("a policy attached by targetRef or targetRefs opens what it targets", () => {
    const targeted = allowsAll("mlops/allow-prometheus-scrape", "the resources it targets");
    const gateway = { group: "gateway.networking.k8s.io", kind: "Gateway", name: "public" };
    expect(allowAll(scrape({ targetRef: gateway, rules: [{}] }))).toEqual([targeted]);
    expect(allowAll(scrape({ targetRefs: [gateway], rules: [{}] }))).toEqual([targeted]);
  });

  it("DENY, AUDIT and CUSTOM policies with an empty rule allow nothing", () => {
    expect(allowAll(scrape({ action: "DENY", rules: [{}] }))).toEqual([]);
    expect(allowAll(scrape({ action: "AUDIT", rules: [{}] }))).toEqual([]);
    expect(allowAll(scrape({ action: "CUSTOM", provider: { name: "ext-authz" }, rules: [{}] }))).toEqual([]);
  });

  it("an ALLOW policy without rules (the real deny-all) allows nothing", () => {
    expect(allowAll(scrape({ action: "ALLOW" }))).toEqual([]);
  });

  it("each allow-all policy is reported once, in plan order", () => {
    const both = withBreakage(features([{}, {}]), {
      type: AUTHZ,
      match: (r) => (r.inputs as Props).metadata?.name === "allow-tracking",
      change: (r) => (r.spec.rules = [{ to: [] }]),
    });
    expect(allowAll(both)).toEqual([allowsAll("mlops/allow-tracking", "the workloads it selects"), FEATURES]);
  });
});

const TLS_FIX = 'use mode "ISTIO_MUTUAL" inside the mesh (or "SIMPLE"/"MUTUAL" to an external TLS host)';
const disables = (ref: string, host: string) => ({ message: `DestinationRule "${ref}": sets tls.mode DISABLE for ${host}.`, fix: TLS_FIX });

describe("istio-destination-rule-tls on local's real DestinationRules", () => {
  const tls = (all: PlanResource[]) => violationsOf(all, "local", "istio-destination-rule-tls");
  const fraud = (change: (r: Props) => void) => broken(DR, "models/fraud-scorer", change);
  const FRAUD = disables("models/fraud-scorer", "fraud-scorer.models.svc.cluster.local");

  it("passes the real output", () => {
    expect(tls(resources)).toEqual([]);
  });

  it("the host's traffic policy disabling TLS", () => {
    expect(tls(fraud((r) => (r.spec.trafficPolicy.tls.mode = "DISABLE")))).toEqual([FRAUD]);
  });

  it("one port of the host's traffic policy disabling TLS", () => {
    expect(tls(fraud((r) => (r.spec.trafficPolicy.portLevelSettings = [{ port: { number: 8081 }, tls: { mode: "DISABLE" } }])))).toEqual([
      FRAUD,
    ]);
  });

  it("one subset disabling TLS", () => {
    expect(tls(fraud((r) => (r.spec.subsets[1].trafficPolicy = { tls: { mode: "DISABLE" } })))).toEqual([FRAUD]);
  });

  it("one port of one subset disabling TLS", () => {
    const change = (r: Props) => {
      r.spec.subsets[0].trafficPolicy = {
        portLevelSettings: [
          { port: { number: 8080 }, tls: { mode: "ISTIO_MUTUAL" } },
          { port: { number: 8081 }, tls: { mode: "DISABLE" } },
        ],
      };
    };
    expect(tls(fraud(change))).toEqual([FRAUD]);
  });

  it("SIMPLE, MUTUAL and ISTIO_MUTUAL at every level pass", () => {
    const change = (r: Props) => {
      r.spec.trafficPolicy.tls.mode = "SIMPLE";
      r.spec.trafficPolicy.portLevelSettings = [{ port: { number: 8081 }, tls: { mode: "MUTUAL" } }];
      r.spec.subsets[0].trafficPolicy = { tls: { mode: "ISTIO_MUTUAL" } };
    };
    expect(tls(fraud(change))).toEqual([]);
  });

  it("a DestinationRule with no traffic policy at all (auto mTLS) passes", () => {
    expect(tls(fraud((r) => delete r.spec.trafficPolicy))).toEqual([]);
  });
});

/** A Gateway in istio-system with `servers`. */
const gateway = (servers: Props[], name = "public") =>
  resource(GATEWAY, `${name}-gw`, {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name, namespace: "istio-system" },
    spec: { selector: { istio: "ingressgateway" }, servers },
  });
const server = (protocol: string, number: number, tls?: Props) => ({
  port: { number, name: protocol.toLowerCase(), protocol },
  hosts: ["*"],
  tls,
});

const PLAIN_HTTP_FIX = "serve HTTPS with tls.credentialName, or set tls.httpsRedirect: true";
const PLAIN_TCP_FIX = "serve protocol TLS with tls.mode SIMPLE (or MUTUAL) and tls.credentialName; tls.httpsRedirect only redirects HTTP";
const CERT_FIX = "set tls.mode SIMPLE (or MUTUAL) and tls.credentialName";
const subject = (i: number, port: number, name = "public") => `Gateway "istio-system/${name}" server ${i} (port ${port})`;

describe("istio-gateway-tls on Gateways added to local's real plan", () => {
  const gw = (...gateways: PlanResource[]) => violationsOf([...resources, ...gateways], "local", "istio-gateway-tls");

  it("an HTTP server that redirects and an HTTPS server with a credential pass", () => {
    expect(
      gw(gateway([server("HTTP", 80, { httpsRedirect: true }), server("HTTPS", 443, { mode: "SIMPLE", credentialName: "c" })])),
    ).toEqual([]);
  });

  it("HTTP-family servers without a redirect accept plain text (protocol names are case-insensitive)", () => {
    const servers = [server("HTTP", 80), server("http2", 8080), server("GRPC", 8081), server("GRPC-WEB", 8082)];
    expect(gw(gateway(servers))).toEqual([
      { message: `${subject(0, 80)}: accepts plain HTTP from outside the mesh.`, fix: PLAIN_HTTP_FIX },
      { message: `${subject(1, 8080)}: accepts plain HTTP2 from outside the mesh.`, fix: PLAIN_HTTP_FIX },
      { message: `${subject(2, 8081)}: accepts plain GRPC from outside the mesh.`, fix: PLAIN_HTTP_FIX },
      { message: `${subject(3, 8082)}: accepts plain GRPC-WEB from outside the mesh.`, fix: PLAIN_HTTP_FIX },
    ]);
  });

  it("an HTTP server with TLS settings but no redirect still accepts plain HTTP", () => {
    expect(gw(gateway([server("HTTP", 80, { httpsRedirect: false })]))).toEqual([
      { message: `${subject(0, 80)}: accepts plain HTTP from outside the mesh.`, fix: PLAIN_HTTP_FIX },
    ]);
  });

  it("TCP and MONGO servers are plain text, and httpsRedirect does not change that", () => {
    const servers = [server("TCP", 5432, { httpsRedirect: true }), server("MONGO", 27017)];
    expect(gw(gateway(servers))).toEqual([
      { message: `${subject(0, 5432)}: accepts plain TCP from outside the mesh.`, fix: PLAIN_TCP_FIX },
      { message: `${subject(1, 27017)}: accepts plain MONGO from outside the mesh.`, fix: PLAIN_TCP_FIX },
    ]);
  });

  it("HTTPS and TLS servers need a certificate unless TLS passes through to the backend or is the mesh's", () => {
    const servers = [
      server("HTTPS", 443, { mode: "SIMPLE" }),
      server("TLS", 8443),
      server("HTTPS", 9443, { mode: "MUTUAL", credentialName: "" }),
      server("HTTPS", 10443, { mode: "SIMPLE", serverCertificate: "/etc/certs/cert.pem", privateKey: "/etc/certs/key.pem" }),
      server("TLS", 15443, { mode: "PASSTHROUGH" }),
      server("TLS", 15444, { mode: "AUTO_PASSTHROUGH" }),
      server("TLS", 15445, { mode: "ISTIO_MUTUAL" }),
    ];
    expect(gw(gateway(servers))).toEqual([
      { message: `${subject(0, 443)}: is HTTPS without a certificate.`, fix: CERT_FIX },
      { message: `${subject(1, 8443)}: is TLS without a certificate.`, fix: CERT_FIX },
      { message: `${subject(2, 9443)}: is HTTPS without a certificate.`, fix: CERT_FIX },
    ]);
  });

  it("a server of an unknown protocol is not judged here (Istio rejects it)", () => {
    expect(gw(gateway([server("UDP", 53), { port: { number: 9000 }, hosts: ["*"] }]))).toEqual([]);
  });

  it("each Gateway is checked", () => {
    expect(gw(gateway([server("HTTP", 80)]), gateway([server("HTTP", 8000)], "internal"))).toEqual([
      { message: `${subject(0, 80)}: accepts plain HTTP from outside the mesh.`, fix: PLAIN_HTTP_FIX },
      { message: `${subject(0, 8000, "internal")}: accepts plain HTTP from outside the mesh.`, fix: PLAIN_HTTP_FIX },
    ]);
  });
});
