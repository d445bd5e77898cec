import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson, stringifyJson } from "../../../services/core/json";
import { onlineWriteOf } from "../../../services/features/materialize";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { type FeastPeer, startFeast } from "../../support/feast";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

/**
 * Feast 0.67's own SDK (venv-feast) and this service on one real redis-server, both ways, with
 * 64-bit keys above 2^53, sub-second event times and every catalog dtype.
 */
const catalog = fixtureCatalog();
let redis: RedisServer;
let feast: FeastPeer;
let store: OnlineStore;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  redis = await startRedis();
  feast = await startFeast(catalog, { onlineStore: redis.url });
  store = await openOnlineStore(redis.url, { timeoutMs: 1000 });
  app = await createFeaturesServer({ catalog, onlineStore: store });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
}, 240_000);
afterAll(async () => {
  await app?.close();
  await store?.close();
  await feast?.stop();
  await redis?.stop();
});

interface Column {
  values: unknown[];
  statuses: string[];
  event_timestamps: string[];
}
interface Answer {
  metadata: { feature_names: string[] };
  results: Column[];
}

/** Feast answers columns in registry-set order, not request order: compare by feature name. */
function byName(answer: Answer): Record<string, Column> {
  return Object.fromEntries(answer.metadata.feature_names.map((name, i) => [name, answer.results[i] as Column]));
}

async function ours(body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(`${base}/get-online-features`, { method: "POST", body: stringifyJson(body) });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return parseJson(text) as Answer;
}

/** Feast's answer, in the JSON form its feature server gives (convert_response_to_dict). */
async function feasts(body: { features?: string[]; feature_service?: string; entities: Record<string, unknown[]> }): Promise<Answer> {
  const entityRows = Object.entries(body.entities).reduce<Record<string, unknown>[]>((rows, [name, values]) => {
    values.forEach((v, i) => {
      rows[i] = { ...rows[i], [name]: v };
    });
    return rows;
  }, []);
  const reply = await feast.call<Answer>({ op: "read", ...body, entities: entityRows });
  return parseJson(stringifyJson(reply)) as Answer;
}

// A recent event time with microseconds (Python's datetime holds micros), inside every view's TTL.
const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
const eventTime = `${at.toISOString().slice(0, 19)}.123456Z`;
const ALL = [
  "f_int32",
  "f_int64",
  "f_float32",
  "f_float64",
  "f_string",
  "f_bytes",
  "f_bool",
  "f_ts",
  "f_int32_list",
  "f_int64_list",
  "f_float32_list",
  "f_float64_list",
  "f_string_list",
  "f_bytes_list",
  "f_bool_list",
  "f_ts_list",
].map((f) => `driver_all_types:${f}`);
const allTypesRow = {
  f_int32: [-2147483648],
  f_int64: [9223372036854775807n],
  f_float32: [0.1],
  f_float64: [0.30000000000000004],
  f_string: ["zoë ✓"],
  f_bytes: [Buffer.from([0, 1, 254, 255]).toString("base64")],
  f_bool: [false],
  f_ts: [1700000000],
  f_int32_list: [[1, -2, 3]],
  f_int64_list: [[-9223372036854775808n, 9007199254740993n]],
  f_float32_list: [[1.5, -0.2]],
  f_float64_list: [[]],
  f_string_list: [["a", ""]],
  f_bytes_list: [[Buffer.from([7]).toString("base64"), ""]],
  f_bool_list: [[true, false, true]],
  f_ts_list: [[0, 1700000001]],
};

describe("Feast writes, this service reads", () => {
  it("answers what Feast's get_online_features answers for every dtype, a key above 2^53 and a sub-second time", async () => {
    await feast.call({
      op: "write",
      view: "driver_all_types",
      df: { driver_id: [9007199254740993n], event_timestamp: [eventTime], ...allTypesRow },
    });
    const body = { features: ALL, entities: { driver_id: [9007199254740993n, 9007199254740992n] } };
    const [theirs, mine] = [byName(await feasts(body)), byName(await ours(body))];
    expect(Object.keys(mine).sort()).toEqual(Object.keys(theirs).sort());
    // Values, event times and statuses of the written row, cell by cell.
    for (const [name, column] of Object.entries(theirs)) {
      expect(mine[name]?.values[0], name).toEqual(column.values[0]);
      expect(mine[name]?.event_timestamps[0], name).toEqual(column.event_timestamps[0]);
      expect(mine[name]?.statuses[0], name).toEqual(column.statuses[0]);
    }
    expect(mine.driver_id?.values).toEqual([9007199254740993n, 9007199254740992n]);
    expect(mine.f_int64?.values[0]).toBe(9223372036854775807n);
    expect(mine.f_int64?.event_timestamps[0]).toBe(eventTime);
  });

  it("takes a later Feast write within the same second, and keeps it over an earlier one", async () => {
    const write = (time: string, trips: number) =>
      feast.call({
        op: "write",
        view: "driver_hourly_stats",
        df: { driver_id: [42], event_timestamp: [time], conv_rate: [0.5], acc_rate: [0.5], avg_daily_trips: [trips] },
      });
    const second = at.toISOString().slice(0, 19);
    await write(`${second}.250000Z`, 1);
    await write(`${second}.750000Z`, 2);
    await write(`${second}.500000Z`, 3);
    const body = { features: ["driver_hourly_stats:avg_daily_trips"], entities: { driver_id: [42] } };
    expect(byName(await ours(body)).avg_daily_trips?.values).toEqual([2]);
    expect(byName(await feasts(body)).avg_daily_trips?.values).toEqual([2]);
  });
});

describe("this service writes, Feast reads", () => {
  it("reads our /push of a key above 2^53 at a sub-second time with the values and time we answer", async () => {
    const push = await fetch(`${base}/push`, {
      method: "POST",
      body: stringifyJson({
        push_source_name: "driver_hourly_stats_push_source",
        df: {
          driver_id: [9007199254740995n],
          event_timestamp: [eventTime],
          conv_rate: [0.25],
          acc_rate: [0.875],
          avg_daily_trips: [-9223372036854775808n],
        },
      }),
    });
    expect(push.status).toBe(200);
    const body = { feature_service: "driver_activity", entities: { driver_id: [9007199254740995n] } };
    const [theirs, mine] = [byName(await feasts(body)), byName(await ours(body))];
    expect(Object.fromEntries(Object.entries(theirs).map(([n, c]) => [n, c.values]))).toEqual({
      driver_id: [9007199254740995n],
      conv_rate: [0.25],
      acc_rate: [0.875],
      avg_daily_trips: [-9223372036854775808n],
    });
    expect(mine).toEqual(theirs);
  });

  it("reads every dtype we write, with a key above 2^53", async () => {
    const view = onlineViewOf(catalog, "driver_all_types");
    const df = Object.fromEntries(Object.entries(allTypesRow).map(([k, v]) => [k, v[0]]));
    const write = onlineWriteOf(view, { driver_id: 9007199254740997n, event_timestamp: eventTime, ...df });
    expect((await store.writeFeatures(view, [write])).written).toBe(1);
    const body = { features: ALL, entities: { driver_id: [9007199254740997n] } };
    const [theirs, mine] = [byName(await feasts(body)), byName(await ours(body))];
    for (const [name, column] of Object.entries(mine)) expect(theirs[name], name).toEqual(column);
  });
});
