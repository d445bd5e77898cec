import type { Dtype, EntityValueType } from "../../definition/catalog";
import type { Catalog } from "../../definition/registry";
import { pushTargets } from "./push";

/**
 * `export-feast`: a Feast repository (feature_store.yaml + Python definitions) generated from the
 * catalog, so a team can point Feast's SDK and CLI (`feast apply`, `feast materialize`,
 * `get_online_features`, `feast serve`) at the same stores this service reads and writes. It is
 * derived, never edited: re-run the command after a catalog change.
 */
export interface FeastExportOptions {
  /** Online store URL as the features service takes it (redis://, rediss://, redis+cluster://, dynamodb://). */
  onlineStore?: string;
  /** Instead of a store: Feast's `remote` online store pointed at this features service (http://host:port). */
  featureServer?: string;
  /** Offline store URL (duckdb:, postgres://, bigquery://, redshift://); defaults to Feast's file store. */
  offlineStore?: string;
  /** Directory, relative to the repository, of Parquet files for `table` sources of the file store. Defaults to "data". */
  dataDir?: string;
}

/** A generated file: path relative to the repository directory, and its text. */
export type FeastRepository = Record<string, string>;

const PY_DTYPE: Record<string, string> = {
  Int32: "Int32",
  Int64: "Int64",
  Float32: "Float32",
  Float64: "Float64",
  String: "String",
  Bytes: "Bytes",
  Bool: "Bool",
  UnixTimestamp: "UnixTimestamp",
};

function pyDtype(dtype: Dtype): string {
  const element = /^Array\((\w+)\)$/.exec(dtype)?.[1];
  return element ? `Array(${PY_DTYPE[element]})` : (PY_DTYPE[dtype] as string);
}

const py = (text: string) => JSON.stringify(text);
const pyName = (name: string) => name.replace(/[^A-Za-z0-9_]/g, "_");

/** YAML of a scalar; JSON strings are valid YAML. */
const yaml = (value: string | number | boolean) => (typeof value === "string" ? JSON.stringify(value) : String(value));

/** Feast's `online_store:` block for one of our store URLs; throws naming the URL when Feast has no equivalent. */
export function feastOnlineStore(url: string): Record<string, string | number | boolean> {
  const redis = /^(rediss?|redis\+cluster):\/\/(?:([^:@/]*):([^@/]*)@)?([^/?]+)(?:\/(\d+))?(?:\?(.*))?$/.exec(url);
  if (redis) {
    const [, scheme, , password, hosts = "", db, query] = redis;
    const parts = [hosts];
    if (password) parts.push(`password=${decodeURIComponent(password)}`);
    if (scheme === "rediss") parts.push("ssl=true");
    if (db && db !== "0") parts.push(`db=${db}`);
    const block: Record<string, string | number | boolean> = {
      type: "redis",
      redis_type: scheme === "redis+cluster" ? "redis_cluster" : "redis",
      connection_string: parts.join(","),
    };
    const ttl = new URLSearchParams(query ?? "").get("keyTtlSeconds");
    if (ttl) block.key_ttl_seconds = Number(ttl);
    return block;
  }
  if (url.startsWith("dynamodb://")) {
    const parsed = new URL(url);
    const block: Record<string, string | number | boolean> = { type: "dynamodb", region: parsed.hostname };
    const endpoint = parsed.searchParams.get("endpoint");
    if (endpoint) block.endpoint_url = endpoint;
    const template = parsed.searchParams.get("tableNameTemplate");
    if (template) block.table_name_template = template;
    return block;
  }
  throw new Error(
    `export-feast: online store "${url}" has no Feast equivalent (embedded lives inside one process); give redis://, rediss://, redis+cluster://, dynamodb:// or --feature-server http://host:port`,
  );
}

interface OfflineFlavor {
  yaml: Record<string, string | number | boolean>;
  imports: string[];
  /** Python expression of a view's batch source. */
  source(name: string, table: string | undefined, query: string | undefined, timestampField: string, created?: string): string;
}

function offlineFlavor(url: string | undefined, dataDir: string): OfflineFlavor {
  const fields = (timestampField: string, created?: string) =>
    `timestamp_field=${py(timestampField)}${created ? `, created_timestamp_column=${py(created)}` : ""}`;
  if (url?.startsWith("bigquery://")) {
    const [, project, dataset] = /^bigquery:\/\/([^/]+)\/([^/?]+)/.exec(url) ?? [];
    return {
      yaml: { type: "bigquery", project_id: project ?? "", dataset: dataset ?? "" },
      imports: ["BigQuerySource"],
      source: (name, table, query, ts, created) =>
        `BigQuerySource(name=${py(name)}, ${table ? `table=${py(table.includes(".") ? table : `${project}.${dataset}.${table}`)}` : `query=${py(query ?? "")}`}, ${fields(ts, created)})`,
    };
  }
  if (url?.startsWith("redshift://")) {
    const [, cluster, database] = /^redshift:\/\/([^/]+)\/([^/?]+)/.exec(url) ?? [];
    return {
      // Feast's Redshift store also needs region, user, s3_staging_location and iam_role: fill them in.
      yaml: { type: "redshift", cluster_id: cluster ?? "", database: database ?? "" },
      imports: ["RedshiftSource"],
      source: (name, table, query, ts, created) =>
        `RedshiftSource(name=${py(name)}, ${table ? `table=${py(table)}` : `query=${py(query ?? "")}`}, ${fields(ts, created)})`,
    };
  }
  if (url?.startsWith("postgres://") || url?.startsWith("postgresql://")) {
    const parsed = new URL(url);
    return {
      yaml: {
        type: "postgres",
        host: parsed.hostname,
        port: Number(parsed.port || 5432),
        database: parsed.pathname.replace(/^\//, ""),
        user: decodeURIComponent(parsed.username),
        password: decodeURIComponent(parsed.password),
      },
      imports: [],
      source: (name, table, query, ts, created) =>
        `PostgreSQLSource(name=${py(name)}, query=${py(query ?? `SELECT * FROM ${table}`)}, ${fields(ts, created)})`,
    };
  }
  return {
    yaml: { type: "file" },
    imports: ["FileSource"],
    source: (name, table, _query, ts, created) => {
      if (!table) throw new Error(`export-feast: feature view source "${name}" is a query; Feast's file offline store reads files only`);
      const path = /\.(parquet|csv)$|[*/]/.test(table) ? table : `${dataDir}/${table}.parquet`;
      return `FileSource(name=${py(name)}, path=${py(path)}, ${fields(ts, created)})`;
    },
  };
}

const VALUE_TYPE: Record<EntityValueType, string> = { INT64: "INT64", INT32: "INT32", STRING: "STRING", BYTES: "BYTES" };

/** The files of the Feast repository for a catalog. */
export function feastRepository(catalog: Catalog, options: FeastExportOptions): FeastRepository {
  if (!options.onlineStore && !options.featureServer)
    throw new Error("export-feast: give --online-store URL (redis://, dynamodb://) or --feature-server http://host:port");
  const onlineBlock = options.featureServer
    ? { type: "remote", path: options.featureServer }
    : feastOnlineStore(options.onlineStore as string);
  const keyVersion = /[?&]entityKeySerializationVersion=(\d)/.exec(options.onlineStore ?? "")?.[1] ?? "3";
  const offline = offlineFlavor(options.offlineStore, options.dataDir ?? "data");

  const block = (name: string, values: Record<string, string | number | boolean>) =>
    `${name}:\n${Object.entries(values)
      .map(([k, v]) => `  ${k}: ${yaml(v)}`)
      .join("\n")}\n`;
  const featureStoreYaml = [
    "# Generated by `npm run features -- export-feast` from the catalog; do not edit, re-run it.",
    `project: ${yaml(catalog.project)}`,
    "registry: data/registry.db",
    "provider: local",
    block("online_store", onlineBlock).trimEnd(),
    block("offline_store", offline.yaml).trimEnd(),
    `entity_key_serialization_version: ${keyVersion}`,
    "",
  ].join("\n");

  // Feast entities take one join key each; a catalog entity with several becomes one Feast entity
  // per key (the serialized entity key is made of join keys, so the stored bytes are the same).
  const lines: string[] = [];
  const entityVars = new Map<string, string[]>();
  for (const entity of Object.values(catalog.entities)) {
    const vars = entity.joinKeys.map((key) => {
      const name = entity.joinKeys.length === 1 ? entity.name : `${entity.name}_${key}`;
      const variable = `entity_${pyName(name)}`;
      lines.push(
        `${variable} = Entity(name=${py(name)}, join_keys=[${py(key)}], value_type=ValueType.${VALUE_TYPE[entity.valueType]}, description=${py(entity.description)})`,
      );
      return variable;
    });
    entityVars.set(entity.name, vars);
  }
  lines.push("");
  // Feast gives a push source one batch source: the first view's; every view it feeds uses the push source.
  const pushOf = new Map(Object.values(catalog.pushSources).flatMap((p) => pushTargets(p).map((v) => [v, p.name] as const)));
  const declared = new Set<string>();
  const needsPostgres = offline.yaml.type === "postgres";
  for (const view of Object.values(catalog.featureViews)) {
    const batch = `source_${pyName(view.name)}`;
    lines.push(
      `${batch} = ${offline.source(`${view.name}_source`, view.source.table, view.source.query, view.source.timestampField, view.source.createdTimestampField)}`,
    );
    const push = pushOf.get(view.name);
    let source = batch;
    if (push) {
      source = `push_${pyName(push)}`;
      if (!declared.has(push)) lines.push(`${source} = PushSource(name=${py(push)}, batch_source=${batch})`);
      declared.add(push);
    }
    const schema = view.fields.map((f) => `        Field(name=${py(f.name)}, dtype=${pyDtype(f.dtype)}),`).join("\n");
    const entities = view.entities.flatMap((e) => entityVars.get(e) ?? []).join(", ");
    lines.push(
      `view_${pyName(view.name)} = FeatureView(
    name=${py(view.name)},
    entities=[${entities}],
    ttl=timedelta(seconds=${view.ttl}),
    schema=[
${schema}
    ],
    online=${view.online ? "True" : "False"},
    source=${source},
    tags=${JSON.stringify(view.tags)},
    description=${py(view.description)},
)`,
      "",
    );
  }
  for (const service of Object.values(catalog.featureServices)) {
    // Feast projects a service per view: group the refs by view, keeping the first appearance order.
    const byView = new Map<string, string[]>();
    for (const ref of service.features) {
      const [view, feature] = ref.split(":") as [string, string];
      byView.set(view, [...(byView.get(view) ?? []), feature]);
    }
    const projections = [...byView.entries()].map(([view, features]) => `view_${pyName(view)}[[${features.map((f) => py(f)).join(", ")}]]`);
    lines.push(
      `service_${pyName(service.name)} = FeatureService(name=${py(service.name)}, features=[${projections.join(", ")}], description=${py(service.description)})`,
    );
  }
  const imports = ["Entity", "FeatureService", "FeatureView", "Field", "PushSource", "ValueType", ...offline.imports].sort();
  const definitions = [
    '"""Generated by `npm run features -- export-feast` from the catalog; do not edit, re-run it."""',
    "from datetime import timedelta",
    "",
    `from feast import ${imports.join(", ")}`,
    ...(needsPostgres ? ["from feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source import PostgreSQLSource"] : []),
    "from feast.types import Array, Bool, Bytes, Float32, Float64, Int32, Int64, String, UnixTimestamp  # noqa: F401",
    "",
    ...lines,
    "",
  ].join("\n");
  return { "feature_store.yaml": featureStoreYaml, "definitions.py": definitions };
}
