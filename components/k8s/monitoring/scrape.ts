import type { IEndpoint } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/Endpoint";
import type { IServiceMonitorSpec } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitorSpec";
import { NAMESPACES } from "../../names";
import type { StackSpec } from "../../../definition";
import { FEATURES_NAME } from "../feature-service";
import { RUNTIME_METRICS_SERVICE_PORT } from "../model-serving";
import { MODEL_LABEL, VERSION_LABEL } from "../routes";
import { TRACKING } from "../tracking-server";

/**
 * Where Prometheus's Istio sidecar writes its workload certificates. Meshed services accept only
 * mTLS (STRICT), so Prometheus scrapes them over HTTPS with these, as Istio documents for
 * Prometheus with mTLS; the sidecar itself intercepts no traffic (see `prometheusPodIstio`).
 */
export const PROM_CERTS_DIR = "/etc/prom-certs";

const istioTls: IEndpoint["tlsConfig"] = {
  caFile: `${PROM_CERTS_DIR}/root-cert.pem`,
  certFile: `${PROM_CERTS_DIR}/cert-chain.pem`,
  keyFile: `${PROM_CERTS_DIR}/key.pem`,
  // Istio certificates carry SPIFFE URIs, not DNS names; the chain is still verified against the mesh root.
  insecureSkipVerify: true,
};

function meshEndpoint(port: string): IEndpoint {
  return { port, path: "/metrics", interval: "30s", scheme: "https", tlsConfig: istioTls };
}

/** Prometheus's meta label of a pod label (non-alphanumerics become '_'). */
function podLabel(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** One ServiceMonitor: its name and spec (selection, namespaces, endpoints). */
export interface ScrapeTarget {
  name: string;
  spec: IServiceMonitorSpec;
}

/**
 * What Prometheus scrapes, as data: the feature service, every model's Service (port `http`, in
 * the model namespace), drift checks, MLflow, and the DCGM exporter on GPU stacks (outside the
 * mesh, so plain HTTP).
 */
export function scrapeTargets(stack: StackSpec): ScrapeTarget[] {
  const targets: ScrapeTarget[] = [
    {
      name: "features",
      spec: {
        namespaceSelector: { matchNames: [NAMESPACES.platform] },
        selector: { matchLabels: { "app.kubernetes.io/name": FEATURES_NAME } },
        endpoints: [meshEndpoint("http")],
      },
    },
    {
      name: "serving",
      spec: {
        namespaceSelector: { matchNames: [stack.serving.namespace] },
        selector: { matchLabels: { "app.kubernetes.io/component": "model-serving" } },
        // The services label series with model and version themselves.
        endpoints: [{ ...meshEndpoint("http"), honorLabels: true }],
      },
    },
    {
      // The external runtimes' own metrics (vLLM on its API port, Triton on 8002), through the model
      // Services' http-runtime-metrics port; model and version come from the pod's labels, as the
      // runtimes do not know them.
      name: "runtimes",
      spec: {
        namespaceSelector: { matchNames: [stack.serving.namespace] },
        selector: { matchLabels: { "app.kubernetes.io/component": "model-serving" } },
        endpoints: [
          {
            ...meshEndpoint(RUNTIME_METRICS_SERVICE_PORT.name),
            relabelings: [
              { sourceLabels: [podLabel(MODEL_LABEL)], targetLabel: "model", action: "replace" },
              { sourceLabels: [podLabel(VERSION_LABEL)], targetLabel: "version", action: "replace" },
            ],
          },
        ],
      },
    },
    {
      name: "drift",
      spec: {
        namespaceSelector: { matchNames: [NAMESPACES.platform] },
        selector: { matchLabels: { "app.kubernetes.io/name": "drift" } },
        endpoints: [{ ...meshEndpoint("http"), honorLabels: true }],
      },
    },
    {
      name: "tracking",
      spec: {
        namespaceSelector: { matchNames: [NAMESPACES.platform] },
        selector: { matchLabels: { "app.kubernetes.io/name": TRACKING.name } },
        endpoints: [meshEndpoint("http")],
      },
    },
  ];
  if (stack.nodePools.some((p) => p.role === "gpu")) {
    targets.push({
      name: "dcgm-exporter",
      spec: {
        namespaceSelector: { matchNames: [NAMESPACES.gpu] },
        selector: { matchLabels: { "app.kubernetes.io/name": "dcgm-exporter" } },
        endpoints: [{ port: "metrics", path: "/metrics", interval: "15s", scheme: "http" }],
      },
    });
  }
  return targets;
}

/**
 * Pod metadata that gives Prometheus an Istio sidecar for certificates only: it intercepts no
 * inbound or outbound traffic and writes its certificates to a shared in-memory volume.
 */
export function prometheusPodIstio(): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { "sidecar.istio.io/inject": "true" },
    annotations: {
      "traffic.sidecar.istio.io/includeInboundPorts": "",
      "traffic.sidecar.istio.io/includeOutboundIPRanges": "",
      "proxy.istio.io/config": JSON.stringify({ proxyMetadata: { OUTPUT_CERTS: "/etc/istio-output-certs" } }),
      "sidecar.istio.io/userVolumeMount": JSON.stringify([{ name: "istio-certs", mountPath: "/etc/istio-output-certs" }]),
    },
  };
}
