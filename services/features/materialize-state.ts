import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import Redis from "ioredis";
import { DYNAMO_STATE_TABLE } from "../../definition/materialization";
import { withTimeout } from "../core/errors";
import { type DynamoConnection, dynamoClient, dynamoOptionsOf, dynamoTableOf, EXPIRES_AT, ensureTable } from "./online/dynamodb-client";

/**
 * Durable materialization state that every writer pod can read: the agreed window of a run, the
 * export manifest, each shard's acknowledged rows, each shard's completion, and each view's last
 * completed end. Small string values under string keys, with an atomic create (`setIfAbsent`) so
 * concurrent pods agree on one window and one exporter without a coordinator.
 *
 * Backends: the Redis online store itself (`redis://`, `rediss://`; keys under
 * `mlops-materialization:<project>:`, apart from Feast's entity hashes), the DynamoDB online store's
 * state table (`dynamodb://`; `<project>` + the stack's template + `_materialization`, conditional
 * puts), a directory (one file per key, created with O_EXCL, for runs on one machine) and memory (tests).
 */
export interface StateStore {
  readonly kind: string;
  get(key: string): Promise<string | undefined>;
  /** Sets a key; `ttlSeconds` lets run-scoped keys expire on their own. */
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** Creates a key only when absent; true when this call created it. */
  setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean>;
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}

/** Every call to the state store gets this long; a slow store fails the shard (it is retried alone). */
const STATE_TIMEOUT_MS = 5000;

export class RedisStateStore implements StateStore {
  readonly kind = "redis";
  private readonly client: Redis;
  constructor(
    url: string,
    private readonly prefix: string,
  ) {
    this.client = new Redis(url, { commandTimeout: STATE_TIMEOUT_MS, maxRetriesPerRequest: 2, lazyConnect: true });
    this.client.on("error", () => {});
  }
  private call<T>(what: string, run: () => Promise<T>): Promise<T> {
    return withTimeout(run(), STATE_TIMEOUT_MS + 500, `materialization state ${what}`);
  }
  async get(key: string): Promise<string | undefined> {
    return (await this.call("get", () => this.client.get(this.prefix + key))) ?? undefined;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    await this.call("set", () =>
      ttlSeconds ? this.client.set(this.prefix + key, value, "EX", ttlSeconds) : this.client.set(this.prefix + key, value),
    );
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    const reply = await this.call("set", () =>
      ttlSeconds ? this.client.set(this.prefix + key, value, "EX", ttlSeconds, "NX") : this.client.set(this.prefix + key, value, "NX"),
    );
    return reply === "OK";
  }
  async delete(key: string): Promise<void> {
    await this.call("delete", () => this.client.del(this.prefix + key));
  }
  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * State in a DynamoDB table (hash key `state_key`): `value` S, `expires_at` N (the table's TTL
 * attribute; DynamoDB deletes late, so reads check it). `setIfAbsent` is a conditional put that
 * also wins over an expired item. Reads are consistent: a pod must see the window another just fixed.
 */
export class DynamoStateStore implements StateStore {
  readonly kind = "dynamodb";
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private ready?: Promise<void>;
  constructor(connection: DynamoConnection, project: string) {
    this.client = dynamoClient({ ...connection, timeoutMs: STATE_TIMEOUT_MS });
    this.table = dynamoTableOf(connection.tableNameTemplate, project, DYNAMO_STATE_TABLE.tableName);
  }
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    this.ready ??= ensureTable(this.client, this.table, "materialization state", DYNAMO_STATE_TABLE.hashKey);
    await this.ready;
    return withTimeout(run(), STATE_TIMEOUT_MS * 2 + 500, `materialization state ${what} (DynamoDB table ${this.table})`);
  }
  private item(key: string, value: string, ttlSeconds?: number): Record<string, AttributeValue> {
    return {
      state_key: { S: key },
      value: { S: value },
      ...(ttlSeconds ? { [EXPIRES_AT]: { N: String(Math.floor(Date.now() / 1000) + ttlSeconds) } } : {}),
    };
  }
  async get(key: string): Promise<string | undefined> {
    const { Item } = await this.call("get", () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { state_key: { S: key } }, ConsistentRead: true })),
    );
    const expires = Item?.[EXPIRES_AT]?.N;
    if (expires !== undefined && Number(expires) < Date.now() / 1000) return undefined;
    return Item?.value?.S;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    await this.call("set", () => this.client.send(new PutItemCommand({ TableName: this.table, Item: this.item(key, value, ttlSeconds) })));
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    try {
      await this.call("set", () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.table,
            Item: this.item(key, value, ttlSeconds),
            ConditionExpression: "attribute_not_exists(state_key) OR #exp < :now",
            ExpressionAttributeNames: { "#exp": EXPIRES_AT },
            ExpressionAttributeValues: { ":now": { N: String(Math.floor(Date.now() / 1000)) } },
          }),
        ),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
  async delete(key: string): Promise<void> {
    await this.call("delete", () => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { state_key: { S: key } } })));
  }
  async close(): Promise<void> {
    this.client.destroy();
  }
}

interface FileEntry {
  value: string;
  /** Epoch ms after which the key is gone; absent = never. */
  expires?: number;
}

/** One file per key in a directory; O_EXCL creation makes `setIfAbsent` atomic across processes on one machine. */
export class DirectoryStateStore implements StateStore {
  readonly kind = "directory";
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }
  private path(key: string): string {
    return join(this.dir, encodeURIComponent(key));
  }
  private read(key: string): FileEntry | undefined {
    try {
      const entry = JSON.parse(readFileSync(this.path(key), "utf8")) as FileEntry;
      if (entry.expires !== undefined && entry.expires < Date.now()) {
        rmSync(this.path(key), { force: true });
        return undefined;
      }
      return entry;
    } catch {
      return undefined;
    }
  }
  private entry(value: string, ttlSeconds?: number): string {
    return JSON.stringify({ value, ...(ttlSeconds ? { expires: Date.now() + ttlSeconds * 1000 } : {}) });
  }
  async get(key: string): Promise<string | undefined> {
    return this.read(key)?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    const tmp = `${this.path(key)}.${process.pid}.tmp`;
    writeFileSync(tmp, this.entry(value, ttlSeconds));
    renameSync(tmp, this.path(key));
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    this.read(key); // drops an expired entry first
    try {
      const fd = openSync(this.path(key), "wx");
      writeSync(fd, this.entry(value, ttlSeconds));
      closeSync(fd);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
  }
  async delete(key: string): Promise<void> {
    rmSync(this.path(key), { force: true });
  }
  async close(): Promise<void> {}
}

export class MemoryStateStore implements StateStore {
  readonly kind = "memory";
  private readonly entries = new Map<string, FileEntry>();
  async get(key: string): Promise<string | undefined> {
    const entry = this.entries.get(key);
    if (entry?.expires !== undefined && entry.expires < Date.now()) this.entries.delete(key);
    return this.entries.get(key)?.value;
  }
  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.entries.set(key, { value, ...(ttlSeconds ? { expires: Date.now() + ttlSeconds * 1000 } : {}) });
  }
  async setIfAbsent(key: string, value: string, ttlSeconds?: number): Promise<boolean> {
    if ((await this.get(key)) !== undefined) return false;
    await this.set(key, value, ttlSeconds);
    return true;
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async close(): Promise<void> {}
}

/**
 * Opens the state store from `--state`: `redis://`/`rediss://` or `dynamodb://` URL, `memory`, or a
 * directory path (`dir:<path>` or a bare path). `online` means the online store itself (Redis or DynamoDB).
 */
export function openStateStore(state: string, onlineStoreUrl: string, project: string): StateStore {
  const target = state === "online" ? onlineStoreUrl : state;
  if (target.startsWith("redis://") || target.startsWith("rediss://")) {
    const url = new URL(target);
    url.search = "";
    return new RedisStateStore(url.toString(), `mlops-materialization:${project}:`);
  }
  if (target.startsWith("dynamodb://")) return new DynamoStateStore(dynamoOptionsOf(target), project);
  if (target === "memory") return new MemoryStateStore();
  if (state === "online")
    throw new Error(
      `--state online needs a Redis or DynamoDB online store, but it is "${onlineStoreUrl}"; give --state a redis:// or dynamodb:// URL or a directory every writer can reach`,
    );
  return new DirectoryStateStore(target.startsWith("dir:") ? target.slice(4) : target);
}

/** The view ends of the unsharded path in the durable store, under the same key the shards advance. */
export class StoredMaterializationState {
  constructor(private readonly store: StateStore) {}
  async get(view: string): Promise<Date | undefined> {
    const text = await this.store.get(`end:${view}`);
    return text ? new Date(text) : undefined;
  }
  async set(view: string, end: Date): Promise<void> {
    await this.store.set(`end:${view}`, end.toISOString());
  }
}
