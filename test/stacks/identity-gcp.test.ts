import { beforeAll, describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { expectPodAccountsExist, platformResources, serviceAccounts } from "./identity-support";

let all: PlanResource[];
beforeAll(async () => {
  all = await platformResources("gcp-dev");
}, 120_000);

describe("workload identity across the layers (gcp-dev)", () => {
  it("every pod runs as a ServiceAccount the plan creates", () => expectPodAccountsExist(all));

  it("each ServiceAccount with a Google service account is exactly the member that account trusts", () => {
    const annotated = serviceAccounts(all).filter((a) => a.annotations["iam.gke.io/gcp-service-account"]);
    expect(annotated.map((a) => `${a.namespace}/${a.name}`).sort()).toEqual([
      "mlops/drift",
      "mlops/features",
      "mlops/tracking",
      "models/serving",
      "models/training",
    ]);
    const bindings = all.filter(
      (r) => r.type === "gcp:serviceaccount/iAMMember:IAMMember" && r.inputs.role === "roles/iam.workloadIdentityUser",
    );
    for (const account of annotated) {
      const email = account.annotations["iam.gke.io/gcp-service-account"] as string;
      const binding = bindings.filter((b) => String(b.inputs.serviceAccountId).includes(email));
      expect(binding.map((b) => String(b.inputs.member))).toEqual([
        `serviceAccount:mlops-dev-4821.svc.id.goog[${account.namespace}/${account.name}]`,
      ]);
    }
  });
});
