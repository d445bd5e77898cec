import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DRAIN_SECONDS, ModelServing, versionReplicas } from "../../../components/k8s/model-serving";
import { hpaOwnsReplicas } from "../../../components/k8s/workload";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import { k8sLabels } from "../../../components/names";
import type { PlanResource } from "../../../components/plan-resource";
import { ACCELERATOR_LABEL, GPU_RESOURCE, GPU_SHARING_LABEL, GPU_TAINT, loadPlatform, type ModelSpec } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const { stack, catalog } = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "aws-prod" });
const models = Object.values(catalog.models);
const VS = "kubernetes:networking.istio.io/v1:VirtualService";
const DR = "kubernetes:networking.istio.io/v1:DestinationRule";

// biome-ignore lint/suspicious/noExplicitAny: tests walk rendered manifests as the API server would see them
type Obj = { metadata: { name: string; namespace: string; labels: Record<string, string> }; spec: Record<string, any> };
let mocks: PlanMocks;
let all: PlanResource[];

beforeAll(async () => {
  mocks = await useMocks("aws-prod", { region: "eu-west-1" });
  const runtime = new RuntimeConfig("runtime", { stack, catalog });
  for (const model of models) {
    new ModelServing(model.name, {
      stack,
      catalog,
      model,
      runtime,
      featuresUrl: pulumi.output("http://features.mlops.svc.cluster.local:6566"),
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({
        "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/serving",
      }),
      predictionLogsUri: "s3://mlops-artifacts-1a2b/predictions",
      trackingUrl: "http://mlflow.mlops.svc.cluster.local:5000",
    });
  }
  all = await recorded(mocks);
});

function objects(type: string): Obj[] {
  return all.filter((r) => r.type === type).map((r) => r.inputs as unknown as Obj);
}
function one(type: string, name: string): Obj {
  const found = objects(type).filter((o) => o.metadata.name === name);
  expect(found, `${type} ${name}`).toHaveLength(1);
  return found[0] as Obj;
}
function model(name: string): ModelSpec {
  return catalog.models[name] as ModelSpec;
}
const podOf = (deployment: Obj) => deployment.spec.template.spec;
const container = (deployment: Obj, name: string) => podOf(deployment).containers.find((c: { name: string }) => c.name === name);

describe("ModelServing on the mesh", () => {
  it("sends each version the weight the catalog gives it, and nothing to 0-weight versions", () => {
    for (const m of models) {
      const weighted = one(VS, m.name).spec.http.at(-1);
      const routed = Object.fromEntries(
        weighted.route.map((r: { destination: { subset: string }; weight: number }) => [r.destination.subset, r.weight]),
      );
      const expected = Object.fromEntries(m.versions.filter((v) => v.weight > 0).map((v) => [v.name, v.weight]));
      expect(routed).toEqual(expected);
    }
    expect(
      one(VS, "fraud-scorer")
        .spec.http.at(-1)
        .route.map((r: { weight: number }) => r.weight),
    ).toEqual([90, 10]);
  });

  it("puts the header override routes first, one per version, before the weighted route", () => {
    for (const m of models) {
      // The gRPC routes (same header and weights, matched on the gRPC port) come before HTTP's.
      const all = one(VS, m.name).spec.http;
      expect(all).toHaveLength(2 * (m.versions.length + 1));
      const http = all.slice(m.versions.length + 1);
      m.versions.forEach((v, i) => {
        expect(http[i].match).toEqual([{ headers: { "x-model-version": { exact: v.name } } }]);
        expect(http[i].route).toEqual([expect.objectContaining({ destination: expect.objectContaining({ subset: v.name }), weight: 100 })]);
      });
      expect(http.at(-1).match).toBeUndefined();
    }
  });

  it("mirrors the shadow's share to the shadow subset only, and never routes live traffic to it", () => {
    const weighted = one(VS, "churn-predictor").spec.http.at(-1);
    expect(weighted.mirror).toEqual({ host: "churn-predictor.models.svc.cluster.local", subset: "v4", port: { number: 8080 } });
    expect(weighted.mirrorPercentage).toEqual({ value: 25 });
    expect(weighted.route.map((r: { destination: { subset: string } }) => r.destination.subset)).toEqual(["v3"]);
    const routes = one(VS, "churn-predictor").spec.http;
    const headerRoutes = routes.filter((r: { name: string }) => !r.name.endsWith("weighted"));
    for (const r of headerRoutes) expect(r.mirror).toBeUndefined();
    const grpc = routes.find((r: { name: string }) => r.name === "grpc-weighted");
    expect(grpc.mirror).toEqual({ host: "churn-predictor.models.svc.cluster.local", subset: "v4", port: { number: 8081 } });
    expect(one(VS, "fraud-scorer").spec.http.at(-1).mirror).toBeUndefined();
  });

  it("retries server and connection failures within a per-try budget of twice the SLO's p99, inside the overall timeout", () => {
    const route = one(VS, "fraud-scorer").spec.http.at(-1);
    expect(route.retries).toEqual({ attempts: 1, perTryTimeout: "100ms", retryOn: "5xx,reset,connect-failure,refused-stream" });
    expect(Number.parseInt(route.timeout, 10)).toBeGreaterThanOrEqual(200);
    expect(one(VS, "support-assistant").spec.http.at(-1).retries.perTryTimeout).toBe("10000ms");
  });

  it("declares a DestinationRule subset per version on the version label, with outlier detection", () => {
    for (const m of models) {
      const dr = one(DR, m.name).spec;
      expect(dr.host).toBe(`${m.name}.models.svc.cluster.local`);
      expect(dr.subsets).toEqual(m.versions.map((v) => ({ name: v.name, labels: { version: v.name } })));
      expect(dr.trafficPolicy.outlierDetection.consecutive5xxErrors).toBeGreaterThan(0);
      expect(dr.trafficPolicy.tls.mode).toBe("ISTIO_MUTUAL");
    }
  });

  it("runs one Deployment per version whose pods carry the subset's version label", () => {
    for (const m of models) {
      for (const v of m.versions) {
        const d = one("kubernetes:apps/v1:Deployment", `${m.name}-${v.name}`);
        expect(d.spec.template.metadata.labels.version).toBe(v.name);
        expect(d.spec.selector.matchLabels.version).toBe(v.name);
        expect(d.spec.template.metadata.labels["mlops.platform/model"]).toBe(m.name);
      }
    }
    expect(objects("kubernetes:apps/v1:Deployment")).toHaveLength(models.reduce((n, m) => n + m.versions.length, 0));
  });

  it("gives every version a KEDA ScaledObject (no CPU HPA) and a PDB, with at least 2 replicas in prod", () => {
    expect(objects("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").filter((o) => o.metadata.namespace === "models")).toEqual([]);
    for (const m of models) {
      for (const v of m.versions) {
        const name = `${m.name}-${v.name}`;
        const scaler = one("kubernetes:keda.sh/v1alpha1:ScaledObject", name).spec;
        expect(scaler.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
        expect(scaler.minReplicaCount).toBe(Math.max(2, m.autoscaling.minReplicas));
        expect(scaler.maxReplicaCount).toBe(Math.max(scaler.minReplicaCount, m.autoscaling.maxReplicas));
        expect(scaler.triggers.length).toBeGreaterThan(0);
        expect(scaler.triggers.every((t: { type: string }) => t.type === "prometheus")).toBe(true);
        const pdb = one("kubernetes:policy/v1:PodDisruptionBudget", name).spec;
        expect(pdb.selector.matchLabels).toEqual({ "app.kubernetes.io/name": name, version: v.name });
        // The HPA owns the count: the Deployment carries none (kube-score deployment-targeted-by-hpa-...).
        expect(one("kubernetes:apps/v1:Deployment", name).spec.replicas).toBeUndefined();
      }
    }
  });

  it("leaves the replica count to the HPA after the first rollout", () => {
    const opts = { parent: undefined } as pulumi.CustomResourceOptions;
    const deployment = hpaOwnsReplicas({
      type: "kubernetes:apps/v1:Deployment",
      name: "m-v1",
      props: {},
      opts,
      resource: undefined as never,
    });
    expect(deployment?.opts.ignoreChanges).toEqual(["spec.replicas"]);
    expect(
      hpaOwnsReplicas({ type: "kubernetes:policy/v1:PodDisruptionBudget", name: "m-v1", props: {}, opts, resource: undefined as never }),
    ).toBeUndefined();
  });

  it("keeps a single dev replica drainable and still lifts prod to two", () => {
    const m = model("churn-predictor");
    expect(versionReplicas({ ...m, autoscaling: { ...m.autoscaling, minReplicas: 1 } }, { ...stack, environment: "dev" }).min).toBe(1);
    expect(versionReplicas({ ...m, autoscaling: { ...m.autoscaling, minReplicas: 1 } }, stack).min).toBe(2);
    expect(one("kubernetes:policy/v1:PodDisruptionBudget", "churn-predictor-v3").spec.maxUnavailable).toBe(1);
  });

  it("places GPU versions on their accelerator's pool: toleration, node affinity and GPU requests equal to limits", () => {
    const d = one("kubernetes:apps/v1:Deployment", "support-assistant-llama-8b");
    const pod = podOf(d);
    expect(pod.tolerations).toContainEqual({ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect });
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      {
        matchExpressions: [
          { key: ACCELERATOR_LABEL, operator: "In", values: ["nvidia-l4"] },
          // A whole GPU: never a time-sliced or MIG pool's share.
          { key: GPU_SHARING_LABEL, operator: "In", values: ["exclusive"] },
        ],
      },
    ]);
    expect(pod.affinity.podAntiAffinity).toBeDefined();
    const runtime = container(d, "openai");
    expect(runtime.resources.limits[GPU_RESOURCE]).toBe("1");
    expect(runtime.resources.requests[GPU_RESOURCE]).toBe("1");
    expect(container(d, "serving").resources.limits[GPU_RESOURCE]).toBeUndefined();
    const cpu = podOf(one("kubernetes:apps/v1:Deployment", "fraud-scorer-v1"));
    expect(cpu.tolerations).toBeUndefined();
    expect(cpu.affinity.nodeAffinity).toBeUndefined();
    expect(cpu.containers[0].resources.limits[GPU_RESOURCE]).toBeUndefined();
  });

  it("runs CPU versions in the platform's serving image with the model's URI", () => {
    const d = one("kubernetes:apps/v1:Deployment", "fraud-scorer-v2");
    expect(podOf(d).containers).toHaveLength(1);
    const serving = container(d, "serving");
    expect(serving.image).toBe(stack.serving.image);
    expect([...serving.command, ...serving.args].join(" ")).toContain(
      "node dist/services/serving/main.js serve --model fraud-scorer=models:/fraud-scorer/2",
    );
    expect(serving.resources.requests).toEqual({ cpu: "500m", memory: "512Mi", "ephemeral-storage": "1280Mi" });
    // models:/fraud-scorer/2 is resolved through the MLflow registry.
    expect(serving.env).toContainEqual({ name: "MLFLOW_TRACKING_URI", value: "http://mlflow.mlops.svc.cluster.local:5000" });
  });

  it("exposes V2 gRPC on a Service port named grpc, with a gRPC liveness probe on it", () => {
    const svc = one("kubernetes:core/v1:Service", "fraud-scorer");
    expect(svc.spec.ports).toContainEqual({ name: "grpc", port: 8081, targetPort: 8081, protocol: "TCP", appProtocol: "grpc" });
    const serving = container(one("kubernetes:apps/v1:Deployment", "fraud-scorer-v2"), "serving");
    expect(serving.ports).toContainEqual({ name: "grpc", containerPort: 8081 });
    expect(serving.env).toContainEqual({ name: "GRPC_PORT", value: "8081" });
    expect(serving.livenessProbe.grpc).toEqual({ port: 8081 });
    expect(serving.readinessProbe.httpGet).toEqual({ path: "/v2/health/ready", port: 8080 });
  });

  it("runs an external runtime's image beside the serving service, which proxies to it over localhost", () => {
    const d = one("kubernetes:apps/v1:Deployment", "support-assistant-llama-8b");
    expect(podOf(d).containers.map((c: { name: string }) => c.name)).toEqual(["serving", "openai"]);
    const runtime = container(d, "openai");
    expect(runtime.image).toBe("vllm/vllm-openai:v0.6.3");
    expect(runtime.args).toEqual([
      "--model",
      "s3://mlops-artifacts/llm/llama-3.1-8b-instruct/",
      "--port",
      "8000",
      "--max-model-len",
      "8192",
    ]);
    // vLLM has one health path: readiness asks it, liveness (and start-up) only connect to the port.
    expect(runtime.readinessProbe.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(runtime.livenessProbe.tcpSocket).toEqual({ port: 8000 });
    expect(runtime.startupProbe.tcpSocket).toEqual({ port: 8000 });
    const serving = container(d, "serving");
    expect(serving.args.join(" ")).toContain("--runtime openai --upstream http://127.0.0.1:8000");
    expect(serving.env).toContainEqual({ name: "FEATURES", value: "http://features.mlops.svc.cluster.local:6566" });
    // Sampled predictions go where the drift checks read them.
    expect(serving.env).toContainEqual({ name: "LOG_DIR", value: "s3://mlops-artifacts-1a2b/predictions" });
    expect(serving.env).toContainEqual({ name: "LOG_SAMPLE_RATE", value: "0.05" });
  });

  it("hardens every serving container: readiness on 8080, liveness over gRPC on 8081, non-root, read-only root, no capabilities, drain before stop", () => {
    for (const d of objects("kubernetes:apps/v1:Deployment")) {
      const pod = podOf(d);
      expect(pod.securityContext.runAsNonRoot).toBe(true);
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(DRAIN_SECONDS);
      expect(pod.topologySpreadConstraints.map((t: { topologyKey: string }) => t.topologyKey)).toEqual([
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
      ]);
      expect(pod.volumes.some((v: Record<string, unknown>) => "hostPath" in v)).toBe(false);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ["ALL"] },
        });
        expect(c.resources.limits.memory).toBeDefined();
        expect(c.lifecycle.preStop.sleep.seconds).toBe(DRAIN_SECONDS);
        expect(c.image).toMatch(/:[\w.-]+$|@sha256:/);
      }
      const serving = container(d, "serving");
      expect(serving.readinessProbe.httpGet).toEqual({ path: "/v2/health/ready", port: 8080 });
      expect(serving.livenessProbe.grpc).toEqual({ port: 8081 });
    }
  });

  it("puts one Service in front of all versions of a model", () => {
    const svc = one("kubernetes:core/v1:Service", "fraud-scorer").spec;
    expect(svc.selector).toEqual({ "mlops.platform/model": "fraud-scorer" });
    expect(svc.ports).toEqual([
      expect.objectContaining({ port: 8080, targetPort: 8080, name: "http" }),
      expect.objectContaining({ port: 8081, targetPort: 8081, name: "grpc" }),
    ]);
  });

  it("runs every model as the one serving ServiceAccount the cloud identity is bound to", () => {
    const accounts = objects("kubernetes:core/v1:ServiceAccount");
    expect(accounts.map((a) => `${a.metadata.namespace}/${a.metadata.name}`)).toEqual(["models/serving"]);
    expect((accounts[0] as unknown as { metadata: { annotations: Record<string, string> } }).metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/serving",
    });
    for (const d of objects("kubernetes:apps/v1:Deployment")) expect(podOf(d).serviceAccountName).toBe("serving");
  });

  it("labels every object with team, environment and cost centre", () => {
    const required = k8sLabels(stack);
    for (const r of all.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) {
      expect((r.inputs as unknown as Obj).metadata.labels, `${r.type} ${r.name}`).toMatchObject(required);
    }
  });
});
