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
    // GPU pools are Karpenter NodePools on EKS now; the cost rules read EKS node groups and GKE
    // pools only (docs/policies.md), so an untainted GPU pool is shown on gcp-dev, not here.
    weightsSumTo90,
    containerWithoutLimits,
  ],
  [
    "containers-have-resources",
    "elasticache-encrypted-with-auth",
    "s3-bucket-public-access-blocked",
    "virtualservice-matches-catalog",
    "virtualservice-weights-sum-to-100",
  ],
);
