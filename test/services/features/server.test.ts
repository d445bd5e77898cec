import { nanosFromSeconds } from "../../../services/features/timestamp";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

const catalog = fixtureCatalog();
const stats = onlineViewOf(catalog, "driver_hourly_stats");
// 2021-12-31T23:00:00Z, the event time in Feast's documented response.
const T = Date.UTC(2021, 11, 31, 23) / 1000;
let clock = T + 60;

let redis: RedisServer;
let store: OnlineStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  redis = await startRedis();
  store = await openOnlineStore(redis.url, { timeoutMs: 300 });
  app = await createFeaturesServer({ catalog, onlineStore: store, now: () => clock, maxEntityRows: 100, bodyLimit: 64 * 1024 });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  await store.writeFeatures(stats, [
    {
      key: [1001],
      eventTimestamp: nanosFromSeconds(T),
      values: { conv_rate: 0.7037263512611389, acc_rate: 0.8724706768989563, avg_daily_trips: 308 },
    },
    {
      key: [1002],
      eventTimestamp: nanosFromSeconds(T),
      values: { conv_rate: 0.038169607520103455, acc_rate: 0.48534533381462097, avg_daily_trips: 332 },
    },
    { key: [1003], eventTimestamp: nanosFromSeconds(T - 3 * 3600), values: { conv_rate: 0.5, acc_rate: null, avg_daily_trips: 779 } },
  ]);
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  await redis?.stop();
});

/** What the server answers: a Feast response, or an error with its reason. */
interface Answer {
  error: string;
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}

/** Sends a body the way `curl -d` does (form content type), as in Feast's docs. */
async function curl(path: string, body: string): Promise<{ status: number; json: Answer }> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    body,
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

describe("Feast-compatible /get-online-features", () => {
  it("answers Feast's documented curl request unchanged, one result column per feature name", async () => {
    // Body copied from Feast's docs/reference/feature-servers/python-feature-server.md.
    const { status, json } = await curl(
      "/get-online-features",
      `{
    "features": [
      "driver_hourly_stats:conv_rate",
      "driver_hourly_stats:acc_rate",
      "driver_hourly_stats:avg_daily_trips"
    ],
    "entities": {
      "driver_id": [1001, 1002, 1003]
    }
  }`,
    );
    expect(status).toBe(200);
    expect(json.metadata.feature_names).toEqual(["driver_id", "conv_rate", "acc_rate", "avg_daily_trips"]);
    expect(json.results[0]).toEqual({
      values: [1001, 1002, 1003],
      statuses: ["PRESENT", "PRESENT", "PRESENT"],
      event_timestamps: Array(3).fill("1970-01-01T00:00:00Z"),
    });
    // conv_rate is Float32: the value Feast serves is the float32 nearest the one written.
    expect(json.results[1]?.values).toEqual([Math.fround(0.7037263512611389), Math.fround(0.038169607520103455), null]);
    expect(json.results[1]?.event_timestamps.slice(0, 2)).toEqual(["2021-12-31T23:00:00Z", "2021-12-31T23:00:00Z"]);
    expect(json.results[3]?.values.slice(0, 2)).toEqual([308, 332]);
  });

  it("accepts a feature_service instead of a list, from a client that sends no content type", async () => {
    const response = await fetch(`${base}/get-online-features`, {
      method: "POST",
      body: JSON.stringify({ feature_service: "driver_activity", entities: { driver_id: [1002] } }),
    });
    const json = (await response.json()) as { metadata: { feature_names: string[] }; results: { values: unknown[] }[] };
    expect(response.status).toBe(200);
    expect(json.metadata.feature_names).toEqual(["driver_id", "conv_rate", "acc_rate", "avg_daily_trips"]);
    expect(json.results.map((r) => r.values[0])).toEqual([1002, Math.fround(0.038169607520103455), 0.48534533381462097, 332]);
  });

  it("names columns <view>__<feature> with full_feature_names", async () => {
    const { json } = await curl(
      "/get-online-features",
      JSON.stringify({ features: ["driver_hourly_stats:acc_rate"], entities: { driver_id: [1001] }, full_feature_names: true }),
    );
    expect(json.metadata.feature_names).toEqual(["driver_id", "driver_hourly_stats__acc_rate"]);
  });

  it("reports NOT_FOUND for an unknown key, NULL_VALUE for a null, OUTSIDE_MAX_AGE past the TTL", async () => {
    const { json } = await curl(
      "/get-online-features",
      JSON.stringify({
        features: ["driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"],
        entities: { driver_id: [1003, 4242] },
      }),
    );
    const [, acc, trips] = json.results as [unknown, Answer["results"][number], Answer["results"][number]];
    expect(acc.statuses).toEqual(["NULL_VALUE", "NOT_FOUND"]);
    // 1003 was written 3 h before now; the view's TTL is 2 h: served as null, like a training set would.
    expect(trips).toMatchObject({ values: [null, null], statuses: ["OUTSIDE_MAX_AGE", "NOT_FOUND"] });
    expect(trips.event_timestamps).toEqual(["2021-12-31T20:00:00Z", "1970-01-01T00:00:00Z"]);
  });

  it.each([
    [{ features: ["nope:conv_rate"], entities: { driver_id: [1] } }, 'feature view "nope"'],
    [
      { features: ["driver_hourly_stats:nope"], entities: { driver_id: [1] } },
      'feature "nope" is not a field of feature view "driver_hourly_stats"',
    ],
    [{ feature_service: "nope", entities: { driver_id: [1] } }, 'feature service "nope"'],
  ])("answers an unknown feature view, feature or service with 404, as Feast does (%#)", async (body, reason) => {
    const { status, json } = await curl("/get-online-features", JSON.stringify(body));
    expect(status).toBe(404);
    expect(json.error).toContain(reason);
  });

  it.each([
    [{ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: ["abc"] } }, "entities.driver_id[0]"],
    [{ features: ["driver_hourly_stats:conv_rate"], entities: { rider_id: ["r1"] } }, 'needs join key "driver_id"'],
    [
      { features: ["driver_hourly_stats:conv_rate", "rider_profile:rating"], entities: { driver_id: [1] } },
      'feature view "rider_profile" needs join key "rider_id"',
    ],
    [{ features: [], entities: { driver_id: [1] } }, 'give "features"'],
    [
      { features: ["driver_hourly_stats:conv_rate", "zone_demand:demand"], entities: { driver_id: [1], zone: [1, 2], hour: [3, 4] } },
      "has 2 values",
    ],
    [{ features: ["driver_hourly_stats:conv_rate"] }, "entities"],
  ])("rejects a bad request with 400 naming the problem (%#)", async (body, reason) => {
    const { status, json } = await curl("/get-online-features", JSON.stringify(body));
    expect(status).toBe(400);
    expect(json.error).toContain(reason);
  });

  it("limits entity rows per request (413) and body size (413)", async () => {
    const many = await curl(
      "/get-online-features",
      JSON.stringify({ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: Array.from({ length: 101 }, (_, i) => i) } }),
    );
    expect(many.status).toBe(413);
    expect(many.json.error).toContain("over the limit of 100");
    const huge = await fetch(`${base}/get-online-features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ features: ["x:y"], entities: { driver_id: Array(40_000).fill(1) } }),
    });
    expect(huge.status).toBe(413);
  });

  it("reads every requested view of a request in one Redis round trip", async () => {
    const monitor = await import("ioredis").then(({ default: Redis }) => new Redis(redis.url));
    const seen: string[] = [];
    const m = await monitor.monitor();
    m.on("monitor", (_time: string, args: string[]) => seen.push(String(args[0]).toLowerCase()));
    await curl(
      "/get-online-features",
      JSON.stringify({
        features: ["driver_hourly_stats:conv_rate", "driver_all_types:f_int64"],
        entities: { driver_id: [1001, 1002, 1003] },
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    m.disconnect();
    monitor.disconnect();
    // Six HMGETs (2 views x 3 keys), sent as one pipeline.
    expect(seen.filter((c) => c === "hmget")).toHaveLength(6);
  });
});

describe("push", () => {
  it("writes Feast's documented push body to the online store and serves it", async () => {
    clock = Date.UTC(2022, 4, 13, 11) / 1000;
    const { status } = await curl(
      "/push",
      `{
    "push_source_name": "driver_hourly_stats_push_source",
    "df": {
            "driver_id": [1001],
            "event_timestamp": ["2022-05-13 10:59:42"],
            "created": ["2022-05-13 10:59:42"],
            "conv_rate": [1.0],
            "acc_rate": [1.0],
            "avg_daily_trips": [1000]
    }
  }`,
    );
    expect(status).toBe(200);
    const { json } = await curl(
      "/get-online-features",
      JSON.stringify({ feature_service: "driver_activity", entities: { driver_id: [1001] } }),
    );
    expect(json.results.map((r) => r.values[0])).toEqual([1001, 1, 1, 1000]);
    expect(json.results[1]?.event_timestamps[0]).toBe("2022-05-13T10:59:42Z");
  });

  it("rejects an unknown push source (422), a bad mode and a missing join key (400)", async () => {
    const unknown = await curl("/push", JSON.stringify({ push_source_name: "nope", df: { driver_id: [1] } }));
    const mode = await curl(
      "/push",
      JSON.stringify({ push_source_name: "driver_hourly_stats_push_source", to: "sideways", df: { driver_id: [1] } }),
    );
    const key = await curl(
      "/push",
      JSON.stringify({
        push_source_name: "driver_hourly_stats_push_source",
        df: { event_timestamp: ["2022-05-13 10:59:42"], conv_rate: [1] },
      }),
    );
    // Feast: an unknown push source is 422; a mode that is not a PushMode is refused (400 here, never a 500).
    expect([unknown.status, mode.status, key.status]).toEqual([422, 400, 400]);
    expect(unknown.json.error).toContain('push source "nope"');
    expect(mode.json.error).toContain('"sideways"');
    expect(key.json.error).toContain("df.driver_id is missing");
  });

  it("answers 501 for an offline push when no offline store is configured", async () => {
    const { status, json } = await curl(
      "/push",
      JSON.stringify({
        push_source_name: "driver_hourly_stats_push_source",
        to: "offline",
        df: { driver_id: [1], event_timestamp: ["2022-05-13 10:59:42"], conv_rate: [1] },
      }),
    );
    expect(status).toBe(501);
    expect(json.error).toContain("--offline-store");
  });
});

describe("operations", () => {
  it("exports request latency and keys requested under the platform's metric names", async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toMatch(
      /mlops_features_request_duration_seconds_bucket\{(?=[^}]*route="\/get-online-features")(?=[^}]*status="200")[^}]*\} [1-9]/,
    );
    expect(text).toMatch(/mlops_features_keys_requested_total\{feature_view="driver_hourly_stats",service="features"\} \d+/);
  });

  it("answers 503 with a reason while Redis is down and recovers within seconds when it returns", async () => {
    const body = JSON.stringify({ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [1001] } });
    // A real outage: Redis shuts down (the support's stop() would also delete its data directory).
    const admin = await import("ioredis").then(
      ({ default: Redis }) => new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null }),
    );
    admin.on("error", () => {});
    await admin.call("SHUTDOWN", "NOSAVE").catch(() => {});
    admin.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    const down = await curl("/get-online-features", body);
    expect(down.status).toBe(503);
    expect(down.json.error).toMatch(/redis online store is unavailable/);
    expect((await fetch(`${base}/health`)).status).toBe(503);
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/mlops_store_errors_total\{store="redis",operation="read",service="features"\} [1-9]/);

    await redis.restart();
    const restarted = Date.now();
    let status = 0;
    while (Date.now() - restarted < 5000) {
      status = (await curl("/get-online-features", body)).status;
      if (status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    expect(Date.now() - restarted).toBeLessThan(5000);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});
