/**
 * `npm run demo`: the whole loop on this machine. Starts Redis and the features and serving
 * services as local processes from the example catalog, generates raw card transactions into a DuckDB
 * offline store, builds the point-in-time training set and reference profile, trains the fraud model
 * on it and serves that model, materializes (card_stats' aggregates as tiles), pushes live
 * transactions, sends prediction
 * traffic through the VirtualService routes, shifts the data, runs the drift check, prints a
 * summary, and cleans up.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { helpText, parseCommand } from "../services/core/cli";
import { quantile } from "../services/core/quantile";
import { runLoop } from "./loop";

const FLAGS = [
  { name: "requests", type: "string" as const, description: "prediction requests per phase", default: "600", env: "DEMO_REQUESTS" },
  { name: "cards", type: "string" as const, description: "cards in the generated data", default: "2000", env: "DEMO_CARDS" },
  {
    name: "work-dir",
    type: "string" as const,
    description: "where data, logs and the report go (default: a new temp dir)",
    env: "DEMO_DIR",
  },
  { name: "keep", type: "boolean" as const, description: "keep the work dir (the report is always kept)", env: "DEMO_KEEP" },
  { name: "json", type: "boolean" as const, description: "print the result as JSON" },
];

async function main(): Promise<number> {
  const args = parseCommand(process.argv.slice(2), FLAGS);
  if (args.values.help) {
    console.log(
      helpText(
        "npm run demo [--requests N] [--cards N] [--json]",
        "Runs the whole loop locally: data, training set, materialization, serving, canary split, drift.",
        FLAGS,
      ),
    );
    return 0;
  }
  const workDir = String(args.values["work-dir"] ?? mkdtempSync(join(tmpdir(), "mlops-demo-")));
  const json = args.values.json === true;
  const t0 = performance.now();
  const say = (line: string) =>
    (json ? console.error : console.log)(`demo [${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${line}`);
  const end = new Date(Math.floor(Date.now() / 3600_000) * 3600_000);
  const result = await runLoop({
    workDir,
    redisUrl: process.env.REDIS_URL,
    requests: Number(args.values.requests),
    concurrency: 8,
    data: { cards: Number(args.values.cards), merchants: 200, hours: 48, end, seed: 42 },
    progress: say,
  });
  if (json) {
    console.log(
      JSON.stringify(
        {
          ...result,
          unshifted: { ...result.unshifted, latenciesMs: undefined, samples: undefined },
          shifted: { ...result.shifted, latenciesMs: undefined, samples: undefined },
        },
        null,
        2,
      ),
    );
  } else {
    const all = [...result.unshifted.latenciesMs, ...result.shifted.latenciesMs];
    const byVersion: Record<string, number> = {};
    for (const phase of [result.unshifted, result.shifted])
      for (const [v, n] of Object.entries(phase.byVersion)) byVersion[v] = (byVersion[v] ?? 0) + n;
    const total = Object.values(byVersion).reduce((a, b) => a + b, 0);
    console.log("\nSummary");
    console.log(
      `  predictions      ${total} ok of ${result.unshifted.sent + result.shifted.sent} (p50 ${quantile(all, 0.5).toFixed(1)} ms, p99 ${quantile(all, 0.99).toFixed(1)} ms, through features + model + mesh)`,
    );
    console.log(
      `  by version       ${Object.entries(byVersion)
        .map(([v, n]) => `${v} ${n} (${((100 * n) / total).toFixed(1)}%, catalog ${result.catalogWeights[v]}%)`)
        .join(", ")}`,
    );
    const shed = result.unshifted.retried + result.shifted.retried;
    if (shed) console.log(`  load shedding     ${shed} requests shed with 503 + Retry-After and retried by the client`);
    console.log(`  header override  x-model-version: v2 -> ${JSON.stringify(result.headerOverride.byVersion)}`);
    console.log(
      `  trained          ${result.trained.map((t) => `${t.version} (L2 ${t.l2}, log loss ${t.logLoss.toFixed(3)})`).join(", ")} on ${result.trained[0]?.rows ?? 0} training-set rows, served from ${Object.values(result.servedModels)[0]?.replace(/\/[^/]+\/model\.onnx$/, "/")}`,
    );
    console.log(
      `  predictions      equal the trained model on the point-in-time training-set features: ${result.predictionCheck.checked} checked, max |error| ${result.predictionCheck.maxAbsError}`,
    );
    console.log(
      `  pushed           ${result.pushed.live} live and ${result.pushed.shifted} fraud-like raw transactions into card_stats' tiles`,
    );
    console.log(
      `  drift, unshifted dataset drift ${result.drift.unshifted.dataset_drift} (share ${result.drift.unshifted.drift_share.toFixed(2)})${result.drift.unshifted.features
        .filter((f) => f.drifted)
        .map((f) => ` ${f.name} (${f.method} ${f.statistic?.toPrecision(3)})`)
        .join(",")}`,
    );
    console.log(
      `  drift, shifted   dataset drift ${result.drift.shifted.dataset_drift} (share ${result.drift.shifted.drift_share.toFixed(2)}): ${result.drift.shifted.features
        .filter((f) => f.drifted)
        .map((f) => `${f.name} (${f.method})`)
        .join(", ")}`,
    );
    console.log(`  report           ${result.reportPath}`);
    console.log(`  wall time        ${result.wallSeconds.toFixed(1)} s`);
  }
  if (!args.values.keep && !args.values["work-dir"]) {
    for (const part of ["offline.duckdb", "offline.duckdb.wal", "predictions", "redis", "logs", "fraud-scorer.profile.json"])
      rmSync(join(workDir, part), { recursive: true, force: true });
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
