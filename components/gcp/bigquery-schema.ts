import type { Catalog, Dtype, EntityValueType, FeatureView, Origin } from "../../definition";
import { joinKeysOf } from "../../definition";

/** GoogleSQL column types the offline tables use. */
export type BigQueryType = "INT64" | "FLOAT64" | "STRING" | "BYTES" | "BOOL" | "TIMESTAMP";

/** One column of a BigQuery table schema (the JSON form the tables API takes). */
export interface BigQueryColumn {
  name: string;
  type: BigQueryType;
  mode: "REQUIRED" | "NULLABLE" | "REPEATED";
  description?: string;
}

/** Feast scalar dtypes to GoogleSQL. BigQuery has one integer and one float width, so 32-bit types widen. */
const SCALAR_TYPES: Record<string, BigQueryType> = {
  Int32: "INT64",
  Int64: "INT64",
  Float32: "FLOAT64",
  Float64: "FLOAT64",
  String: "STRING",
  Bytes: "BYTES",
  Bool: "BOOL",
  UnixTimestamp: "TIMESTAMP",
};

/** Entity join-key value types to GoogleSQL. */
const ENTITY_TYPES: Record<EntityValueType, BigQueryType> = { INT64: "INT64", INT32: "INT64", STRING: "STRING", BYTES: "BYTES" };

/** The column type and mode of a Feast dtype: `Array(X)` is a REPEATED column of X's type. */
export function bigQueryType(dtype: Dtype): { type: BigQueryType; mode: "NULLABLE" | "REPEATED" } {
  const array = /^Array\((\w+)\)$/.exec(dtype);
  const scalar = array ? array[1] : dtype;
  const type = scalar ? SCALAR_TYPES[scalar] : undefined;
  if (!type)
    throw new Error(`dtype "${dtype}" has no BigQuery type; use one of ${Object.keys(SCALAR_TYPES).join(", ")} or Array(<one of them>)`);
  return { type, mode: array ? "REPEATED" : "NULLABLE" };
}

/** A feature view whose offline source is a table of the platform's dataset (and so is created by it). */
export function ownsOfflineTable(view: FeatureView): view is FeatureView & { source: { table: string } } {
  // Query sources and qualified names (other.dataset.table) read data someone else manages.
  return view.offline && view.source.table !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(view.source.table);
}

/** The feature views that get a table in the offline dataset, in catalog order, checked for clashes. */
export function offlineTableViews(catalog: Catalog): (FeatureView & { origin: Origin; source: { table: string } })[] {
  const views = Object.values(catalog.featureViews).filter(ownsOfflineTable) as (FeatureView & {
    origin: Origin;
    source: { table: string };
  })[];
  const byTable = new Map<string, FeatureView & { origin: Origin }>();
  for (const view of views) {
    const other = byTable.get(view.source.table);
    if (other) {
      throw new Error(
        `${view.origin.file}: ${view.origin.path}.source.table: "${view.source.table}" is also the table of feature view "${other.name}" (${other.origin.file}); give each view its own table, or use a query source`,
      );
    }
    byTable.set(view.source.table, view);
  }
  return views;
}

/**
 * The offline table schema of a feature view, generated from its definition: entity join keys
 * (REQUIRED), the event timestamp (REQUIRED, the partitioning column), the created timestamp if
 * the view has one (the tie-break), then the features. Training sets and materialization read
 * exactly these columns, so the table cannot drift from the catalog.
 */
export function bigQuerySchema(catalog: Catalog, viewName: string): BigQueryColumn[] {
  const view = catalog.featureViews[viewName];
  if (!view) throw new Error(`feature view "${viewName}" is not in the catalog`);
  const columns: BigQueryColumn[] = [];
  const at = `${view.origin.file}: ${view.origin.path}`;
  const add = (column: BigQueryColumn, where: string) => {
    if (columns.some((c) => c.name === column.name)) {
      throw new Error(
        `${at}.${where}: column "${column.name}" appears twice in the table of feature view "${view.name}"; rename the feature or the timestamp field`,
      );
    }
    columns.push(column);
  };
  const keys = joinKeysOf(catalog, viewName);
  view.entities.forEach((entityName, i) => {
    const entity = catalog.entities[entityName];
    if (!entity) throw new Error(`${at}.entities[${i}]: entity "${entityName}" is not in the catalog`);
    for (const key of entity.joinKeys) {
      if (columns.some((c) => c.name === key)) continue; // two entities may share a join key
      add(
        { name: key, type: ENTITY_TYPES[entity.valueType], mode: "REQUIRED", description: `Join key of entity ${entity.name}` },
        `entities[${i}]`,
      );
    }
  });
  if (keys.length === 0) throw new Error(`${at}.entities: feature view "${view.name}" has no join keys`);
  add(
    { name: view.source.timestampField, type: "TIMESTAMP", mode: "REQUIRED", description: "Event time of the row" },
    "source.timestampField",
  );
  if (view.source.createdTimestampField) {
    add(
      {
        name: view.source.createdTimestampField,
        type: "TIMESTAMP",
        mode: "NULLABLE",
        description: "When the row was written; breaks ties between equal event times",
      },
      "source.createdTimestampField",
    );
  }
  view.fields.forEach((field, i) => {
    const { type, mode } = bigQueryType(field.dtype);
    add({ name: field.name, type, mode, ...(field.description ? { description: field.description } : {}) }, `fields[${i}]`);
  });
  return columns;
}
