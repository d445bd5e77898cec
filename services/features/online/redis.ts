import Redis, { type RedisOptions } from "ioredis";
import { StoreUnavailableError, withTimeout } from "../../core/errors";
import { type EntityKeyVersion, featureField, redisKey, timestampField } from "../entity-key";
import { decodeTimestamp, decodeValue, encodeTimestamp, encodeValue } from "../values";
import type { EntityKey, OnlineRow, OnlineStore, OnlineStoreOptions, OnlineView, OnlineWrite, ViewRead, WriteResult } from "./store";
import { dtypeOf } from "./view";

/** Redis adapter options; defaults are chosen to fail fast (503) and recover within a second or two. */
export interface RedisStoreOptions extends OnlineStoreOptions {
  /** Expire keys this many seconds after a write (Feast's `key_ttl_seconds`). Defaults to none. */
  keyTtlSeconds?: number;
  /**
   * PEM certificate(s) to trust for `rediss://`, when the server's certificate is signed by a
   * private CA (Memorystore has its own). Defaults to the system's trusted CAs.
   */
  tlsCa?: string;
  /** Feast's `entity_key_serialization_version` of the keys in this Redis. Defaults to 3. */
  entityKeyVersion?: EntityKeyVersion;
}

/**
 * Feast's Redis online-store format (docs/online-store-format.md): one hash per entity key
 * (serialized entity key v3 + project), field mmh3("<view>:<feature>") = serialized
 * feast.types.Value, field "_ts:<view>" = google.protobuf.Timestamp. So a Feast deployment's
 * Redis can be served as is, and Feast reads what we write.
 */
export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis";
  private readonly client: Redis;
  private readonly timeoutMs: number;
  private readonly keyTtlSeconds?: number;
  private readonly keyVersion: EntityKeyVersion;

  constructor(url: string, options: RedisStoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.keyTtlSeconds = options.keyTtlSeconds;
    this.keyVersion = options.entityKeyVersion ?? 3;
    const redisOptions: RedisOptions = {
      // Fail a call instead of queueing it while disconnected: the caller gets a 503 at once.
      enableOfflineQueue: false,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.max(this.timeoutMs, 1000),
      maxRetriesPerRequest: 1,
      // Reconnect quickly and keep trying, so service resumes within a second of Redis returning.
      retryStrategy: (times) => Math.min(50 * times, 500),
      lazyConnect: true,
      ...(options.tlsCa && url.startsWith("rediss://") ? { tls: { ca: options.tlsCa } } : {}),
    };
    this.client = new Redis(url, redisOptions);
    // Errors surface on calls; an unhandled 'error' event would only add noise while reconnecting.
    this.client.on("error", () => {});
  }

  /** Connects, waiting at most the timeout; a Redis that is down is not fatal (readiness reports it). */
  async connect(): Promise<void> {
    await withTimeout(this.client.connect(), Math.max(this.timeoutMs, 1000), "connecting to Redis").catch(() => {});
  }

  private async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.timeoutMs + 100, `redis ${operation}`);
    } catch (error) {
      throw new StoreUnavailableError("redis online store", error);
    }
  }

  readFeatures(view: OnlineView, entityKeys: EntityKey[], featureNames: string[]): Promise<(OnlineRow | undefined)[]> {
    return this.readMany([{ view, keys: entityKeys, features: featureNames }]).then((r) => r[0] ?? []);
  }

  /** One pipeline (one round trip) of HMGETs across every view and key of a request. */
  async readMany(reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]> {
    const pipeline = this.client.pipeline();
    for (const { view, keys, features } of reads) {
      const fields: (string | Buffer)[] = features.map((f) => featureField(view.name, f));
      fields.push(timestampField(view.name));
      for (const key of keys) pipeline.hmgetBuffer(redisKey(view.project, view.joinKeys, key, this.keyVersion), ...fields);
    }
    const replies = await this.run("read", async () => (await pipeline.exec()) ?? []);
    let next = 0;
    return reads.map(({ keys, features }) =>
      keys.map(() => {
        const [error, reply] = replies[next++] ?? [new Error("missing reply"), null];
        if (error) throw new StoreUnavailableError("redis online store", error);
        return rowOf(features, reply as (Buffer | null)[]);
      }),
    );
  }

  async writeFeatures(view: OnlineView, rows: OnlineWrite[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, skipped: 0 };
    const tsField = timestampField(view.name);
    const keys = rows.map((r) => redisKey(view.project, view.joinKeys, r.key, this.keyVersion));
    // Like Feast's Redis store: read the stored event times first, then write only rows newer than
    // both the stored time and any earlier row of this batch for the key (nanoseconds), both pipelined.
    const check = this.client.pipeline();
    for (const key of keys) check.hgetBuffer(key, tsField);
    const previous = await this.run("write", async () => (await check.exec()) ?? []);
    const write = this.client.pipeline();
    let written = 0;
    const latest = new Map<string, bigint>();
    rows.forEach((row, i) => {
      const [error, stored] = previous[i] ?? [null, null];
      if (error) throw new StoreUnavailableError("redis online store", error);
      const id = (keys[i] as Buffer).toString("latin1");
      let seen = latest.get(id) ?? 0n;
      if (stored && (stored as Buffer).length > 0) {
        const storedAt = decodeTimestamp(stored as Buffer);
        if (storedAt > seen) seen = storedAt;
      }
      // Feast treats a zero stored time as "none"; so a row at the epoch itself is still written.
      if (seen !== 0n && row.eventTimestamp <= seen) return;
      latest.set(id, row.eventTimestamp);
      const fieldValues: (string | Buffer | Uint8Array)[] = [tsField, encodeTimestamp(row.eventTimestamp)];
      for (const [name, value] of Object.entries(row.values))
        fieldValues.push(featureField(view.name, name), encodeValue(dtypeOf(view, name), value));
      const key = keys[i] as Buffer;
      write.hset(key, ...(fieldValues as (string | Buffer)[]));
      if (this.keyTtlSeconds) write.expire(key, this.keyTtlSeconds);
      written++;
    });
    if (written > 0) {
      const results = await this.run("write", async () => (await write.exec()) ?? []);
      const failed = results.find(([error]) => error);
      if (failed) throw new StoreUnavailableError("redis online store", failed[0]);
    }
    return { written, skipped: rows.length - written };
  }

  async health(): Promise<void> {
    await this.run("ping", () => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function rowOf(features: string[], reply: (Buffer | null)[]): OnlineRow | undefined {
  const ts = reply[features.length];
  const values: OnlineRow["values"] = {};
  let any = false;
  features.forEach((name, i) => {
    const bytes = reply[i];
    if (bytes === null || bytes === undefined) return;
    values[name] = decodeValue(bytes);
    any = true;
  });
  if (!any && !ts) return undefined;
  return { eventTimestamp: ts ? decodeTimestamp(ts) : 0n, values };
}
