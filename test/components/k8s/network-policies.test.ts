import { describe, expect, it } from "vitest";
import { EXTERNAL_PORTS, type NetworkPolicyObject, networkPolicies } from "../../../components/k8s/network-policies";
import { platformOf } from "./k8s-objects";

/** A pod (or, with `ip`, an address outside the cluster) as NetworkPolicy sees it. */
interface Endpoint {
  namespace?: string;
  labels?: Record<string, string>;
  ip?: string;
}
type Selector = { matchLabels?: Record<string, string> } | undefined;
type Peer = { namespaceSelector?: Selector; podSelector?: Selector; ipBlock?: { cidr: string } };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { protocol?: string; port?: number }[] };

const matches = (s: Selector, labels: Record<string, string> = {}) =>
  Object.entries(s?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
const nsLabels = (ns?: string): Record<string, string> => (ns ? { "kubernetes.io/metadata.name": ns } : {});

function peerMatches(peer: Peer, e: Endpoint, policyNamespace: string): boolean {
  if (peer.ipBlock) return e.ip !== undefined && peer.ipBlock.cidr === "0.0.0.0/0";
  if (e.ip !== undefined) return false;
  const nsOk = peer.namespaceSelector ? matches(peer.namespaceSelector, nsLabels(e.namespace)) : e.namespace === policyNamespace;
  return nsOk && (!peer.podSelector || matches(peer.podSelector, e.labels));
}

/** Kubernetes' NetworkPolicy semantics: a selected pod is isolated in a direction; then only a rule of some policy admits. */
function admits(policies: NetworkPolicyObject[], from: Endpoint, to: Endpoint, port: number, protocol = "TCP"): boolean {
  const side = (pod: Endpoint, type: "Ingress" | "Egress", peer: Endpoint) => {
    if (pod.ip !== undefined) return true;
    const selecting = policies.filter(
      (p) =>
        p.namespace === pod.namespace &&
        matches(p.spec.podSelector as Selector, pod.labels) &&
        (p.spec.policyTypes as string[]).includes(type),
    );
    if (!selecting.length) return true;
    return selecting.some((p) =>
      ((type === "Ingress" ? p.spec.ingress : p.spec.egress) as Rule[] | undefined)?.some(
        (r) =>
          (!(type === "Ingress" ? r.from : r.to) ||
            ((type === "Ingress" ? r.from : r.to) as Peer[]).some((q) => peerMatches(q, peer, p.namespace))) &&
          (!r.ports || r.ports.some((x) => x.port === port && (x.protocol ?? "TCP") === protocol)),
      ),
    );
  };
  return side(from, "Egress", to) && side(to, "Ingress", from);
}

const aws = networkPolicies(platformOf("aws-prod").stack);
const local = networkPolicies(platformOf("local").stack);
const gateway = { namespace: "istio-system", labels: { istio: "ingressgateway" } };
const model = { namespace: "models", labels: { "app.kubernetes.io/name": "fraud-scorer-v1" } };
const features = { namespace: "mlops", labels: { "app.kubernetes.io/name": "features" } };
const drift = { namespace: "mlops", labels: { "app.kubernetes.io/name": "drift" } };
const prometheus = { namespace: "monitoring", labels: { "app.kubernetes.io/name": "prometheus" } };
const dcgm = { namespace: "gpu-system", labels: { "app.kubernetes.io/name": "dcgm-exporter" } };
const stranger = { namespace: "default", labels: { app: "x" } };
const internet = { ip: "203.0.113.9" };

describe("NetworkPolicies under the mesh", () => {
  it("deny everything by default in each namespace the platform runs pods in, GPU only where there are GPU pools", () => {
    const denies = (ps: NetworkPolicyObject[]) => ps.filter((p) => p.name === "default-deny").map((p) => p.namespace);
    expect(denies(aws)).toEqual(["mlops", "models", "gpu-system"]);
    expect(denies(local)).toEqual(["mlops", "models"]);
    for (const p of aws.filter((x) => x.name === "default-deny"))
      expect(p.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("admit the paths the AuthorizationPolicies allow: gateway and models to serving, models to features, Prometheus to pods", () => {
    expect(admits(aws, gateway, model, 8080)).toBe(true);
    expect(admits(aws, gateway, features, 6566)).toBe(true);
    expect(admits(aws, model, features, 6566)).toBe(true);
    expect(admits(aws, drift, features, 6566)).toBe(true);
    expect(admits(aws, prometheus, model, 8080)).toBe(true);
    expect(admits(aws, prometheus, dcgm, 9400)).toBe(true);
  });

  it("refuse pods of other namespaces, and anything to the GPU DaemonSets but Prometheus on the DCGM port", () => {
    expect(admits(aws, stranger, model, 8080)).toBe(false);
    expect(admits(aws, stranger, features, 6566)).toBe(false);
    expect(admits(aws, model, dcgm, 9400)).toBe(false);
    expect(admits(aws, prometheus, dcgm, 22)).toBe(false);
  });

  it("let platform and model pods resolve names, reach istiod and the cloud's service ports, and nothing else outside", () => {
    expect(admits(aws, model, { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } }, 53, "UDP")).toBe(true);
    expect(admits(aws, model, { namespace: "istio-system", labels: { app: "istiod" } }, 15012)).toBe(true);
    for (const port of EXTERNAL_PORTS) expect(admits(aws, drift, internet, port)).toBe(true);
    expect(admits(aws, model, internet, 22)).toBe(false);
    expect(admits(aws, model, internet, 80)).toBe(false);
    expect(admits(aws, model, stranger, 8080)).toBe(false);
  });

  it("give the GPU DaemonSets no egress at all", () => {
    expect(admits(aws, dcgm, { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } }, 53, "UDP")).toBe(false);
    expect(admits(aws, dcgm, internet, 443)).toBe(false);
  });
});
