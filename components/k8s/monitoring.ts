import type { IPrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import type { IServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { k8sLabels, NAMESPACES } from "../names";
import type { Catalog, StackSpec } from "../../definition";
import { type CrdObject, validatedCustomResource } from "./crd-schema";
import { type Dashboard, dashboards } from "./monitoring/dashboards";
import { ruleGroups } from "./monitoring/rules";
import { PROM_CERTS_DIR, prometheusPodIstio, scrapeTargets } from "./monitoring/scrape";

export { type Dashboard, dashboards, modelDashboard, platformDashboard } from "./monitoring/dashboards";
export { modelRules, platformRules, ruleGroups } from "./monitoring/rules";
export { scrapeTargets } from "./monitoring/scrape";

/** Where kube-prometheus-stack comes from. */
export const PROMETHEUS_CHART_REPO = "https://prometheus-community.github.io/helm-charts";
/** The label and value Grafana's sidecar loads dashboards from. */
export const DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;
/** Secret with Grafana's generated admin credentials (keys admin-user, admin-password). */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/** The monitoring objects of a stack: ServiceMonitors, one PrometheusRule, dashboards. */
export interface MonitoringObjects {
  serviceMonitors: CrdObject<IServiceMonitor["spec"]>[];
  rules: CrdObject<IPrometheusRule["spec"]>;
  dashboards: Dashboard[];
}

/**
 * Every monitoring object from the stack and the catalog, typed by the prometheus-operator schema;
 * `Monitoring` validates each against it before creating it, so a bad rule or selector fails the
 * plan rather than the cluster.
 */
export function monitoringObjects(stack: StackSpec, catalog: Catalog): MonitoringObjects {
  const metadata = (name: string) => ({ name, namespace: NAMESPACES.monitoring, labels: k8sLabels(stack) });
  const apiVersion = "monitoring.coreos.com/v1";
  return {
    serviceMonitors: scrapeTargets(stack).map((t) => ({ apiVersion, kind: "ServiceMonitor", metadata: metadata(t.name), spec: t.spec })),
    rules: { apiVersion, kind: "PrometheusRule", metadata: metadata("mlops-alerts"), spec: { groups: ruleGroups(stack, catalog) } },
    dashboards: dashboards(stack, catalog),
  };
}

/** Helm values of kube-prometheus-stack: retention, HA in prod, our CRs selected, Istio certs for scraping. */
export function prometheusStackValues(stack: StackSpec): Record<string, unknown> {
  const prod = stack.environment === "prod";
  const istio = prometheusPodIstio();
  return {
    fullnameOverride: "kps",
    commonLabels: k8sLabels(stack),
    prometheus: {
      prometheusSpec: {
        retention: stack.monitoring.retention,
        replicas: prod ? 2 : 1,
        // Select every ServiceMonitor/PrometheusRule, not only those labelled with the Helm release.
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
        podMetadata: istio,
        volumes: [{ name: "istio-certs", emptyDir: { medium: "Memory" } }],
        volumeMounts: [{ name: "istio-certs", mountPath: PROM_CERTS_DIR }],
        resources: prod
          ? { requests: { cpu: "1", memory: "4Gi" }, limits: { memory: "8Gi" } }
          : { requests: { cpu: "200m", memory: "1Gi" }, limits: { memory: "2Gi" } },
        storageSpec: {
          volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: prod ? "100Gi" : "20Gi" } } } },
        },
      },
    },
    alertmanager: { alertmanagerSpec: { replicas: prod ? 2 : 1 } },
    grafana: {
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      defaultDashboardsTimezone: "utc",
      sidecar: {
        dashboards: {
          enabled: true,
          label: Object.keys(DASHBOARD_LABEL)[0],
          labelValue: Object.values(DASHBOARD_LABEL)[0],
          searchNamespace: "ALL",
          folderAnnotation: "grafana_folder",
          provider: { foldersFromFilesStructure: true },
        },
      },
    },
  };
}

export interface MonitoringArgs {
  stack: StackSpec;
  catalog: Catalog;
  /**
   * The mesh: Prometheus scrapes through its sidecar's mTLS certificates, so it must start after
   * istiod can inject and sign them (else every scrape of a STRICT namespace fails). Defaults to none.
   */
  mesh?: pulumi.Resource;
}

/** The Pushgateway drift checks push to; pinned chart. */
export const PUSHGATEWAY = {
  release: "prometheus-pushgateway",
  chartVersion: "2.15.0",
  url: `http://prometheus-pushgateway.${NAMESPACES.monitoring}.svc.cluster.local:9091`,
} as const;

/**
 * Pushgateway values: scraped by a ServiceMonitor that keeps the pushed job and model labels
 * (honorLabels), non-root with a read-only root filesystem, and the platform's labels.
 */
export function pushgatewayValues(stack: StackSpec): Record<string, unknown> {
  return {
    serviceMonitor: { enabled: true, honorLabels: true, additionalLabels: k8sLabels(stack) },
    podLabels: k8sLabels(stack),
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    securityContext: { runAsNonRoot: true, runAsUser: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
    containerSecurityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  };
}

/**
 * Monitoring: kube-prometheus-stack (Prometheus, Alertmanager, Grafana), ServiceMonitors for the
 * platform's services, alert rules from each model's SLO and drift threshold, and dashboards.
 */
export class Monitoring extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly pushgateway: k8s.helm.v3.Release;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Monitoring", name, {}, opts);
    const { stack, catalog } = args;
    const namespace = NAMESPACES.monitoring;
    const labels = k8sLabels(stack);
    const objects = monitoringObjects(stack, catalog);

    const adminPassword = new random.RandomPassword(
      `${name}-grafana-admin`,
      { length: 32, special: false },
      { parent: this, additionalSecretOutputs: ["result"] },
    );
    const adminSecret = new k8s.core.v1.Secret(
      GRAFANA_ADMIN_SECRET,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace, labels },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(adminPassword.result) },
      },
      { parent: this },
    );
    this.release = new k8s.helm.v3.Release(
      "kube-prometheus-stack",
      {
        name: "kube-prometheus-stack",
        chart: "kube-prometheus-stack",
        version: stack.monitoring.chartVersion,
        namespace,
        createNamespace: false,
        repositoryOpts: { repo: PROMETHEUS_CHART_REPO },
        values: prometheusStackValues(stack),
        cleanupOnFail: true,
        timeout: 900,
      },
      { parent: this, dependsOn: [adminSecret, ...(args.mesh ? [args.mesh] : [])] },
    );
    // The CRDs come with the chart: custom resources wait for it.
    const afterChart = { parent: this, dependsOn: [this.release] };
    // Drift checks are CronJobs whose pods exit before any scrape: they push their metrics here.
    this.pushgateway = new k8s.helm.v3.Release(
      PUSHGATEWAY.release,
      {
        name: PUSHGATEWAY.release,
        chart: "prometheus-pushgateway",
        version: PUSHGATEWAY.chartVersion,
        namespace,
        createNamespace: false,
        repositoryOpts: { repo: PROMETHEUS_CHART_REPO },
        values: pushgatewayValues(stack),
        cleanupOnFail: true,
      },
      afterChart,
    );
    for (const monitor of objects.serviceMonitors) validatedCustomResource(`servicemonitor-${monitor.metadata.name}`, monitor, afterChart);
    validatedCustomResource("mlops-alerts", objects.rules, afterChart);
    for (const board of objects.dashboards) {
      new k8s.core.v1.ConfigMap(
        `dashboard-${board.uid}`,
        {
          metadata: {
            name: `dashboard-${board.uid}`,
            namespace,
            labels: { ...labels, ...DASHBOARD_LABEL },
            annotations: { grafana_folder: "MLOps" },
          },
          data: { [`${board.uid}.json`]: JSON.stringify(board) },
        },
        { parent: this },
      );
    }
    this.registerOutputs({
      release: this.release.name,
      pushgateway: PUSHGATEWAY.url,
      serviceMonitors: objects.serviceMonitors.map((m) => m.metadata.name),
      alerts: objects.rules.spec.groups?.flatMap((g) => g.rules?.map((r) => r.alert) ?? []),
      dashboards: objects.dashboards.map((d) => d.uid),
    });
  }
}
