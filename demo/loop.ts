import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { virtualServiceSpec } from "../components/k8s/routes";
import { loadCatalog, type ModelSpec, resolveFeatureService } from "../definition";
import { buildProfile, tableFromRows, writeProfile } from "../services/drift";
import { openOfflineStore } from "../services/features/offline/open";
import { buildTrainingSet } from "../services/features/training-set";
import {
  cardProfileRows,
  type DemoDataOptions,
  fraudBurstRows,
  merchantRows,
  seeded,
  transactionRows,
  transactionsDf,
  writeOffline,
} from "./data";
import { freePort, type Managed, ROOT, type RedisHandle, startRedis, startService } from "./processes";
import { type LocalMesh, startLocalMesh } from "./router";
import { type TrainedVersion, trainFraudModels } from "./train";

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
  /** The ONNX file each version serves. */
  modelFiles: Record<string, string>;
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
  samples: { version: string; card: number; merchant: number; probability: number; sentAt: number; answeredAt: number }[];
  /** Shed requests (503 with Retry-After) that were retried. */
  retried: number;
}

/** A started, warmed platform: Redis, the features service, one serving process per model version, and the mesh router. */
export async function startPlatform(
  o: Pick<LoopOptions, "workDir" | "redisUrl" | "progress">,
  offlineDb: string,
  /** The ONNX file per version; defaults to the prebuilt models/fraud-scorer/<version>/model.onnx. */
  files: Record<string, string> = {},
): Promise<LocalPlatform> {
  const logs = join(o.workDir, "logs");
  const logDir = join(o.workDir, "predictions");
  const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
  const model = catalog.models[MODEL] as ModelSpec;
  const modelFiles = Object.fromEntries(
    model.versions.map((v) => [v.name, files[v.name] ?? join(ROOT, "models", MODEL, v.name, "model.onnx")]),
  );
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
        const file = modelFiles[version.name] as string;
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
      modelFiles,
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
      const sentAt = Date.now();
      stats.sent++;
      try {
        const response = await post(JSON.stringify({ entities: { card_id: [card], merchant_id: [merchant] } }));
        const body = (await response.json()) as { predictions?: Record<string, number | number[]>[]; error?: string };
        const ms = performance.now() - started;
        const answeredAt = Date.now() + 1;
        if (response.status === 200) {
          stats.ok++;
          stats.latenciesMs.push(ms);
          const version = response.headers.get("x-model-version") ?? "?";
          stats.byVersion[version] = (stats.byVersion[version] ?? 0) + 1;
          const output = body.predictions?.[0] ?? {};
          const value = Object.values(output)[0];
          stats.samples.push({
            version,
            card,
            merchant,
            probability: Array.isArray(value) ? (value[0] as number) : (value as number),
            sentAt,
            answeredAt,
          });
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

/**
 * The model's own output on the point-in-time training-set features of each served prediction:
 * the features service's /get-historical-features at the request's time, the same SQL a training
 * set is built with. The server read its features at some instant between sending and answering;
 * both ends are asked, and a prediction whose features changed in between (a window edge crossed a
 * tile boundary during the request) is counted as `straddled` and not compared.
 */
export async function expectedPredictions(
  model: ModelSpec,
  samples: TrafficStats["samples"],
  featuresUrl: string,
  /** The ONNX file each version serves. */
  modelFiles: Record<string, string>,
): Promise<{ checked: number; straddled: number; maxAbsError: number }> {
  const catalog = loadCatalog(join(ROOT, "catalog"), "mlops");
  const names = resolveFeatureService(catalog, model.featureService).map((f) => f.name);
  const vectors: number[][] = [];
  for (let from = 0; from < samples.length; from += 2000) {
    const batch = samples.slice(from, from + 2000);
    const at = batch.flatMap((s) => [s.sentAt, s.answeredAt]);
    const response = await fetch(`${featuresUrl}/get-historical-features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        feature_service: model.featureService,
        entity_df: {
          card_id: batch.flatMap((s) => [s.card, s.card]),
          merchant_id: batch.flatMap((s) => [s.merchant, s.merchant]),
          event_timestamp: at.map((ms) => new Date(ms).toISOString()),
          request_id: at.map((_, i) => i),
        },
      }),
      signal: AbortSignal.timeout(120_000),
    });
    if (!response.ok) throw new Error(`/get-historical-features answered ${response.status}: ${await response.text()}`);
    const columns = (await response.json()) as Record<string, unknown[]>;
    // Rows may come back in any order: put them back by request_id.
    const order = (columns.request_id ?? []).map(Number);
    const rows: number[][] = new Array(at.length);
    order.forEach((id, j) => {
      rows[id] = names.map((n) => Number(columns[n]?.[j]));
    });
    vectors.push(...rows);
  }
  const sessions: Record<string, ort.InferenceSession> = {};
  let maxAbsError = 0;
  let checked = 0;
  let straddled = 0;
  for (const [i, s] of samples.entries()) {
    const [before, after] = [vectors[2 * i] as number[], vectors[2 * i + 1] as number[]];
    if (before.some((v, j) => v !== after[j])) {
      straddled++;
      continue;
    }
    sessions[s.version] ??= await ort.InferenceSession.create(modelFiles[s.version] as string);
    const session = sessions[s.version] as ort.InferenceSession;
    const input = new ort.Tensor("float32", Float32Array.from(before), [1, before.length]);
    const out = await session.run({ [session.inputNames[0] as string]: input });
    const value = (out[session.outputNames[0] as string]?.data as Float32Array | undefined)?.[0] ?? Number.NaN;
    maxAbsError = Math.max(maxAbsError, Math.abs(value - s.probability));
    checked++;
  }
  return { checked, straddled, maxAbsError };
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
  predictionCheck: { checked: number; straddled: number; maxAbsError: number };
  /** The models trained on the training set, as served. */
  trained: TrainedVersion[];
  /** The ONNX file each served version ran. */
  servedModels: Record<string, string>;
  pushed: { live: number; shifted: number };
  drift: { unshifted: DriftCheckJson; shifted: DriftCheckJson };
  reportPath: string;
  catalogWeights: Record<string, number>;
}

/**
 * The whole loop: generate raw card transactions (8 days) and merchant snapshots into the offline
 * store, build the point-in-time training set and reference profile, train the fraud model on
 * that training set (demo/train.ts) and start the platform serving it,
 * materialize (card_stats' tiles are computed from the transactions), push the last minutes'
 * transactions live, send traffic, shift the data (fraud-like transactions and riskier merchants
 * pushed online and offline, then an incremental materialization), send more, check every
 * prediction against the trained model on the training-set features at its time, run the drift check on
 * each window, and return the numbers. Everything it started is stopped, even on failure.
 */
export async function runLoop(o: LoopOptions): Promise<LoopResult> {
  const started = performance.now();
  mkdirSync(o.workDir, { recursive: true });
  const offlineDb = join(o.workDir, "offline.duckdb");
  const d = o.data;
  const now0 = Date.now();
  // History up to a quarter of an hour ago is in the offline store; what follows arrives by push.
  const cut = new Date(now0 - 15 * 60_000);
  const historyStart = new Date(now0 - 8 * 86400_000);
  const baseHours = Array.from({ length: d.hours }, (_, i) => d.hours + 1 - i); // end-(hours+1)h .. end-2h
  const transactions = transactionRows(d, historyStart, cut);
  const profiles = cardProfileRows(d, historyStart);
  const merchants = merchantRows(d, baseHours);
  await writeOffline(offlineDb, { transactions, profiles, merchants });
  o.progress(`generated ${transactions.length} raw card transactions over 8 days and ${merchants.length} merchant rows into ${offlineDb}`);

  // Training set: point-in-time-correct features for labelled events of the unshifted period.
  const rand = seeded(d.seed + 5);
  const baseEnd = d.end.getTime() - 2 * 3600_000;
  const baseStart = d.end.getTime() - (d.hours + 1) * 3600_000;
  const entityRows = Array.from({ length: 3000 }, () => ({
    card_id: 1 + Math.floor(rand() * d.cards),
    merchant_id: 1 + Math.floor(rand() * d.merchants),
    event_timestamp: new Date(baseStart + 3600_000 + rand() * (Math.min(baseEnd, cut.getTime()) - baseStart - 3600_000)),
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
  o.progress(
    `training set: ${trainingRows.length} point-in-time rows (aggregates computed in SQL); reference profile written to ${profilePath}`,
  );
  // Train the model on that training set and serve what was trained.
  const versions = (catalog.models[MODEL] as ModelSpec).versions.map((v) => v.name);
  const trained = trainFraudModels(trainingRows, featureNames, versions, join(o.workDir, "models", MODEL), d.seed + 6);
  for (const t of trained)
    o.progress(
      `trained ${MODEL} ${t.version} (logistic regression, L2 ${t.l2}) on ${t.rows} training-set rows: log loss ${t.logLoss.toFixed(4)}, weights ${t.weights.map((w) => w.toFixed(3)).join(", ")}; wrote ${t.path}`,
    );

  const platform = await startPlatform(o, offlineDb, Object.fromEntries(trained.map((t) => [t.version, t.path])));
  try {
    const post = async (path: string, body: Record<string, unknown>) => {
      const r = await fetch(`${platform.features.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(120_000),
      });
      if (!r.ok) throw new Error(`${path} answered ${r.status}: ${await r.text()}`);
      return r.json();
    };
    /**
     * Pushes rows online and offline (the offline store is the training sets' source), 200 a request
     * as a stream consumer would; not retried, since a push that failed half-way would apply twice.
     */
    const push = async (source: string, df: Record<string, unknown[]>) => {
      const n = Object.values(df)[0]?.length ?? 0;
      for (let i = 0; i < n; i += 200) {
        const part = Object.fromEntries(Object.entries(df).map(([k, v]) => [k, v.slice(i, i + 200)]));
        const result = (await post("/push", { push_source_name: source, df: part, to: "online_and_offline" })) as { refused?: unknown[] };
        if (result.refused?.length) throw new Error(`/push to ${source} refused events: ${JSON.stringify(result.refused.slice(0, 3))}`);
      }
      return n;
    };
    const unshiftedMaterialized = await post("/materialize", {
      start_ts: new Date(historyStart.getTime() - 3600_000).toISOString(),
      end_ts: cut.toISOString(),
    });
    o.progress(`materialized the history into Redis (card_stats as tiles): ${JSON.stringify(summaryOf(unshiftedMaterialized))}`);
    const live = await push("transactions_push", transactionsDf(transactionRows(d, cut, new Date(Date.now() - 1000))));
    o.progress(`pushed ${live} live transactions since ${cut.toISOString()} to transactions_push`);

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
    await new Promise((r) => setTimeout(r, 3000));

    // The shift: fraud-like bursts of transactions on every card, riskier merchants, pushed as they
    // happen; all after the unshifted predictions, whose features must not see them.
    const burst = fraudBurstRows(d, t1, new Date(Date.now() - 100));
    const shiftedPushed = await push("transactions_push", transactionsDf(burst));
    const shiftedMerchants = merchantRows({ ...d, end: new Date(Date.now() - 100) }, [0], 1);
    await push("merchant_stats_push", {
      merchant_id: shiftedMerchants.map((m) => m.merchant_id),
      event_timestamp: shiftedMerchants.map((m) => m.event_timestamp.toISOString()),
      created_timestamp: shiftedMerchants.map((m) => m.created_timestamp.toISOString()),
      merchant_risk: shiftedMerchants.map((m) => m.merchant_risk),
      chargeback_rate_30d: shiftedMerchants.map((m) => m.chargeback_rate_30d),
      category: shiftedMerchants.map((m) => m.category),
    });
    o.progress(`pushed ${shiftedPushed} fraud-like transactions and ${shiftedMerchants.length} riskier merchants (online and offline)`);
    // Re-computing the touched tiles from the offline store must change nothing the pushes wrote.
    const shiftedMaterialized = await post("/materialize-incremental", { end_ts: new Date().toISOString() });
    o.progress(`incremental materialization after the shift: ${JSON.stringify(summaryOf(shiftedMaterialized))}`);
    const shifted = await sendTraffic(platform.mesh, o.requests, { ...traffic, seed: d.seed + 3 });
    o.progress(`sent ${shifted.sent} predictions on shifted data: ${shifted.ok} ok`);
    const total = await waitForLogs(platform.logDir, unshifted.ok + override.ok + shifted.ok);
    const t2 = new Date(Date.now() + 1000);

    const predictionCheck = await expectedPredictions(
      platform.model,
      [...unshifted.samples, ...override.samples, ...shifted.samples],
      platform.features.url,
      platform.modelFiles,
    );
    o.progress(
      `predictions equal the model on the point-in-time training-set features at their time: ${predictionCheck.checked} checked (${predictionCheck.straddled} crossed a tile edge mid-request), max |error| ${predictionCheck.maxAbsError}`,
    );

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
      pushed: { live, shifted: shiftedPushed },
      unshifted,
      shifted,
      headerOverride: { requested: "v2", byVersion: override.byVersion },
      loggedRecords: total,
      predictionCheck,
      trained,
      servedModels: platform.modelFiles,
      drift: { unshifted: before.result, shifted: after.result },
      reportPath,
      catalogWeights: Object.fromEntries(platform.model.versions.map((v) => [v.name, v.weight])),
    };
  } finally {
    await platform.stop();
  }
}

function summaryOf(body: unknown): { rowsRead: number; keysWritten: number; seconds: number } {
  const b = body as { rowsRead: number; keysWritten: number; seconds: number };
  return { rowsRead: b.rowsRead, keysWritten: b.keysWritten, seconds: b.seconds };
}

export { freePort };
