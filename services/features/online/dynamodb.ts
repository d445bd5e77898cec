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
import { StoreUnavailableError } from "../../core/errors";
import { dynamoEntityId, type EntityKeyVersion, serializeEntityKey } from "../entity-key";
import { formatPythonDatetime, nanosFromIso, secondsOf } from "../timestamp";
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
  /** Table name per feature view, Feast's `table_name_template`. Defaults to "{project}.{table_name}". */
  tableNameTemplate?: string;
  /** Feast's `entity_key_serialization_version` of the hashed keys. Defaults to 3. */
  entityKeyVersion?: EntityKeyVersion;
}

/**
 * Feast's DynamoDB layout (feast/infra/online_stores/dynamodb.py): one table per feature view
 * named by `table_name_template` ("{project}.{table_name}"), partition key `entity_id` =
 * `mmh3.hash_bytes(serialized entity key).hex()`, `event_ts` = Python's str() of the UTC event time
 * ("2024-05-01 12:00:00.500000+00:00"), and `values`: a map from feature name to serialized
 * feast.types.Value bytes. Tables are created on first write (on-demand billing).
 *
 * Writes: Feast's DynamoDB store overwrites without reading (last write wins). We read the stored
 * `event_ts` first (one BatchGetItem of that attribute per 100 keys) and skip rows not newer, the
 * rule of Feast's Redis store and of our other adapters: a replayed materialization window or a late
 * push must not replace a newer value, and a switch of store must not change which value wins.
 */
export class DynamoOnlineStore implements OnlineStore {
  readonly kind = "dynamodb";
  private readonly client: DynamoDBClient;
  private readonly knownTables = new Set<string>();
  private readonly tableNameTemplate: string;
  private readonly keyVersion: EntityKeyVersion;

  constructor(options: DynamoStoreOptions) {
    this.tableNameTemplate = options.tableNameTemplate ?? "{project}.{table_name}";
    this.keyVersion = options.entityKeyVersion ?? 3;
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
    return this.tableNameTemplate.replaceAll("{project}", view.project).replaceAll("{table_name}", view.name);
  }

  private entityId(view: OnlineView, key: EntityKey): string {
    return dynamoEntityId(serializeEntityKey(view.joinKeys, key, undefined, this.keyVersion));
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
    return this.readItems(view, entityKeys, featureNames, false);
  }

  /** BatchGetItem of the keys; `timesOnly` fetches just `event_ts` (the write path's check). */
  private async readItems(
    view: OnlineView,
    entityKeys: EntityKey[],
    featureNames: string[],
    timesOnly: boolean,
  ): Promise<(OnlineRow | undefined)[]> {
    const table = this.tableOf(view);
    const projection = timesOnly
      ? { ProjectionExpression: "#id, #ts", ExpressionAttributeNames: { "#id": "entity_id", "#ts": "event_ts" } }
      : {};
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
            this.client.send(
              new BatchGetItemCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: timesOnly, ...projection } } }),
            ),
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
      return { eventTimestamp: nanosFromIso(item.event_ts?.S ?? "") ?? 0n, values };
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
      if (!seen || row.eventTimestamp > seen.eventTimestamp) newest.set(id, row);
    }
    const stored = await this.readItems(
      view,
      [...newest.values()].map((r) => r.key),
      [],
      true,
    );
    const requests: WriteRequest[] = [];
    [...newest.entries()].forEach(([id, row], i) => {
      const previous = stored[i];
      // Feast's event_ts keeps microseconds (Python's datetime): compare at that precision.
      const micros = row.eventTimestamp / 1000n;
      if (previous && micros <= previous.eventTimestamp / 1000n) return;
      const values: Record<string, AttributeValue> = {};
      for (const [name, value] of Object.entries(row.values)) values[name] = { B: encodeValue(dtypeOf(view, name), value) };
      const item: Record<string, AttributeValue> = {
        entity_id: { S: id },
        event_ts: { S: formatPythonDatetime(row.eventTimestamp) },
        values: { M: values },
      };
      // DynamoDB's TTL deletes the item once the value is past the view's TTL (the table's TTL
      // attribute, components/aws/dynamodb.ts); a 0 TTL means forever: no attribute.
      if (view.ttlSeconds > 0) item[EXPIRES_AT] = { N: String(secondsOf(row.eventTimestamp) + view.ttlSeconds) };
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
