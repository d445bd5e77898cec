import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Catalog } from "../../definition/registry";
import type { FeaturesMetrics } from "./metrics";
import type { OfflineRow, OfflineStore } from "./offline/store";
import { type SqlView, sqlViewOf } from "./offline/view";
import type { OnlineStore, OnlineView, OnlineWrite } from "./online/store";
import { onlineViewOf } from "./online/view";
import { toEpochNanos } from "./timestamp";
import { coerceEntityValue, coerceValue } from "./values";

/**
 * Last materialized end per feature view (Feast keeps this in its registry): a small file for
 * local runs, or the durable state store every pod reads (materialize-state.ts).
 */
export interface MaterializationState {
  get(view: string): Date | undefined | Promise<Date | undefined>;
  set(view: string, end: Date): void | Promise<void>;
}

/** A JSON file `{ "<view>": "<ISO end>" }`, replaced atomically on each update. */
export class FileMaterializationState implements MaterializationState {
  private readonly ends: Record<string, string>;
  constructor(private readonly path: string) {
    try {
      this.ends = JSON.parse(readFileSync(path, "utf8")) as Record<string, string>;
    } catch {
      this.ends = {};
    }
  }
  get(view: string): Date | undefined {
    const end = this.ends[view];
    return end ? new Date(end) : undefined;
  }
  set(view: string, end: Date): void {
    this.ends[view] = end.toISOString();
    mkdirSync(dirname(this.path), { recursive: true });
    writeFileSync(`${this.path}.tmp`, `${JSON.stringify(this.ends, null, 2)}\n`);
    renameSync(`${this.path}.tmp`, this.path);
  }
}

/** In-memory state (tests, embedded runs). */
export class MemoryMaterializationState implements MaterializationState {
  private readonly ends = new Map<string, Date>();
  get(view: string) {
    return this.ends.get(view);
  }
  set(view: string, end: Date) {
    this.ends.set(view, end);
  }
}

export interface MaterializeRequest {
  catalog: Catalog;
  online: OnlineStore;
  offline: OfflineStore;
  state: MaterializationState;
  /** Feature views to materialize; defaults to every view with `online: true`. */
  views?: string[];
  /** Window start; when absent (incremental), each view starts at its last end, or end minus its TTL. */
  start?: Date;
  end: Date;
  /** Progress lines for people. */
  progress?: (line: string) => void;
  /** Feast's `disable_event_timestamp`: write every row with the current time as its event time. */
  disableEventTimestamp?: boolean;
  metrics?: FeaturesMetrics;
}

export interface ViewSummary {
  featureView: string;
  start: string;
  end: string;
  rowsRead: number;
  keysWritten: number;
  keysSkipped: number;
  seconds: number;
}

export interface MaterializeSummary {
  views: ViewSummary[];
  rowsRead: number;
  keysWritten: number;
  seconds: number;
}

/**
 * Copies the latest row per entity key in the window from the offline store to the online store:
 * the offline store streams batches (the SQL keeps the latest row per key, ties broken by the
 * created timestamp), each batch is written before the next is read, and the view's end is recorded
 * when it completes, so an interrupted run resumes from the last completed view.
 */
export async function materialize(request: MaterializeRequest): Promise<MaterializeSummary> {
  const started = performance.now();
  const names =
    request.views ??
    Object.values(request.catalog.featureViews)
      .filter((v) => v.online)
      .map((v) => v.name);
  const summaries: ViewSummary[] = [];
  for (const name of names) {
    const definition = request.catalog.featureViews[name];
    if (!definition)
      throw new Error(`feature view "${name}" is not in the catalog; known: ${Object.keys(request.catalog.featureViews).join(", ")}`);
    const onlineView = onlineViewOf(request.catalog, name);
    const start =
      request.start ?? (await request.state.get(name)) ?? new Date(definition.ttl > 0 ? request.end.getTime() - definition.ttl * 1000 : 0);
    if (start >= request.end) {
      request.progress?.(`${name}: already materialized up to ${request.end.toISOString()}`);
      continue;
    }
    summaries.push(await materializeView(request, onlineView, sqlViewOf(request.catalog, name), start));
    await request.state.set(name, request.end);
    request.metrics?.materializationLag.set({ feature_view: name }, Math.max(0, (Date.now() - request.end.getTime()) / 1000));
  }
  const summary = {
    views: summaries,
    rowsRead: summaries.reduce((n, s) => n + s.rowsRead, 0),
    keysWritten: summaries.reduce((n, s) => n + s.keysWritten, 0),
    seconds: round((performance.now() - started) / 1000),
  };
  request.progress?.(
    `materialized ${summaries.length} feature view(s): ${summary.rowsRead} rows read, ${summary.keysWritten} keys written in ${summary.seconds} s`,
  );
  return summary;
}

async function materializeView(request: MaterializeRequest, view: OnlineView, sqlView: SqlView, start: Date): Promise<ViewSummary> {
  const started = performance.now();
  const features = view.features.map((f) => f.name);
  request.progress?.(`${view.name}: ${start.toISOString()} .. ${request.end.toISOString()}`);
  let rowsRead = 0;
  let keysWritten = 0;
  let keysSkipped = 0;
  let lastReport = started;
  for await (const batch of request.offline.latestRows(sqlView, features, start, request.end)) {
    const result = await request.online.writeFeatures(
      view,
      batch.map((row) => {
        const write = onlineWriteOf(view, row);
        return request.disableEventTimestamp ? { ...write, eventTimestamp: BigInt(Date.now()) * 1_000_000n } : write;
      }),
    );
    rowsRead += batch.length;
    keysWritten += result.written;
    keysSkipped += result.skipped;
    request.metrics?.materializationRows.inc({ feature_view: view.name }, batch.length);
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      request.progress?.(`${view.name}: ${rowsRead} rows read, ${keysWritten} keys written (${round((lastReport - started) / 1000)} s)`);
    }
  }
  const seconds = round((performance.now() - started) / 1000);
  request.progress?.(`${view.name}: done, ${rowsRead} rows read, ${keysWritten} keys written, ${keysSkipped} not newer, ${seconds} s`);
  return {
    featureView: view.name,
    start: start.toISOString(),
    end: request.end.toISOString(),
    rowsRead,
    keysWritten,
    keysSkipped,
    seconds,
  };
}

/** An offline row as an online write, values checked against the feature view's dtypes. */
export function onlineWriteOf(view: OnlineView, row: OfflineRow, timestampColumn = "event_timestamp"): OnlineWrite {
  const values: OnlineWrite["values"] = {};
  for (const f of view.features) {
    if (!(f.name in row)) continue;
    try {
      values[f.name] = coerceValue(f.dtype, row[f.name]);
    } catch (error) {
      throw new Error(`feature view "${view.name}", feature "${f.name}" (${f.dtype}): ${(error as Error).message}`);
    }
  }
  return {
    key: view.joinKeys.map((k) => {
      const value = row[k.name];
      if (value === undefined || value === null)
        throw new Error(`feature view "${view.name}": a row has no value for join key "${k.name}"`);
      return coerceEntityValue(k.type, value);
    }),
    eventTimestamp: toEpochNanos(row[timestampColumn]),
    values,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
