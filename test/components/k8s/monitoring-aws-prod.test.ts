import { beforeAll, describe, expect, it } from "vitest";
import { type Dashboard, GRAFANA_ADMIN_SECRET, Monitoring, PROMETHEUS_CHART_REPO } from "../../../components/k8s";
import { type CrdObject, validateCrd } from "../../../components/k8s/crd-schema";
import type { PlanResource } from "../../../components/plan-resource";
import { recorded, useMocks } from "../../support/mocks";
import { named, ofKind, plain, platformOf } from "./k8s-objects";

const { stack, catalog } = platformOf("aws-prod");
let all: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("aws-prod", { region: "eu-west-1" });
  new Monitoring("aws-prod-monitoring", { stack, catalog });
  all = await recorded(mocks);
});

interface Endpoint {
  port: string;
  path: string;
  scheme: string;
}
const monitor = (name: string) =>
  named(all, "ServiceMonitor", name).inputs.spec as {
    namespaceSelector: { matchNames: string[] };
    selector: { matchLabels: Record<string, string> };
    endpoints: Endpoint[];
  };

describe("monitoring on a cloud stack with GPUs (aws-prod)", () => {
  it("installs kube-prometheus-stack at the stack's chart version and retention, HA in prod", () => {
    const release = ofKind(all, "Release")[0];
    expect(release?.inputs).toMatchObject({
      chart: "kube-prometheus-stack",
      version: stack.monitoring.chartVersion,
      namespace: "monitoring",
    });
    expect(release?.inputs.repositoryOpts).toEqual({ repo: PROMETHEUS_CHART_REPO });
    const values = release?.inputs.values as {
      prometheus: { prometheusSpec: { retention: string; replicas: number; serviceMonitorSelectorNilUsesHelmValues: boolean } };
    };
    expect(values.prometheus.prometheusSpec.retention).toBe(stack.monitoring.retention);
    expect(values.prometheus.prometheusSpec.replicas).toBe(2);
    expect(values.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
  });

  it("gives Grafana a generated admin password from a Secret, never a literal in the chart values", () => {
    const values = ofKind(all, "Release")[0]?.inputs.values as {
      grafana: { admin: { existingSecret: string }; adminPassword?: string; sidecar: { dashboards: { enabled: boolean; label: string } } };
    };
    expect(values.grafana.adminPassword).toBeUndefined();
    expect(values.grafana.admin.existingSecret).toBe(GRAFANA_ADMIN_SECRET);
    expect(values.grafana.sidecar.dashboards).toMatchObject({ enabled: true, label: "grafana_dashboard" });
    const secret = plain<Record<string, string>>(named(all, "Secret", GRAFANA_ADMIN_SECRET).inputs.stringData);
    expect(secret["admin-password"]).toHaveLength(32);
    expect(secret["admin-password"]).not.toBe("prom-operator");
  });

  it("scrapes the feature service on its http port at /metrics over the mesh's mTLS", () => {
    const features = monitor("features");
    expect(features.namespaceSelector.matchNames).toEqual(["mlops"]);
    expect(features.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "features" });
    expect(features.endpoints[0]).toMatchObject({ port: "http", path: "/metrics", scheme: "https" });
  });

  it("scrapes serving in the model namespace, drift, tracking, and DCGM because the stack has GPUs", () => {
    expect(monitor("serving").namespaceSelector.matchNames).toEqual([stack.serving.namespace]);
    expect(monitor("drift").selector.matchLabels["app.kubernetes.io/name"]).toBe("drift");
    expect(monitor("tracking").selector.matchLabels["app.kubernetes.io/name"]).toBe("mlflow");
    expect(monitor("dcgm-exporter").endpoints[0]).toMatchObject({ port: "metrics", scheme: "http" });
  });

  it("builds ServiceMonitors and PrometheusRules that pass the prometheus-operator schema, after the chart", async () => {
    const release = ofKind(all, "Release")[0];
    const monitors = ofKind(all, "ServiceMonitor");
    const rules = ofKind(all, "PrometheusRule");
    // features, serving, the runtimes' own metrics, drift, tracking, DCGM.
    expect(monitors.length).toBe(6);
    expect(rules.length).toBe(1);
    for (const o of [...monitors, ...rules]) await expect(validateCrd(o.inputs as CrdObject)).resolves.toBeDefined();
    for (const o of [...monitors, ...rules]) expect(o.options.dependsOn).toContain(release?.urn);
    const broken: CrdObject = {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "x", namespace: "monitoring" },
      spec: { endpoints: [{ port: "http", scheme: "gopher" }], selector: {} },
    };
    await expect(validateCrd(broken)).rejects.toThrow(/scheme/);
  });

  it("ships one dashboard per model and one for the platform as ConfigMaps the Grafana sidecar loads", () => {
    const maps = ofKind(all, "ConfigMap").filter((c) => c.inputs.metadata?.labels?.grafana_dashboard === "1");
    const boards = maps.map((c) => JSON.parse(Object.values(c.inputs.data ?? {})[0] ?? "{}") as Dashboard);
    expect(boards.map((b) => b.uid).sort()).toEqual([
      "mlops-model-churn-predictor",
      "mlops-model-fraud-scorer",
      "mlops-model-support-assistant",
      "mlops-platform",
    ]);
    const fraud = boards.find((b) => b.uid === "mlops-model-fraud-scorer");
    expect(fraud?.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        "Request rate by version",
        "Latency p50 / p95 / p99",
        "Error rate by model version",
        "Drift score per feature",
      ]),
    );
    // The SLO from the catalog is the threshold line: fraud-scorer's p99 is 50 ms.
    expect(fraud?.panels.find((p) => p.title.startsWith("Latency"))?.fieldConfig.defaults.thresholds?.steps[1]?.value).toBe(0.05);
    const llm = boards.find((b) => b.uid === "mlops-model-support-assistant");
    expect(llm?.panels.map((p) => p.title)).toContain("GPU utilisation");
    expect(fraud?.panels.map((p) => p.title)).not.toContain("GPU utilisation");
  });
});
