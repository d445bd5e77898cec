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
    // GPU pools are Karpenter NodePools on EKS: the cost rules read them as they read node groups.
    {
      type: "kubernetes:karpenter.sh/v1:NodePool",
      change: (r) => {
        r.spec.template.spec.taints = [];
      },
    },
    // Without the controller nothing provisions the NodePools.
    {
      type: "kubernetes:helm.sh/v3:Release",
      match: (r) => String(r.inputs.chart).endsWith("/karpenter"),
    },
    weightsSumTo90,
    containerWithoutLimits,
  ],
  [
    "containers-have-resources",
    "elasticache-encrypted-with-auth",
    "gpu-pool-can-scale-up",
    "gpu-pool-tainted",
    "s3-bucket-public-access-blocked",
    "virtualservice-matches-catalog",
    "virtualservice-weights-sum-to-100",
  ],
);
