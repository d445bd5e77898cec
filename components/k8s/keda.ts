import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type Catalog, deploysTo, type StackSpec } from "../../definition";
import { k8sLabels, NAMESPACES } from "../names";
import { coldStartBudget } from "./cold-start";
import { validatedCustomResource } from "./crd-schema";
import { MESH_INGRESS, principal } from "./mesh";
import { KEDA, scalesToZero } from "./scaling";

/**
 * KEDA (kedacore/keda, pinned) scales each model version on its runtime's queue signal through
 * ScaledObjects (components/k8s/scaling.ts). Its metrics API server is called by the Kubernetes
 * API server, which has no mesh identity, so the `keda` namespace stays outside the mesh. The
 * HTTP add-on (kedacore/keda-add-ons-http, pinned), which holds requests while a version scales
 * from zero, runs in the meshed `keda-http` namespace: its interceptor must speak mTLS to the
 * model pods (STRICT), and only the mesh's ingress and the models namespace may call it.
 */

/** Helm values of KEDA: ServiceMonitors for its operator and metrics server, two replicas in prod. */
export function kedaValues(stack: StackSpec): Record<string, unknown> {
  const prod = stack.environment === "prod";
  return {
    additionalLabels: k8sLabels(stack),
    operator: { replicaCount: prod ? 2 : 1 },
    metricsServer: { replicaCount: prod ? 2 : 1 },
    webhooks: { replicaCount: 1 },
    prometheus: {
      metricServer: { enabled: true, serviceMonitor: { enabled: true, additionalLabels: k8sLabels(stack) } },
      operator: { enabled: true, serviceMonitor: { enabled: true, additionalLabels: k8sLabels(stack) } },
      webhooks: { enabled: true, serviceMonitor: { enabled: true, additionalLabels: k8sLabels(stack) } },
    },
    // The chart's defaults already run non-root with every capability dropped; seccomp is added here.
    podSecurityContext: {
      operator: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      metricServer: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      webhooks: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    },
  };
}

/**
 * The HTTP add-on's global wait for a replica: the longest cold start among the versions that
 * scale to zero (each HTTPScaledObject also sets its own), at least the chart's 20 s.
 */
export function interceptorWaitSeconds(stack: StackSpec, catalog: Catalog): number {
  const waits = Object.values(catalog.models)
    .filter((m) => deploysTo(m, stack.name) && scalesToZero(m, stack))
    .flatMap((m) => m.versions.map((v) => coldStartBudget(m, v).totalSeconds));
  return Math.max(20, ...waits);
}

export function httpAddonValues(stack: StackSpec, catalog: Catalog): Record<string, unknown> {
  const prod = stack.environment === "prod";
  return {
    additionalLabels: k8sLabels(stack),
    interceptor: {
      replicas: { min: prod ? 3 : 1, max: prod ? 50 : 3, waitTimeout: `${interceptorWaitSeconds(stack, catalog)}s` },
      // A cold model's first response can take as long as its first inference after loading.
      responseHeaderTimeout: "60s",
    },
    scaler: { replicas: prod ? 3 : 1 },
    podSecurityContext: { runAsNonRoot: true, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
  };
}

/** The mesh objects of the keda-http namespace: who may call the interceptor, and the scaler's plain gRPC port. */
export function httpAddonMeshObjects(stack: StackSpec) {
  const namespace = NAMESPACES.kedaHttp;
  const labels = k8sLabels(stack);
  const ingress = principal(MESH_INGRESS.namespace, MESH_INGRESS.serviceAccount);
  return [
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "external-scaler-plaintext", namespace, labels },
      spec: {
        // KEDA's operator (outside the mesh, see above) polls the external scaler over plain gRPC.
        selector: { matchLabels: { "app.kubernetes.io/component": "scaler" } },
        mtls: { mode: "STRICT" as const },
        portLevelMtls: { [String(KEDA.externalScaler.port)]: { mode: "PERMISSIVE" as const } },
      },
    },
    {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "allow-interceptor", namespace, labels },
      spec: {
        action: "ALLOW" as const,
        rules: [
          {
            from: [{ source: { principals: [ingress] } }, { source: { namespaces: [stack.serving.namespace] } }],
            to: [{ operation: { ports: [String(KEDA.interceptor.port)] } }],
          },
          // The scaler's gRPC port, for KEDA's operator (plaintext, so no identity to match).
          { to: [{ operation: { ports: [String(KEDA.externalScaler.port)] } }] },
          { from: [{ source: { namespaces: [NAMESPACES.monitoring] } }], to: [{ operation: { methods: ["GET"], paths: ["/metrics"] } }] },
        ],
      },
    },
  ];
}

export interface KedaArgs {
  stack: StackSpec;
  catalog: Catalog;
  namespace: pulumi.Input<string>;
  /** The meshed namespace of the HTTP add-on; required when stack.autoscaling.httpAddon. */
  httpNamespace?: pulumi.Input<string>;
}

export class Keda extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly httpAddon?: k8s.helm.v3.Release;

  constructor(name: string, args: KedaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Keda", name, {}, opts);
    const { stack, catalog } = args;
    this.release = new k8s.helm.v3.Release(
      KEDA.release,
      {
        name: KEDA.release,
        chart: "keda",
        version: stack.autoscaling.kedaChartVersion,
        namespace: args.namespace,
        createNamespace: false,
        repositoryOpts: { repo: KEDA.chartRepo },
        values: kedaValues(stack),
        cleanupOnFail: true,
        timeout: 600,
      },
      { parent: this },
    );
    if (stack.autoscaling.httpAddon && args.httpNamespace) {
      this.httpAddon = new k8s.helm.v3.Release(
        KEDA.httpRelease,
        {
          name: KEDA.httpRelease,
          chart: "keda-add-ons-http",
          version: stack.autoscaling.httpAddonChartVersion,
          namespace: args.httpNamespace,
          createNamespace: false,
          repositoryOpts: { repo: KEDA.chartRepo },
          values: httpAddonValues(stack, catalog),
          cleanupOnFail: true,
          timeout: 600,
        },
        // Its ScaledObject for the interceptor needs KEDA's CRDs.
        { parent: this, dependsOn: [this.release] },
      );
      for (const object of httpAddonMeshObjects(stack))
        validatedCustomResource(`keda-http-${object.metadata.name}`, object, { parent: this });
    }
    this.registerOutputs({ release: this.release.name, httpAddon: this.httpAddon?.name });
  }
}
