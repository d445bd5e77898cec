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
  const spec = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: "local" });
  const mocks = await useMocks("local", { region: spec.stack.region });
  new Platform("mlops", { spec });
  for (let seen = -1; seen !== all?.length; ) {
    seen = all?.length ?? 0;
    all = [...(await recorded(mocks))];
  }
  expect(mocks.unknownInvokes).toEqual([]);
}, 120_000);

describe("the local stack on kind", () => {
  it("exposes the Istio gateway as a NodePort: kind has no load balancer, and Helm would wait for its address", () => {
    const gateway = all.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.name === "istio-ingressgateway");
    expect(inputs(gateway).chart).toBe("gateway");
    expect(inputs(gateway).values.service).toEqual({ type: "NodePort" });
  });

  it("creates no LoadBalancer Service of its own either", () => {
    const services = all.filter((r) => r.type === "kubernetes:core/v1:Service");
    expect(services.length).toBeGreaterThan(3);
    for (const s of services) expect(inputs(s).spec?.type ?? "ClusterIP", s.name).not.toBe("LoadBalancer");
  });

  it("needs no priority-class quotas outside GKE", () => {
    expect(all.filter((r) => r.type === "kubernetes:core/v1:ResourceQuota")).toEqual([]);
  });
});
