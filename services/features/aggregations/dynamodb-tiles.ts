import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  ResourceNotFoundException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DEFAULT_ALLOWED_LATENESS, retentionSeconds } from "../../../definition/aggregations";
import type { Catalog } from "../../../definition/registry";
import { StoreUnavailableError } from "../../core/errors";
import { dynamoEntityId, serializeEntityKey } from "../entity-key";
import {
  backoffMs,
  batchGet,
  DEFAULT_RETRY,
  DEFAULT_WRITE_PARALLELISM,
  type DynamoConnection,
  dynamoClient,
  dynamoTableOf,
  EXPIRES_AT,
  ensureTable,
  forEachBounded,
  isThrottle,
} from "../online/dynamodb-client";
import type { EntityKey, OnlineView } from "../online/store";
import { onlineViewOf } from "../online/view";
import { prunable, RECORD_FIELD, type TileRecord, type TileStore, type TileUpdate, type TileWrite } from "./tile-store";

/**
 * Tiles in DynamoDB (docs/online-store-format.md, "Aggregated views (tiles)"): the aggregated
 * view's own table (`table_name_template` with the view's name, the table Pulumi creates for every
 * online view), one item per entity key:
 *   entity_id   S  Feast's id of the serialized entity key (v3), as Feast's tables use it
 *   expires_at  N  epoch seconds: last write + retention + allowedLateness (the table's TTL attribute)
 *   <s>:<start> S  one attribute per tile (tile seconds : tile start, epoch seconds), the JSON state
 * So a lookup of 100 entities is one BatchGetItem, as for plain views. A push's compare-and-set is
 * one conditional UpdateItem (each tile it sets must still hold the state it read); a push that
 * creates a tile then removes the tiles no window reaches (a second UpdateItem, only then).
 * An item holds at most 400 KB: about 2,000 tiles of small states (a 30d window on 1h tiles is 721).
 */

/** Tile attributes set by one UpdateItem (its expression stays well under DynamoDB's 4 KB). */
const TILES_PER_UPDATE = 50;
/** Projections name at most this many attributes (DynamoDB's expressions stay under 4 KB); more: whole items. */
const MAX_PROJECTED = 200;

export class DynamoTileStore implements TileStore {
  readonly kind = "dynamodb";
  private readonly client: DynamoDBClient;
  private readonly knownTables = new Set<string>();

  constructor(
    private readonly connection: DynamoConnection,
    private readonly catalog: Catalog,
    private readonly options: { writeParallelism?: number } = {},
  ) {
    this.client = dynamoClient(connection);
  }

  private tableOf(viewName: string): string {
    return dynamoTableOf(this.connection.tableNameTemplate, this.catalog.project, viewName);
  }

  /** Join keys per view (resolving a view's aggregations per key would dominate a read). */
  private readonly joinKeys = new Map<string, OnlineView["joinKeys"]>();

  private entityId(viewName: string, key: EntityKey): string {
    let joinKeys = this.joinKeys.get(viewName);
    if (!joinKeys) {
      joinKeys = onlineViewOf(this.catalog, viewName).joinKeys;
      this.joinKeys.set(viewName, joinKeys);
    }
    return dynamoEntityId(serializeEntityKey(joinKeys, key));
  }

  private expiresAt(viewName: string): string {
    const view = this.catalog.featureViews[viewName];
    if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
    return String(Math.floor(Date.now() / 1000) + retentionSeconds(view) + (view.allowedLateness ?? DEFAULT_ALLOWED_LATENESS));
  }

  private async table(viewName: string): Promise<string> {
    const table = this.tableOf(viewName);
    if (!this.knownTables.has(table)) {
      await ensureTable(this.client, table, "dynamodb tile store");
      this.knownTables.add(table);
    }
    return table;
  }

  /** One UpdateItem, retried with backoff while throttled; a failed condition resolves undefined. */
  private async update(input: ConstructorParameters<typeof UpdateItemCommand>[0]): Promise<Record<string, AttributeValue> | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.client.send(new UpdateItemCommand(input))).Attributes ?? {};
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return undefined;
        if (!isThrottle(error) || attempt >= DEFAULT_RETRY.maxAttempts)
          throw new StoreUnavailableError(`dynamodb tile store (UpdateItem on "${input.TableName}")`, error);
        await new Promise((r) => setTimeout(r, backoffMs(attempt)));
      }
    }
  }

  /** SET of tile attributes plus the renewed expiry, as an update expression. */
  private static setExpression(tiles: [string, string][], expiresAt: string) {
    const names: Record<string, string> = { "#exp": EXPIRES_AT };
    const values: Record<string, AttributeValue> = { ":exp": { N: expiresAt } };
    const sets = tiles.map(([field, state], i) => {
      names[`#t${i}`] = field;
      values[`:t${i}`] = { S: state };
      return `#t${i} = :t${i}`;
    });
    sets.push("#exp = :exp");
    return { sets, names, values };
  }

  /** Overwrites tiles: per entity, one UpdateItem per 50 tiles, `writeParallelism` in flight. */
  async writeTiles(viewName: string, writes: TileWrite[]): Promise<{ written: number }> {
    if (writes.length === 0) return { written: 0 };
    const table = await this.table(viewName);
    const expiresAt = this.expiresAt(viewName);
    const byEntity = new Map<string, Map<string, string>>();
    for (const w of writes) {
      const id = this.entityId(viewName, w.key);
      const tiles = byEntity.get(id) ?? new Map<string, string>();
      tiles.set(w.field, w.state);
      byEntity.set(id, tiles);
    }
    const updates: { id: string; tiles: [string, string][] }[] = [];
    for (const [id, tiles] of byEntity) {
      const all = [...tiles];
      for (let i = 0; i < all.length; i += TILES_PER_UPDATE) updates.push({ id, tiles: all.slice(i, i + TILES_PER_UPDATE) });
    }
    await forEachBounded(updates, this.options.writeParallelism ?? DEFAULT_WRITE_PARALLELISM, async ({ id, tiles }) => {
      const { sets, names, values } = DynamoTileStore.setExpression(tiles, expiresAt);
      await this.update({
        TableName: table,
        Key: { entity_id: { S: id } },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      });
    });
    return { written: writes.length };
  }

  /** Items by entity, `fields` only when given (a projection of the union of the batch's fields). */
  private async items(viewName: string, keys: EntityKey[], fields?: string[]): Promise<(Record<string, AttributeValue> | undefined)[]> {
    const ids = keys.map((k) => this.entityId(viewName, k));
    const found = new Map<string, Record<string, AttributeValue>>();
    const names: Record<string, string> = { "#id": "entity_id" };
    fields?.forEach((f, i) => {
      names[`#f${i}`] = f;
    });
    const projection = fields ? { ProjectionExpression: Object.keys(names).join(", "), ExpressionAttributeNames: names } : {};
    try {
      // Consistent: a push reads, merges and writes back under the states it read.
      const items = await batchGet(
        this.client,
        this.tableOf(viewName),
        [...new Set(ids)].map((id) => ({ entity_id: { S: id } })),
        { consistent: true, store: "dynamodb tile store", ...projection },
      );
      for (const item of items) found.set(item.entity_id?.S ?? "", item);
    } catch (error) {
      // No table yet: no tiles.
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    return ids.map((id) => found.get(id));
  }

  async readTiles(viewName: string, keys: EntityKey[]): Promise<TileRecord[]> {
    if (keys.length === 0) return [];
    return (await this.items(viewName, keys)).map((item) => ({ tiles: tilesOf(item) }));
  }

  async readTileFields(viewName: string, reads: { key: EntityKey; fields: string[] }[]): Promise<Map<string, string>[]> {
    if (reads.length === 0) return [];
    const union = [...new Set(reads.flatMap((r) => r.fields))];
    const items = await this.items(
      viewName,
      reads.map((r) => r.key),
      union.length <= MAX_PROJECTED ? union : undefined,
    );
    return reads.map((r, i) => {
      const tiles = tilesOf(items[i]);
      return new Map(r.fields.flatMap((f) => (tiles.has(f) ? [[f, tiles.get(f) as string] as const] : [])));
    });
  }

  async updateTiles(viewName: string, updates: TileUpdate[]): Promise<boolean[]> {
    if (updates.length === 0) return [];
    const table = await this.table(viewName);
    const expiresAt = this.expiresAt(viewName);
    const applied = updates.map(() => false);
    await forEachBounded(
      updates.map((u, i) => ({ u, i })),
      this.options.writeParallelism ?? DEFAULT_WRITE_PARALLELISM,
      async ({ u, i }) => {
        // The derived fields (`also`) ride along while the expression stays small; the rest follow below.
        const also = [...(u.also ?? [])];
        const along = also.splice(0, Math.max(0, TILES_PER_UPDATE - u.set.size));
        const tiles = [...u.set, ...along];
        const { sets, names, values } = DynamoTileStore.setExpression(tiles, expiresAt);
        // Each field set must still hold the state the push read (absent: must not exist).
        const conditions = [...u.set].map(([field], k) => {
          const expected = u.expected.get(field);
          if (expected === undefined) return `attribute_not_exists(#t${k})`;
          values[`:e${k}`] = { S: expected };
          return `#t${k} = :e${k}`;
        });
        const created = [...u.set].some(([field]) => u.expected.get(field) === undefined);
        const prune = created && u.pruneBefore !== undefined;
        const key = { entity_id: { S: this.entityId(viewName, u.key) } };
        const after = await this.update({
          TableName: table,
          Key: key,
          UpdateExpression: `SET ${sets.join(", ")}`,
          ...(conditions.length ? { ConditionExpression: conditions.join(" AND ") } : {}),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          // The item's tile names, to prune, only when a tile was created (as the Redis script does).
          ...(prune ? { ReturnValues: "ALL_NEW" as const } : {}),
        });
        // The derived fields that did not fit: only while the fields set above still hold what this update set.
        const step = Math.max(1, TILES_PER_UPDATE - u.set.size);
        for (let from = 0; after !== undefined && from < also.length; from += step) {
          const part = also.slice(from, from + step);
          const more = DynamoTileStore.setExpression(part, expiresAt);
          const guard = [...u.set].map(([field, state], k) => {
            more.names[`#g${k}`] = field;
            more.values[`:g${k}`] = { S: state };
            return `#g${k} = :g${k}`;
          });
          const kept = await this.update({
            TableName: table,
            Key: key,
            UpdateExpression: `SET ${more.sets.join(", ")}`,
            ...(guard.length ? { ConditionExpression: guard.join(" AND ") } : {}),
            ExpressionAttributeNames: more.names,
            ExpressionAttributeValues: more.values,
          });
          if (kept === undefined) break;
        }
        applied[i] = after !== undefined;
        if (!after || !prune) return;
        const stale = prunable([...tilesOf(after).keys()], u.pruneBefore as number);
        for (let s = 0; s < stale.length; s += TILES_PER_UPDATE) {
          const part = stale.slice(s, s + TILES_PER_UPDATE);
          // Unconditional: no window reaches a tile that ended before the prune time, whoever wrote it.
          await this.update({
            TableName: table,
            Key: key,
            UpdateExpression: `REMOVE ${part.map((_, k) => `#r${k}`).join(", ")}`,
            ExpressionAttributeNames: Object.fromEntries(part.map((f, k) => [`#r${k}`, f])),
          });
        }
      },
    );
    return applied;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** The tile attributes of an item (entity_id and expires_at are not tiles). */
function tilesOf(item: Record<string, AttributeValue> | undefined): Map<string, string> {
  const tiles = new Map<string, string>();
  for (const [name, value] of Object.entries(item ?? {})) if (value.S !== undefined && RECORD_FIELD.test(name)) tiles.set(name, value.S);
  return tiles;
}
