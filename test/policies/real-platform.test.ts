import { containerWithoutLimits, describeRealPlatform, weightsSumTo90 } from "./fixtures/real";

// aws-prod: the richest stack (three GPU pools, prod rules, every model).
describeRealPlatform(
  "aws-prod",
  [
    { type: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" },
    {
      type: "aws:elasticache/replicationGroup:ReplicationGroup",
      change: (r) => {
        r.transitEncryptionEnabled = false;
        r.atRestEncryptionEnabled = false;
      },
    },
    {
      type: "aws:eks/nodeGroup:NodeGroup",
      match: (r) => JSON.stringify(r.inputs.instanceTypes).includes("g6"),
      change: (r) => {
        r.taints = [];
      },
    },
    weightsSumTo90,
    containerWithoutLimits,
  ],
  [
    "containers-have-resources",
    "elasticache-encrypted-with-auth",
    "gpu-pool-tainted",
    "s3-bucket-public-access-blocked",
    "virtualservice-matches-catalog",
    "virtualservice-weights-sum-to-100",
  ],
);
