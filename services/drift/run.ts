/**
 * The steps a check takes from its inputs, shared by the CLI, the CronJob and the HTTP API:
 * load the reference (a profile, or a training file profiled on the fly), load the current data
 * (a CSV/Parquet file or a window of prediction logs), and read the model's drift settings from
 * the catalog.
 */
import { existsSync, statSync } from "node:fs";
import { extname } from "node:path";
import { loadCatalog } from "../../components/spec";
import type { FeatureOverride } from "./check";
import { type LogReadStats, openLogStore, parseStoreUrl, readLogWindow, type TimeWindow } from "./logs";
import { buildProfile, type Profile, readProfile } from "./profile";
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

export function driftSettings(catalogDir: string, model: string): DriftSettings {
  const catalog = loadCatalog(catalogDir, "mlops");
  const spec = catalog.models[model];
  if (!spec) {
    throw new Error(`model "${model}" is not in the catalog at ${catalogDir} (models: ${Object.keys(catalog.models).join(", ") || "none"}); fix --model or --catalog`);
  }
  return { driftShare: spec.drift.driftShare, window: spec.drift.window, features: spec.drift.features, webhook: spec.drift.webhook };
}

/** A `.json` reference is a saved profile; a CSV/Parquet file is profiled now (slower: prefer `drift profile`). */
export async function loadReference(path: string): Promise<Profile> {
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
export async function loadCurrent(source: string, options: { model?: string; windowSeconds?: number; end?: Date } = {}): Promise<CurrentData> {
  const isDirectory = !parseStoreUrl(source) && existsSync(source) && statSync(source).isDirectory();
  if (!parseStoreUrl(source) && !isDirectory) {
    if (!isTabularFile(source)) throw new Error(`${source}: the current data must be a CSV/Parquet file or a prediction-log directory (local, s3:// or gs://)`);
    return { table: await readTableFile(source) };
  }
  if (!options.model) throw new Error(`${source} is a prediction-log root: pass --model NAME to pick <root>/<model>/...`);
  const end = options.end ?? new Date();
  const window = { start: new Date(end.getTime() - (options.windowSeconds ?? DEFAULT_WINDOW_SECONDS) * 1000), end };
  const { table, stats } = await readLogWindow(await openLogStore(source), options.model, window);
  return { table, window, logs: stats };
}
