import { describe, expect, it } from "vitest";
import { evaluatePolicies } from "../../policies/harness";
import { describeRule, edit } from "./fixtures/cases";
import { platform, policy, type Props } from "./fixtures/resource";
import { validPlan } from "./fixtures/stacks";

const weighted = (r: Props) => r.spec.http.find((route: Record<string, unknown>) => route.match === undefined);

describeRule(
  "virtualservice-weights-sum-to-100",
  ["aws-dev", "gcp-prod", "local"],
  [
    {
      stack: "aws-dev",
      change: "the canary split sums to 90",
      edit: (p) =>
        edit(p, "fraud-scorer-vs", (r) => {
          weighted(r).route[0].weight = 80;
        }),
      names: 'VirtualService "models/fraud-scorer": route weighted weights sum to 90 (v1=80, v2=10)',
      fix: "sum to 100",
    },
  ],
);

describeRule(
  "virtualservice-subsets-exist",
  ["aws-prod", "local"],
  [
    {
      stack: "aws-prod",
      change: "the DestinationRule lacks the canary subset",
      edit: (p) =>
        edit(p, "fraud-scorer-dr", (r) => {
          r.spec.subsets = r.spec.subsets.filter((s: { name: string }) => s.name !== "v2");
        }),
      names: 'routes to subset "v2" of fraud-scorer.models.svc.cluster.local',
      fix: 'add subset "v2"',
    },
    {
      stack: "local",
      change: "the shadow subset is missing",
      edit: (p) =>
        edit(p, "churn-predictor-dr", (r) => {
          r.spec.subsets = r.spec.subsets.filter((s: { name: string }) => s.name !== "v4");
        }),
      names: 'mirrors to subset "v4"',
      fix: 'add subset "v4"',
    },
  ],
);

describeRule(
  "virtualservice-matches-catalog",
  ["aws-dev", "gcp-dev", "local"],
  [
    {
      stack: "gcp-dev",
      change: "the split was edited outside the catalog",
      edit: (p) =>
        edit(p, "fraud-scorer-vs", (r) => {
          weighted(r).route[0].weight = 50;
          weighted(r).route[1].weight = 50;
        }),
      names: "sends v1=50, v2=50, but catalog/models/fraud/fraud-scorer.yaml declares v1=90, v2=10",
      fix: "catalog file",
    },
    {
      stack: "aws-dev",
      change: "only the gRPC split was edited outside the catalog",
      edit: (p) =>
        edit(p, "fraud-scorer-vs", (r) => {
          const grpc = r.spec.http.find((route: Record<string, unknown>) => route.name === "grpc-weighted");
          grpc.route[0].weight = 0;
          grpc.route[1].weight = 100;
        }),
      names: "sends v1=0, v2=100 on port 8081, but catalog/models/fraud/fraud-scorer.yaml declares v1=90, v2=10",
      fix: "catalog file",
    },
    {
      stack: "local",
      change: "a catalog model has no VirtualService",
      edit: (p) => {
        delete p["churn-predictor-vs"];
      },
      names: 'model "churn-predictor"',
      fix: "ModelServing",
    },
  ],
);

describe("catalog-consistent", () => {
  const run = (stackName: string, change?: (catalog: ReturnType<typeof platform>["catalog"]) => void) => {
    const { stack, catalog } = platform(stackName);
    const copy = structuredClone(catalog);
    change?.(copy);
    return evaluatePolicies(Object.values(validPlan(stackName)), { stack, catalog: copy, policies: [policy("catalog-consistent")] });
  };

  it("passes the catalog of every stack", () => {
    for (const stack of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]) expect(run(stack).violations).toEqual([]);
  });

  it("fails when a model's weights sum to 90, naming the file and the fix", () => {
    const report = run("aws-dev", (c) => {
      const v = c.models["fraud-scorer"]?.versions[0];
      if (v) v.weight = 80;
    });
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0]?.message).toContain("catalog/models/fraud/fraud-scorer.yaml: versions: weights sum to 90");
    expect(report.violations[0]?.fix).toBe("weights must sum to 100");
  });

  it("fails when a GPU model has no pool with its accelerator in the stack", () => {
    const report = run("gcp-prod", (c) => {
      const v = c.models["support-assistant"]?.versions[0];
      if (v?.gpu) v.gpu.accelerator = "nvidia-h100-80gb";
    });
    expect(report.violations.map((v) => v.message)).toEqual([
      expect.stringContaining('"nvidia-h100-80gb" has no GPU pool in stack gcp-prod'),
    ]);
    expect(report.violations[0]?.fix).toContain("nvidia-l4");
  });
});
