import { beforeAll, describe, expect, it } from "vitest";
import { Platform } from "../../components/platform";
import type { PlanResource } from "../../components/plan-resource";
import { loadPlatform } from "../../definition";
import { recorded, useMocks } from "../support/mocks";
import type { Inputs } from "./aws/fixture";

const inputs = (r: PlanResource | undefined): Inputs => (r?.inputs ?? {}) as Inputs;

// One whole platform per file: the Pulumi runtime is process-global and object names are fixed.
let all: PlanResource[];
beforeAll(async () => {
  const spec = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "gcp-dev" });
  const mocks = await useMocks("gcp-dev", { region: spec.stack.region, gcpProject: spec.stack.project });
  new Platform("mlops", { spec });
  for (let seen = -1; seen !== all?.length; ) {
    seen = all?.length ?? 0;
    all = [...(await recorded(mocks))];
  }
  expect(mocks.unknownInvokes).toEqual([]);
}, 120_000);

const byName = (type: string, name: string) => {
  const found = all.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name}, found ${found.length}`);
  return found[0] as PlanResource;
};
const urnsOf = (type: string) => all.filter((r) => r.type === type).map((r) => r.urn);
const QUOTA = "kubernetes:core/v1:ResourceQuota";

describe("GKE admits system-node-critical pods outside kube-system only under a quota", () => {
  it("creates a quota for that priority class in gpu-system and istio-system", () => {
    const quotas = all.filter((r) => r.type === QUOTA);
    expect(quotas.map((q) => inputs(q).metadata.namespace).sort()).toEqual(["gpu-system", "istio-system"]);
    for (const q of quotas) {
      expect(inputs(q).spec).toEqual({
        hard: { pods: "1000" },
        scopeSelector: { matchExpressions: [{ scopeName: "PriorityClass", operator: "In", values: ["system-node-critical"] }] },
      });
    }
  });

  it("creates the quotas before the DCGM exporter and the Istio charts (istio-cni) that use the class", () => {
    const quota = (ns: string) => all.find((r) => r.type === QUOTA && inputs(r).metadata.namespace === ns)?.urn;
    const dcgm = byName("kubernetes:apps/v1:DaemonSet", "dcgm-exporter");
    expect(inputs(dcgm).spec.template.spec.priorityClassName).toBe("system-node-critical");
    expect(dcgm.options.dependsOn).toContain(quota("gpu-system"));
    expect(byName("kubernetes:helm.sh/v3:Release", "istio-base").options.dependsOn).toContain(quota("istio-system"));
    // istio-cni comes after istio-base, so after the quota too.
    expect(byName("kubernetes:helm.sh/v3:Release", "istio-cni").options.dependsOn).toContain(
      byName("kubernetes:helm.sh/v3:Release", "istio-base").urn,
    );
  });
});

describe("ordering of the Kubernetes layer", () => {
  it("waits for the node pools: the add-ons (and so everything on the cluster) depend on them", () => {
    const addons = all.find((r) => r.type === "mlops:k8s:ClusterAddons");
    const pools = urnsOf("gcp:container/nodePool:NodePool");
    expect(pools).toHaveLength(2);
    expect(addons?.options.dependsOn).toEqual(expect.arrayContaining(pools));
  });

  it("starts Prometheus after the mesh, so its sidecar can get the certificates it scrapes with", () => {
    const kps = byName("kubernetes:helm.sh/v3:Release", "kube-prometheus-stack");
    const istio = all.filter((r) => r.type === "kubernetes:helm.sh/v3:Release" && inputs(r).repositoryOpts?.repo?.includes("istio"));
    expect(istio.map((r) => r.name)).toEqual(["istio-base", "istio-cni", "istiod", "istio-ingressgateway"]);
    expect(kps.options.dependsOn).toEqual(expect.arrayContaining(istio.map((r) => r.urn)));
  });

  it("keeps the gateway a LoadBalancer on a cloud", () => {
    expect(inputs(byName("kubernetes:helm.sh/v3:Release", "istio-ingressgateway")).values.service).toEqual({ type: "LoadBalancer" });
  });
});
