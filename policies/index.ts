import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

/**
 * The pack as the Pulumi engine loads it: `pulumi preview --policy-pack policies
 * --policy-pack-config <file from policies/write-config.ts>`. The per-stack levels and facts
 * (environment, GPU budget, catalog) come from that config file; without it every policy runs at
 * its prod level. The offline plan loads this file the same way (stacks/plan/policy-pack.ts).
 */
new PolicyPack("mlops-platform", {
  policies: allPolicies,
  enforcementLevel: "mandatory",
  description: "Security, reliability, cost and catalog rules for the MLOps platform on AWS, GCP and local Kubernetes.",
});
