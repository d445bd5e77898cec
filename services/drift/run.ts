/**
 * The steps a check takes from its inputs, shared by the CLI, the CronJob and the HTTP API:
 * load the reference (a profile, or a training file profiled on the fly), load the current data
 * (a CSV/Parquet file or a window of prediction logs), and read the model's drift settings from
 * the catalog.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { loadCatalog, type ModelSpec, parseDuration } from "../../definition";
import type { FeatureOverride } from "./check";
import { gcsStore, type LogReadStats, openLogStore, parseStoreUrl, readLogWindow, s3Store, type TimeWindow } from "./logs";
import { buildProfile, parseProfile, type Profile, readProfile } from "./profile";
import { isTabularFile, readTableFile, type Table } from "./table";

/** A model's drift section of the catalog, resolved. */
export interface DriftSettings {
  driftShare: number;
  /** Seconds of prediction logs per check. */
  window: number;
  features: Record<string, FeatureOverride>;
  webhook?: string;
}

export const DEFAULT_WINDOW_SECONDS = 86400;

/**
 * The model's drift settings from either a catalog source directory (features/ and models/ YAML)
 * or the runtime config the platform mounts into pods (a directory holding models.json, rendered
 * from the same catalog by components/k8s/runtime-config.ts).
 */
export function driftSettings(catalogDir: string, model: string): DriftSettings {
  const runtimeFile = join(catalogDir, "models.json");
  let models: Record<string, Pick<ModelSpec, "drift">>;
  if (existsSync(runtimeFile)) {
    try {
      models = (JSON.parse(readFileSync(runtimeFile, "utf8")) as { models?: Record<string, Pick<ModelSpec, "drift">> }).models ?? {};
    } catch (error) {
      throw new Error(`${runtimeFile}: not valid JSON (${(error as Error).message}); re-render the runtime config with pulumi up`);
    }
  } else {
    models = loadCatalog(catalogDir, "mlops").models;
  }
  const spec = models[model];
  if (!spec) {
    throw new Error(
      `model "${model}" is not in the catalog at ${catalogDir} (models: ${Object.keys(models).join(", ") || "none"}); fix --model or --catalog`,
    );
  }
  const drift = spec.drift;
  return {
    driftShare: drift.driftShare ?? 0.5,
    window: drift.window ?? DEFAULT_WINDOW_SECONDS,
    features: drift.features ?? {},
    webhook: drift.webhook,
  };
}

/** Seconds from "3600" or a catalog duration ("6h", "1d", "1h30m"). */
export function parseWindow(text: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : parseDuration(text);
  if (seconds === undefined || !(seconds > 0))
    throw new Error(`window "${text}" is not a positive duration; use seconds (3600) or a duration (6h, 1d)`);
  return seconds;
}

/** Reads an object's text from s3://bucket/key or gs://bucket/key. */
async function readObjectText(url: string): Promise<string> {
  const parsed = parseStoreUrl(url)!;
  const store = parsed.scheme === "s3" ? await s3Store(parsed.bucket, "") : await gcsStore(parsed.bucket, "");
  return store.read(parsed.prefix);
}

/** A `.json` reference is a saved profile; a CSV/Parquet file is profiled now (slower: prefer `drift profile`). */
export async function loadReference(path: string): Promise<Profile> {
  if (parseStoreUrl(path)) {
    // A profile in the artifact store (S3 / GCS), saved beside the training set.
    let raw: unknown;
    try {
      raw = JSON.parse(await readObjectText(path));
    } catch (error) {
      throw new Error(`${path}: cannot read the profile: ${(error as Error).message}`);
    }
    return parseProfile(raw, path);
  }
  if (extname(path).toLowerCase() === ".json") return readProfile(path);
  if (isTabularFile(path)) return buildProfile(await readTableFile(path), { source: path });
  throw new Error(`${path}: the reference must be a profile (.json) or a training set (.csv, .parquet)`);
}

export interface CurrentData {
  table: Table;
  window?: TimeWindow;
  logs?: LogReadStats;
}

/** A CSV/Parquet file, or a prediction-log root (local directory, s3://, gs://) read over [end - windowSeconds, end). */
export async function loadCurrent(
  source: string,
  options: { model?: string; windowSeconds?: number; end?: Date } = {},
): Promise<CurrentData> {
  const isDirectory = !parseStoreUrl(source) && existsSync(source) && statSync(source).isDirectory();
  if (!parseStoreUrl(source) && !isDirectory) {
    if (!isTabularFile(source))
      throw new Error(`${source}: the current data must be a CSV/Parquet file or a prediction-log directory (local, s3:// or gs://)`);
    return { table: await readTableFile(source) };
  }
  if (!options.model) throw new Error(`${source} is a prediction-log root: pass --model NAME to pick <root>/<model>/...`);
  const end = options.end ?? new Date();
  const window = { start: new Date(end.getTime() - (options.windowSeconds ?? DEFAULT_WINDOW_SECONDS) * 1000), end };
  const { table, stats } = await readLogWindow(await openLogStore(source), options.model, window);
  return { table, window, logs: stats };
}
