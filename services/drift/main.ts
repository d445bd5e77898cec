/**
 * `npm run drift -- <profile|check|serve>`: the drift service's commands (CLI, CronJob, HTTP API).
 * Every flag has an environment twin (e.g. --reference / REFERENCE) for the CronJob's container.
 */
import { writeFileSync } from "node:fs";
import { closeOnSignals, createLogger, createRegistry, type FlagSpec, helpText, parseCommand, UsageError } from "../core";
import { checkDrift, resultToJson } from "./check";
import { createDriftMetrics, pushMetrics, recordResult, writeMetricsFile } from "./metrics";
import { buildProfile, writeProfile } from "./profile";
import { renderReport } from "./report";
import { type DriftSettings, driftSettings, loadCurrent, loadReference, parseWindow } from "./run";
import { createDriftServer } from "./server";
import { readTableFile } from "./table";
import { sendWebhook } from "./webhook";

const json: FlagSpec = { name: "json", type: "boolean", description: "print machine-readable JSON on stdout" };
const PROFILE_FLAGS: FlagSpec[] = [
  { name: "data", type: "string", description: "training set: CSV or Parquet file" },
  { name: "out", type: "string", description: "where to write the profile (JSON); default: <data>.profile.json beside it" },
  { name: "sample-size", type: "string", description: "reservoir sample size per numeric feature", default: "10000" },
  { name: "exclude", type: "string", description: "comma-separated columns to leave out (ids, timestamps, labels)" },
  json,
];
const COMMON_CHECK: FlagSpec[] = [
  { name: "reference", type: "string", description: "reference profile (.json, local or s3://, gs://) or training set (CSV/Parquet)" },
  { name: "model", type: "string", description: "model name (log folder, metrics label, catalog entry)" },
  {
    name: "catalog",
    type: "string",
    description: "catalog directory (YAML) or mounted runtime config (models.json): the model's drift settings",
  },
  { name: "drift-share", type: "string", description: "dataset drift when this share of features drift (overrides the catalog)" },
];
const CHECK_FLAGS: FlagSpec[] = [
  ...COMMON_CHECK,
  {
    name: "current",
    type: "string",
    description: "current data: CSV/Parquet file or prediction-log root (directory, s3://bucket/prefix, gs://bucket/prefix)",
  },
  {
    name: "window",
    type: "string",
    description: "prediction logs to read: seconds or a duration like 6h (overrides the catalog; default 1d)",
  },
  { name: "end", type: "string", description: "end of the log window, ISO-8601 (default: now)" },
  { name: "report", type: "string", description: "write the HTML report to this file" },
  { name: "webhook", type: "string", description: "POST here (with retries) when dataset drift is found (overrides the catalog)" },
  { name: "metrics-file", type: "string", description: "write Prometheus metrics to this file (textfile collector)" },
  { name: "pushgateway", type: "string", description: "push Prometheus metrics to this Pushgateway URL" },
  json,
];
const SERVE_FLAGS: FlagSpec[] = [
  ...COMMON_CHECK,
  { name: "port", type: "string", description: "HTTP port", default: "8080" },
  { name: "host", type: "string", description: "listen address", default: "0.0.0.0" },
];

const USAGE = `Usage: npm run drift -- <command> [options]

Commands:
  profile --data FILE --out PROFILE      compute the reference profile of a training set
  check --reference FILE_OR_PROFILE --current FILE_OR_LOG_DIR [--model NAME --catalog DIR] [--report report.html] [--json] [--webhook URL]
  serve --reference PROFILE [--port N]   HTTP API: POST /check, GET /metrics

Run "npm run drift -- <command> --help" for the options of a command.
`;

const progress = (message: string) => process.stderr.write(`${message}\n`);

function required(values: Record<string, unknown>, name: string, usage: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "")
    throw new UsageError(`--${name} is required (or set ${name.toUpperCase().replace(/-/g, "_")}); ${usage}`);
  return value;
}

function numberFlag(values: Record<string, unknown>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new UsageError(`--${name}: "${String(raw)}" is not a number`);
  return value;
}

async function profileCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, PROFILE_FLAGS);
  if (values.help)
    return print(
      helpText("npm run drift -- profile --data FILE --out PROFILE", "Computes the reference profile of a training set.", PROFILE_FLAGS),
    );
  const data = required(values, "data", "the training set to profile");
  const out = typeof values.out === "string" ? values.out : `${data.replace(/\.[^.]+$/, "")}.profile.json`;
  const started = Date.now();
  progress(`reading ${data}`);
  const table = await readTableFile(data);
  const profile = buildProfile(table, {
    sampleSize: numberFlag(values, "sample-size"),
    exclude: typeof values.exclude === "string" ? values.exclude.split(",").map((s) => s.trim()) : [],
    source: data,
  });
  writeProfile(out, profile);
  const features = Object.values(profile.features);
  const summary = {
    out,
    rows: profile.rows,
    features: features.length,
    numeric: features.filter((f) => f.type === "numeric").length,
    categorical: features.filter((f) => f.type === "categorical").length,
    seconds: (Date.now() - started) / 1000,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    progress(
      `profile of ${summary.rows} rows, ${summary.numeric} numeric and ${summary.categorical} categorical features written to ${out} (${summary.seconds.toFixed(1)} s)`,
    );
  return 0;
}

function settingsFrom(values: Record<string, unknown>): { model?: string; settings?: DriftSettings } {
  const model = typeof values.model === "string" ? values.model : undefined;
  if (typeof values.catalog !== "string") return { model };
  if (!model) throw new UsageError("--catalog needs --model NAME to find the model's drift settings");
  return { model, settings: driftSettings(values.catalog, model) };
}

async function checkCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, CHECK_FLAGS);
  if (values.help)
    return print(
      helpText(
        "npm run drift -- check --reference FILE_OR_PROFILE --current FILE_OR_LOG_DIR [options]",
        "Compares current data with the reference and reports drift per feature and for the dataset.",
        CHECK_FLAGS,
      ),
    );
  const reference = required(values, "reference", "the reference profile or training set");
  const currentSource = required(values, "current", "the current data file or prediction-log root");
  const { model, settings } = settingsFrom(values);
  const end = typeof values.end === "string" ? new Date(values.end) : undefined;
  if (end && Number.isNaN(end.getTime())) throw new UsageError(`--end: "${values.end}" is not an ISO-8601 time`);
  progress(`loading reference ${reference}`);
  const profile = await loadReference(reference);
  progress(`loading current data ${currentSource}`);
  const current = await loadCurrent(currentSource, {
    model,
    windowSeconds: typeof values.window === "string" ? windowFlag(values.window) : settings?.window,
    end,
  });
  if (current.logs)
    progress(
      `prediction logs: ${current.logs.files} files, ${current.logs.records} records in the window, ${current.logs.malformed} malformed lines skipped`,
    );
  const result = checkDrift(profile, current.table, {
    model,
    driftShare: numberFlag(values, "drift-share") ?? settings?.driftShare,
    features: settings?.features,
    window: current.window ? { start: current.window.start.toISOString(), end: current.window.end.toISOString() } : undefined,
  });
  if (current.logs?.malformed) result.notes.push(`${current.logs.malformed} malformed prediction-log lines were skipped`);
  if (typeof values.report === "string") {
    writeFileSync(values.report, renderReport(result));
    progress(`report written to ${values.report}`);
  }
  const registry = createRegistry("drift");
  recordResult(createDriftMetrics(registry), result);
  if (typeof values["metrics-file"] === "string") await writeMetricsFile(registry, values["metrics-file"]);
  if (typeof values.pushgateway === "string") await pushMetrics(registry, values.pushgateway, model ?? "unknown");
  const webhook = typeof values.webhook === "string" ? values.webhook : settings?.webhook;
  if (result.dataset_drift && webhook) {
    const outcome = await sendWebhook(webhook, result, { onAttempt: (n, what) => progress(`webhook attempt ${n}: ${what}`) });
    if (!outcome.delivered) result.notes.push(`webhook ${webhook} not delivered after ${outcome.attempts} attempts: ${outcome.error}`);
  }
  for (const f of result.features.filter((x) => x.drifted))
    progress(`  drift: ${f.name} (${f.method} ${f.p_value !== null ? `p=${f.p_value.toExponential(2)}` : `=${f.statistic?.toFixed(3)}`})`);
  progress(
    `${result.dataset_drift ? "DATASET DRIFT" : "no dataset drift"}: ${result.counts.drifted} of ${result.counts.checked} features drifted (share ${result.drift_share.toFixed(2)}, threshold ${result.drift_share_threshold})`,
  );
  if (values.json) process.stdout.write(`${resultToJson(result)}\n`);
  return 0;
}

async function serveCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(argv, SERVE_FLAGS);
  if (values.help)
    return print(
      helpText(
        "npm run drift -- serve --reference PROFILE [--port N]",
        "Serves POST /check (JSON rows or columns) and GET /metrics.",
        SERVE_FLAGS,
      ),
    );
  const profile = await loadReference(required(values, "reference", "the reference profile"));
  const { model, settings } = settingsFrom(values);
  const app = createDriftServer({
    profile,
    check: { model, driftShare: numberFlag(values, "drift-share") ?? settings?.driftShare, features: settings?.features },
  });
  closeOnSignals(app, createLogger("drift"));
  const address = await app.listen({ port: numberFlag(values, "port") ?? 8080, host: String(values.host) });
  progress(`drift API listening on ${address}`);
  return new Promise<number>(() => undefined);
}

function windowFlag(text: string): number {
  try {
    return parseWindow(text);
  } catch (error) {
    throw new UsageError(`--window: ${(error as Error).message}`);
  }
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "profile") return await profileCommand(rest);
    if (command === "check") return await checkCommand(rest);
    if (command === "serve") return await serveCommand(rest);
    if (!command || command === "--help" || command === "-h" || command === "help") return print(USAGE);
    throw new UsageError(`unknown command "${command}"; use profile, check or serve`);
  } catch (error) {
    process.stderr.write(`drift: ${(error as Error).message}\n`);
    if (error instanceof UsageError) process.stderr.write(`Run "npm run drift -- ${command ?? ""} --help" for usage.\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
