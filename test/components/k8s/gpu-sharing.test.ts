import { describe, expect, it } from "vitest";
import { devicePluginConfig, gpuResourceOf, prepullImages, stackDevicePluginConfig, versionGpuPlacement } from "../../../components/k8s";
import { gkeGpuSharing } from "../../../components/gcp/gpu-node-pool";
import { GPU_SHARING_LABEL, type ModelVersion, type StackSpec } from "../../../definition";
import { platformOf } from "./k8s-objects";

const aws = platformOf("aws-dev");
const withSharing = (stack: StackSpec, gpuSharing: NonNullable<StackSpec["nodePools"][number]["gpuSharing"]>): StackSpec => ({
  ...stack,
  nodePools: stack.nodePools.map((p) =>
    p.role === "gpu"
      ? {
          ...p,
          gpuSharing,
          labels: { ...p.labels, [GPU_SHARING_LABEL]: gpuSharing.strategy === "mig" ? `mig-${gpuSharing.mode}` : "time-slicing" },
        }
      : p,
  ),
});
const llm = Object.values(aws.catalog.models)
  .flatMap((m) => m.versions)
  .find((v) => v.gpu) as ModelVersion;

describe("GPU sharing from the spec", () => {
  it("renders the NVIDIA device plugin's time-slicing config, keeping the nvidia.com/gpu name", () => {
    expect(devicePluginConfig({ strategy: "time-slicing", replicas: 4 })).toEqual({
      version: "v1",
      flags: { migStrategy: "none" },
      sharing: { timeSlicing: { renameByDefault: false, resources: [{ name: "nvidia.com/gpu", replicas: 4 }] } },
    });
    expect(stackDevicePluginConfig(aws.stack)).toEqual({ version: "v1", flags: { migStrategy: "none" } });
    expect(devicePluginConfig({ strategy: "mig", mode: "single", profiles: { "3g.40gb": 2 } })).toEqual({
      version: "v1",
      flags: { migStrategy: "single" },
    });
  });

  it("asks GKE to share or partition GPUs itself on its node pools", () => {
    expect(gkeGpuSharing({ strategy: "time-slicing", replicas: 3 })).toEqual({
      gpuSharingConfig: { gpuSharingStrategy: "TIME_SHARING", maxSharedClientsPerGpu: 3 },
    });
    expect(gkeGpuSharing({ strategy: "mig", mode: "mixed", profiles: { "1g.10gb": 7 } })).toEqual({ gpuPartitionSize: "1g.10gb" });
    expect(gkeGpuSharing(undefined)).toEqual({});
  });

  it("requests a mixed MIG slice by its own resource name, and lands a share only on pools that offer it", () => {
    const mixed = withSharing(aws.stack, { strategy: "mig", mode: "mixed", profiles: { "1g.10gb": 7 } });
    const slice: ModelVersion = {
      ...llm,
      gpu: { count: 1, accelerator: llm.gpu?.accelerator ?? "nvidia-l4", mig: "1g.10gb", timeSliced: false },
    };
    expect(gpuResourceOf(slice, mixed)).toBe("nvidia.com/mig-1g.10gb");
    expect(gpuResourceOf(slice, withSharing(aws.stack, { strategy: "mig", mode: "single", profiles: { "1g.10gb": 7 } }))).toBe(
      "nvidia.com/gpu",
    );
    const terms = versionGpuPlacement(slice, mixed)?.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
    expect(terms?.[0]?.matchExpressions).toContainEqual({ key: GPU_SHARING_LABEL, operator: "In", values: ["mig-mixed"] });
    expect(gpuResourceOf(llm, aws.stack)).toBe("nvidia.com/gpu");
  });
});

describe("runtime image pre-pull", () => {
  it("pulls each GPU runtime image deployed to the stack once, on GPU nodes only", () => {
    expect(prepullImages(aws.stack, aws.catalog)).toEqual(["vllm/vllm-openai:v0.6.3"]);
    const local = platformOf("local");
    expect(prepullImages(local.stack, local.catalog)).toEqual([]);
  });
});
