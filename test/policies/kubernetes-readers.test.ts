import type { PolicyResource } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import {
  autoscalersByTarget,
  compileSelector,
  DEFAULT_EXCEPTIONS,
  EXCEPTION_LABEL,
  EXCEPTION_REASON_ANNOTATION,
  exceptionFor,
  isKind,
  kubernetesKind,
  objectMeta,
  podWorkload,
  quantities,
  selects,
} from "../../policies/kubernetes";
import { resource, violationsOf } from "./fixtures/resource";

/**
 * How the policies read Kubernetes objects (policies/kubernetes.ts): type tokens, pod templates of
 * each workload kind, object metadata, label selectors with every operator, the exception
 * allowlist, resource quantities and which autoscaler scales what. Hand-made objects: the real
 * plans use only a few of these shapes (no matchExpressions, no CronJob, no claimed exception
 * outside gpu-system), and the docs allow the rest.
 */

describe("kubernetesKind and isKind read the engine's type tokens", () => {
  it("splits group, version and kind", () => {
    expect(kubernetesKind("kubernetes:security.istio.io/v1beta1:AuthorizationPolicy")).toEqual({
      group: "security.istio.io",
      version: "v1beta1",
      kind: "AuthorizationPolicy",
    });
    expect(kubernetesKind("kubernetes:core/v1:Pod")).toEqual({ group: "core", version: "v1", kind: "Pod" });
  });

  it("a token without a group is the core group", () => {
    expect(kubernetesKind("kubernetes:v1:ConfigMap")).toEqual({ group: "core", version: "v1", kind: "ConfigMap" });
  });

  it("kinds may have digits after the first letter", () => {
    expect(kubernetesKind("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass")).toEqual({
      group: "karpenter.k8s.aws",
      version: "v1",
      kind: "EC2NodeClass",
    });
  });

  it("other providers' tokens and malformed ones are not Kubernetes kinds", () => {
    for (const token of [
      "aws:eks/cluster:Cluster",
      "pulumi:providers:kubernetes",
      "mlops:kubernetes:apps/v1:Deployment",
      "kubernetes:apps/v1:Deployment-v2",
      "kubernetes:apps/v1:2Deployment",
      "kubernetes:apps/v1:",
      "kubernetes::Deployment",
      "kubernetes:apps/extra/v1:Deployment",
    ])
      expect(kubernetesKind(token), token).toBeUndefined();
  });

  it("isKind matches group and kind at any version", () => {
    expect(isKind("kubernetes:security.istio.io/v1beta1:PeerAuthentication", "security.istio.io", "PeerAuthentication")).toBe(true);
    expect(isKind("kubernetes:security.istio.io/v1:PeerAuthentication", "security.istio.io", "PeerAuthentication")).toBe(true);
    expect(isKind("kubernetes:security.istio.io/v1:RequestAuthentication", "security.istio.io", "PeerAuthentication")).toBe(false);
    expect(isKind("kubernetes:networking.istio.io/v1:PeerAuthentication", "security.istio.io", "PeerAuthentication")).toBe(false);
    expect(isKind("aws:eks/cluster:Cluster", "core", "Cluster")).toBe(false);
  });
});

describe("objectMeta and podWorkload read metadata and pod templates", () => {
  const container = (name: string) => ({ name, image: `registry/${name}:1` });

  it("an object without metadata is named by its resource name in namespace default", () => {
    expect(objectMeta({}, "fallback")).toEqual({
      ref: "default/fallback",
      namespace: "default",
      name: "fallback",
      labels: {},
      annotations: {},
    });
  });

  it("metadata that is not a string is not a name or namespace; labels and annotations keep only strings", () => {
    const meta = objectMeta(
      { metadata: { name: 7, namespace: ["models"], labels: { app: "scorer", replicas: 3 }, annotations: { why: "docs", n: true } } },
      "fallback",
    );
    expect(meta).toEqual({
      ref: "default/fallback",
      namespace: "default",
      name: "fallback",
      labels: { app: "scorer" },
      annotations: { why: "docs" },
    });
  });

  it("a Pod's own labels are its pod labels", () => {
    const w = podWorkload(
      "kubernetes:core/v1:Pod",
      { metadata: { name: "debug", namespace: "mlops", labels: { app: "debug" } }, spec: { containers: [container("shell")] } },
      "pod-resource",
    );
    expect(w).toMatchObject({ kind: "Pod", ref: "mlops/debug", labels: { app: "debug" }, podLabels: { app: "debug" } });
    expect(w?.containers).toEqual([{ container: container("shell"), init: false }]);
  });

  it("a Deployment's pod labels are its template's, not its own; init containers come first", () => {
    const w = podWorkload(
      "kubernetes:apps/v1:Deployment",
      {
        metadata: { name: "scorer", namespace: "models", labels: { owner: "ml" } },
        spec: {
          template: {
            metadata: { labels: { app: "scorer" } },
            spec: { initContainers: [container("migrate")], containers: [container("app"), container("sidecar")] },
          },
        },
      },
      "r",
    );
    expect(w).toMatchObject({ kind: "Deployment", ref: "models/scorer", labels: { owner: "ml" }, podLabels: { app: "scorer" } });
    expect(w?.containers).toEqual([
      { container: container("migrate"), init: true },
      { container: container("app"), init: false },
      { container: container("sidecar"), init: false },
    ]);
  });

  it("a CronJob's pod template sits under jobTemplate", () => {
    const w = podWorkload(
      "kubernetes:batch/v1:CronJob",
      {
        metadata: { name: "retrain", namespace: "mlops" },
        spec: {
          jobTemplate: { spec: { template: { metadata: { labels: { job: "retrain" } }, spec: { containers: [container("train")] } } } },
        },
      },
      "r",
    );
    expect(w).toMatchObject({ kind: "CronJob", podLabels: { job: "retrain" }, pod: { containers: [container("train")] } });
  });

  it("a workload without a pod spec has no containers; kinds without pods and other providers are no workloads", () => {
    expect(podWorkload("kubernetes:apps/v1:StatefulSet", { metadata: { name: "db" } }, "r")).toMatchObject({
      kind: "StatefulSet",
      ref: "default/db",
      podLabels: {},
      containers: [],
    });
    expect(podWorkload("kubernetes:core/v1:Service", { spec: { selector: {} } }, "r")).toBeUndefined();
    expect(podWorkload("kubernetes:apps/v1:ControllerRevision", { spec: {} }, "r")).toBeUndefined();
    expect(podWorkload("aws:ecs/taskDefinition:TaskDefinition", { containerDefinitions: "[]" }, "r")).toBeUndefined();
  });
});

describe("compileSelector matches labels as Kubernetes does", () => {
  const pod = { app: "scorer", tier: "1", track: "stable" };

  it("an empty or missing selector selects nothing", () => {
    expect(selects({}, pod)).toBe(false);
    expect(selects(undefined, {})).toBe(false);
    expect(selects({ matchLabels: {}, matchExpressions: [] }, pod)).toBe(false);
  });

  it("matchLabels must all match", () => {
    expect(selects({ matchLabels: { app: "scorer", track: "stable" } }, pod)).toBe(true);
    expect(selects({ matchLabels: { app: "scorer", track: "canary" } }, pod)).toBe(false);
  });

  it("a selector of matchExpressions only", () => {
    expect(selects({ matchExpressions: [{ key: "app", operator: "In", values: ["scorer", "router"] }] }, pod)).toBe(true);
  });

  it("In: the label is present with one of the values", () => {
    const inValues = compileSelector({ matchExpressions: [{ key: "track", operator: "In", values: ["stable", "canary"] }] });
    expect([inValues(pod), inValues({ track: "shadow" }), inValues({})]).toEqual([true, false, false]);
  });

  it("values are compared as strings (a YAML number matches the label)", () => {
    expect(selects({ matchExpressions: [{ key: "tier", operator: "In", values: [1] }] }, pod)).toBe(true);
  });

  it("NotIn: the label is absent or has none of the values", () => {
    const notIn = compileSelector({ matchExpressions: [{ key: "track", operator: "NotIn", values: ["canary"] }] });
    expect([notIn(pod), notIn({ track: "canary" }), notIn({})]).toEqual([true, false, true]);
  });

  it("Exists and DoesNotExist", () => {
    const exists = compileSelector({ matchExpressions: [{ key: "track", operator: "Exists" }] });
    const absent = compileSelector({ matchExpressions: [{ key: "track", operator: "DoesNotExist" }] });
    expect([exists(pod), exists({}), absent(pod), absent({})]).toEqual([true, false, false, true]);
  });

  it("an unknown operator matches nothing", () => {
    expect(selects({ matchExpressions: [{ key: "app", operator: "Gt", values: ["0"] }] }, pod)).toBe(false);
  });

  it("matchLabels and every expression must all hold", () => {
    const both = compileSelector({
      matchLabels: { app: "scorer" },
      matchExpressions: [
        { key: "track", operator: "In", values: ["stable"] },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    expect([both(pod), both({ ...pod, app: "router" }), both({ ...pod, legacy: "yes" })]).toEqual([true, false, false]);
  });
});

describe("exceptionFor honours only allowlisted, reasoned exceptions", () => {
  const plugin = (
    labels: Record<string, string>,
    podLabels: Record<string, string>,
    namespace = "gpu-system",
    reason = "device socket",
  ) => ({
    labels,
    podLabels,
    namespace,
    annotations: (reason === "" ? {} : { [EXCEPTION_REASON_ANNOTATION]: reason }) as Record<string, string>,
  });
  const claim = { [EXCEPTION_LABEL]: "nvidia-device-plugin" };

  it("no claim, no exception and nothing refused", () => {
    expect(exceptionFor(plugin({}, {}), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual({});
  });

  it("claimed on the object or on its pods, allowlisted, waiving the policy there, with a reason: granted", () => {
    const granted = { granted: DEFAULT_EXCEPTIONS["nvidia-device-plugin"] };
    expect(exceptionFor(plugin(claim, {}), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual(granted);
    expect(exceptionFor(plugin({}, claim), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual(granted);
  });

  it("a name not in the allowlist is refused, listing the allowlist", () => {
    expect(exceptionFor(plugin({ [EXCEPTION_LABEL]: "my-daemon" }, {}), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual({
      refused: `its ${EXCEPTION_LABEL} "my-daemon" is not in the allowlist (nvidia-device-plugin, dcgm-exporter)`,
    });
    expect(exceptionFor(plugin(claim, {}), "pods-no-host-access", {})).toEqual({
      refused: `its ${EXCEPTION_LABEL} "nvidia-device-plugin" is not in the allowlist (none)`,
    });
  });

  it("an exception does not waive policies it does not list", () => {
    expect(exceptionFor(plugin({ [EXCEPTION_LABEL]: "dcgm-exporter" }, {}), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual({
      refused: 'exception "dcgm-exporter" does not waive pods-no-host-access',
    });
  });

  it("an exception applies only in its namespaces", () => {
    const allowlist = {
      ...DEFAULT_EXCEPTIONS,
      "node-agent": { policies: ["pods-no-host-access"], namespaces: ["gpu-system", "monitoring"] },
    };
    expect(exceptionFor(plugin({ [EXCEPTION_LABEL]: "node-agent" }, {}, "models"), "pods-no-host-access", allowlist)).toEqual({
      refused: 'exception "node-agent" applies only in namespace(s) gpu-system, monitoring',
    });
  });

  it("an exception without a reason, or with a blank one, is refused", () => {
    const refused = { refused: `exception "nvidia-device-plugin" has no ${EXCEPTION_REASON_ANNOTATION} annotation saying why` };
    expect(exceptionFor(plugin(claim, {}, "gpu-system", ""), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual(refused);
    expect(exceptionFor(plugin(claim, {}, "gpu-system", "  "), "pods-no-host-access", DEFAULT_EXCEPTIONS)).toEqual(refused);
  });

  it("a refused exception is said in the pod rule's message (the device plugin moved to kube-system)", () => {
    const daemonSet = resource("kubernetes:apps/v1:DaemonSet", "device-plugin", {
      metadata: {
        name: "nvidia-device-plugin",
        namespace: "kube-system",
        labels: claim,
        annotations: { [EXCEPTION_REASON_ANNOTATION]: "kubelet device-plugin socket" },
      },
      spec: {
        selector: { matchLabels: { app: "nvidia-device-plugin" } },
        template: {
          metadata: { labels: { app: "nvidia-device-plugin" } },
          spec: {
            containers: [{ name: "plugin", image: "nvcr.io/nvidia/k8s-device-plugin@sha256:0" }],
            volumes: [{ name: "sockets", hostPath: { path: "/var/lib/kubelet/device-plugins" } }],
          },
        },
      },
    });
    expect(violationsOf([daemonSet], "local", "pods-no-host-access")).toEqual([
      {
        message:
          'DaemonSet "kube-system/nvidia-device-plugin": mounts host path /var/lib/kubelet/device-plugins (volume "sockets") (exception "nvidia-device-plugin" applies only in namespace(s) gpu-system).',
        fix: "use an emptyDir, a ConfigMap or a PersistentVolumeClaim; a node daemon that truly needs it gets an allowlisted mlops.platform/policy-exception",
      },
    ]);
  });
});

describe("quantities and autoscalersByTarget", () => {
  it("requests and limits as strings by resource name; none is empty", () => {
    expect(
      quantities({
        name: "app",
        // Engine inputs carry numbers where YAML wrote them (cpu: 2), whatever the SDK's string type says.
        resources: { requests: { cpu: 2, memory: "4Gi" }, limits: { "nvidia.com/gpu": 1 } } as unknown as Record<
          string,
          Record<string, string>
        >,
      }),
    ).toEqual({
      requests: { cpu: "2", memory: "4Gi" },
      limits: { "nvidia.com/gpu": "1" },
    });
    expect(quantities({ name: "app" })).toEqual({ requests: {}, limits: {} });
  });

  const scaler = (type: string, name: string, props: Record<string, unknown>) =>
    ({ type, name, props, urn: `urn:${name}` }) as unknown as PolicyResource;
  const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
  const KEDA = "kubernetes:keda.sh/v1alpha1:ScaledObject";

  it("keys HPAs and ScaledObjects by namespace, kind and name of their target (KEDA's default kind is Deployment)", () => {
    const hpa = scaler(HPA, "hpa", {
      metadata: { name: "scorer", namespace: "models" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "scorer-v1" } },
    });
    const keda = scaler(KEDA, "keda", {
      metadata: { name: "scorer-keda", namespace: "models" },
      spec: { scaleTargetRef: { name: "scorer-v1" } },
    });
    const statefulSet = scaler(KEDA, "keda-sts", {
      metadata: { name: "db" },
      spec: { scaleTargetRef: { kind: "StatefulSet", name: "db" } },
    });
    const deployment = scaler("kubernetes:apps/v1:Deployment", "scorer-v1", { metadata: { name: "scorer-v1", namespace: "models" } });
    const trigger = scaler("kubernetes:keda.sh/v1alpha1:TriggerAuthentication", "auth", { spec: { scaleTargetRef: { name: "x" } } });
    const byTarget = autoscalersByTarget([hpa, keda, statefulSet, deployment, trigger]);
    expect([...byTarget.entries()].map(([key, rs]) => [key, rs.map((r) => r.name)])).toEqual([
      ["models/Deployment/scorer-v1", ["hpa", "keda"]],
      ["default/StatefulSet/db", ["keda-sts"]],
    ]);
  });
});
