import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { materialize, MemoryMaterializationState } from "../../../services/features/materialize";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { createFeaturesServer } from "../../../services/features/server";
import { buildTrainingSet } from "../../../services/features/training-set";
import { coerceValue, valueToJson } from "../../../services/features/values";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

/**
 * Training/serving skew: for an entity at time t, the training-set row must equal what
 * /get-online-features returns after materializing up to t, for every dtype, bit for bit
 * (compared in the JSON form the server sends, where bytes are base64 and floats exact doubles).
 */
const catalog = fixtureCatalog();
const view = onlineViewOf(catalog, "driver_all_types");
const features = view.features.map((f) => f.name);

const TABLE = `CREATE TABLE driver_all_types (driver_id BIGINT, event_timestamp TIMESTAMP,
  f_int32 INTEGER, f_int64 BIGINT, f_float32 REAL, f_float64 DOUBLE, f_string VARCHAR, f_bytes BLOB, f_bool BOOLEAN, f_ts TIMESTAMP,
  f_int32_list INTEGER[], f_int64_list BIGINT[], f_float32_list REAL[], f_float64_list DOUBLE[], f_string_list VARCHAR[], f_bytes_list BLOB[], f_bool_list BOOLEAN[], f_ts_list TIMESTAMP[])`;
const row = (driver: number, ts: string, i: number) =>
  `(${driver}, TIMESTAMP '${ts}', ${-2147483648 + i}, ${9007199254740991 - i}, ${0.1 * i}, ${0.1 + 0.2 * i}, 'zoë ✓ ${i}', '\\x00\\xFF${i}'::BLOB, ${i % 2 === 0}, TIMESTAMP '2023-11-14 22:13:${20 + i}',
    [1, -2, ${i}], [-9007199254740991, ${i}], [1.5, -0.2, ${i / 3}], [], ['a', '', '${i}'], ['\\x07'::BLOB, ''::BLOB], [true, false], [TIMESTAMP '1970-01-01 00:00:00', TIMESTAMP '2023-11-14 22:13:21'])`;
const NULLS =
  "(3, TIMESTAMP '2024-05-01 10:00:00', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)";

// Driver 1: two versions; driver 2: one old version (beyond the 1 d TTL at later t); driver 3: all nulls; driver 4: nothing.
const ROWS = [row(1, "2024-05-01 10:00:00", 1), row(1, "2024-05-01 12:00:00", 2), row(2, "2024-04-30 09:00:00", 3), NULLS];
const TIMES = [
  "2024-04-30 08:00:00",
  "2024-05-01 10:00:00",
  "2024-05-01 11:59:59",
  "2024-05-01 12:00:00",
  "2024-05-01 09:00:00",
  "2024-05-02 09:00:01",
]
  .map((t) => new Date(`${t.replace(" ", "T")}Z`))
  .sort((a, b) => a.getTime() - b.getTime());
const DRIVERS = [1, 2, 3, 4];

let redis: RedisServer;
let online: OnlineStore;
let offline: DuckDBOfflineStore;
let clock = 0;
let app: FastifyInstance;

beforeAll(async () => {
  redis = await startRedis();
  online = await openOnlineStore(redis.url);
  offline = await DuckDBOfflineStore.open(":memory:");
  await offline.run(TABLE);
  await offline.run(`INSERT INTO driver_all_types VALUES ${ROWS.join(", ")}`);
  app = await createFeaturesServer({ catalog, onlineStore: online, offlineStore: offline, now: () => clock });
});
afterAll(async () => {
  await app?.close();
  await online?.close();
  await offline?.close();
  await redis?.stop();
});

describe("training/serving skew", () => {
  it("training rows equal online answers after materializing up to t, for every dtype and time", async () => {
    const state = new MemoryMaterializationState();
    let compared = 0;
    let present = 0;
    for (const t of TIMES) {
      await materialize({ catalog, online, offline, state, views: ["driver_all_types"], start: new Date(0), end: t });
      clock = t.getTime() / 1000;
      const training = await buildTrainingSet(catalog, offline, {
        entities: { rows: DRIVERS.map((driver_id) => ({ driver_id, event_timestamp: t })) },
        features: features.map((f) => `driver_all_types:${f}`),
      });
      const response = await app.inject({
        method: "POST",
        url: "/get-online-features",
        payload: { features: features.map((f) => `driver_all_types:${f}`), entities: { driver_id: DRIVERS } },
      });
      expect(response.statusCode).toBe(200);
      const served = response.json() as { metadata: { feature_names: string[] }; results: { values: unknown[]; statuses: string[] }[] };
      DRIVERS.forEach((driver, r) => {
        for (const feature of view.features) {
          const column = served.metadata.feature_names.indexOf(feature.name);
          const onlineValue = served.results[column]?.values[r];
          const trainingValue = valueToJson(coerceValue(feature.dtype, training.records?.[r]?.[feature.name]));
          expect(JSON.stringify(onlineValue), `driver ${driver} at ${t.toISOString()}, ${feature.name} (${feature.dtype})`).toBe(
            JSON.stringify(trainingValue),
          );
          expect(served.results[column]?.statuses[r] === "PRESENT").toBe(trainingValue !== null);
          compared++;
          if (trainingValue !== null) present++;
        }
      });
    }
    // Every dtype was compared with a value present at some time, not only as nulls.
    expect(compared).toBe(TIMES.length * DRIVERS.length * features.length);
    expect(present).toBeGreaterThanOrEqual(4 * features.length);
  });
});
