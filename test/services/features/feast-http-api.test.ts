import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { parseJson } from "../../../services/core/json";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { EmbeddedOnlineStore } from "../../../services/features/online/embedded";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer, type FeaturesServerOptions } from "../../../services/features/server";
import { nanosFromSeconds } from "../../../services/features/timestamp";
import { driverStatsTableSql, fixtureCatalog } from "./support";

/** Where Feast 0.67's feature server (feast/feature_server.py) behaves in a way a client can see, we do the same. */
const catalog = fixtureCatalog();
// The push source feeds two views, as a Feast push source referenced by two feature views does.
(catalog.pushSources.driver_hourly_stats_push_source as { featureViews?: string[] }).featureViews = ["driver_all_types"];
const T = Date.UTC(2024, 4, 1, 12) / 1000;

let online: EmbeddedOnlineStore;
let app: FastifyInstance;

async function server(options: Partial<FeaturesServerOptions> = {}): Promise<FastifyInstance> {
  return createFeaturesServer({ catalog, onlineStore: online, now: () => T + 60, ...options });
}

beforeAll(async () => {
  online = new EmbeddedOnlineStore();
  app = await server();
  await online.writeFeatures(onlineViewOf(catalog, "driver_hourly_stats"), [
    { key: [1], eventTimestamp: nanosFromSeconds(T), values: { conv_rate: 0.5, acc_rate: 0.25, avg_daily_trips: 7 } },
    { key: [2], eventTimestamp: nanosFromSeconds(T - 86_400), values: { conv_rate: 0.125, acc_rate: null, avg_daily_trips: 8 } },
  ]);
});
afterAll(async () => {
  await app?.close();
});

const lookup = (payload: Record<string, unknown>, on = app) => on.inject({ method: "POST", url: "/get-online-features", payload });

describe("/get-online-features as Feast's server answers it", () => {
  it("uses the feature service when a request gives both a service and a features list", async () => {
    const reply = await lookup({
      features: ["driver_hourly_stats:conv_rate"],
      feature_service: "driver_activity",
      entities: { driver_id: [1] },
    });
    expect(reply.statusCode).toBe(200);
    expect(reply.json().metadata.feature_names).toEqual(["driver_id", "conv_rate", "acc_rate", "avg_daily_trips"]);
  });

  it("reads a repeated feature ref once", async () => {
    const reply = await lookup({
      features: ["driver_hourly_stats:conv_rate", "driver_hourly_stats:conv_rate"],
      entities: { driver_id: [1] },
    });
    expect(reply.json().metadata.feature_names).toEqual(["driver_id", "conv_rate"]);
  });

  it("takes the entity name for its join key and ignores columns that are no join key", async () => {
    const reply = await lookup({ features: ["driver_hourly_stats:conv_rate"], entities: { driver: [1], trip_note: ["x"] } });
    expect(reply.statusCode).toBe(200);
    expect(reply.json()).toMatchObject({
      metadata: { feature_names: ["driver_id", "conv_rate"] },
      results: [{ values: [1] }, { values: [0.5] }],
    });
  });

  it("refuses a column that is no join key when the server is strict", async () => {
    const strict = await server({ strictEntities: true });
    const reply = await lookup({ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [1], trip_note: ["x"] } }, strict);
    expect(reply.statusCode).toBe(400);
    expect(reply.json().error).toContain("entities.trip_note is not a join key");
  });

  it("answers statuses and TTL as Feast 0.67's Redis path does when asked: every cell PRESENT, no TTL", async () => {
    const body = { features: ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate"], entities: { driver_id: [1, 2, 3] } };
    const platform = (await lookup(body)).json().results;
    expect(platform[1].statuses).toEqual(["PRESENT", "OUTSIDE_MAX_AGE", "NOT_FOUND"]);
    expect(platform[1].values).toEqual([0.5, null, null]);
    const feast = (await lookup(body, await server({ statuses: "feast" }))).json().results;
    expect(feast[1]).toEqual({
      values: [0.5, 0.125, null],
      statuses: ["PRESENT", "PRESENT", "PRESENT"],
      event_timestamps: ["2024-05-01T12:00:00Z", "2024-04-30T12:00:00Z", "1970-01-01T00:00:00Z"],
    });
    expect(feast[2].values).toEqual([0.25, null, null]);
    expect(feast[2].statuses).toEqual(["PRESENT", "PRESENT", "PRESENT"]);
  });

  it("answers an unknown route with the documented {error} body", async () => {
    const reply = await app.inject({ method: "POST", url: "/get-online-feature", payload: {} });
    expect(reply.statusCode).toBe(404);
    expect(reply.json()).toEqual({ error: "no route POST /get-online-feature; see /openapi.json for the routes" });
  });
});

describe("writes as Feast's server takes them", () => {
  it("/write-to-online-store writes one view from the body Feast's remote online store sends, ignoring extra columns", async () => {
    const reply = await app.inject({
      method: "POST",
      url: "/write-to-online-store",
      payload: {
        feature_view_name: "driver_hourly_stats",
        df: {
          driver_id: [10],
          conv_rate: [0.75],
          acc_rate: [0.5],
          avg_daily_trips: [3],
          event_timestamp: ["2024-05-01T12:00:00.500000"],
          created: [null],
        },
        allow_registry_cache: false,
      },
    });
    expect(reply.statusCode).toBe(200);
    const read = (await lookup({ features: ["driver_hourly_stats:conv_rate"], entities: { driver_id: [10] } })).json();
    expect(read.results[1]).toEqual({ values: [0.75], statuses: ["PRESENT"], event_timestamps: ["2024-05-01T12:00:00.500Z"] });
    const unknown = await app.inject({
      method: "POST",
      url: "/write-to-online-store",
      payload: { feature_view_name: "nope", df: { a: [1] } },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it("/push writes every feature view the push source feeds", async () => {
    const reply = await app.inject({
      method: "POST",
      url: "/push",
      payload: {
        push_source_name: "driver_hourly_stats_push_source",
        df: { driver_id: [20], event_timestamp: ["2024-05-01 12:00:00"], avg_daily_trips: [5], f_int64: [9007199254740993n.toString()] },
      },
    });
    expect(reply.statusCode).toBe(200);
    const read = parseJson(
      (await lookup({ features: ["driver_hourly_stats:avg_daily_trips", "driver_all_types:f_int64"], entities: { driver_id: [20] } })).body,
    ) as { results: { values: unknown[] }[] };
    expect(read.results.map((r) => r.values)).toEqual([[20], [5], [9007199254740993n]]);
  });

  it("/push writes nothing online when the offline write fails", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    const withOffline = await server({ offlineStore: offline });
    // No driver_all_types table offline: its append fails after driver_hourly_stats' table exists.
    for (const s of driverStatsTableSql([])) await offline.run(s);
    const reply = await withOffline.inject({
      method: "POST",
      url: "/push",
      payload: {
        push_source_name: "driver_hourly_stats_push_source",
        to: "online_and_offline",
        df: {
          driver_id: [30],
          event_timestamp: ["2024-05-01 12:00:00"],
          created: ["2024-05-01 12:00:00"],
          avg_daily_trips: [5],
          f_int64: [1],
        },
      },
    });
    expect(reply.statusCode).toBe(400);
    expect(reply.json().error).toContain("nothing was written online");
    const read = (await lookup({ features: ["driver_hourly_stats:avg_daily_trips"], entities: { driver_id: [30] } })).json();
    expect(read.results[1].statuses).toEqual(["NOT_FOUND"]);
    await offline.close();
  });
});

describe("/materialize as Feast's server takes it", () => {
  it("?async=true answers 202 at once, refuses a second run of the same view with 409, and reports the outcome", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    const rows = [
      {
        driver_id: 40,
        event_timestamp: "2024-05-01 11:00:00",
        created: "2024-05-01 11:00:00",
        conv_rate: 0.5,
        acc_rate: 0.5,
        avg_daily_trips: 40,
      },
    ];
    for (const s of driverStatsTableSql(rows)) await offline.run(s);
    const withOffline = await server({ offlineStore: offline });
    const body = { start_ts: "2024-05-01T00:00:00", end_ts: "2024-05-01T23:59:59", feature_views: ["driver_hourly_stats"] };
    const [first, second] = await Promise.all([
      withOffline.inject({ method: "POST", url: "/materialize?async=true", payload: body }),
      withOffline.inject({ method: "POST", url: "/materialize?async=true", payload: body }),
    ]);
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ status: "accepted", feature_views: ["driver_hourly_stats"] });
    expect(second.statusCode).toBe(409);
    let status = (await withOffline.inject({ method: "GET", url: "/materialize/status" })).json();
    for (let i = 0; i < 100 && status.runs[0].state === "running"; i++) {
      await new Promise((r) => setTimeout(r, 20));
      status = (await withOffline.inject({ method: "GET", url: "/materialize/status" })).json();
    }
    expect(status.runs[0]).toMatchObject({ featureViews: ["driver_hourly_stats"], state: "succeeded", summary: { keysWritten: 1 } });
    await offline.close();
  });

  it("disable_event_timestamp writes the rows with the current time as their event time", async () => {
    const offline = await DuckDBOfflineStore.open(":memory:");
    const rows = [
      {
        driver_id: 41,
        event_timestamp: "2024-05-01 11:00:00",
        created: "2024-05-01 11:00:00",
        conv_rate: 0.5,
        acc_rate: 0.5,
        avg_daily_trips: 41,
      },
    ];
    for (const s of driverStatsTableSql(rows)) await offline.run(s);
    const withOffline = await server({ offlineStore: offline });
    const before = Date.now();
    const reply = await withOffline.inject({
      method: "POST",
      url: "/materialize",
      payload: {
        start_ts: "2024-05-01T00:00:00",
        end_ts: "2024-05-01T23:59:59",
        feature_views: ["driver_hourly_stats"],
        disable_event_timestamp: true,
      },
    });
    expect(reply.statusCode).toBe(200);
    const [row] = await online.readFeatures(onlineViewOf(catalog, "driver_hourly_stats"), [[41]], ["avg_daily_trips"]);
    expect(Number((row?.eventTimestamp ?? 0n) / 1_000_000n)).toBeGreaterThanOrEqual(before);
    await offline.close();
  });
});
