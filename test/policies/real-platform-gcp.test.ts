import { containerWithoutLimits, describeRealPlatform, weightsSumTo90 } from "./fixtures/real";

// gcp-dev: GKE, Memorystore, GCS and the dev-only cost rules (spot, scale to zero).
describeRealPlatform(
  "gcp-dev",
  [
    {
      type: "gcp:storage/bucket:Bucket",
      change: (r) => {
        r.publicAccessPrevention = "inherited";
      },
    },
    {
      type: "gcp:redis/instance:Instance",
      change: (r) => {
        r.authEnabled = false;
        r.transitEncryptionMode = "DISABLED";
      },
    },
    {
      type: "gcp:container/nodePool:NodePool",
      match: (r) => JSON.stringify(r.inputs).includes("nvidia-l4"),
      change: (r) => {
        r.nodeConfig.taints = [];
        r.nodeConfig.spot = false;
        // A fixed pool of 0 nodes on a cluster without auto-provisioning never gets a GPU.
        delete r.autoscaling;
        r.initialNodeCount = 0;
      },
    },
    weightsSumTo90,
    containerWithoutLimits,
  ],
  [
    "containers-have-resources",
    "gcs-bucket-private",
    "gpu-pool-can-scale-up",
    "gpu-pool-spot-in-dev",
    "gpu-pool-tainted",
    "memorystore-auth-and-tls",
    "virtualservice-matches-catalog",
    "virtualservice-weights-sum-to-100",
  ],
);
