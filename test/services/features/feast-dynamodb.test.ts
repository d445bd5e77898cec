import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onlineWriteOf } from "../../../services/features/materialize";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { nanosFromIso } from "../../../services/features/timestamp";
import { type FeastPeer, startFeast } from "../../support/feast";
import { fixtureCatalog, startDynalite } from "./support";

/**
 * Feast 0.67's own DynamoDB online store (boto3) and this service on one dynalite: Feast creates
 * the "<project>.<view>" tables and writes, we read; we write, Feast reads. Keys above 2^53 and
 * sub-second event times (Feast's event_ts keeps microseconds).
 */
const catalog = fixtureCatalog();
let dynalite: { endpoint: string; stop(): Promise<void> };
let feast: FeastPeer;
let store: OnlineStore;

beforeAll(async () => {
  dynalite = await startDynalite();
  const url = `dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}`;
  feast = await startFeast(catalog, { onlineStore: url });
  store = await openOnlineStore(url, { timeoutMs: 2000 });
}, 240_000);
afterAll(async () => {
  await store?.close();
  await feast?.stop();
  await dynalite?.stop();
});

interface Answer {
  metadata: { feature_names: string[] };
  results: { values: unknown[]; statuses: string[]; event_timestamps: string[] }[];
}
const byName = (a: Answer) => Object.fromEntries(a.metadata.feature_names.map((n, i) => [n, a.results[i]]));
const stats = onlineViewOf(catalog, "driver_hourly_stats");
const time = "2026-05-01T12:00:00.123456Z";

describe("Feast's DynamoDB layout, both ways", () => {
  it("reads the item Feast wrote (entity_id hash, event_ts, values) for a key above 2^53", async () => {
    await feast.call({
      op: "write",
      view: "driver_hourly_stats",
      df: {
        driver_id: [9007199254740993n],
        event_timestamp: [time],
        conv_rate: [0.5],
        acc_rate: [0.125],
        avg_daily_trips: [-9223372036854775808n],
      },
    });
    const [row] = await store.readFeatures(stats, [[9007199254740993n]], ["conv_rate", "acc_rate", "avg_daily_trips"]);
    expect(row).toEqual({
      eventTimestamp: nanosFromIso(time),
      values: { conv_rate: 0.5, acc_rate: 0.125, avg_daily_trips: -9223372036854775808n },
    });
  });

  it("writes items Feast's get_online_features reads back with the same values and time", async () => {
    const write = onlineWriteOf(stats, {
      driver_id: 9007199254740995n,
      event_timestamp: time,
      conv_rate: 0.25,
      acc_rate: 0.75,
      avg_daily_trips: 9223372036854775807n,
    });
    expect((await store.writeFeatures(stats, [write])).written).toBe(1);
    const read = byName(
      await feast.call<Answer>({
        op: "read",
        features: ["driver_hourly_stats:conv_rate", "driver_hourly_stats:acc_rate", "driver_hourly_stats:avg_daily_trips"],
        entities: [{ driver_id: 9007199254740995n }],
      }),
    );
    expect(read.conv_rate?.values).toEqual([0.25]);
    expect(read.acc_rate?.values).toEqual([0.75]);
    expect(read.avg_daily_trips?.values).toEqual([9223372036854775807n]);
    expect(read.avg_daily_trips?.event_timestamps).toEqual(["2026-05-01T12:00:00.123456Z"]);
  });
});
