import type * as k8s from "@pulumi/kubernetes";
import type { StackSpec } from "../../definition";
import { NAMESPACES } from "../names";
import { DCGM_PORT } from "./gpu-device-plugin";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** One NetworkPolicy as data: its name, namespace and spec. */
export interface NetworkPolicyObject {
  name: string;
  namespace: string;
  spec: NetworkPolicySpec;
}

/**
 * Ports the platform's pods reach outside the cluster: HTTPS (S3, GCS, DynamoDB, BigQuery, STS,
 * the Kubernetes API server the drift check calls), PostgreSQL (RDS, Cloud SQL), Redis
 * (ElastiCache, Memorystore) and Redshift. Their addresses are the cloud's, unknown at plan time,
 * so the rule is by port: everything else out of the cluster stays closed.
 */
export const EXTERNAL_PORTS = [443, 5432, 6379, 5439] as const;

/** Istio's xDS and certificate port on istiod: every sidecar needs it to start. */
export const ISTIOD_PORT = 15012;

const namespace = (name: string): Peer => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } } });
const tcp = (port: number) => ({ protocol: "TCP", port });

/**
 * The network layer under the mesh's authorization (mesh.ts `meshPolicies`), one allow per path
 * the AuthorizationPolicies already admit, so a pod whose sidecar is bypassed (no injection, a
 * host-network peer) is still fenced:
 * - every namespace whose pods the platform renders (platform, models, and GPU where the stack has
 *   GPU pools) denies all ingress and egress by default;
 * - ingress: the ingress gateway and the model namespace -> model pods; the gateway, model and
 *   platform namespaces -> platform pods (features, tracking, local stores); the monitoring
 *   namespace -> any pod (Prometheus scrapes; Istio keeps it to GET /metrics) and the DCGM exporter;
 * - egress from platform and model pods: DNS, istiod, the platform and model namespaces, and the
 *   cloud's service ports outside the cluster (EXTERNAL_PORTS). GPU DaemonSets talk only to the
 *   kubelet's sockets on their node, so they get no egress at all.
 */
export function networkPolicies(stack: StackSpec): NetworkPolicyObject[] {
  const platform = NAMESPACES.platform;
  const models = stack.serving.namespace;
  const gateway: Peer = { ...namespace(NAMESPACES.mesh), podSelector: { matchLabels: { istio: "ingressgateway" } } };
  const monitoring = namespace(NAMESPACES.monitoring);
  const everyPod = {};
  // The GPU namespace has pods only where the stack has GPU pools (ClusterAddons deploys the DaemonSets there).
  const gpu = stack.nodePools.some((p) => p.role === "gpu");
  const policies: NetworkPolicyObject[] = [platform, models, ...(gpu ? [NAMESPACES.gpu] : [])].map((ns) => ({
    name: "default-deny",
    namespace: ns,
    spec: { podSelector: everyPod, policyTypes: ["Ingress", "Egress"] },
  }));
  policies.push(
    {
      name: "allow-serving",
      namespace: models,
      spec: { podSelector: everyPod, policyTypes: ["Ingress"], ingress: [{ from: [gateway, namespace(models), monitoring] }] },
    },
    {
      name: "allow-platform",
      namespace: platform,
      spec: {
        podSelector: everyPod,
        policyTypes: ["Ingress"],
        ingress: [{ from: [gateway, namespace(models), namespace(platform), monitoring] }],
      },
    },
  );
  if (gpu) {
    policies.push({
      name: "allow-scrape",
      namespace: NAMESPACES.gpu,
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [monitoring], ports: [tcp(DCGM_PORT)] }],
      },
    });
  }
  for (const ns of [platform, models]) {
    policies.push({
      name: "allow-egress",
      namespace: ns,
      spec: {
        podSelector: everyPod,
        policyTypes: ["Egress"],
        egress: [
          {
            to: [{ ...namespace("kube-system"), podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          { to: [{ ...namespace(NAMESPACES.mesh), podSelector: { matchLabels: { app: "istiod" } } }], ports: [tcp(ISTIOD_PORT)] },
          { to: [namespace(platform), namespace(models)] },
          { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: EXTERNAL_PORTS.map(tcp) },
        ],
      },
    });
  }
  return policies;
}
