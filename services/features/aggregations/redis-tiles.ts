import Redis, { type RedisOptions } from "ioredis";
import { DEFAULT_ALLOWED_LATENESS, retentionSeconds } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError, withTimeout } from "../../core/errors";
import { serializeEntityKey } from "../entity-key";
import type { EntityKey } from "../online/store";
import { onlineViewOf } from "../online/view";
import type { TileRecord, TileStore, TileUpdate, TileWrite } from "./tile-store";

/**
 * Compare-and-set of one record: applies the field changes only if `_v` still equals ARGV[1]
 * ("" = the record does not exist), then bumps `_v` and renews the expiry. ARGV: expected
 * version, expiry seconds, number of fields to set, field/value pairs, then fields to delete.
 */
const CAS = `
local v = redis.call('HGET', KEYS[1], '_v')
if (v or '') ~= ARGV[1] then return 0 end
local sets = tonumber(ARGV[3])
local i = 4
for _ = 1, sets do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i <= #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
  i = i + 1
end
redis.call('HINCRBY', KEYS[1], '_v', 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`;

/**
 * Tiles in Redis: one hash per (project, view, entity key) at `agg:<project>:<view>:` + Feast's
 * serialized entity key (v3), so tile records never collide with Feast's hashes. Expires
 * retention + allowedLateness after the last write.
 */
export class RedisTileStore implements TileStore {
  readonly kind = "redis";
  private readonly client: Redis;
  private readonly timeoutMs: number;

  constructor(
    url: string,
    private readonly catalog: Catalog,
    options: { timeoutMs?: number; tlsCa?: string } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    const redisOptions: RedisOptions = {
      enableOfflineQueue: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.max(this.timeoutMs, 1000),
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(50 * times, 500),
      lazyConnect: true,
      ...(options.tlsCa && url.startsWith("rediss://") ? { tls: { ca: options.tlsCa } } : {}),
    };
    this.client = new Redis(url, redisOptions);
    this.client.on("error", () => {});
    this.client.defineCommand("tilesCas", { numberOfKeys: 1, lua: CAS });
  }

  async connect(): Promise<void> {
    await withTimeout(this.client.connect(), Math.max(this.timeoutMs, 1000), "connecting to Redis").catch(() => {});
  }

  private async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.timeoutMs + 100, `redis ${operation}`);
    } catch (error) {
      throw new StoreUnavailableError("redis tile store", error);
    }
  }

  private keyOf(viewName: string, key: EntityKey): Buffer {
    const view = onlineViewOf(this.catalog, viewName);
    return Buffer.concat([Buffer.from(`agg:${this.catalog.project}:${viewName}:`), serializeEntityKey(view.joinKeys, key)]);
  }

  private expirySeconds(viewName: string): number {
    const view = this.catalog.featureViews[viewName];
    if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
    return retentionSeconds(view) + (view.allowedLateness ?? DEFAULT_ALLOWED_LATENESS);
  }

  async writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }> {
    if (writes.length === 0) return { written: 0 };
    const expiry = this.expirySeconds(viewName);
    const pipeline = this.client.pipeline();
    for (const w of writes) {
      const key = this.keyOf(viewName, w.key);
      pipeline.hset(key, w.field, w.state);
      pipeline.hincrby(key, "_v", 1);
      pipeline.expire(key, expiry);
    }
    const replies = await this.run("write tiles", async () => (await pipeline.exec()) ?? []);
    const failed = replies.find(([error]) => error);
    if (failed?.[0]) throw new StoreUnavailableError("redis tile store", failed[0]);
    return { written: writes.length };
  }

  async readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]> {
    if (keys.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const key of keys) pipeline.hgetall(this.keyOf(viewName, key));
    const replies = await this.run("read tiles", async () => (await pipeline.exec()) ?? []);
    return replies.map(([error, reply]) => {
      if (error) throw new StoreUnavailableError("redis tile store", error);
      const hash = (reply ?? {}) as Record<string, string>;
      const tiles = new Map(Object.entries(hash).filter(([field]) => field !== "_v"));
      return { tiles, version: hash._v ?? "" };
    });
  }

  async updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]> {
    if (updates.length === 0) return [];
    const expiry = String(this.expirySeconds(viewName));
    const pipeline = this.client.pipeline() as ReturnType<Redis["pipeline"]> & {
      tilesCas(key: Buffer, ...args: string[]): unknown;
    };
    for (const u of updates) {
      const sets = [...u.set].flat();
      pipeline.tilesCas(this.keyOf(viewName, u.key), u.expected, expiry, String(u.set.size), ...sets, ...u.remove);
    }
    const replies = await this.run("update tiles", async () => (await pipeline.exec()) ?? []);
    return replies.map(([error, reply]) => {
      if (error) throw new StoreUnavailableError("redis tile store", error);
      return reply === 1;
    });
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
