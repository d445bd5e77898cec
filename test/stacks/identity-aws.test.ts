import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { expectPodAccountsExist, platformResources, serviceAccounts } from "./identity-support";

let all: PlanResource[];
beforeAll(async () => {
  all = await platformResources("aws-prod");
}, 120_000);

describe("workload identity across the layers (aws-prod)", () => {
  it("every pod runs as a ServiceAccount the plan creates", () => expectPodAccountsExist(all));

  it("each ServiceAccount with an IRSA role is exactly the subject that role trusts", () => {
    const annotated = serviceAccounts(all).filter((a) => a.annotations["eks.amazonaws.com/role-arn"]);
    expect(annotated.map((a) => `${a.namespace}/${a.name}`).sort()).toEqual([
      "mlops/drift",
      "mlops/features",
      "mlops/tracking",
      "models/serving",
      "models/training",
    ]);
    const roles = all.filter((r) => r.type === "aws:iam/role:Role");
    for (const account of annotated) {
      const arn = account.annotations["eks.amazonaws.com/role-arn"];
      const role = roles.find((r) => r.outputs.arn === arn);
      expect(role, `no role has ARN ${arn}`).toBeDefined();
      const policy = JSON.parse(String(role?.inputs.assumeRolePolicy)) as {
        Statement: { Condition: { StringEquals: Record<string, string> } }[];
      };
      const subjects = policy.Statement.flatMap((s) =>
        Object.entries(s.Condition.StringEquals)
          .filter(([k]) => k.endsWith(":sub"))
          .map(([, v]) => v),
      );
      expect(subjects).toEqual([`system:serviceaccount:${account.namespace}:${account.name}`]);
    }
  });
});
