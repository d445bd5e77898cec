import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { IPeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1/PeerAuthentication";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import type { StackSpec } from "../../definition";
import { type CrdObject, validatedCustomResource } from "./crd-schema";
import { KEDA } from "./scaling";
import { FEATURES_NAME, FEATURES_PORT } from "./feature-service";
import { networkPolicies } from "./network-policies";
import { TRACKING } from "./tracking-server";

/** Where the Istio charts come from. */
export const ISTIO_CHART_REPO = "https://istio-release.storage.googleapis.com/charts";

/** The mesh's ingress gateway (chart `gateway`, release istio-ingressgateway): its identity and pod selector. */
export const MESH_INGRESS = {
  namespace: NAMESPACES.mesh,
  serviceAccount: "istio-ingressgateway",
  selector: { istio: "ingressgateway" },
} as const;

/**
 * The platform services the mesh policies name, by the `app.kubernetes.io/name` label of their
 * pods (the Workload builder's selector) and their HTTP port. The features service listens on
 * Feast's feature-server port.
 */
export const MESH_SERVICES = {
  features: { name: FEATURES_NAME, port: FEATURES_PORT },
  tracking: { name: TRACKING.name, port: TRACKING.port },
} as const;

/** Istio's SPIFFE principal of a ServiceAccount (default trust domain). */
export function principal(namespace: string, serviceAccount: string): string {
  return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/** One mesh security object and its Pulumi resource name (unique within the stack). */
export interface MeshObject {
  resourceName: string;
  object: CrdObject<IPeerAuthentication["spec"] | IAuthorizationPolicy["spec"]>;
}

function authz(stack: StackSpec, name: string, namespace: string, spec: NonNullable<IAuthorizationPolicy["spec"]>): MeshObject {
  return {
    resourceName: `${namespace}-${name}`,
    object: {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name, namespace, labels: k8sLabels(stack) },
      spec,
    },
  };
}

/**
 * The mesh's security posture as data: STRICT mTLS mesh-wide, deny-by-default in the platform and
 * model namespaces, and an ALLOW per path the platform's traffic takes:
 * - ingress gateway -> model serving (any pod in the model namespace), and serving <-> its runtimes;
 * - ingress gateway and serving -> features on its port; platform jobs (materialization) -> features;
 * - model and platform namespaces -> tracking (MLflow) on its port;
 * - Prometheus (monitoring namespace, through its sidecar's certificates) -> GET /metrics;
 * - local stacks: platform and model namespaces -> the in-cluster stores.
 * Drift checks are CronJobs that only call out: no policy admits anything to them.
 * The types come from Istio's schema (@kubernetes-models/istio); `Mesh` also validates each object
 * against it before creating it, so a bad field fails the plan.
 */
export function meshPolicies(stack: StackSpec): MeshObject[] {
  const platform = NAMESPACES.platform;
  const models = stack.serving.namespace;
  const ingress = principal(MESH_INGRESS.namespace, MESH_INGRESS.serviceAccount);
  const interceptorPrincipal = principal(NAMESPACES.kedaHttp, KEDA.interceptor.serviceAccount);
  const objects: MeshObject[] = [
    {
      resourceName: "mesh-mtls-strict",
      object: {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: { name: "default", namespace: NAMESPACES.mesh, labels: k8sLabels(stack) },
        spec: { mtls: { mode: "STRICT" } },
      },
    },
  ];
  // An ALLOW policy with no rules matches nothing: with it, every request not allowed below is denied.
  for (const ns of [platform, models]) objects.push(authz(stack, "deny-all", ns, {}));
  for (const ns of [platform, models]) {
    objects.push(
      authz(stack, "allow-prometheus-scrape", ns, {
        action: "ALLOW",
        rules: [
          { from: [{ source: { namespaces: [NAMESPACES.monitoring] } }], to: [{ operation: { methods: ["GET"], paths: ["/metrics"] } }] },
        ],
      }),
    );
  }
  objects.push(
    authz(stack, "allow-serving", models, {
      action: "ALLOW",
      rules: [
        {
          from: [
            // KEDA's HTTP add-on forwards requests to versions waking from zero (components/k8s/keda.ts).
            { source: { principals: stack.autoscaling.keda && stack.autoscaling.httpAddon ? [ingress, interceptorPrincipal] : [ingress] } },
            { source: { namespaces: [models] } },
          ],
        },
      ],
    }),
    authz(stack, "allow-features", platform, {
      action: "ALLOW",
      selector: { matchLabels: { "app.kubernetes.io/name": MESH_SERVICES.features.name } },
      rules: [
        {
          from: [{ source: { principals: [ingress] } }, { source: { namespaces: [models, platform] } }],
          to: [{ operation: { ports: [String(MESH_SERVICES.features.port)] } }],
        },
      ],
    }),
    authz(stack, "allow-tracking", platform, {
      action: "ALLOW",
      selector: { matchLabels: { "app.kubernetes.io/name": MESH_SERVICES.tracking.name } },
      rules: [
        { from: [{ source: { namespaces: [models, platform] } }], to: [{ operation: { ports: [String(MESH_SERVICES.tracking.port)] } }] },
      ],
    }),
  );
  if (stack.cloud === "local") {
    objects.push(
      authz(stack, "allow-local-stores", platform, {
        action: "ALLOW",
        selector: { matchLabels: { "app.kubernetes.io/component": "store" } },
        rules: [{ from: [{ source: { namespaces: [models, platform] } }] }],
      }),
    );
  }
  return objects;
}

/** A Helm release of one Istio chart, pinned to the stack's Istio version. */
export interface IstioRelease {
  name: string;
  chart: string;
  values: Record<string, unknown>;
}

/**
 * The Istio charts `install` mode deploys, in order: CRDs (base), the CNI node agent (so injected
 * pods need no NET_ADMIN init container and the platform namespaces can enforce the `restricted`
 * Pod Security level), istiod, and the ingress gateway.
 */
export function istioReleases(stack: StackSpec): IstioRelease[] {
  const prod = stack.environment === "prod";
  // GKE's Container-Optimized OS keeps CNI binaries elsewhere; Istio's charts know it by this name.
  const global = stack.cloud === "gcp" ? { platform: "gke" } : {};
  return [
    { name: "istio-base", chart: "base", values: { defaultRevision: "default" } },
    { name: "istio-cni", chart: "cni", values: { global, cni: { resources: { requests: { cpu: "50m", memory: "64Mi" } } } } },
    {
      name: "istiod",
      chart: "istiod",
      values: {
        global,
        pilot: {
          cni: { enabled: true },
          autoscaleMin: prod ? 2 : 1,
          resources: { requests: { cpu: prod ? "500m" : "100m", memory: prod ? "2Gi" : "512Mi" } },
          // Sidecars as native sidecar containers, so Jobs and CronJobs (materialization, drift) complete.
          env: { ENABLE_NATIVE_SIDECARS: "true" },
        },
        meshConfig: { accessLogFile: "/dev/stdout", enablePrometheusMerge: true },
      },
    },
    {
      name: MESH_INGRESS.serviceAccount,
      chart: "gateway",
      values: {
        labels: MESH_INGRESS.selector,
        // kind and other local clusters have no load balancer: a LoadBalancer Service never gets an
        // address there, and the Helm release waits for one until it times out. NodePort instead.
        service: { type: stack.cloud === "local" ? "NodePort" : "LoadBalancer" },
        autoscaling: { enabled: true, minReplicas: prod ? 2 : 1, maxReplicas: prod ? 5 : 2 },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "1Gi" } },
      },
    },
  ];
}

export interface MeshArgs {
  stack: StackSpec;
  /** What the first chart must wait for (the priority-class quotas of istio-system on GKE). Defaults to none. */
  dependsOn?: pulumi.Resource[];
}

/**
 * The service mesh: Istio installed with Helm (or an existing install adopted), STRICT mTLS
 * mesh-wide and deny-by-default authorization with explicit allows for the platform's traffic,
 * fenced again at the network layer by default-deny NetworkPolicies with the same allows.
 */
export class Mesh extends pulumi.ComponentResource {
  readonly releases: k8s.helm.v3.Release[] = [];
  readonly policies: k8s.apiextensions.CustomResource[];
  /** The network-layer fence under the authorization policies (network-policies.ts). */
  readonly networkPolicies: k8s.networking.v1.NetworkPolicy[];

  constructor(name: string, args: MeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:Mesh", name, {}, opts);
    const { stack } = args;
    if (stack.mesh.mode === "install") {
      let previous: k8s.helm.v3.Release | undefined;
      for (const release of istioReleases(stack)) {
        previous = new k8s.helm.v3.Release(
          release.name,
          {
            name: release.name,
            chart: release.chart,
            version: stack.mesh.version,
            namespace: NAMESPACES.mesh,
            createNamespace: false,
            repositoryOpts: { repo: ISTIO_CHART_REPO },
            values: release.values,
            cleanupOnFail: true,
            timeout: 600,
          },
          { parent: this, dependsOn: previous ? [previous] : (args.dependsOn ?? []) },
        );
        this.releases.push(previous);
      }
    }
    this.policies = meshPolicies(stack).map(({ resourceName, object }) =>
      validatedCustomResource(resourceName, object, { parent: this, dependsOn: this.releases }),
    );
    this.networkPolicies = networkPolicies(stack).map(
      (p) =>
        new k8s.networking.v1.NetworkPolicy(
          `${p.namespace}-${p.name}`,
          { metadata: { name: p.name, namespace: p.namespace, labels: k8sLabels(stack) }, spec: p.spec },
          { parent: this },
        ),
    );
    this.registerOutputs({
      mode: stack.mesh.mode,
      releases: this.releases.map((r) => r.name),
      policies: this.policies.length,
      networkPolicies: this.networkPolicies.length,
    });
  }
}
