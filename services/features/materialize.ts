import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Catalog } from "../../definition/registry";
import type { FeaturesMetrics } from "./metrics";
import type { TileStore } from "./aggregations/tile-store";
import { defaultStart, viewMaterialization } from "./materialize-view";
import type { OfflineStore } from "./offline/store";
import type { OnlineStore } from "./online/store";

export { onlineWriteOf } from "./materialize-view";

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
  /** Where aggregated views' tiles go (openTileStore on the online store's URL); required when one is materialized. */
  tiles?: TileStore;
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
    const start = request.start ?? (await request.state.get(name)) ?? defaultStart(definition, request.end);
    if (start >= request.end) {
      request.progress?.(`${name}: already materialized up to ${request.end.toISOString()}`);
      continue;
    }
    summaries.push(await materializeView(request, name, start));
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

async function materializeView(request: MaterializeRequest, name: string, start: Date): Promise<ViewSummary> {
  const started = performance.now();
  const view = viewMaterialization(
    request.catalog,
    name,
    { online: request.online, tiles: request.tiles },
    { start, end: request.end },
    { disableEventTimestamp: request.disableEventTimestamp },
  );
  request.progress?.(`${name}: ${start.toISOString()} .. ${request.end.toISOString()}${view.kind === "aggregated" ? " (tiles)" : ""}`);
  let rowsRead = 0;
  let keysWritten = 0;
  let keysSkipped = 0;
  let lastReport = started;
  for await (const batch of request.offline.streamRows(view.query)) {
    const result = await view.write(batch);
    rowsRead += batch.length;
    keysWritten += result.written;
    keysSkipped += result.skipped;
    request.metrics?.materializationRows.inc({ feature_view: name }, batch.length);
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      request.progress?.(`${name}: ${rowsRead} rows read, ${keysWritten} keys written (${round((lastReport - started) / 1000)} s)`);
    }
  }
  const seconds = round((performance.now() - started) / 1000);
  request.progress?.(`${name}: done, ${rowsRead} rows read, ${keysWritten} keys written, ${keysSkipped} not newer, ${seconds} s`);
  return {
    featureView: name,
    start: start.toISOString(),
    end: request.end.toISOString(),
    rowsRead,
    keysWritten,
    keysSkipped,
    seconds,
  };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
