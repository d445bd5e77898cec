import { type ChainableCommander, Cluster, type Redis } from "ioredis";
import { StoreUnavailableError, withTimeout } from "../../core/errors";
import { type EntityKeyVersion, featureField, redisKeyEncoder, timestampField } from "../entity-key";
import { decodeTimestamp, decodeValue, encodeTimestamp, encodeValue } from "../values";
import type { EntityKey, OnlineRow, OnlineStore, OnlineStoreOptions, OnlineView, OnlineWrite, ViewRead, WriteResult } from "./store";
import { commandsAtOnce, pipelineByShard, redisClient } from "./redis-client";
import { dtypeOf } from "./view";

export { clusterSeeds, isClusterUrl } from "./redis-client";

/** Redis adapter options; defaults are chosen to fail fast (503) and recover within a second or two. */
export interface RedisStoreOptions extends OnlineStoreOptions {
  /** Expire keys this many seconds after a write (Feast's `key_ttl_seconds`). Defaults to none. */
  keyTtlSeconds?: number;
  /**
   * PEM certificate(s) to trust for `rediss://`, when the server's certificate is signed by a
   * private CA (Memorystore has its own). Defaults to the system's trusted CAs.
   */
  tlsCa?: string;
  /** AUTH with the pod's Google access token, refreshed (Memorystore Cluster's IAM auth). */
  iamAuth?: boolean;
  /** Feast's `entity_key_serialization_version` of the keys in this Redis. Defaults to 3. */
  entityKeyVersion?: EntityKeyVersion;
}

/**
 * Feast's Redis online-store format (docs/online-store-format.md): one hash per entity key
 * (serialized entity key v3 + project), field mmh3("<view>:<feature>") = serialized
 * feast.types.Value, field "_ts:<view>" = google.protobuf.Timestamp. So a Feast deployment's
 * Redis can be served as is, and Feast reads what we write.
 *
 * `redis+cluster://[:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS) talks to a
 * Redis Cluster (ElastiCache cluster mode, Memorystore Cluster; Feast's `redis_type:
 * redis_cluster`): the keys are the same (Feast uses no hash tags), and each pipeline is split into
 * one pipeline per node set serving the keys' slots, sent concurrently: one round trip per shard.
 */
export class RedisOnlineStore implements OnlineStore {
  readonly kind = "redis";
  private readonly client: Redis | Cluster;
  private readonly timeoutMs: number;
  private readonly keyTtlSeconds?: number;
  private readonly keyVersion: EntityKeyVersion;

  constructor(url: string, options: RedisStoreOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.keyTtlSeconds = options.keyTtlSeconds;
    this.keyVersion = options.entityKeyVersion ?? 3;
    // Every call goes through run(), one timeout per pipeline: no timer per command.
    this.client = redisClient(url, { timeoutMs: this.timeoutMs, tlsCa: options.tlsCa, iamAuth: options.iamAuth, perCommandTimeout: false });
  }

  /** Connects, waiting at most the timeout; a Redis that is down is not fatal (readiness reports it). */
  async connect(): Promise<void> {
    await withTimeout(this.client.connect(), Math.max(this.timeoutMs, 1000), "connecting to Redis").catch(() => {});
  }

  private async run<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await withTimeout(call(), this.timeoutMs, `redis ${operation}`);
    } catch (error) {
      throw new StoreUnavailableError("redis online store", error);
    }
  }

  readFeatures(view: OnlineView, entityKeys: EntityKey[], featureNames: string[]): Promise<(OnlineRow | undefined)[]> {
    return this.readMany([{ view, keys: entityKeys, features: featureNames }]).then((r) => r[0] ?? []);
  }

  /**
   * Runs one command per key as one pipeline, or on a cluster one pipeline per node set of the
   * keys' slots, concurrently; replies come back in key order. `add` queues key i's command.
   */
  private pipelined(
    operation: string,
    keys: Buffer[],
    add: (pipeline: ChainableCommander, i: number) => void,
  ): Promise<[Error | null, unknown][]> {
    return this.run(operation, () => pipelineByShard(this.client, keys, add));
  }

  /** One pipeline (one round trip; one per shard on a cluster) of HMGETs across every view and key of a request. */
  async readMany(reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]> {
    const keys: Buffer[] = [];
    const fieldsOf: (string | Buffer)[][] = [];
    for (const { view, keys: entityKeys, features } of reads) {
      const fields: (string | Buffer)[] = features.map((f) => featureField(view.name, f));
      fields.push(timestampField(view.name));
      const keyOf = redisKeyEncoder(view.project, view.joinKeys, this.keyVersion);
      for (const key of entityKeys) {
        keys.push(keyOf(key));
        fieldsOf.push(fields);
      }
    }
    // Plain commands, not a Pipeline (commandsAtOnce says why), except several keys on a cluster:
    // those go as one pipeline per shard.
    const replies: unknown[] =
      this.client instanceof Cluster && keys.length > 1
        ? (
            await this.pipelined("read", keys, (pipeline, i) =>
              pipeline.hmgetBuffer(keys[i] as Buffer, ...(fieldsOf[i] as (string | Buffer)[])),
            )
          ).map(([error, reply]) => {
            if (error) throw new StoreUnavailableError("redis online store", error);
            return reply;
          })
        : await this.run("read", () =>
            commandsAtOnce(this.client, keys.length, (i) =>
              this.client.hmgetBuffer(keys[i] as Buffer, ...(fieldsOf[i] as (string | Buffer)[])),
            ),
          );
    let next = 0;
    return reads.map(({ keys, features }) =>
      keys.map(() => {
        const reply = replies[next++];
        if (!Array.isArray(reply)) throw new StoreUnavailableError("redis online store", new Error("missing reply"));
        return rowOf(features, reply as (Buffer | null)[]);
      }),
    );
  }

  async writeFeatures(view: OnlineView, rows: OnlineWrite[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, skipped: 0 };
    const tsField = timestampField(view.name);
    const keyOf = redisKeyEncoder(view.project, view.joinKeys, this.keyVersion);
    const keys = rows.map((r) => keyOf(r.key));
    // Like Feast's Redis store: read the stored event times first, then write only rows newer than
    // both the stored time and any earlier row of this batch for the key (nanoseconds), both pipelined.
    const previous = await this.pipelined("write", keys, (pipeline, i) => pipeline.hgetBuffer(keys[i] as Buffer, tsField));
    const writes: { key: Buffer; fields: (string | Buffer)[] }[] = [];
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
      writes.push({ key: keys[i] as Buffer, fields: fieldValues as (string | Buffer)[] });
      written++;
    });
    if (written > 0) {
      const results = await this.pipelined(
        "write",
        writes.map((w) => w.key),
        (pipeline, i) => {
          const { key, fields } = writes[i] as { key: Buffer; fields: (string | Buffer)[] };
          pipeline.hset(key, ...fields);
          if (this.keyTtlSeconds) pipeline.expire(key, this.keyTtlSeconds);
        },
      );
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
  for (let i = 0; i < features.length; i++) {
    const bytes = reply[i];
    if (bytes === null || bytes === undefined) continue;
    values[features[i] as string] = decodeValue(bytes);
    any = true;
  }
  if (!any && !ts) return undefined;
  return { eventTimestamp: ts ? decodeTimestamp(ts) : 0n, values };
}
