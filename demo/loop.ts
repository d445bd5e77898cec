import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { virtualServiceSpec } from "../components/k8s/routes";
import { loadCatalog, type ModelSpec, resolveFeatureService } from "../definition";
import { buildProfile, tableFromRows, writeProfile } from "../services/drift";
import { openOfflineStore } from "../services/features/offline/open";
import { buildTrainingSet } from "../services/features/training-set";
import { type CardRow, cardRows, type DemoDataOptions, type MerchantRow, merchantRows, seeded, writeOffline } from "./data";
import { freePort, type Managed, ROOT, type RedisHandle, startRedis, startService } from "./processes";
import { type LocalMesh, startLocalMesh } from "./router";

export const MODEL = "fraud-scorer";

export interface LoopOptions {
  /** Working directory for data, logs, profile and report (created). */
  workDir: string;
  /** Use this Redis instead of starting redis-server. */
  redisUrl?: string;
  /** Prediction requests per phase (unshifted, shifted). */
  requests: number;
  /** Concurrent requests. */
  concurrency: number;
  data: DemoDataOptions;
  progress: (line: string) => void;
  /** POSTed to when the drift check finds dataset drift. */
  webhookUrl?: string;
}

/** Running pieces of the local platform. */
export interface LocalPlatform {
  redis?: RedisHandle;
  redisUrl: string;
  features: Managed;
  serving: Record<string, Managed>;
  mesh: LocalMesh;
  model: ModelSpec;
  logDir: string;
  stop(): Promise<void>;
}

export interface TrafficStats {
  sent: number;
  ok: number;
  /** Non-200 answers by status code (with the first reason seen). */
  failed: Record<string, { count: number; reason: string }>;
  byVersion: Record<string, number>;
  latenciesMs: number[];
  /** Served predictions with the features used, for checking against the model. */
  samples: { version: string; card: number; merchant: number; probability: number }[];
  /** Shed requests (503 with Retry-After) that were retried. */
  retried: number;
}

/** A started, warmed platform: Redis, the features service, one serving process per model version, and the mesh router. */
export async function startPlatform(o: Pick<LoopOptions, "workDir" | "redisUrl" | "progress">, offlineDb: string): Promise<LocalPlatform> {
  const logs = join(o.workDir, "logs");
  const logDir = join(o.workDir, "predictions");
  const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
  const model = catalog.models[MODEL] as ModelSpec;
  let redis: RedisHandle | undefined;
  let redisUrl = o.redisUrl;
  if (!redisUrl) {
    mkdirSync(join(o.workDir, "redis"), { recursive: true });
    redis = await startRedis(join(o.workDir, "redis"));
    redisUrl = redis.url;
    o.progress(`redis-server listening at ${redisUrl}`);
  }
  const started: Managed[] = [];
  try {
    const features = await startService(
      "features",
      "features",
      [
        "serve",
        "--online-store",
        redisUrl,
        "--offline-store",
        `duckdb:${offlineDb}`,
        "--catalog",
        join(ROOT, "catalog"),
        "--store-timeout-ms",
        "500",
      ],
      { logDir: logs, readyPath: "/readyz" },
    );
    started.push(features);
    o.progress(`features service ready at ${features.url}`);
    const serving: Record<string, Managed> = {};
    await Promise.all(
      model.versions.map(async (version) => {
        const file = join(ROOT, "models", MODEL, version.name, "model.onnx");
        const handle = await startService(
          `serving-${version.name}`,
          "serving",
          [
            "serve",
            "--model",
            `${MODEL}@${version.name}=${file}`,
            "--features",
            features.url,
            "--catalog",
            join(ROOT, "catalog"),
            "--log-dir",
            logDir,
            "--log-sample-rate",
            "1",
            "--features-timeout",
            "1000",
          ],
          { logDir: logs, readyPath: "/v2/health/ready" },
        );
        started.push(handle);
        serving[version.name] = handle;
      }),
    );
    o.progress(
      `serving ready: ${Object.entries(serving)
        .map(([v, s]) => `${v} at ${s.url}`)
        .join(", ")}`,
    );
    const spec = virtualServiceSpec(model, "models");
    const mesh = await startLocalMesh(spec, Object.fromEntries(Object.entries(serving).map(([v, s]) => [v, s.url])), seeded(20261123));
    o.progress(
      `local mesh routing ${MODEL} by its VirtualService: ${model.versions.map((v) => `${v.name}=${v.weight}%`).join(", ")}, header ${model.headerOverride.header}`,
    );
    return {
      redis,
      redisUrl,
      features,
      serving,
      mesh,
      model,
      logDir,
      stop: async () => {
        await mesh.close();
        await Promise.all(Object.values(serving).map((s) => s.stop()));
        await features.stop();
        await redis?.stop();
      },
    };
  } catch (error) {
    await Promise.all(started.map((s) => s.stop(1000)));
    await redis?.stop();
    throw error;
  }
}

/** Sends entity-keyed predictions through the mesh with bounded concurrency. */
export async function sendTraffic(
  mesh: LocalMesh,
  n: number,
  options: {
    cards: number;
    merchants: number;
    concurrency: number;
    seed: number;
    headers?: Record<string, string>;
    timeoutMs?: number;
    retryShed?: boolean;
  },
): Promise<TrafficStats> {
  const rand = seeded(options.seed);
  const stats: TrafficStats = { sent: 0, ok: 0, failed: {}, byVersion: {}, latenciesMs: [], samples: [], retried: 0 };
  // A well-behaved client honours Retry-After on a shed request (503 + Retry-After), up to 3 times.
  const post = async (body: string): Promise<Response> => {
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${mesh.url}/v1/models/${MODEL}/predict`, {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
      });
      const retryAfter = response.headers.get("retry-after");
      if (response.status !== 503 || !retryAfter || options.retryShed === false || attempt >= 3) return response;
      await response.arrayBuffer();
      stats.retried++;
      await new Promise((r) => setTimeout(r, Math.min(1000, Number(retryAfter) * 1000)));
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const card = 1 + Math.floor(rand() * options.cards);
      const merchant = 1 + Math.floor(rand() * options.merchants);
      const started = performance.now();
      stats.sent++;
      try {
        const response = await post(JSON.stringify({ entities: { card_id: [card], merchant_id: [merchant] } }));
        const body = (await response.json()) as { predictions?: Record<string, number | number[]>[]; error?: string };
        const ms = performance.now() - started;
        if (response.status === 200) {
          stats.ok++;
          stats.latenciesMs.push(ms);
          const version = response.headers.get("x-model-version") ?? "?";
          stats.byVersion[version] = (stats.byVersion[version] ?? 0) + 1;
          const output = body.predictions?.[0] ?? {};
          const value = Object.values(output)[0];
          stats.samples.push({ version, card, merchant, probability: Array.isArray(value) ? (value[0] as number) : (value as number) });
        } else {
          const entry = stats.failed[response.status] ?? { count: 0, reason: body.error ?? "" };
          entry.count++;
          stats.failed[response.status] = entry;
        }
      } catch (error) {
        const entry = stats.failed.network ?? { count: 0, reason: (error as Error).message };
        entry.count++;
        stats.failed.network = entry;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return stats;
}

/** Complete prediction-log records (files are renamed into place when whole) of a model. */
export function loggedRecords(
  logDir: string,
): { request_id: string; version: string; timestamp: string; features: Record<string, unknown>; outputs: Record<string, unknown> }[] {
  const dir = join(logDir, MODEL);
  if (!existsSync(dir)) return [];
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".jsonl")).map((f) => join(dir, f));
  return files
    .filter((f) => statSync(f).isFile())
    .flatMap((f) =>
      readFileSync(f, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    );
}

/** Waits until the serving processes have flushed at least `count` records to the log. */
export async function waitForLogs(logDir: string, count: number, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    seen = loggedRecords(logDir).length;
    if (seen >= count) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  return seen;
}

/** The model's own output on the latest offline feature values of (card, merchant): the ground truth. */
export async function expectedPredictions(
  model: ModelSpec,
  samples: TrafficStats["samples"],
  latest: { cards: Map<number, CardRow>; merchants: Map<number, MerchantRow> },
): Promise<{ checked: number; maxAbsError: number }> {
  const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
  const features = resolveFeatureService(catalog, model.featureService);
  const sessions: Record<string, ort.InferenceSession> = {};
  let maxAbsError = 0;
  for (const s of samples) {
    sessions[s.version] ??= await ort.InferenceSession.create(join(ROOT, "models", MODEL, s.version, "model.onnx"));
    const session = sessions[s.version] as ort.InferenceSession;
    const card = latest.cards.get(s.card) as CardRow;
    const merchant = latest.merchants.get(s.merchant) as MerchantRow;
    const source = (f: { featureView: string }) => (f.featureView === "card_stats" ? card : merchant) as unknown as Record<string, number>;
    const row = features.map((f) => Number(source(f)[f.name]));
    const input = new ort.Tensor("float32", Float32Array.from(row), [1, row.length]);
    const out = await session.run({ [session.inputNames[0] as string]: input });
    const value = (out[session.outputNames[0] as string]?.data as Float32Array | undefined)?.[0] ?? Number.NaN;
    maxAbsError = Math.max(maxAbsError, Math.abs(value - s.probability));
  }
  return { checked: samples.length, maxAbsError };
}

/** Runs the drift service's check (its CronJob command) over a window of prediction logs. */
export async function driftCheck(o: {
  logDir: string;
  profile: string;
  end: Date;
  windowSeconds: number;
  report: string;
  webhookUrl?: string;
}): Promise<{ result: DriftCheckJson; code: number }> {
  const args = [
    "--import",
    "tsx",
    join(ROOT, "services", "drift", "main.ts"),
    "check",
    "--reference",
    o.profile,
    "--current",
    o.logDir,
    "--model",
    MODEL,
    "--catalog",
    join(ROOT, "catalog"),
    "--end",
    o.end.toISOString(),
    "--window",
    String(o.windowSeconds),
    "--report",
    o.report,
    "--json",
  ];
  if (o.webhookUrl) args.push("--webhook", o.webhookUrl);
  // Asynchronous on purpose: the webhook receiver may live in this very process.
  const r = await new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 120_000, maxBuffer: 1 << 26 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error ? Number((error as { code?: number }).code ?? 1) : 0 });
    });
  });
  if (!r.stdout.trim()) throw new Error(`drift check printed nothing (exit ${r.code}): ${r.stderr.slice(-1500)}`);
  return { result: JSON.parse(r.stdout) as DriftCheckJson, code: r.code };
}

export interface DriftCheckJson {
  dataset_drift: boolean;
  drift_share: number;
  counts: { checked: number; drifted: number };
  features: {
    name: string;
    method: string | null;
    statistic: number | null;
    p_value: number | null;
    threshold: number | null;
    drifted: boolean;
  }[];
}

export interface LoopResult {
  wallSeconds: number;
  trainingRows: number;
  materialized: { unshifted: ReturnType<typeof summaryOf>; shifted: ReturnType<typeof summaryOf> };
  unshifted: TrafficStats;
  shifted: TrafficStats;
  headerOverride: { requested: string; byVersion: Record<string, number> };
  loggedRecords: number;
  predictionCheck: { checked: number; maxAbsError: number };
  drift: { unshifted: DriftCheckJson; shifted: DriftCheckJson };
  reportPath: string;
  catalogWeights: Record<string, number>;
}

/**
 * The whole loop: generate data into the offline store, build the training set and reference
 * profile, start the platform, materialize, send traffic, shift the data, send more, run the drift
 * check on each window, and return the numbers. Everything it started is stopped, even on failure.
 */
export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const started = performance.now();
  mkdirSync(o.workDir, { recursive: true });
  const offlineDb = join(o.workDir, "offline.duckdb");
  const d = o.data;
  const baseHours = Array.from({ length: d.hours }, (_, i) => d.hours + 1 - i); // end-49h .. end-2h
  const cards = cardRows(d, baseHours);
  const merchants = merchantRows(d, baseHours);
  const shiftedCards = cardRows(d, [1], 1);
  const shiftedMerchants = merchantRows(d, [1], 1);
  await writeOffline(offlineDb, [...cards, ...shiftedCards], [...merchants, ...shiftedMerchants]);
  o.progress(
    `generated ${cards.length + shiftedCards.length} card and ${merchants.length + shiftedMerchants.length} merchant rows into ${offlineDb} (the last hour shifted)`,
  );

  // Training set: point-in-time-correct features for labelled events of the unshifted period.
  const rand = seeded(d.seed + 5);
  const baseEnd = d.end.getTime() - 2 * 3600_000;
  const baseStart = d.end.getTime() - (d.hours + 1) * 3600_000;
  const entityRows = Array.from({ length: 3000 }, () => ({
    card_id: 1 + Math.floor(rand() * d.cards),
    merchant_id: 1 + Math.floor(rand() * d.merchants),
    event_timestamp: new Date(baseStart + 3600_000 + rand() * (baseEnd - baseStart - 3600_000)),
  }));
  const offline = await openOfflineStore(`duckdb:${offlineDb}`);
  const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
  let training: Awaited<ReturnType<typeof buildTrainingSet>>;
  try {
    training = await buildTrainingSet(catalog, offline, { entities: { rows: entityRows }, featureService: "fraud_scorer_v1" });
  } finally {
    await offline.close();
  }
  const featureNames = resolveFeatureService(catalog, "fraud_scorer_v1").map((f) => f.name);
  const trainingRows = (training.records ?? []).map((r) => Object.fromEntries(featureNames.map((n) => [n, r[n]])));
  const profilePath = join(o.workDir, "fraud-scorer.profile.json");
  writeProfile(profilePath, buildProfile(tableFromRows(trainingRows)));
  o.progress(`training set: ${trainingRows.length} point-in-time rows; reference profile written to ${profilePath}`);

  const platform = await startPlatform(o, offlineDb);
  try {
    const materialize = async (body: Record<string, unknown>, path: string) => {
      const r = await fetch(`${platform.features.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      if (!r.ok) throw new Error(`${path} answered ${r.status}: ${await r.text()}`);
      return r.json();
    };
    const unshiftedMaterialized = await materialize(
      { start_ts: new Date(baseStart - 3600_000).toISOString(), end_ts: new Date(baseEnd + 60_000).toISOString() },
      "/materialize",
    );
    o.progress(`materialized the unshifted window into Redis: ${JSON.stringify(summaryOf(unshiftedMaterialized))}`);

    const traffic = { cards: d.cards, merchants: d.merchants, concurrency: o.concurrency };
    const t0 = new Date();
    const unshifted = await sendTraffic(platform.mesh, o.requests, { ...traffic, seed: d.seed + 1 });
    o.progress(`sent ${unshifted.sent} predictions: ${unshifted.ok} ok, by version ${JSON.stringify(unshifted.byVersion)}`);
    const override = await sendTraffic(platform.mesh, 40, {
      ...traffic,
      seed: d.seed + 2,
      headers: { [platform.model.headerOverride.header]: "v2" },
    });
    o.progress(`header override ${platform.model.headerOverride.header}: v2 -> ${JSON.stringify(override.byVersion)}`);
    await waitForLogs(platform.logDir, unshifted.ok + override.ok);
    const t1 = new Date(Date.now() + 1000);
    await new Promise((r) => setTimeout(r, 1100));

    const latestCards = latestBy(cards, (r) => r.card_id);
    const latestMerchants = latestBy(merchants, (r) => r.merchant_id);
    const predictionCheck = await expectedPredictions(platform.model, [...unshifted.samples, ...override.samples], {
      cards: latestCards,
      merchants: latestMerchants,
    });
    o.progress(
      `predictions match the model on the offline features: ${predictionCheck.checked} checked, max |error| ${predictionCheck.maxAbsError.toExponential(2)}`,
    );

    const shiftedMaterialized = await materialize({ end_ts: new Date(d.end.getTime()).toISOString() }, "/materialize-incremental");
    o.progress(`new (shifted) data materialized incrementally: ${JSON.stringify(summaryOf(shiftedMaterialized))}`);
    const shifted = await sendTraffic(platform.mesh, o.requests, { ...traffic, seed: d.seed + 3 });
    o.progress(`sent ${shifted.sent} predictions on shifted data: ${shifted.ok} ok`);
    const total = await waitForLogs(platform.logDir, unshifted.ok + override.ok + shifted.ok);
    const t2 = new Date(Date.now() + 1000);

    const reportPath = join(o.workDir, "drift-report.html");
    const before = await driftCheck({
      logDir: platform.logDir,
      profile: profilePath,
      end: t1,
      windowSeconds: Math.ceil((t1.getTime() - t0.getTime()) / 1000) + 1,
      report: join(o.workDir, "drift-report-unshifted.html"),
    });
    o.progress(
      `drift check on unshifted traffic: dataset drift ${before.result.dataset_drift} (share ${before.result.drift_share.toFixed(2)})`,
    );
    const after = await driftCheck({
      logDir: platform.logDir,
      profile: profilePath,
      end: t2,
      windowSeconds: Math.ceil((t2.getTime() - t1.getTime()) / 1000),
      report: reportPath,
      webhookUrl: o.webhookUrl,
    });
    o.progress(
      `drift check on shifted traffic: dataset drift ${after.result.dataset_drift} (share ${after.result.drift_share.toFixed(2)})`,
    );
    return {
      wallSeconds: (performance.now() - started) / 1000,
      trainingRows: trainingRows.length,
      materialized: { unshifted: summaryOf(unshiftedMaterialized), shifted: summaryOf(shiftedMaterialized) },
      unshifted,
      shifted,
      headerOverride: { requested: "v2", byVersion: override.byVersion },
      loggedRecords: total,
      predictionCheck,
      drift: { unshifted: before.result, shifted: after.result },
      reportPath,
      catalogWeights: Object.fromEntries(platform.model.versions.map((v) => [v.name, v.weight])),
    };
  } finally {
    await platform.stop();
  }
}

function latestBy<T extends { event_timestamp: Date }>(rows: T[], key: (r: T) => number): Map<number, T> {
  const out = new Map<number, T>();
  for (const r of rows) {
    const k = key(r);
    const cur = out.get(k);
    if (!cur || cur.event_timestamp < r.event_timestamp) out.set(k, r);
  }
  return out;
}

function summaryOf(body: unknown): { rowsRead: number; keysWritten: number; seconds: number } {
  const b = body as { rowsRead: number; keysWritten: number; seconds: number };
  return { rowsRead: b.rowsRead, keysWritten: b.keysWritten, seconds: b.seconds };
}

export { freePort };
