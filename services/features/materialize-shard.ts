import { randomUUID } from "node:crypto";
import type { Catalog } from "../../definition/registry";
import { UsageError } from "../core/cli";
import type { TileStore } from "./aggregations/tile-store";
import { type StateStore, StoredMaterializationState } from "./materialize-state";
import { defaultStart, viewMaterialization } from "./materialize-view";
import { exportUri } from "./offline/export";
import { readShard } from "./offline/shard-files";
import type { ExportManifest, OfflineStore } from "./offline/store";
import type { OnlineStore } from "./online/store";

/**
 * One shard of a fanned-out materialization run (`materialize ... --shard i/N`, one pod of the
 * view's Indexed Job). Every pod of a run shares a run id (the Job's uid) and coordinates only
 * through the durable state store:
 *   1. the first pod to arrive fixes the run's window (`run:`), so pods started minutes apart agree;
 *   2. the first pod to take the export lock has the offline store write all N shards as Parquet
 *      (the pushdown) and records the manifest (`export:`); the others wait for it;
 *   3. each pod reads only its shard, from the rows it has already acknowledged (`acked:`),
 *      writes in large batches and records the acknowledged count after each batch's writes are
 *      confirmed; so a killed pod resumes where its last confirmed batch ended;
 *   4. a finished shard is marked (`done:`); a rerun of it writes nothing; the last shard to
 *      finish advances the view's end (`end:`), where the next incremental run starts.
 * A shard that reads fewer rows than the export says it holds fails with the reason.
 */

export interface ShardSpec {
  index: number;
  count: number;
}

/** Parses `i/N` (0 <= i < N); the error names the flag and the fix. */
export function parseShard(text: string): ShardSpec {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index >= count)
    throw new UsageError(
      `--shard "${text}" must be <index>/<count> with 0 <= index < count, like 0/4 (the pod's JOB_COMPLETION_INDEX over completions)`,
    );
  return { index, count };
}

export interface ShardRunRequest {
  catalog: Catalog;
  offline: OfflineStore;
  online: OnlineStore;
  /** Where an aggregated view's tiles go; required for aggregated views. */
  tiles?: TileStore;
  state: StateStore;
  view: string;
  shard: ShardSpec;
  /** Shared by every pod of one run (the Job's uid); defaults to the window, so a rerun of a window is the same run. */
  runId?: string;
  /** Window start; absent = the view's last completed end, or end minus its TTL. */
  start?: Date;
  end: Date;
  /** Where exports go: a local directory, gs://bucket/prefix or s3://bucket/prefix. */
  exportRoot: string;
  /** Rows per online-store write call. Defaults to 10,000. */
  batchRows?: number;
  /** How long a pod waits for another pod's export. Defaults to the run deadline (1 h). */
  exportWaitMs?: number;
  progress?: (line: string) => void;
}

export interface ShardSummary {
  featureView: string;
  shard: string;
  runId: string;
  start: string;
  end: string;
  /** Rows the export put in this shard. */
  rowsExpected: number;
  /** Rows read in this run (after resuming from `resumedAt`). */
  rowsRead: number;
  resumedAt: number;
  keysWritten: number;
  keysSkipped: number;
  /** The shard was already complete for this run: nothing was read or written. */
  alreadyDone: boolean;
  exportedHere: boolean;
  /** Seconds spent exporting, or waiting for another pod's export. */
  exportSeconds: number;
  /** When this shard's writes began (epoch ms) and how long they took: writer throughput without the export. */
  writeStartedAt: number;
  writeSeconds: number;
  seconds: number;
  /** Rows read per second of writing. */
  rowsPerSecond: number;
}

/** Run-scoped keys outlive any run (a week) and then expire on their own. */
const RUN_TTL_SECONDS = 7 * 86400;
/** The exporter's lock; another pod takes over an export whose pod died once this passes. */
const EXPORT_LOCK_SECONDS = 1800;

const keys = (view: string, runId: string, shard: ShardSpec) => ({
  run: `run:${view}:${runId}`,
  exportLock: `export-lock:${view}:${runId}:${shard.count}`,
  manifest: `export:${view}:${runId}:${shard.count}`,
  acked: `acked:${view}:${runId}:${shard.index}/${shard.count}`,
  done: (index: number) => `done:${view}:${runId}:${index}/${shard.count}`,
});

/** The view's last completed end in the durable state (every shard of that run finished). */
function viewEnd(state: StateStore, view: string): Promise<Date | undefined> {
  return new StoredMaterializationState(state).get(view);
}

export async function materializeShard(request: ShardRunRequest): Promise<ShardSummary> {
  const started = performance.now();
  const { state, shard } = request;
  const definition = request.catalog.featureViews[request.view];
  if (!definition)
    throw new UsageError(
      `feature view "${request.view}" is not in the catalog; known: ${Object.keys(request.catalog.featureViews).join(", ")}`,
    );
  const label = `${request.view} shard ${shard.index}/${shard.count}`;
  const say = (line: string) => request.progress?.(`${label}: ${line}`);

  // 1. The run's window: proposed by this pod, fixed by the first.
  const proposedStart = request.start ?? (await viewEnd(state, request.view)) ?? defaultStart(definition, request.end);
  const runId = request.runId ?? `${proposedStart.toISOString()}_${request.end.toISOString()}`.replace(/[^0-9TZ_]/g, "");
  const k = keys(request.view, runId, shard);
  await state.setIfAbsent(k.run, JSON.stringify({ start: proposedStart.toISOString(), end: request.end.toISOString() }), RUN_TTL_SECONDS);
  const window = JSON.parse((await state.get(k.run)) as string) as { start: string; end: string };
  const start = new Date(window.start);
  const end = new Date(window.end);
  const summary: ShardSummary = {
    featureView: request.view,
    shard: `${shard.index}/${shard.count}`,
    runId,
    start: window.start,
    end: window.end,
    rowsExpected: 0,
    rowsRead: 0,
    resumedAt: 0,
    keysWritten: 0,
    keysSkipped: 0,
    alreadyDone: false,
    exportedHere: false,
    exportSeconds: 0,
    writeStartedAt: 0,
    writeSeconds: 0,
    seconds: 0,
    rowsPerSecond: 0,
  };
  if (await state.get(k.done(shard.index))) {
    say(`already complete for run ${runId} (${window.start} .. ${window.end}); nothing to write`);
    return { ...summary, alreadyDone: true };
  }
  if (start >= end) {
    say(`already materialized up to ${window.end}`);
    await finish(request, k, end);
    return { ...summary, alreadyDone: true };
  }

  // 2. The export, once per run.
  const exportStarted = performance.now();
  const view = viewMaterialization(request.catalog, request.view, { online: request.online, tiles: request.tiles }, { start, end });
  const { manifest, exportedHere } = await exportOnce(request, k, {
    query: view.query,
    start,
    end,
    shards: shard.count,
    uri: exportUri(request.exportRoot, request.view, runId),
  });
  const expected = manifest.rows[shard.index] ?? 0;
  summary.rowsExpected = expected;
  summary.exportedHere = exportedHere;
  summary.exportSeconds = round((performance.now() - exportStarted) / 1000);
  summary.writeStartedAt = Date.now();
  const writeStarted = performance.now();

  // 3. This shard's rows, from the last acknowledged one.
  const resumedAt = Number((await state.get(k.acked)) ?? 0);
  summary.resumedAt = resumedAt;
  say(`${window.start} .. ${window.end}: ${expected} rows in this shard${resumedAt ? `, resuming after ${resumedAt} acknowledged` : ""}`);
  let acknowledged = resumedAt;
  let lastReport = performance.now();
  for await (const batch of readShard(manifest.uri, shard.index, view.columns, resumedAt, request.batchRows ?? 10_000)) {
    const result = await view.write(batch);
    // Only now are these rows in the online store: record them, so a restart skips them.
    acknowledged += batch.length;
    await state.set(k.acked, String(acknowledged), RUN_TTL_SECONDS);
    summary.rowsRead += batch.length;
    summary.keysWritten += result.written;
    summary.keysSkipped += result.skipped;
    if (performance.now() - lastReport > 2000) {
      lastReport = performance.now();
      const rate = summary.rowsRead / ((lastReport - writeStarted) / 1000);
      const eta = rate > 0 ? (expected - acknowledged) / rate : 0;
      say(
        `${acknowledged}/${expected} rows (${Math.round((100 * acknowledged) / Math.max(1, expected))}%), ${Math.round(rate)} rows/s, ETA ${Math.round(eta)} s`,
      );
    }
  }
  if (acknowledged !== expected)
    throw new Error(
      `${label}: read ${acknowledged} rows but the export at ${manifest.uri} says this shard holds ${expected}; its files are missing or changed. Delete the state key ${k.manifest} to export again, then rerun`,
    );

  // 4. Done: mark the shard; the last shard advances the view's end.
  await state.set(k.done(shard.index), new Date().toISOString(), RUN_TTL_SECONDS);
  await finish(request, k, end);
  summary.writeSeconds = round((performance.now() - writeStarted) / 1000);
  summary.seconds = round((performance.now() - started) / 1000);
  summary.rowsPerSecond = Math.round(summary.rowsRead / Math.max(summary.writeSeconds, 0.001));
  say(
    `done: ${summary.rowsRead} rows read, ${summary.keysWritten} keys written, ${summary.keysSkipped} not newer, ${summary.seconds} s, ${summary.rowsPerSecond} rows/s`,
  );
  return summary;
}

/** Advances the view's end once every shard of the run is done (idempotent: any shard may be last). */
async function finish(request: ShardRunRequest, k: ReturnType<typeof keys>, end: Date): Promise<void> {
  for (let i = 0; i < request.shard.count; i++) if (!(await request.state.get(k.done(i)))) return;
  const previous = await viewEnd(request.state, request.view);
  if (!previous || previous < end) await new StoredMaterializationState(request.state).set(request.view, end);
}

/** Runs the export if this pod takes the lock; otherwise waits for the pod that did (or takes over when it died). */
async function exportOnce(
  request: ShardRunRequest,
  k: ReturnType<typeof keys>,
  exportRequest: Parameters<OfflineStore["exportShards"]>[0],
): Promise<{ manifest: ExportManifest; exportedHere: boolean }> {
  const deadline = Date.now() + (request.exportWaitMs ?? 3_600_000);
  const owner = `${process.pid}-${randomUUID()}`;
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    const recorded = await request.state.get(k.manifest);
    if (recorded) {
      const manifest = JSON.parse(recorded) as ExportManifest;
      if (manifest.shards !== request.shard.count)
        throw new Error(
          `this run of "${request.view}" was exported in ${manifest.shards} shards, but this pod is shard ${request.shard.index}/${request.shard.count}; every pod of a run needs the same count`,
        );
      return { manifest, exportedHere: false };
    }
    if (await request.state.setIfAbsent(k.exportLock, owner, EXPORT_LOCK_SECONDS)) {
      const t0 = performance.now();
      request.progress?.(`${request.view}: exporting ${exportRequest.shards} shard(s) to ${exportRequest.uri}`);
      const manifest = await request.offline.exportShards(exportRequest);
      await request.state.set(k.manifest, JSON.stringify(manifest), RUN_TTL_SECONDS);
      request.progress?.(
        `${request.view}: exported ${manifest.rows.reduce((a, b) => a + b, 0)} rows in ${round((performance.now() - t0) / 1000)} s (${manifest.rows.join(", ")} per shard)`,
      );
      return { manifest, exportedHere: true };
    }
    if (Date.now() > deadline)
      throw new Error(
        `waited ${Math.round((request.exportWaitMs ?? 3_600_000) / 1000)} s for another pod's export of "${request.view}" (state key ${k.manifest}); it did not finish`,
      );
    await new Promise((r) => setTimeout(r, wait));
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
