import {
  type AttributeValue,
  type DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { StoreUnavailableError } from "../../core/errors";
import { dynamoEntityId, type EntityKeyVersion, serializeEntityKey } from "../entity-key";
import { formatPythonDatetime, nanosFromIso, secondsOf } from "../timestamp";
import { decodeValue, encodeValue } from "../values";
import {
  batchGet,
  batchWrite,
  DEFAULT_WRITE_PARALLELISM,
  type DynamoConnection,
  dynamoClient,
  dynamoTableOf,
  ensureTable,
} from "./dynamodb-client";
import type { EntityKey, OnlineRow, OnlineStore, OnlineStoreOptions, OnlineView, OnlineWrite, ViewRead, WriteResult } from "./store";
import { dtypeOf, readEachView } from "./view";

export { EXPIRES_AT } from "./dynamodb-client";
import { EXPIRES_AT } from "./dynamodb-client";

export interface DynamoStoreOptions extends OnlineStoreOptions, DynamoConnection {
  /** Feast's `entity_key_serialization_version` of the hashed keys. Defaults to 3. */
  entityKeyVersion?: EntityKeyVersion;
  /** BatchWriteItem calls in flight per write. Defaults to DEFAULT_WRITE_PARALLELISM (8). */
  writeParallelism?: number;
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
  private readonly writeParallelism: number;

  constructor(options: DynamoStoreOptions) {
    this.writeParallelism = options.writeParallelism ?? DEFAULT_WRITE_PARALLELISM;
    this.tableNameTemplate = options.tableNameTemplate ?? "{project}.{table_name}";
    this.keyVersion = options.entityKeyVersion ?? 3;
    this.client = dynamoClient(options);
  }

  private tableOf(view: OnlineView): string {
    return dynamoTableOf(this.tableNameTemplate, view.project, view.name);
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
    try {
      const items = await batchGet(
        this.client,
        table,
        [...new Set(ids)].map((id) => ({ entity_id: { S: id } })),
        { consistent: timesOnly, ...projection },
      );
      for (const item of items) found.set(item.entity_id?.S ?? "", item);
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
    await batchWrite(this.client, table, requests, { parallelism: this.writeParallelism });
    return { written: requests.length, skipped: rows.length - requests.length };
  }

  private async ensureTable(view: OnlineView): Promise<void> {
    const table = this.tableOf(view);
    if (this.knownTables.has(table)) return;
    await ensureTable(this.client, table, "dynamodb online store");
    this.knownTables.add(table);
  }

  async health(): Promise<void> {
    await this.call("ListTables", () => this.client.send(new ListTablesCommand({ Limit: 1 })));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
