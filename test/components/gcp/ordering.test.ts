import { beforeAll, describe, expect, it } from "vitest";
import { GcpFoundation, GKE_ADMIN_ROLE } from "../../../components/gcp";
import type { PlanResource } from "../../../components/plan-resource";
import { parseStack } from "../../../definition";
import { recorded, useMocks } from "../../support/mocks";
import { loadGcpStack } from "./fixture";

const ADMIN = "group:platform-admins@example.com";
let all: PlanResource[];
beforeAll(async () => {
  const mocks = await useMocks("gcp-order", { region: "us-central1", gcpProject: "mlops-dev-4821" });
  const dev = loadGcpStack("gcp-dev");
  new GcpFoundation("gcp-dev", dev);
  const prod = loadGcpStack("gcp-prod");
  const admins = parseStack(
    {
      cloud: "gcp",
      environment: "prod",
      region: prod.stack.region,
      project: prod.stack.project,
      tags: { team: "ml", costCenter: "cc-1" },
      cluster: { privateEndpoint: true, admins: [ADMIN] },
      nodePools: [{ name: "system", role: "system", machineType: "n2-standard-4" }],
    },
    "admins",
    "stacks/Pulumi.admins.yaml",
  );
  new GcpFoundation("admins", { stack: admins, catalog: prod.catalog });
  all = await recorded(mocks);
  expect(mocks.unknownInvokes).toEqual([]);
});

const of = (prefix: string, type: string) => all.filter((r) => r.type === type && r.name.startsWith(`${prefix}-`));
const one = (prefix: string, type: string) => {
  const found = of(prefix, type);
  if (found.length !== 1) throw new Error(`expected one ${type} in ${prefix}, found ${found.length}`);
  return found[0] as PlanResource;
};

describe("GKE Workload Identity bindings on a fresh project", () => {
  it("wait for the cluster, whose creation makes the <project>.svc.id.goog pool they name", () => {
    const cluster = one("gcp-dev", "gcp:container/cluster:Cluster");
    const bindings = of("gcp-dev", "gcp:serviceaccount/iAMMember:IAMMember").filter(
      (b) => b.inputs.role === "roles/iam.workloadIdentityUser",
    );
    expect(bindings).toHaveLength(5);
    for (const b of bindings) {
      expect(b.inputs.member).toMatch(/^serviceAccount:mlops-dev-4821\.svc\.id\.goog\[/);
      expect(b.options.dependsOn).toContain(cluster.urn);
    }
  });
});

describe("the private services peering on destroy", () => {
  it("is abandoned rather than deleted (producers hold it for days) and removed before the network and range", () => {
    const connection = one("gcp-dev", "gcp:servicenetworking/connection:Connection");
    expect(connection.inputs.deletionPolicy).toBe("ABANDON");
    expect(connection.options.dependsOn).toEqual(
      expect.arrayContaining([
        one("gcp-dev", "gcp:compute/network:Network").urn,
        one("gcp-dev", "gcp:compute/globalAddress:GlobalAddress").urn,
      ]),
    );
  });

  it("outlives the stores that use it: Memorystore and Cloud SQL depend on it", () => {
    const connection = one("gcp-dev", "gcp:servicenetworking/connection:Connection");
    expect(one("gcp-dev", "gcp:redis/instance:Instance").options.dependsOn).toContain(connection.urn);
    expect(one("gcp-dev", "gcp:sql/databaseInstance:DatabaseInstance").options.dependsOn).toContain(connection.urn);
  });
});

describe("BigQuery objects with fixed ids", () => {
  it("the dataset and every table are deleted before their replacement is created", () => {
    const objects = [...of("gcp-dev", "gcp:bigquery/dataset:Dataset"), ...of("gcp-dev", "gcp:bigquery/table:Table")];
    expect(objects.length).toBeGreaterThan(2);
    for (const o of objects) expect(o.options.deleteBeforeReplace, o.name).toBe(true);
  });
});

describe("cluster.admins on GKE", () => {
  it("get roles/container.admin on the project once the cluster exists", () => {
    const grants = of("admins", "gcp:projects/iAMMember:IAMMember").filter((g) => g.inputs.role === GKE_ADMIN_ROLE);
    expect(grants.map((g) => g.inputs.member)).toEqual([ADMIN]);
    expect(grants[0]?.options.dependsOn).toContain(one("admins", "gcp:container/cluster:Cluster").urn);
  });

  it("default to none", () => {
    expect(of("gcp-dev", "gcp:projects/iAMMember:IAMMember").filter((g) => g.inputs.role === GKE_ADMIN_ROLE)).toEqual([]);
  });
});
