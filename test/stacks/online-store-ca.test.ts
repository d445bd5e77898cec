import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { platformResources } from "./identity-support";

let all: PlanResource[];
beforeAll(async () => {
  all = await platformResources("gcp-prod");
}, 120_000);

type Pod = {
  volumes?: { name: string; configMap?: { name: string } }[];
  containers: { volumeMounts?: { name: string; mountPath: string }[] }[];
};
const named = (type: string, name: string) => all.find((r) => r.type === type && (r.inputs.metadata as { name?: string }).name === name);

describe("Memorystore's private CA reaches every process that opens the online store (gcp-prod)", () => {
  it("ships the instance's server CA in a ConfigMap", () => {
    const cm = named("kubernetes:core/v1:ConfigMap", "online-store-ca");
    expect(cm).toBeDefined();
    expect((cm!.inputs.data as Record<string, string>)["ca.crt"]).toContain("BEGIN CERTIFICATE");
  });

  it("points the store URL at the mounted CA", () => {
    const secret = named("kubernetes:core/v1:Secret", "features-stores");
    expect(secret).toBeDefined();
    const url = new URL((secret!.inputs.stringData as Record<string, string>)["online-store-url"] as string);
    expect(url.protocol).toBe("rediss:");
    expect(url.searchParams.get("tlsCa")).toBe("/etc/mlops/online-store-ca/ca.crt");
  });

  it("mounts it in the features service and in every materialization job", () => {
    const pods: Pod[] = [
      (named("kubernetes:apps/v1:Deployment", "features")!.inputs.spec as { template: { spec: Pod } }).template.spec,
      ...all
        .filter((r) => r.type === "kubernetes:batch/v1:CronJob" && (r.inputs.metadata as { name: string }).name.startsWith("materialize-"))
        .map((r) => (r.inputs.spec as { jobTemplate: { spec: { template: { spec: Pod } } } }).jobTemplate.spec.template.spec),
    ];
    expect(pods.length).toBeGreaterThan(1);
    for (const pod of pods) {
      expect(pod.volumes).toContainEqual({ name: "online-store-ca", configMap: { name: "online-store-ca" } });
      expect(pod.containers[0]?.volumeMounts).toContainEqual(
        expect.objectContaining({ name: "online-store-ca", mountPath: "/etc/mlops/online-store-ca" }),
      );
    }
  });
});
