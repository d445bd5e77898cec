import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../definition/load";
import type { Catalog } from "../../../definition/registry";
import { openTileStore } from "../../../services/features/aggregations";
import { materializeShard } from "../../../services/features/materialize-shard";
import { type DynamoStateStore, openStateStore } from "../../../services/features/materialize-state";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { openOnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { fixtureCatalog, startDynalite } from "./support";

/**
 * Sharded materialization on a DynamoDB stack (dynalite): the run's window, export manifest,
 * acknowledged rows and view ends live in the state table, so writers coordinate as they do
 * through Redis; plain views land in Feast's tables, aggregated views as tiles in theirs.
 */
let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let dir: string;
let offline: DuckDBOfflineStore;
const KEYS = 300;
const end = new Date("2024-05-02T00:00:00Z");
const url = (run: string) =>
  `dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}&tableNameTemplate=${encodeURIComponent(`{project}.${run}.{table_name}`)}`;

beforeAll(async () => {
  dynalite = await startDynalite();
  dir = mkdtempSync(join(tmpdir(), "materialize-dynamodb-"));
  offline = await DuckDBOfflineStore.open(":memory:");
  await offline.run(`CREATE TABLE driver_hourly_stats AS
    SELECT i AS driver_id, TIMESTAMP '2024-05-01 22:00:00' + to_seconds(i) AS event_timestamp, TIMESTAMP '2024-05-01 22:00:00' AS created,
           (i / 8.0)::REAL AS conv_rate, i / 3.0 AS acc_rate, (i * 1000003)::BIGINT AS avg_daily_trips FROM range(${KEYS}) t(i)`);
  await offline.run(`CREATE TABLE transactions AS
    SELECT i % ${KEYS} AS card_id, TIMESTAMP '2024-05-01 12:00:00' + to_seconds((i * 997) % 40000) AS event_timestamp,
           ((i * 37) % 500) / 4.0 AS amount, (i % 11)::BIGINT AS merchant_id FROM range(${3 * KEYS}) t(i)`);
}, 60_000);

afterAll(async () => {
  await offline?.close();
  await dynalite?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `shards` writers of one view at once against the run's tables; returns what a reader then sees. */
async function run(catalog: Catalog, view: string, runName: string, shards: number) {
  const target = url(runName);
  const online = await openOnlineStore(target, { timeoutMs: 5000 });
  const tiles = await openTileStore(target, catalog, { timeoutMs: 5000 });
  const summaries = await Promise.all(
    Array.from({ length: shards }, async (_, index) => {
      const state = openStateStore("online", target, catalog.project);
      try {
        return await materializeShard({
          catalog,
          offline,
          online,
          tiles,
          state,
          view,
          shard: { index, count: shards },
          end,
          exportRoot: join(dir, runName),
          batchRows: 50,
        });
      } finally {
        await state.close();
      }
    }),
  );
  const keys = Array.from({ length: KEYS }, (_, i) => [i]);
  const onlineView = onlineViewOf(catalog, view);
  const stored =
    summaries[0] && catalog.featureViews[view]?.aggregations?.length
      ? (await tiles.readTiles(view, keys)).map((r) => [...r.tiles].sort())
      : await online.readFeatures(
          onlineView,
          keys,
          onlineView.features.map((f) => f.name),
        );
  const state = openStateStore("online", target, catalog.project);
  const viewEnd = await state.get(`end:${view}`);
  await state.close();
  await online.close();
  await tiles.close();
  return { summaries, stored, viewEnd };
}

describe.each([
  ["a plain view", () => fixtureCatalog(), "driver_hourly_stats"],
  ["an aggregated view", () => loadCatalog("test/definition/fixtures/aggregations", "cards_project"), "card_txn"],
])("%s sharded on DynamoDB", (_kind, catalogOf, view) => {
  it("3 writers coordinating through the state table leave what 1 writer leaves; the view's end advances once", async () => {
    const catalog = catalogOf();
    const one = await run(catalog, view, `one${view.length}`, 1);
    const three = await run(catalog, view, `three${view.length}`, 3);
    expect(one.stored.filter((r) => r !== undefined && (!Array.isArray(r) || r.length > 0))).toHaveLength(KEYS);
    expect(three.stored).toEqual(one.stored);
    expect(three.summaries.filter((s) => s.exportedHere)).toHaveLength(1);
    expect(three.summaries.reduce((n, s) => n + s.keysWritten, 0)).toBe(one.summaries[0]?.keysWritten);
    expect(three.viewEnd).toBe(end.toISOString());
  }, 60_000);
});

describe("the DynamoDB state store", () => {
  it("lets exactly one of many concurrent creators win, and an expired key be taken again", async () => {
    const stores = Array.from({ length: 6 }, () => openStateStore(url("locks"), url("locks"), "p") as DynamoStateStore);
    const won = await Promise.all(stores.map((s, i) => s.setIfAbsent("export-lock:v:run:3", `pod-${i}`, 1)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = won.indexOf(true);
    expect(await stores[1]?.get("export-lock:v:run:3")).toBe(`pod-${winner}`);
    // One second of TTL: after it, the key reads as absent and another pod takes it over.
    await new Promise((r) => setTimeout(r, 2100));
    expect(await stores[0]?.get("export-lock:v:run:3")).toBeUndefined();
    expect(await stores[2]?.setIfAbsent("export-lock:v:run:3", "pod-2", 60)).toBe(true);
    expect(await stores[3]?.setIfAbsent("export-lock:v:run:3", "pod-3", 60)).toBe(false);
    await stores[2]?.delete("export-lock:v:run:3");
    expect(await stores[2]?.get("export-lock:v:run:3")).toBeUndefined();
    await Promise.all(stores.map((s) => s.close()));
  }, 30_000);

  it("is what --state online opens on a DynamoDB online store", () => {
    const store = openStateStore("online", url("x"), "p");
    expect(store.kind).toBe("dynamodb");
    void store.close();
  });
});
