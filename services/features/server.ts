import type { FastifyInstance, FastifyReply } from "fastify";
import type { Registry } from "prom-client";
import type { Catalog } from "../../definition/registry";
import { createApp } from "../core/app";
import { HttpError, StoreUnavailableError } from "../core/errors";
import { parseJson, stringifyJson } from "../core/json";
import { createLogger, type Logger } from "../core/logger";
import { createRegistry } from "../core/metrics";
import { materialize, type MaterializationState, MemoryMaterializationState } from "./materialize";
import { MemoryTileStore, type TileStore } from "./aggregations/tile-store";
import { createFeaturesMetrics, type FeaturesMetrics } from "./metrics";
import type { OfflineRow, OfflineStore } from "./offline/store";
import { MaterializationRuns } from "./materialization-runs";
import { getOnlineFeatures, type GetOnlineFeaturesRequest, type StatusMode } from "./online-features";
import type { OnlineStore } from "./online/store";
import { push, type PushRequest, type WriteToOnlineStoreRequest, writeToOnlineStore } from "./push";
import { buildTrainingSet } from "./training-set";
import { valueToJson } from "./values";

export interface FeaturesServerOptions {
  catalog: Catalog;
  onlineStore: OnlineStore;
  /** Tiles of aggregated views (services/features/aggregations). Defaults to in-process memory. */
  tileStore?: TileStore;
  /** Needed by /materialize, /materialize-incremental, /get-historical-features and offline pushes. */
  offlineStore?: OfflineStore;
  logger?: Logger;
  registry?: Registry;
  /** Last materialized end per view. Defaults to in-memory. */
  state?: MaterializationState;
  /** Entity rows per lookup or push. Defaults to 1000. */
  maxEntityRows?: number;
  /** Request body limit in bytes. Defaults to 1 MiB. */
  bodyLimit?: number;
  /** Clock in epoch seconds, for TTL checks. Defaults to the system clock. */
  now?: () => number;
  /** How lookups answer statuses and TTL (online-features.ts StatusMode). Defaults to "platform"; "feast" answers as Feast 0.67 does. */
  statuses?: StatusMode;
  /** Answer 400 for an `entities` column that is no join key, instead of ignoring it as Feast does. Defaults to false. */
  strictEntities?: boolean;
}

const stringList = { type: "array", items: { type: "string" } } as const;
const schemas = {
  getOnlineFeatures: {
    type: "object",
    required: ["entities"],
    properties: {
      features: stringList,
      feature_service: { type: "string" },
      entities: { type: "object" },
      full_feature_names: { type: "boolean" },
    },
  },
  push: {
    type: "object",
    required: ["push_source_name", "df"],
    properties: {
      push_source_name: { type: "string" },
      df: { type: "object" },
      to: { type: "string" },
      allow_registry_cache: { type: "boolean" },
      transform_on_write: { type: "boolean" },
    },
  },
  writeToOnlineStore: {
    type: "object",
    required: ["feature_view_name", "df"],
    properties: {
      feature_view_name: { type: "string" },
      df: { type: "object" },
      allow_registry_cache: { type: "boolean" },
      transform_on_write: { type: "boolean" },
    },
  },
  materialize: {
    type: "object",
    required: ["start_ts", "end_ts"],
    properties: {
      start_ts: { type: "string" },
      end_ts: { type: "string" },
      feature_views: stringList,
      disable_event_timestamp: { type: "boolean" },
      full_feature_names: { type: "boolean" },
    },
  },
  materializeIncremental: {
    type: "object",
    required: ["end_ts"],
    properties: { end_ts: { type: "string" }, feature_views: stringList, full_feature_names: { type: "boolean" } },
  },
  materializeQuery: { type: "object", properties: { async: { type: "boolean" } } },
  historical: {
    type: "object",
    required: ["entity_df"],
    properties: {
      features: stringList,
      feature_service: { type: "string" },
      entity_df: { type: "object" },
      full_feature_names: { type: "boolean" },
      timestamp_column: { type: "string" },
    },
  },
} as const;

/**
 * The features service's HTTP API, compatible with Feast's Python feature server:
 * POST /get-online-features, /push, /write-to-online-store, /materialize, /materialize-incremental
 * (both with Feast's `?async=true`; GET /materialize/status), /get-historical-features, GET /health;
 * plus /metrics, /healthz and /readyz from the shared core.
 */
export async function createFeaturesServer(options: FeaturesServerOptions): Promise<FastifyInstance> {
  const { catalog, onlineStore, offlineStore } = options;
  const logger = options.logger ?? createLogger("features");
  const registry = options.registry ?? createRegistry("features");
  const metrics = createFeaturesMetrics(registry);
  const state = options.state ?? new MemoryMaterializationState();
  const maxRows = options.maxEntityRows ?? 1000;
  const now = options.now ?? (() => Date.now() / 1000);
  const aggregations = { tiles: options.tileStore ?? new MemoryTileStore(), nowUs: () => Math.round(now() * 1e6) };
  const bodyLimit = options.bodyLimit ?? 1024 * 1024;
  const app = createApp({ service: "features", logger, registry, bodyLimit, ready: () => onlineStore.health().then(() => ({ ok: true })) });

  // Feast's documented curl calls use `-d` (form content type) and Python's requests.post(data=...)
  // sends none: Feast's server reads the body as JSON whatever the header says, so we do too. Every
  // body goes through the lossless parser: an INT64 join key above 2^53 must stay exact.
  app.removeAllContentTypeParsers();
  const parseBody = (_req: unknown, body: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    try {
      done(null, body === "" ? {} : parseJson(body as string));
    } catch {
      done(new HttpError(400, "the request body is not JSON"), undefined);
    }
  };
  // Named types as well as "*": fastify caches the parser it finds for a content type, but not its
  // "*" fallback, so a JSON request would parse its content-type header anew each time.
  app.addContentTypeParser(
    ["application/json", "application/x-www-form-urlencoded", "text/plain"],
    { parseAs: "string", bodyLimit },
    parseBody,
  );
  app.addContentTypeParser("*", { parseAs: "string", bodyLimit }, parseBody);
  app.setReplySerializer((payload) => stringifyJson(payload));

  // Callback hooks on the per-request path: an async one costs a promise turn per request.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unknown";
    if (route !== "/metrics") metrics.requestSeconds.observe({ route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });
  // One counter child per feature view, looked up once: labels() hashes its labels on every call.
  const keyCounters = new Map<string, { inc(count: number): void }>();
  const countKeys = (view: string, count: number) => {
    let counter = keyCounters.get(view);
    if (!counter) {
      counter = metrics.keysRequested.labels({ feature_view: view });
      keyCounters.set(view, counter);
    }
    counter.inc(count);
  };

  const guarded = async <T>(operation: string, store: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      if (error instanceof StoreUnavailableError) metrics.storeErrors.inc({ store, operation });
      throw error;
    }
  };

  // Unknown routes answer the documented {"error"} body: createApp's not-found handler (services/core/app.ts).

  app.post<{ Body: GetOnlineFeaturesRequest }>("/get-online-features", { schema: { body: schemas.getOnlineFeatures } }, (request) =>
    guarded("read", onlineStore.kind, () =>
      getOnlineFeatures(catalog, onlineStore, request.body, {
        maxRows,
        now,
        statuses: options.statuses,
        strictEntities: options.strictEntities,
        onKeys: countKeys,
        aggregations,
      }),
    ),
  );

  app.post<{ Body: PushRequest }>("/push", { schema: { body: schemas.push } }, (request) =>
    guarded("write", onlineStore.kind, () =>
      push(catalog, onlineStore, offlineStore, request.body, maxRows, {
        ...aggregations,
        onLate: (view, count) => metrics.lateEvents.inc({ feature_view: view }, count),
      }),
    ),
  );

  // Feast's `remote` online store writes through this route.
  app.post<{ Body: WriteToOnlineStoreRequest }>("/write-to-online-store", { schema: { body: schemas.writeToOnlineStore } }, (request) =>
    guarded("write", onlineStore.kind, () => writeToOnlineStore(catalog, onlineStore, request.body, maxRows)),
  );

  const needOffline = (): OfflineStore => {
    if (!offlineStore) throw new HttpError(501, "this server has no offline store; start it with --offline-store");
    return offlineStore;
  };
  const parseTime = (field: string, text: string): Date => {
    const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(" ", "T")}${text.length <= 10 ? "T00:00:00" : ""}Z`;
    const at = new Date(iso);
    if (Number.isNaN(at.getTime()))
      throw new HttpError(400, `${field}: "${text}" is not a timestamp; use ISO 8601 like 2024-05-01T00:00:00Z`);
    return at;
  };
  const checkViews = (names?: string[]) => {
    for (const name of names ?? [])
      if (!catalog.featureViews[name]) throw new HttpError(404, `feature view "${name}" is not in the catalog`);
    return names;
  };

  // `?async=true` (Feast): 202 at once, the run continues here; GET /materialize/status tells how it went.
  const runs = new MaterializationRuns();
  const startMaterialize = async (
    reply: FastifyReply,
    async: boolean | undefined,
    views: string[] | undefined,
    run: (views: string[] | undefined) => Promise<unknown>,
  ) => {
    const names = checkViews(views);
    if (!async) return run(names);
    const targets =
      names ??
      Object.values(catalog.featureViews)
        .filter((v) => v.online)
        .map((v) => v.name);
    const busy = runs.busy(targets);
    if (busy.length) throw new HttpError(409, `feature views ${busy.join(", ")} are being materialized; wait for GET /materialize/status`);
    runs.start(targets, run(names));
    reply.code(202);
    return { status: "accepted", feature_views: targets };
  };
  app.get("/materialize/status", async () => runs.status());

  app.post<{
    Body: { start_ts: string; end_ts: string; feature_views?: string[]; disable_event_timestamp?: boolean };
    Querystring: { async?: boolean };
  }>("/materialize", { schema: { body: schemas.materialize, querystring: schemas.materializeQuery } }, async (request, reply) => {
    const offline = needOffline();
    const start = parseTime("start_ts", request.body.start_ts);
    const end = parseTime("end_ts", request.body.end_ts);
    return startMaterialize(reply, request.query.async, request.body.feature_views, (views) =>
      materialize({
        catalog,
        online: onlineStore,
        offline,
        state,
        metrics,
        views,
        start,
        end,
        disableEventTimestamp: request.body.disable_event_timestamp,
        tiles: aggregations.tiles,
        progress: (line) => logger.info(line),
      }),
    );
  });

  app.post<{ Body: { end_ts: string; feature_views?: string[] }; Querystring: { async?: boolean } }>(
    "/materialize-incremental",
    { schema: { body: schemas.materializeIncremental, querystring: schemas.materializeQuery } },
    async (request, reply) => {
      const offline = needOffline();
      const end = parseTime("end_ts", request.body.end_ts);
      return startMaterialize(reply, request.query.async, request.body.feature_views, (views) =>
        materialize({
          catalog,
          online: onlineStore,
          tiles: aggregations.tiles,
          offline,
          state,
          metrics,
          views,
          end,
          progress: (line) => logger.info(line),
        }),
      );
    },
  );

  app.post<{
    Body: {
      features?: string[];
      feature_service?: string;
      entity_df: Record<string, unknown[]>;
      full_feature_names?: boolean;
      timestamp_column?: string;
    };
  }>("/get-historical-features", { schema: { body: schemas.historical } }, async (request) => {
    const offline = needOffline();
    const { entity_df: df } = request.body;
    const names = Object.keys(df);
    // Each entity_df column is a list, all of one length (a pandas DataFrame as Feast sends it).
    for (const n of names) {
      if (!Array.isArray(df[n])) throw new HttpError(400, `entity_df.${n} must be a list of values, one per entity row`);
    }
    const length = (df[names[0] as string] ?? []).length;
    const ragged = names.find((n) => (df[n] as unknown[]).length !== length);
    if (ragged !== undefined)
      throw new HttpError(
        400,
        `entity_df.${ragged} has ${(df[ragged] as unknown[]).length} values and entity_df.${names[0]} ${length}; every column needs one value per row`,
      );
    if (length > maxRows * 100)
      throw new HttpError(413, `${length} entity rows is over the limit of ${maxRows * 100}; use the training-set command for large sets`);
    const rows: OfflineRow[] = Array.from({ length }, (_, i) => Object.fromEntries(names.map((n) => [n, (df[n] as unknown[])[i]])));
    let result: Awaited<ReturnType<typeof buildTrainingSet>>;
    try {
      result = await buildTrainingSet(catalog, offline, {
        entities: { rows },
        features: request.body.features,
        featureService: request.body.feature_service,
        fullFeatureNames: request.body.full_feature_names,
        timestampColumn: request.body.timestamp_column,
      });
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, (error as Error).message);
    }
    const records = result.records ?? [];
    const columns = Object.keys(records[0] ?? {});
    return Object.fromEntries(columns.map((c) => [c, records.map((r) => jsonCell(r[c]))]));
  });

  app.get("/health", async (_request, reply) => {
    try {
      await onlineStore.health();
      return { status: "ok" };
    } catch (error) {
      reply.code(503);
      return { status: "unavailable", reason: (error as Error).message };
    }
  });

  return app;
}

function jsonCell(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonCell);
  return valueToJson(value as never);
}

export type { FeaturesMetrics };
