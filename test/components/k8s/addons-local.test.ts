import { homedir } from "node:os";
import { beforeAll, describe, expect, it } from "vitest";
import { ClusterAddons, expandHome, localClusterAccess, namespacePlan } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { valueOf as outputValue, recorded, useMocks } from "../../support/mocks";
import { named, ofKind, plain, platformOf } from "./k8s-objects";

const { stack } = platformOf("local");
let all: PlanResource[];
let addons: ClusterAddons;

beforeAll(async () => {
  const mocks = await useMocks("local", { region: "local" });
  addons = new ClusterAddons("local-addons", { stack, cluster: localClusterAccess(stack) });
  all = await recorded(mocks);
});

describe("cluster add-ons on the local stack", () => {
  it("point the provider at the stack's kubeconfig path and context, expanded from ~, without reading it", async () => {
    const access = localClusterAccess(stack);
    expect(access.workloadIdentity).toBe("none");
    expect(access.context).toBe("kind-mlops");
    expect(await outputValue(access.name)).toBe("kind-mlops");
    const provider = all.find((r) => r.type === "pulumi:providers:kubernetes");
    expect(plain(provider?.inputs.kubeconfig)).toBe(`${homedir()}/.kube/config`);
    expect(provider?.inputs.context).toBe("kind-mlops");
  });

  it("expand only a leading ~", () => {
    expect(expandHome("~/k/config", "/home/u")).toBe("/home/u/k/config");
    expect(expandHome("/etc/k/config", "/home/u")).toBe("/etc/k/config");
    expect(expandHome("a~/b", "/home/u")).toBe("a~/b");
  });

  it("create the platform's namespaces with injection on the platform and model namespaces only", () => {
    const names = ofKind(all, "Namespace")
      .map((n) => n.inputs.metadata?.name)
      .sort();
    expect(names).toEqual(["gpu-system", "istio-system", "mlops", "models", "monitoring"]);
    expect(Object.keys(addons.namespaces).sort()).toEqual(["gpu", "mesh", "models", "monitoring", "platform"]);
    for (const ns of ofKind(all, "Namespace")) {
      const injected = ns.inputs.metadata?.labels?.["istio-injection"] === "enabled";
      expect(injected).toBe(["mlops", "models"].includes(ns.inputs.metadata?.name ?? ""));
      expect(ns.inputs.metadata?.labels?.["pod-security.kubernetes.io/warn"]).toBe("restricted");
    }
    expect(named(all, "Namespace", "mlops").inputs.metadata?.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("install no GPU daemons when the stack has no GPU pool", () => {
    expect(addons.gpu).toBeUndefined();
    expect(ofKind(all, "DaemonSet")).toEqual([]);
  });

  it("enforce restricted on injected namespaces only when the platform installs Istio with its CNI plugin", () => {
    const adopted = namespacePlan({ ...stack, mesh: { ...stack.mesh, mode: "adopt" } });
    const platform = adopted.find((n) => n.key === "platform");
    expect(platform?.enforce).toBe("privileged");
    expect(platform?.reason).toMatch(/NET_ADMIN/);
    expect(namespacePlan(stack).find((n) => n.key === "models")?.enforce).toBe("restricted");
  });
});
