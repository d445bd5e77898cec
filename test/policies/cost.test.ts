import type { Props } from "./fixtures/resource";
import { describe, expect, it } from "vitest";
import { awsGpusPerInstance } from "../../policies/gpu";
import { describeRule, edit } from "./fixtures/cases";

const pod = (r: Props) => r.spec.template.spec;

describeRule(
  "gpu-pool-tainted",
  ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "the EKS GPU pool has no taint",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.taints = [];
        }),
      names: 'EKS node group "pool-gpu-l4" (g6.xlarge)',
      fix: "NO_SCHEDULE",
    },
    {
      stack: "aws-prod",
      change: "the taint uses the Kubernetes spelling of the effect",
      edit: (p) =>
        edit(p, "pool-gpu-a100", (r) => {
          r.taints[0].effect = "NoSchedule";
        }),
      names: '"pool-gpu-a100" (p4d.24xlarge)',
      fix: "NO_SCHEDULE",
    },
    {
      stack: "gcp-dev",
      change: "the GKE GPU pool has no taint",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.nodeConfig.taints = [];
        }),
      names: 'GKE node pool "pool-gpu-l4" (nvidia-l4 x1)',
      fix: "nvidia.com/gpu",
    },
  ],
);

describeRule(
  "gpu-pool-scales-to-zero-in-dev",
  ["aws-dev", "gcp-dev", "aws-prod"],
  [
    {
      stack: "aws-dev",
      change: "the dev GPU pool keeps a node",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.scalingConfig.minSize = 1;
        }),
      names: '"pool-gpu-l4"',
      fix: "minSize: 0",
    },
    {
      stack: "gcp-dev",
      change: "the dev GKE GPU pool keeps a node",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.autoscaling.totalMinNodeCount = 1;
        }),
      names: '"pool-gpu-l4"',
      fix: "minSize: 0",
    },
  ],
);

describeRule(
  "gpu-pool-spot-in-dev",
  ["aws-dev", "gcp-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "the dev GPU pool is on-demand",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.capacityType = "ON_DEMAND";
        }),
      names: '"pool-gpu-l4"',
      fix: 'capacityType: "SPOT"',
    },
    {
      stack: "gcp-dev",
      change: "the dev GKE GPU pool is not spot",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.nodeConfig.spot = false;
        }),
      names: '"pool-gpu-l4"',
      fix: "nodeConfig.spot: true",
    },
  ],
);

describeRule(
  "gpu-count-within-budget",
  ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "the GPU pool may grow to 10 nodes",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          r.scalingConfig.maxSize = 10;
        }),
      names: "can scale to 10 GPUs (pool-gpu-l4: 10 x 1), over serving.maxGpus 4",
      fix: "maxSize",
    },
    {
      stack: "aws-prod",
      change: "the A100 pool may grow to 2 nodes of 8",
      edit: (p) =>
        edit(p, "pool-gpu-a100", (r) => {
          r.scalingConfig.maxSize = 2;
        }),
      names: "can scale to 22 GPUs",
      fix: "serving.maxGpus",
    },
    {
      stack: "gcp-prod",
      change: "per-zone max counts over three zones exceed the budget",
      edit: (p) =>
        edit(p, "pool-gpu-l4", (r) => {
          delete r.autoscaling.totalMaxNodeCount;
          r.autoscaling.maxNodeCount = 3;
          r.nodeLocations = ["a", "b", "c"];
        }),
      names: "can scale to 9 GPUs",
      fix: "maxSize",
    },
  ],
);

describeRule(
  "gpu-only-for-gpu-workloads",
  ["aws-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "a CPU service tolerates the GPU taint",
      edit: (p) =>
        edit(p, "features", (r) => {
          pod(r).tolerations = [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }];
        }),
      names: 'Deployment "mlops/features"',
      fix: "remove the toleration",
    },
    {
      stack: "gcp-prod",
      change: "a GPU model is not pinned to a GPU pool",
      edit: (p) =>
        edit(p, "support-assistant-llama-8b", (r) => {
          delete pod(r).affinity;
        }),
      names: 'Deployment "models/support-assistant-llama-8b"',
      fix: "gpuPlacement",
    },
    {
      stack: "aws-dev",
      change: "a GPU request has no limit",
      edit: (p) =>
        edit(p, "support-assistant-llama-8b", (r) => {
          delete pod(r).containers[1].resources.limits["nvidia.com/gpu"];
        }),
      names: 'container "runtime"',
      fix: "limits",
    },
  ],
);

describeRule(
  "resources-have-cost-labels",
  ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"],
  [
    {
      stack: "aws-dev",
      change: "the online store has no cost centre tag",
      edit: (p) =>
        edit(p, "redis", (r) => {
          delete r.tags.costCenter;
        }),
      names: 'ReplicationGroup "online-store"',
      fix: "cloudTags(stack)",
    },
    {
      stack: "gcp-prod",
      change: "the bucket has no team label",
      edit: (p) =>
        edit(p, "bucket", (r) => {
          delete r.labels.team;
        }),
      names: 'Bucket "artifacts"',
      fix: "gcpLabels(stack)",
    },
    {
      stack: "local",
      change: "a Deployment has no cost-centre label",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete r.metadata.labels["mlops.platform/cost-center"];
        }),
      names: 'Deployment "mlops/features"',
      fix: "k8sLabels(stack)",
    },
  ],
);

describe("GPUs per EC2 instance", () => {
  it("follow the instance size within a family", () => {
    expect(awsGpusPerInstance("g6.xlarge")).toBe(1);
    expect(awsGpusPerInstance("g5.12xlarge")).toBe(4);
    expect(awsGpusPerInstance("p4d.24xlarge")).toBe(8);
    expect(awsGpusPerInstance("m6i.large")).toBeUndefined();
  });
});
