import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { ClusterAddons } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { recorded, useMocks } from "../../support/mocks";
import { platformOf } from "./k8s-objects";

const { stack } = platformOf("gcp-prod");
let daemonSets: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("gcp-prod", { region: "europe-west4", gcpProject: "mlops-prod-7730" });
  new ClusterAddons("gcp-prod-addons", {
    stack,
    cluster: {
      name: pulumi.output("gcp-prod"),
      kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"),
      workloadIdentity: "gke",
      managedGpuDevicePlugin: true,
    },
  });
  daemonSets = await recorded(mocks, "kubernetes:apps/v1:DaemonSet");
});

describe("cluster add-ons where the provider runs the NVIDIA device plugin (GKE)", () => {
  it("do not register the GPUs a second time, but still export GPU metrics", () => {
    const names = daemonSets.map((d) => (d.inputs as { metadata: { name: string } }).metadata.name).sort();
    expect(names).toEqual(["dcgm-exporter"]);
  });
});
