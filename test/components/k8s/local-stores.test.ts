import { offlineStoreVolume } from "../../../components/k8s/feature-service";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalStores, OBJECT_STORE_SECRET, OFFLINE_STORE_PVC } from "../../../components/k8s";
import { WORKLOADS } from "../../../components/names";
import type { PlanResource } from "../../../components/plan-resource";
import { valueOf as outputValue, recorded, useMocks } from "../../support/mocks";
import { CLOUD_KEY_ENV, containersOf, named, ofKind, plain, platformOf, securityProblems, workloads } from "./k8s-objects";

const { stack, catalog } = platformOf("local");
let all: PlanResource[];
let stores: LocalStores;

beforeAll(async () => {
  const mocks = await useMocks("local", { region: "local" });
  stores = new LocalStores("local-stores", { stack, catalog });
  all = await recorded(mocks);
});

function secretData(name: string): Record<string, string> {
  return plain<Record<string, string>>(named(all, "Secret", name).inputs.stringData);
}

describe("local stores (in-cluster Redis, PostgreSQL, MinIO, DuckDB volume)", () => {
  it("run Redis as a StatefulSet with a persistent volume and its password from a Secret", () => {
    const redis = named(all, "StatefulSet", "redis");
    const spec = redis.inputs.spec as { volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[] };
    expect(spec.volumeClaimTemplates[0]?.spec.resources.requests.storage).toMatch(/Gi$/);
    const c = workloads(all).find((w) => w.object === redis)?.pod.containers[0];
    const env = c?.env?.find((e) => e.name === "REDIS_PASSWORD");
    expect(env?.value).toBeUndefined();
    expect(env?.valueFrom?.secretKeyRef).toEqual({ name: "redis-auth", key: "password" });
    expect(c?.args).toEqual(expect.arrayContaining(["--requirepass", "$(REDIS_PASSWORD)"]));
  });

  it("hand out the Redis URL without the password, and the password the Secret holds", async () => {
    expect(await outputValue(stores.connections.online.url)).toBe("redis://redis.mlops.svc.cluster.local:6379");
    const password = await outputValue(stores.connections.online.password as pulumi.Output<string>);
    expect(password.length).toBe(32);
    expect(secretData("redis-auth").password).toBe(password);
  });

  it("keep the offline store as a DuckDB file on its own volume", async () => {
    expect(stores.connections.offline.kind).toBe("duckdb");
    expect(await outputValue(stores.connections.offline.url)).toBe("duckdb:/data/offline.duckdb");
    // The pods that open it (features server, materialization Jobs) mount the claim where the URL points.
    expect(stores.connections.offline.volume).toEqual({ claimName: "offline-store", mountPath: "/data" });
    expect(offlineStoreVolume(stores.connections.offline)).toEqual({
      volumes: [{ name: "offline-store", persistentVolumeClaim: { claimName: "offline-store" } }],
      mounts: [{ name: "offline-store", mountPath: "/data" }],
    });
    expect(named(all, "PersistentVolumeClaim", OFFLINE_STORE_PVC).inputs.spec).toMatchObject({ accessModes: ["ReadWriteOnce"] });
  });

  it("give MLflow a PostgreSQL URL kept secret, whose password is the one PostgreSQL starts with", async () => {
    const url = stores.connections.trackingDatabase.url;
    expect(await pulumi.isSecret(url)).toBe(true);
    const value = await outputValue(url);
    const parsed = new URL(value);
    expect(parsed.protocol).toBe("postgresql:");
    expect(parsed.host).toBe("postgres.mlops.svc.cluster.local:5432");
    expect(parsed.password).toBe(secretData("postgres-auth").password);
    const pg = workloads(all).find((w) => w.object.inputs.metadata?.name === "postgres")?.pod.containers[0];
    expect(pg?.env?.find((e) => e.name === "POSTGRES_PASSWORD")?.valueFrom?.secretKeyRef?.name).toBe("postgres-auth");
  });

  it("store artifacts in an in-cluster S3-compatible store whose credentials live in a Secret", async () => {
    expect(await outputValue(stores.connections.artifacts.uri)).toMatch(/^s3:\/\/mlflow\//);
    expect(stores.connections.artifacts.objectStore).toEqual({
      endpoint: "http://minio.mlops.svc.cluster.local:9000",
      credentialsSecret: OBJECT_STORE_SECRET,
    });
    expect(Object.keys(secretData(OBJECT_STORE_SECRET)).sort()).toEqual(["root-password", "root-user"]);
    const job = named(all, "Job", "minio-create-bucket");
    expect(job.options.dependsOn?.length).toBeGreaterThan(0);
  });

  it("grant no cloud identity to any workload", async () => {
    expect(Object.keys(stores.connections.identities).sort()).toEqual([...WORKLOADS].sort());
    for (const w of WORKLOADS) expect(await outputValue(stores.connections.identities[w])).toEqual({});
  });

  it("run every container non-root with a read-only root filesystem, all capabilities dropped and pinned images", () => {
    const found = workloads(all);
    expect(found.map((w) => w.object.inputs.metadata?.name).sort()).toEqual(["minio", "minio-create-bucket", "postgres", "redis"]);
    for (const { object, pod } of found) {
      expect(pod.hostNetwork).toBeUndefined();
      for (const c of containersOf(pod)) {
        expect(securityProblems(c)).toEqual([]);
        if (object.inputs.kind !== "Job" && !object.type.endsWith(":Job")) expect(c.readinessProbe && c.livenessProbe).toBeTruthy();
      }
    }
  });

  it("put no literal password or cloud key in any env var", () => {
    for (const { pod } of workloads(all)) {
      for (const c of containersOf(pod)) {
        for (const e of c.env ?? []) {
          if (/PASSWORD|SECRET|TOKEN|KEY/.test(e.name)) expect(e.valueFrom?.secretKeyRef, `${c.name} ${e.name}`).toBeDefined();
          if (CLOUD_KEY_ENV.includes(e.name)) expect(e.value).toBeUndefined();
        }
      }
    }
  });

  it("label every object with team, environment and cost centre", () => {
    for (const kind of ["StatefulSet", "Service", "Secret", "PersistentVolumeClaim", "Job"]) {
      for (const o of ofKind(all, kind)) expect(o.inputs.metadata?.labels?.["mlops.platform/environment"], `${kind} ${o.name}`).toBe("dev");
    }
  });
});
