import { describe, expect, it } from "vitest";
import { memorystoreClusterSettings } from "../../components/gcp/memorystore-cluster";
import { evaluate, platform, policy, type Props, resource } from "./fixtures/resource";
import { validPlan } from "./fixtures/stacks";

/**
 * gcp-prod's valid plan with its Memorystore instance swapped for the Memorystore Cluster the
 * component makes when `onlineStore.shards` is set: the pack passes it, and each weakening fails
 * the rule that guards it.
 */
const RULES = ["memorystore-auth-and-tls", "online-store-highly-available", "stateful-resources-protected", "resources-have-cost-labels"];

function shardedPlan(change: (props: Props) => void = () => {}, protect = true) {
  const { stack } = platform("gcp-prod");
  const online = stack.onlineStore;
  if (online.kind !== "redis") throw new Error("gcp-prod: redis expected");
  const settings = memorystoreClusterSettings({ ...stack, onlineStore: { ...online, shards: 3 } }) as unknown as Props;
  change(settings);
  const plan = validPlan("gcp-prod");
  delete plan.redis;
  plan.cluster = resource("gcp:redis/cluster:Cluster", "online-store", { ...settings, pscConfigs: [{ network: "net" }] }, { protect });
  return Object.values(plan);
}

const run = (resources: ReturnType<typeof shardedPlan>) => evaluate(resources, "gcp-prod", { policies: RULES.map(policy) }).violations;

describe("policies on a Memorystore Cluster (gcp-prod with onlineStore.shards)", () => {
  it("pass the cluster the component makes", () => {
    expect(run(shardedPlan())).toEqual([]);
  });

  it.each([
    ["IAM auth is off", (p: Props) => (p.authorizationMode = "AUTH_MODE_DISABLED"), "memorystore-auth-and-tls", "AUTH_MODE_IAM_AUTH"],
    [
      "TLS is off",
      (p: Props) => (p.transitEncryptionMode = "TRANSIT_ENCRYPTION_MODE_DISABLED"),
      "memorystore-auth-and-tls",
      "SERVER_AUTHENTICATION",
    ],
    ["shards have no replica", (p: Props) => (p.replicaCount = 0), "online-store-highly-available", "replicaCount"],
    [
      "every node is in one zone",
      (p: Props) => (p.zoneDistributionConfig = { mode: "SINGLE_ZONE" }),
      "online-store-highly-available",
      "MULTI_ZONE",
    ],
    [
      "deletion protection is off",
      (p: Props) => (p.deletionProtectionEnabled = false),
      "stateful-resources-protected",
      "deletionProtectionEnabled",
    ],
  ])("fail when %s", (_, change, rule, fix) => {
    const violations = run(shardedPlan(change));
    expect(violations.map((v) => v.policy)).toContain(rule);
    expect(violations.find((v) => v.policy === rule)?.fix).toContain(fix);
    expect(violations.find((v) => v.policy === rule)?.message).toContain('Memorystore cluster "online-store"');
  });

  it("fail when the cluster is not protected", () => {
    const violations = run(shardedPlan(() => {}, false));
    expect(violations.map((v) => v.policy)).toEqual(["stateful-resources-protected"]);
  });

  it("fail when the cluster has no cost labels", () => {
    const violations = run(shardedPlan((p) => delete p.labels));
    expect(violations.map((v) => v.policy)).toEqual(["resources-have-cost-labels"]);
  });
});
