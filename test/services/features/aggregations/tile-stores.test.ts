import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../../../definition/load";
import { openTileStore, pushEvents, readAggregates } from "../../../../services/features/aggregations";
import { MemoryTileStore, type TileStore, type TileWrite, tileField } from "../../../../services/features/aggregations/tile-store";
import { dynamoEntityId, serializeEntityKey } from "../../../../services/features/entity-key";
import { onlineViewOf } from "../../../../services/features/online/view";
import { type RedisServer, startRedis } from "../../../support/redis";
import { startDynalite } from "../support";

/**
 * One conformance suite for every tile store (STYLE: adapters share one suite run against each
 * real backend): Redis (redis-server) and DynamoDB (dynalite) must behave as the in-process store
 * does, for materialization's overwrites, online reads, and pushes' compare-and-set and pruning.
 */
const catalog = loadCatalog("test/definition/fixtures/aggregations", "tiles_project");
const VIEW = "card_txn";
const HOUR = 3600;
const tile = (card: number, start: number, state: string, seconds = HOUR): TileWrite => ({
  key: [card],
  tileSeconds: seconds,
  tileStart: start,
  field: tileField(seconds, start),
  state,
});

let redis: RedisServer;
let dynalite: Awaited<ReturnType<typeof startDynalite>>;
const dynamoUrl = () => `dynamodb://us-east-1?endpoint=${encodeURIComponent(dynalite.endpoint)}`;

beforeAll(async () => {
  [redis, dynalite] = await Promise.all([startRedis(), startDynalite()]);
});
afterAll(async () => {
  await Promise.all([redis?.stop(), dynalite?.stop()]);
});

const STORES: [string, () => Promise<TileStore>][] = [
  ["memory", async () => new MemoryTileStore()],
  ["redis", () => openTileStore(redis.url, catalog, { timeoutMs: 2000 })],
  ["dynamodb (dynalite)", () => openTileStore(dynamoUrl(), catalog, { timeoutMs: 2000 })],
];

describe.each(STORES)("the %s tile store", (_name, open) => {
  let store: TileStore;
  // Each store gets its own cards, so the shared Redis and dynalite need no flush.
  const base = STORES.findIndex(([n]) => n === _name) * 1000;
  beforeAll(async () => {
    store = await open();
  });
  afterAll(async () => {
    await store?.close();
  });

  it("reads back exactly the tiles written, a later write of a tile overwriting it", async () => {
    const card = base + 1;
    await store.writeTiles(VIEW, [tile(card, 0, '{"a":1}'), tile(card, HOUR, '{"a":2}'), tile(card + 1, 0, '{"b":1}')]);
    await store.writeTiles(VIEW, [tile(card, HOUR, '{"a":3}')]);
    const [one, two, none] = await store.readTiles(VIEW, [[card], [card + 1], [card + 2]]);
    expect(one?.tiles).toEqual(
      new Map([
        ["3600:0", '{"a":1}'],
        ["3600:3600", '{"a":3}'],
      ]),
    );
    expect(two?.tiles).toEqual(new Map([["3600:0", '{"b":1}']]));
    expect(none?.tiles).toEqual(new Map());
    const fields = await store.readTileFields(VIEW, [
      { key: [card], fields: ["3600:3600", "3600:7200"] },
      { key: [card + 1], fields: ["3600:0"] },
    ]);
    expect(fields).toEqual([new Map([["3600:3600", '{"a":3}']]), new Map([["3600:0", '{"b":1}']])]);
  });

  it("applies an update only while every tile it sets still holds the state it read", async () => {
    const card = base + 10;
    await store.writeTiles(VIEW, [tile(card, 0, "s0")]);
    const applied = await store.updateTiles(VIEW, [
      { key: [card], set: new Map([["3600:0", "s1"]]), expected: new Map([["3600:0", "s0"]]) },
      // Stale: the tile holds s0, not "old".
      { key: [card + 1], set: new Map([["3600:0", "x"]]), expected: new Map([["3600:0", "old"]]) },
      // Creating a tile that must be absent.
      { key: [card + 2], set: new Map([["3600:0", "new"]]), expected: new Map([["3600:0", undefined]]) },
    ]);
    expect(applied).toEqual([true, false, true]);
    // A second creation of the same tile loses: it exists now.
    expect(
      await store.updateTiles(VIEW, [{ key: [card + 2], set: new Map([["3600:0", "again"]]), expected: new Map([["3600:0", undefined]]) }]),
    ).toEqual([false]);
    const records = await store.readTiles(VIEW, [[card], [card + 1], [card + 2]]);
    expect(records.map((r) => r.tiles.get("3600:0"))).toEqual(["s1", undefined, "new"]);
  });

  it("prunes tiles that ended before the prune time when an update creates a tile, and only then", async () => {
    const card = base + 20;
    await store.writeTiles(VIEW, [tile(card, 0, "old"), tile(card, 10 * HOUR, "recent")]);
    // Updating an existing tile: nothing pruned.
    await store.updateTiles(VIEW, [
      { key: [card], set: new Map([["3600:36000", "recent2"]]), expected: new Map([["3600:36000", "recent"]]), pruneBefore: 5 * HOUR },
    ]);
    expect([...((await store.readTiles(VIEW, [[card]]))[0]?.tiles.keys() ?? [])].sort()).toEqual(["3600:0", "3600:36000"]);
    // Creating one: the tile that ended at 1h (< 5h) goes.
    await store.updateTiles(VIEW, [
      { key: [card], set: new Map([["3600:39600", "newest"]]), expected: new Map([["3600:39600", undefined]]), pruneBefore: 5 * HOUR },
    ]);
    expect((await store.readTiles(VIEW, [[card]]))[0]?.tiles).toEqual(
      new Map([
        ["3600:36000", "recent2"],
        ["3600:39600", "newest"],
      ]),
    );
  });

  it("sets an update's derived fields with it when it applies, and not when it does not, however many", async () => {
    const card = base + 40;
    // 120 suffixes: more than one DynamoDB UpdateItem holds, so they follow the conditional one.
    const suffixes = new Map(Array.from({ length: 120 }, (_, j) => [`s169:3600:${j * HOUR}`, `["z1",${j}]`]));
    const head = "p169:3600:0";
    const applied = await store.updateTiles(VIEW, [
      { key: [card], set: new Map([[head, '[119,"z1"]']]), expected: new Map([[head, undefined]]), also: suffixes },
      { key: [card + 1], set: new Map([[head, '[1,"z2"]']]), expected: new Map([[head, "stale"]]), also: suffixes },
    ]);
    expect(applied).toEqual([true, false]);
    const fields = [head, ...suffixes.keys()];
    const [one, two] = await store.readTileFields(VIEW, [
      { key: [card], fields },
      { key: [card + 1], fields },
    ]);
    expect(one).toEqual(new Map([[head, '[119,"z1"]'], ...suffixes]));
    expect(two).toEqual(new Map());
  });

  it("prunes window blocks by their block's end (start + L tiles), not their start", async () => {
    const card = base + 50;
    // Blocks of 25 one-hour tiles: the one at 0 ends at 25h, the one at 25h ends at 50h.
    await store.writeTiles(VIEW, [
      { ...tile(card, 0, "t"), field: "p25:3600:0" },
      { ...tile(card, 0, "t"), field: "s25:3600:3600" },
      { ...tile(card, 0, "t"), field: "p25:3600:90000" },
    ]);
    await store.updateTiles(VIEW, [
      { key: [card], set: new Map([["3600:180000", "new"]]), expected: new Map([["3600:180000", undefined]]), pruneBefore: 30 * HOUR },
    ]);
    const [record] = await store.readTileFields(VIEW, [
      { key: [card], fields: ["p25:3600:0", "s25:3600:3600", "p25:3600:90000", "3600:180000"] },
    ]);
    expect([...(record?.keys() ?? [])].sort()).toEqual(["3600:180000", "p25:3600:90000"]);
  });

  it("gives the same aggregates as the in-process store after the same pushes", async () => {
    const card = base + 30;
    const nowUs = Date.UTC(2024, 5, 1, 12) * 1000;
    const events = Array.from({ length: 40 }, (_, i) => ({
      card_id: card + (i % 3),
      event_timestamp: new Date(Date.UTC(2024, 5, 1, 11, 59) - i * 83_000).toISOString(),
      amount: i % 9 === 0 ? null : i * 3.5 - 20,
      merchant_id: i % 4,
    }));
    const reference = new MemoryTileStore();
    // Three pushes, so later ones merge into tiles the earlier ones created.
    for (const part of [events.slice(0, 10), events.slice(10, 25), events.slice(25)]) {
      const pushed = await pushEvents(catalog, store, VIEW, part, nowUs);
      expect(pushed.refused).toEqual([]);
      await pushEvents(catalog, reference, VIEW, part, nowUs);
    }
    const keys = [[card], [card + 1], [card + 2]];
    const values = await readAggregates(catalog, store, VIEW, keys, nowUs);
    expect(values).toEqual(await readAggregates(catalog, reference, VIEW, keys, nowUs));
    expect(values[0]?.count_1h).toBeGreaterThan(0);
  });
});

describe("tiles in DynamoDB", () => {
  it("are one item per entity in the view's table: Feast's entity id, the TTL attribute, one attribute per tile", async () => {
    const store = await openTileStore(dynamoUrl(), catalog);
    const started = Math.floor(Date.now() / 1000);
    await store.writeTiles(VIEW, [tile(7, 0, '{"count_1h":{"c":2}}', 300), tile(7, 86400, '{"x":1}', 86400)]);
    await store.close();
    const client = new DynamoDBClient({
      region: "us-east-1",
      endpoint: dynalite.endpoint,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    const id = dynamoEntityId(serializeEntityKey(onlineViewOf(catalog, VIEW).joinKeys, [7]));
    const { Item } = await client.send(new GetItemCommand({ TableName: "tiles_project.card_txn", Key: { entity_id: { S: id } } }));
    client.destroy();
    expect(Object.keys(Item ?? {}).sort()).toEqual(["300:0", "86400:86400", "entity_id", "expires_at"]);
    expect(Item?.["300:0"]?.S).toBe('{"count_1h":{"c":2}}');
    // Retention of card_txn: 30d + its 1d tile; plus 1h of allowed lateness.
    const expires = Number(Item?.expires_at?.N) - started;
    expect(expires).toBeGreaterThanOrEqual(31 * 86400 + 3600);
    expect(expires).toBeLessThanOrEqual(31 * 86400 + 3600 + 5);
  });
});
