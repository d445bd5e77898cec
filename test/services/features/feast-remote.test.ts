import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseJson } from "../../../services/core/json";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { createFeaturesServer } from "../../../services/features/server";
import { type FeastPeer, startFeast } from "../../support/feast";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

/**
 * Feast 0.67 configured with `online_store: type: remote` pointed at this service: Feast's own
 * RemoteOnlineStore reads through POST /get-online-features and writes through
 * POST /write-to-online-store, with unchanged Feast client code.
 */
const catalog = fixtureCatalog();
let redis: RedisServer;
let store: OnlineStore;
let app: FastifyInstance;
let base: string;
let feast: FeastPeer;

beforeAll(async () => {
  redis = await startRedis();
  store = await openOnlineStore(redis.url, { timeoutMs: 1000 });
  app = await createFeaturesServer({ catalog, onlineStore: store, statuses: "feast" });
  base = await app.listen({ port: 0, host: "127.0.0.1" });
  feast = await startFeast(catalog, { featureServer: base });
}, 240_000);
afterAll(async () => {
  await feast?.stop();
  await app?.close();
  await store?.close();
  await redis?.stop();
});

interface Answer {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}
const byName = (a: Answer) => Object.fromEntries(a.metadata.feature_names.map((n, i) => [n, a.results[i]]));

describe("Feast's remote online store against this service", () => {
  it("writes through /write-to-online-store and reads back the values, a key above 2^53 and the sub-second time", async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000);
    const time = `${at.toISOString().slice(0, 19)}.250000Z`;
    await feast.call({
      op: "write",
      view: "driver_hourly_stats",
      df: {
        driver_id: [9007199254740993n, 5],
        event_timestamp: [time, time],
        conv_rate: [0.5, 0.25],
        acc_rate: [0.125, 1],
        avg_daily_trips: [-9223372036854775808n, 3],
      },
    });
    // What Feast's client reads through us ...
    const read = byName(
      await feast.call<Answer>({
        op: "read",
        features: ["driver_hourly_stats:conv_rate", "driver_hourly_stats:avg_daily_trips"],
        entities: [{ driver_id: 9007199254740993n }, { driver_id: 5 }],
      }),
    );
    expect(read.driver_id?.values).toEqual([9007199254740993n, 5]);
    expect(read.conv_rate?.values).toEqual([0.5, 0.25]);
    expect(read.avg_daily_trips?.values).toEqual([-9223372036854775808n, 3]);
    // ... equals what our store holds, read directly through our API.
    const ours = await fetch(`${base}/get-online-features`, {
      method: "POST",
      body: '{"features":["driver_hourly_stats:avg_daily_trips"],"entities":{"driver_id":[9007199254740993,5]}}',
    });
    const direct = byName(parseJson(await ours.text()) as Answer);
    expect(direct.avg_daily_trips?.values).toEqual([-9223372036854775808n, 3]);
    expect(direct.avg_daily_trips?.event_timestamps).toEqual([`${time.slice(0, 19)}.250Z`, `${time.slice(0, 19)}.250Z`]);
  });
});
