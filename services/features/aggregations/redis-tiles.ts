import type { ChainableCommander, Cluster, Redis } from "ioredis";
import { DEFAULT_ALLOWED_LATENESS, retentionSeconds } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError, withTimeout } from "../../core/errors";
import { serializeEntityKey } from "../entity-key";
import { pipelineByShard, redisClient } from "../online/redis-client";
import type { EntityKey, OnlineView } from "../online/store";
import { onlineViewOf } from "../online/view";
import type { TileRecord, TileStore, TileUpdate, TileWrite } from "./tile-store";

/**
 * Compare-and-set of some fields of one record: sets them only if each still holds the state the
 * push read (ARGV "" = absent), then the m derived fields unconditionally, renews the expiry, and
 * when a field was created removes the fields no window reaches before the prune time (their end
 * is in the field name, tile-store.ts fieldEnd, so nothing is read back).
 * ARGV: expiry seconds, prune-before epoch seconds or "", n, m, then n x (field, expected, new
 * state), then m x (field, state).
 */
const CAS = `
local n = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local created = false
for i = 0, n - 1 do
  local current = redis.call('HGET', KEYS[1], ARGV[5 + 3 * i])
  if (current or '') ~= ARGV[6 + 3 * i] then return 0 end
  if not current then created = true end
end
for i = 0, n - 1 do
  redis.call('HSET', KEYS[1], ARGV[5 + 3 * i], ARGV[7 + 3 * i])
end
for i = 0, m - 1 do
  redis.call('HSET', KEYS[1], ARGV[5 + 3 * n + 2 * i], ARGV[6 + 3 * n + 2 * i])
end
if created and ARGV[2] ~= '' then
  local before = tonumber(ARGV[2])
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    local tiles, size, start = string.match(field, '^[ps](%d+):(%d+):(%-?%d+)$')
    if not tiles then
      tiles = '1'
      size, start = string.match(field, '^(%d+):(%-?%d+)$')
    end
    if size and tonumber(start) + tonumber(tiles) * tonumber(size) < before then redis.call('HDEL', KEYS[1], field) end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** Tiles per pipeline when materializing. */
const WRITE_CHUNK = 500;

type TilesPipeline = ChainableCommander & { tilesCas(key: Buffer, ...args: string[]): ChainableCommander };

/**
 * Tiles in Redis: one hash per (project, view, entity key) at `agg:<project>:<view>:` + Feast's
 * serialized entity key (v3), so tile records never collide with Feast's hashes; one field per
 * tile. Expires retention + allowedLateness after the last write. The client is the online
 * store's (redis-client.ts): one node, TLS, or a Redis Cluster (each record is one key, so the
 * compare-and-set script runs on the key's shard).
 */
export class RedisTileStore implements TileStore {
  readonly kind = "redis";
  private readonly client: Redis | Cluster;
  private readonly timeoutMs: number;

  constructor(
    url: string,
    private readonly catalog: Catalog,
    options: { timeoutMs?: number; tlsCa?: string; iamAuth?: boolean } = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.client = redisClient(url, { timeoutMs: this.timeoutMs, tlsCa: options.tlsCa, iamAuth: options.iamAuth });
    this.client.defineCommand("tilesCas", { numberOfKeys: 1, lua: CAS });
  }

  async connect(): Promise<void> {
    await withTimeout(this.client.connect(), Math.max(this.timeoutMs, 1000), "connecting to Redis").catch(() => {});
  }

  private async pipelined(operation: string, keys: Buffer[], add: (pipeline: TilesPipeline, i: number) => void) {
    let replies: [Error | null, unknown][];
    try {
      replies = await withTimeout(
        pipelineByShard(this.client, keys, (pipeline, i) => add(pipeline as TilesPipeline, i)),
        this.timeoutMs + 100,
        `redis ${operation}`,
      );
    } catch (error) {
      throw new StoreUnavailableError("redis tile store", error);
    }
    return replies.map(([error, reply]) => {
      if (error) throw new StoreUnavailableError("redis tile store", error);
      return reply;
    });
  }

  /** Per view: the key prefix, join keys and expiry (resolving a view's aggregations per key would dominate a read). */
  private readonly views = new Map<string, { prefix: Buffer; joinKeys: OnlineView["joinKeys"]; expiry: number }>();

  private viewOf(viewName: string) {
    let entry = this.views.get(viewName);
    if (!entry) {
      const view = this.catalog.featureViews[viewName];
      if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
      entry = {
        prefix: Buffer.from(`agg:${this.catalog.project}:${viewName}:`),
        joinKeys: onlineViewOf(this.catalog, viewName).joinKeys,
        expiry: retentionSeconds(view) + (view.allowedLateness ?? DEFAULT_ALLOWED_LATENESS),
      };
      this.views.set(viewName, entry);
    }
    return entry;
  }

  private keyOf(viewName: string, key: EntityKey): Buffer {
    const view = this.viewOf(viewName);
    return Buffer.concat([view.prefix, serializeEntityKey(view.joinKeys, key)]);
  }

  private expirySeconds(viewName: string): number {
    return this.viewOf(viewName).expiry;
  }

  async writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }> {
    if (writes.length === 0) return { written: 0 };
    const expiry = this.expirySeconds(viewName);
    // Materialization hands over thousands of tiles a call: one pipeline per chunk, each within the timeout.
    for (let from = 0; from < writes.length; from += WRITE_CHUNK) {
      const chunk = writes.slice(from, from + WRITE_CHUNK);
      const keys = chunk.map((w) => this.keyOf(viewName, w.key));
      await this.pipelined("write tiles", keys, (pipeline, i) => {
        const w = chunk[i] as TileWrite;
        pipeline.hset(keys[i] as Buffer, w.field, w.state);
        pipeline.expire(keys[i] as Buffer, expiry);
      });
    }
    return { written: writes.length };
  }

  async readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]> {
    if (keys.length === 0) return [];
    const redisKeys = keys.map((k) => this.keyOf(viewName, k));
    const replies = await this.pipelined("read tiles", redisKeys, (pipeline, i) => pipeline.hgetall(redisKeys[i] as Buffer));
    // `_v` is the version field records had before pushes compared tiles one by one; not a tile.
    return replies.map((hash) => ({ tiles: new Map(Object.entries((hash ?? {}) as Record<string, string>).filter(([f]) => f !== "_v")) }));
  }

  async readTileFields(viewName: string, reads: { key: EntityKey; fields: string[] }[]): Promise<Map<string, string>[]> {
    if (reads.length === 0) return [];
    const keys = reads.map((r) => this.keyOf(viewName, r.key));
    const replies = await this.pipelined("read tiles", keys, (pipeline, i) =>
      pipeline.hmget(keys[i] as Buffer, ...(reads[i]?.fields ?? [])),
    );
    return replies.map((reply, i) => {
      const values = (reply ?? []) as (string | null)[];
      const fields = reads[i]?.fields ?? [];
      const found = new Map<string, string>();
      for (let j = 0; j < fields.length; j++) if (typeof values[j] === "string") found.set(fields[j] as string, values[j] as string);
      return found;
    });
  }

  async updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]> {
    if (updates.length === 0) return [];
    const expiry = String(this.expirySeconds(viewName));
    const keys = updates.map((u) => this.keyOf(viewName, u.key));
    const replies = await this.pipelined("update tiles", keys, (pipeline, i) => {
      const u = updates[i] as TileUpdate;
      const args = [...u.set].flatMap(([field, state]) => [field, u.expected.get(field) ?? "", state]);
      const also = [...(u.also ?? [])].flat();
      const prune = u.pruneBefore === undefined ? "" : String(u.pruneBefore);
      pipeline.tilesCas(keys[i] as Buffer, expiry, prune, String(u.set.size), String(u.also?.size ?? 0), ...args, ...also);
    });
    return replies.map((reply) => reply === 1);
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
