import type { FastifyInstance } from "fastify";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson } from "../../../services/core/json";
import { redisKey, timestampField } from "../../../services/features/entity-key";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { nanosFromSeconds } from "../../../services/features/timestamp";
import { decodeTimestamp } from "../../../services/features/values";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

const catalog = fixtureCatalog();
const stats = onlineViewOf(catalog, "driver_hourly_stats");
const T = Date.UTC(2024, 4, 1, 12) / 1000;

let redis: RedisServer;
let store: OnlineStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  redis = await startRedis();
  store = await openOnlineStore(redis.url, { timeoutMs: 500 });
  app = await createFeaturesServer({ catalog, onlineStore: store, now: () => T + 60 });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await app?.close();
  await store?.close();
  await redis?.stop();
});

interface Answer {
  error?: string;
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}

/** Posts raw JSON text (numbers as written, as a Feast client sends them) and parses the answer exactly. */
async function post(path: string, body: string): Promise<{ status: number; text: string; json: Answer }> {
  const response = await fetch(`${base}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
  const text = await response.text();
  return { status: response.status, text, json: (text ? parseJson(text) : null) as Answer };
}

const lookup = (driverIds: string) =>
  post("/get-online-features", `{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[${driverIds}]}}`);

describe("64-bit integers are exact end to end", () => {
  it("a request for driver 2^53 + 1 answers that driver's row, not the row of 2^53", async () => {
    await store.writeFeatures(stats, [
      { key: [9007199254740992n], eventTimestamp: nanosFromSeconds(T), values: { avg_daily_trips: 1 } },
      { key: [9007199254740993n], eventTimestamp: nanosFromSeconds(T), values: { avg_daily_trips: 2 } },
    ]);
    const { status, json } = await lookup("9007199254740993, 9007199254740992");
    expect(status).toBe(200);
    expect(json.results[0]?.values).toEqual([9007199254740993n, 9007199254740992n]);
    expect(json.results[1]?.values).toEqual([2, 1]);
  });

  it("INT64 max as a join key and as a pushed value answers 200 with every digit", async () => {
    const push = await post(
      "/push",
      `{"push_source_name":"driver_hourly_stats_push_source","df":{"driver_id":[9223372036854775807],"event_timestamp":["2024-05-01 12:00:00"],"avg_daily_trips":[-9223372036854775808]}}`,
    );
    expect(push.status).toBe(200);
    const { status, text } = await lookup("9223372036854775807");
    expect(status).toBe(200);
    expect(text).toContain('"values":[9223372036854775807]');
    expect(text).toContain('"values":[-9223372036854775808]');
  });

  it("a join key beyond the int64 range is a 400 naming the value, not a 500", async () => {
    const { status, json } = await lookup("9223372036854775808");
    expect(status).toBe(400);
    expect(json.error).toMatch(/entities\.driver_id\[0\]: 9223372036854775808 is outside the Int64 range/);
  });
});

describe("event times keep their sub-second part", () => {
  const pushAt = (driverId: number, at: string, trips: number) =>
    post(
      "/push",
      JSON.stringify({
        push_source_name: "driver_hourly_stats_push_source",
        df: { driver_id: [driverId], event_timestamp: [at], avg_daily_trips: [trips] },
      }),
    );

  it("a later push within the same second replaces the earlier one, and the answer carries the fraction", async () => {
    await pushAt(7001, "2024-05-01T12:00:00.250Z", 1);
    await pushAt(7001, "2024-05-01T12:00:00.750Z", 2);
    const { json } = await lookup("7001");
    expect(json.results[1]?.values).toEqual([2]);
    expect(json.results[1]?.event_timestamps).toEqual(["2024-05-01T12:00:00.750Z"]);
  });

  it("an earlier push within the same second does not replace a later one", async () => {
    await pushAt(7002, "2024-05-01T12:00:00.750Z", 2);
    await pushAt(7002, "2024-05-01T12:00:00.250Z", 1);
    const { json } = await lookup("7002");
    expect(json.results[1]?.values).toEqual([2]);
  });

  it("writes _ts with nanos, as Feast does, and answers microseconds and nanoseconds with 6 and 9 digits", async () => {
    await pushAt(7003, "2024-05-01 12:00:00.123456", 3);
    const raw = new Redis(redis.url);
    const ts = await raw.hgetBuffer(redisKey(catalog.project, stats.joinKeys, [7003]), timestampField(stats.name));
    raw.disconnect();
    expect(decodeTimestamp(ts as Buffer)).toBe(nanosFromSeconds(T) + 123_456_000n);
    expect((await lookup("7003")).json.results[1]?.event_timestamps).toEqual(["2024-05-01T12:00:00.123456Z"]);
    await pushAt(7004, "2024-05-01T12:00:00.123456789Z", 4);
    expect((await lookup("7004")).json.results[1]?.event_timestamps).toEqual(["2024-05-01T12:00:00.123456789Z"]);
  });
});
