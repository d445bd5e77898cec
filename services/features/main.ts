/**
 * `npm run features -- <command>`: the features service's command line.
 *   serve                         the Feast-compatible HTTP API
 *   materialize <start> <end>     offline -> online for a window
 *   materialize-incremental <end> offline -> online from each view's last end
 *   training-set                  point-in-time-correct training set to CSV/Parquet
 *   export-feast                  a Feast repository (feature_store.yaml + definitions) from the catalog
 */
import { isAggregatedView } from "./aggregations";
import { openTileStore } from "./aggregations/open";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadCatalog } from "../../definition/load";
import type { Catalog } from "../../definition/registry";
import { SpecError } from "../../definition/errors";
import { MATERIALIZE_EXIT_CODES } from "../../definition/materialization";
import { closeOnSignals } from "../core/app";
import { type FlagSpec, helpText, parseCommand, UsageError } from "../core/cli";
import { createLogger } from "../core/logger";
import { feastRepository } from "./export-feast";
import { FileMaterializationState, materialize } from "./materialize";
import { materializeShard, parseShard, type ShardSummary } from "./materialize-shard";
import { openStateStore, type StateStore, StoredMaterializationState } from "./materialize-state";
import { openOfflineStoreOnUse } from "./offline/open";
import { openOfflineStore } from "./offline/store";
import type { StatusMode } from "./online-features";
import { openOnlineStore } from "./online/store";
import { createFeaturesServer } from "./server";
import { buildTrainingSet } from "./training-set";

const common: FlagSpec[] = [
  { name: "catalog", type: "string", description: "catalog directory", default: "catalog" },
  {
    name: "project",
    type: "string",
    description: "Feast project name (part of every online key)",
    default: "mlops",
    env: "FEATURE_STORE_PROJECT",
  },
  { name: "json", type: "boolean", description: "print one JSON document instead of progress lines" },
];
const online: FlagSpec = {
  name: "online-store",
  type: "string",
  description: "online store URL: redis://, rediss://, dynamodb://<region>[?endpoint=], embedded[:<file>]",
  default: "embedded:.data/online.json",
};
const offline: FlagSpec = {
  name: "offline-store",
  type: "string",
  description: "offline store URL: duckdb:<path>, postgres://, bigquery://<project>/<dataset>, redshift://<name>/<db>",
  default: "duckdb:.data/offline.duckdb",
};
const state: FlagSpec = {
  name: "state",
  type: "string",
  description:
    "materialization state: a .json file (one process), a directory, online (the Redis online store, shared by every pod) or redis://...",
  default: ".data/materialization-state.json",
  env: "MATERIALIZATION_STATE",
};
const shardFlags: FlagSpec[] = [
  {
    name: "shard",
    type: "string",
    description:
      "i/N: write only shard i of N of a pushed-down export (one pod of an Indexed Job); the state must be shared by every writer",
    env: "MATERIALIZATION_SHARD",
  },
  {
    name: "run-id",
    type: "string",
    description: "id shared by every shard of one run (the Job's uid); default: the window",
    env: "MATERIALIZATION_RUN_ID",
  },
  {
    name: "export-uri",
    type: "string",
    description:
      "where sharded runs export: a directory (DuckDB, PostgreSQL), gs://bucket/prefix (BigQuery), s3://bucket/prefix (Redshift)",
    default: ".data/exports",
    env: "MATERIALIZATION_EXPORT_URI",
  },
  { name: "batch-rows", type: "string", description: "rows per online-store write of a sharded run", default: "10000" },
];
const views: FlagSpec = {
  name: "views",
  type: "string",
  description: "comma-separated feature views (default: every online view)",
  env: "FEATURE_VIEWS",
};

const COMMANDS: Record<string, { usage: string; description: string; flags: FlagSpec[] }> = {
  serve: {
    usage: "npm run features -- serve [--catalog DIR] [--online-store URL] [--port N]",
    description:
      "Serves Feast's feature-server API: POST /get-online-features, /push, /materialize, /materialize-incremental, /get-historical-features; GET /health, /metrics, /readyz.",
    flags: [
      ...common,
      online,
      { ...offline, description: `${offline.description}; optional for serving` },
      state,
      { name: "port", type: "string", description: "HTTP port", default: "6566" },
      { name: "host", type: "string", description: "address to listen on", default: "0.0.0.0" },
      { name: "max-entity-rows", type: "string", description: "entity rows per request", default: "1000" },
      { name: "store-timeout-ms", type: "string", description: "timeout of each online store call", default: "1000" },
      {
        name: "statuses",
        type: "string",
        description:
          "lookup statuses and TTL: platform (NOT_FOUND, NULL_VALUE, OUTSIDE_MAX_AGE) or feast (as Feast 0.67's Redis path: every cell PRESENT, no TTL)",
        default: "platform",
        env: "STATUSES",
      },
      {
        name: "strict-entities",
        type: "boolean",
        description: "answer 400 for an entities column that is no join key (Feast ignores it)",
        env: "STRICT_ENTITIES",
      },
    ],
  },
  materialize: {
    usage: "npm run features -- materialize <start> <end> [--offline-store URL] [--online-store URL]",
    description: "Copies the latest row per entity key with event time in [start, end] from the offline store to the online store.",
    flags: [...common, online, offline, state, views, ...shardFlags],
  },
  "materialize-incremental": {
    usage: "npm run features -- materialize-incremental <end> [--offline-store URL] [--online-store URL]",
    description: "Materializes each feature view from its last materialized end (or end minus its TTL) up to <end>.",
    flags: [...common, online, offline, state, views, ...shardFlags],
  },
  "training-set": {
    usage: "npm run features -- training-set --entities FILE --feature-service NAME --out FILE",
    description:
      "Builds a point-in-time-correct training set: for every entity row, the latest feature values at its event time (null past the TTL).",
    flags: [
      ...common,
      offline,
      { name: "entities", type: "string", description: "entity rows (CSV or Parquet) with join keys and an event time column" },
      { name: "feature-service", type: "string", description: "feature service whose features to join" },
      { name: "features", type: "string", description: "comma-separated <view>:<feature> refs instead of a feature service" },
      { name: "out", type: "string", description: "output file (.csv or .parquet)" },
      { name: "timestamp-column", type: "string", description: "event time column of the entity rows", default: "event_timestamp" },
      { name: "full-feature-names", type: "boolean", description: "name columns <view>__<feature>" },
    ],
  },
  "export-feast": {
    usage: "npm run features -- export-feast --out DIR [--online-store URL | --feature-server URL] [--offline-store URL]",
    description:
      "Writes a Feast repository (feature_store.yaml and Python definitions of the entities, feature views, feature services and push sources) from the catalog, for Feast's SDK and CLI on the same stores.",
    flags: [
      ...common,
      { name: "out", type: "string", description: "directory to write the repository to" },
      { ...online, default: undefined, description: "online store URL Feast reads: redis://, rediss://, redis+cluster://, dynamodb://" },
      { ...offline, default: undefined, description: `${offline.description}; default Feast's file store` },
      {
        name: "feature-server",
        type: "string",
        description: "instead of a store: Feast's remote online store pointed at this service, like http://features:6566",
      },
    ],
  },
};

function usage(): string {
  return `Usage: npm run features -- <command> [options]\n\nCommands:\n${Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(25)} ${c.description}`)
    .join("\n")}\n\nRun a command with --help for its options.\n`;
}

/** Parses an ISO date or datetime as UTC. */
function parseTime(what: string, text: string | undefined): Date {
  if (!text) throw new UsageError(`give ${what} as an ISO date or datetime, like 2024-05-01 or 2024-05-01T12:00:00Z, or now`);
  // "now": what a CronJob passes, having no shell to compute a date.
  if (text === "now") return new Date();
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.length <= 10 ? `${text}T00:00:00` : text.replace(" ", "T")}Z`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) throw new UsageError(`${what} "${text}" is not a date; write it like 2024-05-01 or 2024-05-01T12:00:00Z`);
  return at;
}

function statusMode(text: string): StatusMode {
  if (text !== "platform" && text !== "feast") throw new UsageError(`--statuses ${text} is not a mode; use platform or feast`);
  return text;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}"; use one of ${Object.keys(COMMANDS).join(", ")}`);
  const { values, positionals } = parseCommand(rest, command.flags);
  if (values.help) {
    process.stdout.write(helpText(command.usage, command.description, command.flags));
    return 0;
  }
  const json = values.json === true;
  const say = (line: string) => {
    if (!json) process.stdout.write(`${line}\n`);
  };
  const catalog: Catalog = loadCatalog(values.catalog as string, values.project as string);

  if (name === "serve") {
    const logger = createLogger("features");
    const onlineStore = await openOnlineStore(values["online-store"] as string, { timeoutMs: Number(values["store-timeout-ms"]) });
    const offlineStore = values["offline-store"]
      ? await openOfflineStore(values["offline-store"] as string).catch((error: Error) => {
          logger.warn({ err: error }, "offline store unavailable; /materialize and offline pushes will answer 501");
          return undefined;
        })
      : undefined;
    const tileStore = await openTileStore(values["online-store"] as string, catalog, { timeoutMs: Number(values["store-timeout-ms"]) });
    const app = await createFeaturesServer({
      catalog,
      onlineStore,
      tileStore,
      offlineStore,
      logger,
      state: new FileMaterializationState(values.state as string),
      maxEntityRows: Number(values["max-entity-rows"]),
      statuses: statusMode(values.statuses as string),
      strictEntities: values["strict-entities"] === true,
    });
    const address = await app.listen({ port: Number(values.port), host: values.host as string });
    logger.info(
      { address, featureViews: Object.keys(catalog.featureViews).length, onlineStore: onlineStore.kind },
      "features service listening",
    );
    closeOnSignals(app, logger, async () => {
      await onlineStore.close();
      await offlineStore?.close();
    });
    return new Promise<number>(() => {});
  }

  if (name === "materialize" || name === "materialize-incremental") {
    const [first, second] = positionals;
    const start = name === "materialize" ? parseTime("<start>", first) : undefined;
    const end = parseTime("<end>", name === "materialize" ? second : first);
    // A batch job: store calls carry thousands of rows, so they get a longer timeout than lookups.
    const onlineUrl = values["online-store"] as string;
    const onlineStore = await openOnlineStore(onlineUrl, { timeoutMs: 10_000 });
    const sharded = values.shard !== undefined;
    const offlineStore = sharded
      ? openOfflineStoreOnUse(values["offline-store"] as string)
      : await openOfflineStore(values["offline-store"] as string);
    const stateArg = values.state as string;
    const durable = sharded || !stateArg.endsWith(".json");
    const stateStore = durable
      ? openStateStore(stateArg.endsWith(".json") ? `${stateArg.slice(0, -5)}.d` : stateArg, onlineUrl, catalog.project)
      : undefined;
    const viewNames = values.views
      ? String(values.views)
          .split(",")
          .map((v) => v.trim())
      : undefined;
    // Aggregated views write tiles next to Feast's hashes, in the same store.
    const tiles = (viewNames ?? Object.keys(catalog.featureViews)).some((v) => isAggregatedView(catalog, v))
      ? await openTileStore(onlineUrl, catalog, { timeoutMs: 10_000 })
      : undefined;
    try {
      if (sharded) {
        const shard = parseShard(String(values.shard));
        const names = viewNames ?? Object.values(catalog.featureViews).flatMap((v) => (v.online ? [v.name] : []));
        const shards: ShardSummary[] = [];
        for (const view of names) {
          shards.push(
            await materializeShard({
              catalog,
              offline: offlineStore,
              online: onlineStore,
              tiles,
              state: stateStore as StateStore,
              view,
              shard,
              runId: values["run-id"] as string | undefined,
              start,
              end,
              exportRoot: values["export-uri"] as string,
              batchRows: Number(values["batch-rows"]),
              progress: say,
            }),
          );
        }
        if (json) process.stdout.write(`${JSON.stringify({ shards }, null, 2)}\n`);
      } else {
        const summary = await materialize({
          catalog,
          online: onlineStore,
          tiles,
          offline: offlineStore,
          state: stateStore ? new StoredMaterializationState(stateStore) : new FileMaterializationState(stateArg),
          views: viewNames,
          start,
          end,
          progress: say,
        });
        if (json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      }
    } finally {
      await onlineStore.close();
      await tiles?.close();
      await offlineStore.close();
      await stateStore?.close();
    }
    return 0;
  }

  if (name === "export-feast") {
    const dir = values.out as string | undefined;
    if (!dir) throw new UsageError("--out DIR is required: the directory to write the Feast repository to");
    const files = feastRepository(catalog, {
      onlineStore: values["online-store"] as string | undefined,
      featureServer: values["feature-server"] as string | undefined,
      offlineStore: values["offline-store"] as string | undefined,
    });
    mkdirSync(join(dir, "data"), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    if (json) process.stdout.write(`${JSON.stringify({ out: dir, files: Object.keys(files) }, null, 2)}\n`);
    else say(`wrote a Feast repository to ${dir} (${Object.keys(files).join(", ")}); run \`feast apply\` there`);
    return 0;
  }

  // training-set
  const entities = values.entities as string | undefined;
  const out = values.out as string | undefined;
  if (!entities) throw new UsageError("--entities FILE is required (CSV or Parquet with join keys and event_timestamp)");
  if (!out) throw new UsageError("--out FILE is required (.csv or .parquet)");
  const offlineStore = await openOfflineStore(values["offline-store"] as string);
  try {
    const started = performance.now();
    const result = await buildTrainingSet(catalog, offlineStore, {
      entities: { file: entities },
      featureService: values["feature-service"] as string | undefined,
      features: values.features
        ? String(values.features)
            .split(",")
            .map((f) => f.trim())
        : undefined,
      fullFeatureNames: values["full-feature-names"] === true,
      timestampColumn: values["timestamp-column"] as string,
      out,
    });
    const seconds = Math.round((performance.now() - started) / 10) / 100;
    if (json) process.stdout.write(`${JSON.stringify({ out, rows: result.rows, seconds, sql: result.sql }, null, 2)}\n`);
    else say(`wrote ${result.rows} rows to ${out} in ${seconds} s`);
  } finally {
    await offlineStore.close();
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      if (error instanceof UsageError) process.stderr.write(`features: ${error.message}\nRun with --help for usage.\n`);
      else if (error instanceof SpecError) process.stderr.write(`features: the catalog has errors:\n${error.message}\n`);
      else process.stderr.write(`features: ${error.message}\n`);
      process.exit(
        error instanceof UsageError
          ? MATERIALIZE_EXIT_CODES.usage
          : error instanceof SpecError
            ? MATERIALIZE_EXIT_CODES.definition
            : MATERIALIZE_EXIT_CODES.failure,
      );
    },
  );
}
