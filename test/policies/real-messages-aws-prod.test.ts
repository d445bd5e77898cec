import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { realPlan, withBreakage } from "./fixtures/real";
import { evaluate, policy, type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * Whole violation messages (subject, problem, fix) of single breakages of aws-prod's real plan,
 * where the other real-output tests only look for a part: the defaults a message names when a
 * setting is unset, and a pod-level problem that names no container.
 */

const NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

const resources = realPlan("aws-prod");

/** The violations (message and fix) `name` reports once the first resource of `type` matching `match` gets `change`. */
function messages(
  name: string,
  type: string,
  change: (r: Props) => void,
  match: (r: PlanResource) => boolean = () => true,
): { message: string; fix: string }[] {
  return violationsOf(withBreakage(resources, { type, match, change }), "aws-prod", name);
}

const gpuClass = (r: PlanResource) => (r.inputs as Props).metadata?.name === "gpu-l4";
const IMDS_FIX = 'set metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 }';

describe("node-metadata-hardened on aws-prod's EC2NodeClasses", () => {
  it("names httpTokens optional when the class leaves it unset", () => {
    const found = messages("node-metadata-hardened", NODE_CLASS, (r) => void delete r.spec.metadataOptions.httpTokens, gpuClass);
    expect(found).toEqual([{ message: 'EC2NodeClass "gpu-l4": instance metadata: httpTokens is "optional".', fix: IMDS_FIX }]);
  });

  it("names the default hop limit when the class leaves it unset", () => {
    const found = messages(
      "node-metadata-hardened",
      NODE_CLASS,
      (r) => void delete r.spec.metadataOptions.httpPutResponseHopLimit,
      gpuClass,
    );
    expect(found).toEqual([{ message: 'EC2NodeClass "gpu-l4": instance metadata: hop limit default lets pods reach it.', fix: IMDS_FIX }]);
  });

  it("passes a class that turns the metadata endpoint off, whatever its token and hop settings", () => {
    const found = messages(
      "node-metadata-hardened",
      NODE_CLASS,
      (r) => {
        r.spec.metadataOptions = { httpEndpoint: "disabled", httpTokens: "optional", httpPutResponseHopLimit: 2 };
      },
      gpuClass,
    );
    expect(found).toEqual([]);
  });
});

describe("node-metadata-hardened on launch templates added to aws-prod", () => {
  it("reads each template's own metadataOptions: only the one allowing IMDSv1 fires", () => {
    const templates = [
      resource("aws:ec2/launchTemplate:LaunchTemplate", "ng-cpu", {
        metadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      }),
      resource("aws:ec2/launchTemplate:LaunchTemplate", "ng-gpu", {
        metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 1 },
      }),
    ];
    const found = evaluate([...resources, ...templates], "aws-prod", { policies: [policy("node-metadata-hardened")] }).violations;
    expect(found.map((v) => ({ message: v.message, fix: v.fix }))).toEqual([
      { message: 'launch template "ng-gpu": instance metadata: httpTokens is "optional".', fix: IMDS_FIX },
    ]);
  });
});

describe("a pod-level problem on aws-prod's real Deployments", () => {
  it("names the workload without a container, and no exception when none was asked for", () => {
    const found = messages(
      "pods-no-host-access",
      DEPLOYMENT,
      (r) => {
        r.spec.template.spec.hostNetwork = true;
      },
      (r) => JSON.stringify(r.inputs).includes("fraud-scorer"),
    );
    expect(found).toEqual([
      {
        message: 'Deployment "models/fraud-scorer-v1": shares the node\'s Network namespace (hostNetwork: true).',
        fix: "remove hostNetwork",
      },
    ]);
  });
});
