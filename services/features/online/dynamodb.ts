import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import murmur from "murmurhash3js-revisited";
import { StoreUnavailableError } from "../../core/errors";
import { serializeEntityKey } from "../entity-key";
import { decodeValue, encodeValue } from "../values";
import type { EntityKey, OnlineRow, OnlineStore, OnlineStoreOptions, OnlineView, OnlineWrite, ViewRead, WriteResult } from "./store";
import { dtypeOf, readEachView } from "./view";

/** DynamoDB limits: BatchGetItem takes 100 keys, BatchWriteItem 25 items per call. */
const GET_BATCH = 100;
/** The TTL attribute the table is created with (epoch seconds). */
export const EXPIRES_AT = "expires_at";
const WRITE_BATCH = 25;
/** Retries of unprocessed keys/items, with exponential backoff from 25 ms (capped at 1 s). */
const MAX_RETRIES = 8;

export interface DynamoStoreOptions extends OnlineStoreOptions {
  region: string;
  endpoint?: string;
}

/**
 * Feast's DynamoDB layout: one table per feature view named "<project>.<view>", partition key
 * `entity_id` (hash of the serialized entity key), `event_ts`, and `values`: a map from feature
 * name to serialized feast.types.Value bytes. Tables are created on first write (on-demand billing).
 */
export class DynamoOnlineStore implements OnlineStore {
  readonly kind = "dynamodb";
  private readonly client: DynamoDBClient;
  private readonly knownTables = new Set<string>();

  constructor(options: DynamoStoreOptions) {
    const timeout = options.timeoutMs ?? 1000;
    this.client = new DynamoDBClient({
      region: options.region,
      endpoint: options.endpoint,
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({ connectionTimeout: timeout, requestTimeout: timeout }),
      // A local endpoint (dynalite, DynamoDB Local) accepts any credentials; real AWS uses the default chain (IRSA).
      ...(options.endpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
    });
  }

  private tableOf(view: OnlineView): string {
    return `${view.project}.${view.name}`;
  }

  private entityId(view: OnlineView, key: EntityKey): string {
    return murmur.x64.hash128(serializeEntityKey(view.joinKeys, key));
  }

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ResourceNotFoundException) throw error;
      throw new StoreUnavailableError(`dynamodb online store (${operation})`, error);
    }
  }

  async readFeatures(view: OnlineView, entityKeys: EntityKey[], featureNames: string[]): Promise<(OnlineRow | undefined)[]> {
    const table = this.tableOf(view);
    const ids = entityKeys.map((k) => this.entityId(view, k));
    const found = new Map<string, Record<string, AttributeValue>>();
    const unique = [...new Set(ids)];
    try {
      for (let i = 0; i < unique.length; i += GET_BATCH) {
        let pending: Record<string, AttributeValue>[] = unique.slice(i, i + GET_BATCH).map((id) => ({ entity_id: { S: id } }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > MAX_RETRIES)
            throw new StoreUnavailableError(
              "dynamodb online store",
              `${pending.length} keys still unprocessed after ${MAX_RETRIES} retries`,
            );
          if (attempt > 0) await backoff(attempt);
          const reply = await this.call("BatchGetItem", () =>
            this.client.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: false } } })),
          );
          for (const item of reply.Responses?.[table] ?? []) found.set(item.entity_id?.S ?? "", item);
          pending = reply.UnprocessedKeys?.[table]?.Keys ?? [];
        }
      }
    } catch (error) {
      // A view never written has no table yet: every key is simply not found.
      if (error instanceof ResourceNotFoundException) return entityKeys.map(() => undefined);
      throw error;
    }
    return ids.map((id) => {
      const item = found.get(id);
      if (!item) return undefined;
      const stored = item.values?.M ?? {};
      const values: OnlineRow["values"] = {};
      for (const name of featureNames) {
        const bytes = stored[name]?.B;
        if (bytes) values[name] = decodeValue(bytes);
      }
      return { eventTimestamp: Math.floor(Date.parse(item.event_ts?.S ?? "") / 1000), values };
    });
  }

  readMany(reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]> {
    return readEachView(this, reads);
  }

  async writeFeatures(view: OnlineView, rows: OnlineWrite[]): Promise<WriteResult> {
    if (rows.length === 0) return { written: 0, skipped: 0 };
    await this.ensureTable(view);
    const table = this.tableOf(view);
    // Keep the newest row per key in this batch, then skip rows not newer than what is stored (Feast's rule).
    const newest = new Map<string, OnlineWrite>();
    for (const row of rows) {
      const id = this.entityId(view, row.key);
      const seen = newest.get(id);
      if (!seen || Math.floor(row.eventTimestamp) > Math.floor(seen.eventTimestamp)) newest.set(id, row);
    }
    const stored = await this.readFeatures(
      view,
      [...newest.values()].map((r) => r.key),
      [],
    );
    const requests: WriteRequest[] = [];
    [...newest.entries()].forEach(([id, row], i) => {
      const previous = stored[i];
      const seconds = Math.floor(row.eventTimestamp);
      if (previous && seconds <= previous.eventTimestamp) return;
      const values: Record<string, AttributeValue> = {};
      for (const [name, value] of Object.entries(row.values)) values[name] = { B: encodeValue(dtypeOf(view, name), value) };
      const item: Record<string, AttributeValue> = {
        entity_id: { S: id },
        event_ts: { S: new Date(seconds * 1000).toISOString() },
        values: { M: values },
      };
      // DynamoDB's TTL deletes the item once the value is past the view's TTL (the table's TTL
      // attribute, components/aws/dynamodb.ts); a 0 TTL means forever: no attribute.
      if (view.ttlSeconds > 0) item[EXPIRES_AT] = { N: String(seconds + view.ttlSeconds) };
      requests.push({ PutRequest: { Item: item } });
    });
    for (let i = 0; i < requests.length; i += WRITE_BATCH) {
      let pending = requests.slice(i, i + WRITE_BATCH);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > MAX_RETRIES)
          throw new StoreUnavailableError(
            "dynamodb online store",
            `${pending.length} writes still unprocessed after ${MAX_RETRIES} retries`,
          );
        if (attempt > 0) await backoff(attempt);
        const reply = await this.call("BatchWriteItem", () =>
          this.client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } })),
        );
        pending = reply.UnprocessedItems?.[table] ?? [];
      }
    }
    return { written: requests.length, skipped: rows.length - requests.length };
  }

  private async ensureTable(view: OnlineView): Promise<void> {
    const table = this.tableOf(view);
    if (this.knownTables.has(table)) return;
    try {
      await this.client.send(new DescribeTableCommand({ TableName: table }));
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw new StoreUnavailableError("dynamodb online store (DescribeTable)", error);
      await this.call("CreateTable", () =>
        this.client.send(
          new CreateTableCommand({
            TableName: table,
            BillingMode: "PAY_PER_REQUEST",
            KeySchema: [{ AttributeName: "entity_id", KeyType: "HASH" }],
            AttributeDefinitions: [{ AttributeName: "entity_id", AttributeType: "S" }],
          }),
        ),
      ).catch((e: Error) => {
        if (!/in use|exists/i.test(e.message)) throw e;
      });
      for (let i = 0; i < 100; i++) {
        const { Table } = await this.call("DescribeTable", () => this.client.send(new DescribeTableCommand({ TableName: table })));
        if (Table?.TableStatus === "ACTIVE") break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.knownTables.add(table);
  }

  async health(): Promise<void> {
    await this.call("ListTables", () => this.client.send(new ListTablesCommand({ Limit: 1 })));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

function backoff(attempt: number): Promise<void> {
  const ms = Math.min(1000, 25 * 2 ** (attempt - 1));
  return new Promise((r) => setTimeout(r, ms * (0.5 + Math.random() / 2)));
}
