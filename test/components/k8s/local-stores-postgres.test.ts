import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalStores, OFFLINE_STORE_PVC } from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { valueOf as outputValue, recorded, useMocks } from "../../support/mocks";
import { named, ofKind, plain, platformOf, workloads } from "./k8s-objects";

const local = platformOf("local");
const stack = { ...local.stack, offlineStore: { kind: "postgres" as const, database: "features" } };
let all: PlanResource[];
let stores: LocalStores;

beforeAll(async () => {
  const mocks = await useMocks("local-postgres", { region: "local" });
  stores = new LocalStores("local-stores", { stack, catalog: local.catalog });
  all = await recorded(mocks);
});

describe("local stores with a PostgreSQL offline store", () => {
  it("serve the offline store from the in-cluster PostgreSQL with its own role and password", async () => {
    expect(stores.connections.offline.kind).toBe("postgres");
    expect(await outputValue(stores.connections.offline.url)).toBe("postgres://features@postgres.mlops.svc.cluster.local:5432/features");
    const password = await outputValue(stores.connections.offline.password as pulumi.Output<string>);
    expect(plain<Record<string, string>>(named(all, "Secret", "postgres-auth").inputs.stringData)["offline-password"]).toBe(password);
  });

  it("create the role and database on first start from a script that reads the password from the environment", () => {
    const script = Object.values(named(all, "ConfigMap", "postgres-init").inputs.data ?? {})[0] ?? "";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable the script expands.
    expect(script).toContain("CREATE ROLE features LOGIN PASSWORD '${OFFLINE_PASSWORD}'");
    expect(script).toContain("CREATE DATABASE features OWNER features");
    const pg = workloads(all).find((w) => w.object.inputs.metadata?.name === "postgres")?.pod.containers[0];
    expect(pg?.env?.find((e) => e.name === "OFFLINE_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "postgres-auth",
      key: "offline-password",
    });
    expect(pg?.volumeMounts?.map((m) => m.mountPath)).toContain("/docker-entrypoint-initdb.d");
  });

  it("create no DuckDB volume", () => {
    expect(ofKind(all, "PersistentVolumeClaim").map((p) => p.inputs.metadata?.name)).not.toContain(OFFLINE_STORE_PVC);
  });
});
