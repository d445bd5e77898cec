import { beforeAll, describe, expect, it } from "vitest";
import { Mesh, meshPolicies } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { recorded, useMocks } from "../../support/mocks";
import { allowed, policiesOf } from "./mesh-authz";
import { ofKind, platformOf } from "./k8s-objects";

const local = platformOf("local");
const stack = { ...local.stack, mesh: { ...local.stack.mesh, mode: "adopt" as const } };
let all: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("local", { region: "local" });
  new Mesh("local-mesh", { stack });
  all = await recorded(mocks);
});

describe("the mesh adopting an existing Istio (local stack)", () => {
  it("installs no Helm release but still enforces STRICT mTLS and deny-by-default", () => {
    expect(ofKind(all, "Release")).toEqual([]);
    expect(ofKind(all, "PeerAuthentication")[0]?.inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
    expect(ofKind(all, "AuthorizationPolicy").filter((p) => p.inputs.metadata?.name === "deny-all")).toHaveLength(2);
  });

  it("lets the platform and models reach the in-cluster stores, and nobody else", () => {
    const policies = policiesOf(meshPolicies(stack));
    const redis = {
      namespace: "mlops",
      labels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/component": "store" },
      port: 6379,
      method: "",
      path: "",
    };
    expect(allowed(policies, { ...redis, source: { principal: "cluster.local/ns/mlops/sa/features", namespace: "mlops" } })).toBe(true);
    expect(allowed(policies, { ...redis, source: { principal: "cluster.local/ns/default/sa/default", namespace: "default" } })).toBe(false);
  });

  it("has no store policy on cloud stacks, whose stores are outside the cluster", () => {
    const cloud = platformOf("aws-dev").stack;
    expect(meshPolicies(cloud).map((o) => o.resourceName)).not.toContain("mlops-allow-local-stores");
    expect(meshPolicies(stack).map((o) => o.resourceName)).toContain("mlops-allow-local-stores");
  });
});
