import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson, stringifyJson } from "../../../services/core/json";
import { redisKey } from "../../../services/features/entity-key";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { nanosFromSeconds } from "../../../services/features/timestamp";
import { type FeastPeer, startFeast } from "../../support/feast";
import { type RedisCluster, startRedisCluster } from "../../support/redis";
import { fixtureCatalog } from "./support";

/** A real three-master Redis Cluster (redis-server processes), our adapter and Feast 0.67's redis_cluster store on it. */
const catalog = fixtureCatalog();
const stats = onlineViewOf(catalog, "driver_hourly_stats");
const T = Math.floor(Date.now() / 1000) - 60;
let cluster: RedisCluster;
let store: OnlineStore;
let feast: FeastPeer;

beforeAll(async () => {
  cluster = await startRedisCluster();
  store = await openOnlineStore(cluster.url, { timeoutMs: 1000 });
  feast = await startFeast(catalog, { onlineStore: cluster.url });
}, 240_000);
afterAll(async () => {
  await feast?.stop();
  await store?.close();
  await cluster?.stop();
});

const keys = Array.from({ length: 200 }, (_, i) => [9007199254740993n + BigInt(i)]);

describe("Redis Cluster (redis+cluster://)", () => {
  it("writes and reads keys spread over every shard in one call, each key on the node its slot names", async () => {
    const written = await store.writeFeatures(
      stats,
      keys.map((key, i) => ({ key, eventTimestamp: nanosFromSeconds(T) + BigInt(i), values: { avg_daily_trips: i } })),
    );
    expect(written).toEqual({ written: 200, skipped: 0 });
    const rows = await store.readFeatures(stats, keys, ["avg_daily_trips"]);
    expect(rows.map((r) => r?.values.avg_daily_trips)).toEqual(keys.map((_, i) => i));
    // The keys landed on all three masters (Feast's own layout: no hash tags).
    const perNode = await Promise.all(
      cluster.ports.map(async (port) => {
        const node = new Redis(port, "127.0.0.1");
        const size = await node.dbsize();
        node.disconnect();
        return size;
      }),
    );
    expect(perNode.every((n) => n > 0)).toBe(true);
    expect(perNode.reduce((a, b) => a + b, 0)).toBe(200);
  });

  it("skips a row not newer than the stored one on a cluster too", async () => {
    const older = await store.writeFeatures(stats, [
      { key: keys[0] as bigint[], eventTimestamp: nanosFromSeconds(T - 1), values: { avg_daily_trips: -1 } },
    ]);
    expect(older).toEqual({ written: 0, skipped: 1 });
  });

  it("Feast's redis_cluster store reads what we wrote, and we read what it writes", async () => {
    const read = (await feast.call({
      op: "read",
      features: ["driver_hourly_stats:avg_daily_trips"],
      entities: [{ driver_id: 9007199254740993n }, { driver_id: 9007199254741000n }],
    })) as { metadata: { feature_names: string[] }; results: { values: unknown[] }[] };
    const column = read.results[read.metadata.feature_names.indexOf("avg_daily_trips")];
    expect(column?.values).toEqual([0, 7]);
    await feast.call({
      op: "write",
      view: "driver_hourly_stats",
      df: {
        driver_id: [123456789012345678n],
        event_timestamp: [new Date(T * 1000).toISOString()],
        conv_rate: [0.5],
        acc_rate: [0.5],
        avg_daily_trips: [99],
      },
    });
    const [row] = await store.readFeatures(stats, [[123456789012345678n]], ["avg_daily_trips"]);
    expect(row?.values).toEqual({ avg_daily_trips: 99 });
    expect(redisKey(catalog.project, stats.joinKeys, [123456789012345678n]).length).toBeGreaterThan(0);
  });

  it("serves /get-online-features from the cluster and answers 503 when a shard is down", async () => {
    const app = await createFeaturesServer({ catalog, onlineStore: store });
    const body = stringifyJson({ features: ["driver_hourly_stats:avg_daily_trips"], entities: { driver_id: keys.map((k) => k[0]) } });
    const ok = await app.inject({
      method: "POST",
      url: "/get-online-features",
      payload: body,
      headers: { "content-type": "application/json" },
    });
    expect(ok.statusCode).toBe(200);
    expect((parseJson(ok.body) as { results: { values: unknown[] }[] }).results[1]?.values).toHaveLength(200);
    await cluster.kill(cluster.ports[2] as number);
    const started = performance.now();
    const down = await app.inject({
      method: "POST",
      url: "/get-online-features",
      payload: body,
      headers: { "content-type": "application/json" },
    });
    expect(down.statusCode).toBe(503);
    expect(down.json().error).toMatch(/redis online store/);
    // Fail fast: the per-call timeout (1 s) plus retries, never a hang.
    expect(performance.now() - started).toBeLessThan(5000);
    await app.close();
  });
});
