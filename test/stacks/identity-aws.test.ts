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

  it("serving logs predictions, and drift reads them, inside the prefix serving's role may write", () => {
    const deployment = all.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && (r.inputs.metadata as { name: string }).name.startsWith("fraud-scorer"),
    );
    type Env = { name: string; value?: string }[];
    expect(deployment).toBeDefined();
    const env =
      (deployment!.inputs.spec as { template: { spec: { containers: { name: string; env?: Env }[] } } }).template.spec.containers.find(
        (c) => c.name === "serving",
      )?.env ?? [];
    const logDir = env.find((e) => e.name === "LOG_DIR")?.value as string;
    expect(logDir).toMatch(/^s3:\/\/[^/]+\/.+/);
    const drift = all.find(
      (r) => r.type === "kubernetes:batch/v1:CronJob" && (r.inputs.metadata as { name: string }).name === "drift-fraud-scorer",
    );
    expect(drift).toBeDefined();
    const args =
      (drift!.inputs.spec as { jobTemplate: { spec: { template: { spec: { containers: { args: string[] }[] } } } } }).jobTemplate.spec
        .template.spec.containers[0]?.args ?? [];
    expect(args[args.indexOf("--current") + 1]).toBe(logDir);
    const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.+)$/.exec(logDir) as unknown as [string, string, string];
    const serving = all.find(
      (r) => r.type === "aws:iam/role:Role" && String(r.inputs.assumeRolePolicy).includes("system:serviceaccount:models:serving"),
    );
    const policies = all.filter(
      (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && String(r.inputs.role) === String(serving?.outputs.name ?? serving?.outputs.id),
    );
    const statements = policies.flatMap(
      (p) => (JSON.parse(String(p.inputs.policy)) as { Statement: { Action: string | string[]; Resource: string | string[] }[] }).Statement,
    );
    const writable = statements
      .filter((st) => ([] as string[]).concat(st.Action).includes("s3:PutObject"))
      .flatMap((st) => ([] as string[]).concat(st.Resource))
      .map((arn) => arn.replace(/^arn:aws:s3:::/, ""));
    expect(writable.some((resource) => resource.endsWith("*") && `${bucket}/${prefix}/x.jsonl`.startsWith(resource.slice(0, -1)))).toBe(
      true,
    );
  });
});
