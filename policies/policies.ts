import { catalogPolicies } from "./catalog";
import { costPolicies } from "./cost";
import { gpuAutoscalingPolicies } from "./gpu-autoscaling";
import { gpuPoolCanScaleUp } from "./gpu-pool-scaling";
import { reliabilityPolicies } from "./reliability";
import { bucketPolicies } from "./security-buckets";
import { clusterPolicies } from "./security-cluster";
import { dataStorePolicies } from "./security-data";
import { meshPolicies } from "./security-mesh";
import { workloadPolicies } from "./security-workloads";
import { databasePolicies } from "./security-databases";
import { iamPolicies } from "./security-iam";
import { istioPolicies } from "./security-istio";
import { kmsPolicies } from "./security-kms";
import { networkPolicies } from "./security-network";
import { nodePolicies } from "./security-nodes";
import { rbacPolicies } from "./security-rbac";
import type { PlatformPolicy } from "./support";

/**
 * Every policy of the pack, in one explicit list (no registration by import side effects).
 * Kept apart from index.ts because `new PolicyPack(...)` starts the engine's gRPC server, which
 * never exits outside the engine; the plan's harness imports this list instead.
 */
export const allPolicies: PlatformPolicy[] = [
  ...dataStorePolicies,
  ...bucketPolicies,
  ...clusterPolicies,
  ...workloadPolicies,
  ...meshPolicies,
  ...iamPolicies,
  ...networkPolicies,
  ...rbacPolicies,
  ...istioPolicies,
  ...kmsPolicies,
  ...nodePolicies,
  ...databasePolicies,
  ...reliabilityPolicies,
  ...gpuAutoscalingPolicies,
  gpuPoolCanScaleUp,
  ...costPolicies,
  ...catalogPolicies,
];
