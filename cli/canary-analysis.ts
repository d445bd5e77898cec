/**
 * `npm run canary-analysis -- <model> <canary-version>`: asks Prometheus how the canary does
 * against the stable version and the model's SLO over a recent window, and says promote, hold
 * or rollback, with an exit code CI can branch on (0 promote, 2 hold, 1 rollback).
 */
import { resolve } from "node:path";
import {
  formatDuration,
  formatIssues,
  type ModelSpec,
  type ModelVersion,
  parseDuration,
  RECORDED,
  type Runtime,
  SpecError,
} from "../definition";
import { type FlagSpec, helpText, parseCommand, UsageError } from "../services/core/cli";
import { CanaryError, type Io, loadModel, stableVersionOf } from "./canary";

export const USAGE =
  "npm run canary-analysis -- <model> <canary-version> [--stable VERSION] [--prometheus URL] [--window 10m] [--min-requests N] [--json]";
const DESCRIPTION = `Compares the canary's error rate and p99 latency with the stable version's and with the model's SLO
(catalog slo.errorRate, slo.p99LatencyMs and, for vLLM, slo.timeToFirstTokenP99Ms), using the platform's
recorded series in Prometheus (the same names for every runtime; vLLM's TTFT and Triton's queue wait too).
  rollback  the canary breaks the SLO                                      exit 1
  hold      too few requests yet, a metric with no data (canary or stable),
            or within the SLO but clearly worse than stable (look first)  exit 2
  promote   within the SLO and not worse than the stable version          exit 0
Exit 3 when Prometheus cannot answer (nothing was decided), 64 on a usage error.`;

export const FLAGS: FlagSpec[] = [
  {
    name: "stable",
    type: "string",
    description: "the stable version to compare with (default: the other version carrying traffic)",
    env: "CANARY_STABLE",
  },
  {
    name: "prometheus",
    type: "string",
    description: "Prometheus base URL",
    default: "http://prometheus-operated.monitoring.svc.cluster.local:9090",
  },
  { name: "window", type: "string", description: "how far back to look", default: "10m", env: "CANARY_WINDOW" },
  {
    name: "min-requests",
    type: "string",
    description: "requests the canary must have served in the window before a verdict",
    default: "100",
    env: "CANARY_MIN_REQUESTS",
  },
  { name: "timeout-ms", type: "string", description: "timeout of each Prometheus query", default: "5000", env: "PROMETHEUS_TIMEOUT_MS" },
  { name: "catalog", type: "string", description: "catalog directory", default: "catalog" },
  { name: "json", type: "boolean", description: "print the result as JSON" },
];

export const EXIT = { promote: 0, rollback: 1, hold: 2, error: 3, usage: 64 } as const;
export type Verdict = "promote" | "hold" | "rollback";

/** Within the SLO, the canary may be this much worse than stable before a person should look. */
export const TOLERANCE = {
  /** Extra error rate allowed over stable, as a share of the SLO's error budget. */
  errorBudgetShare: 0.5,
  /** p99 allowed over stable's, as a ratio. */
  latencyRatio: 1.2,
} as const;

/** What Prometheus says about one version over the window. */
export interface VersionStats {
  version: string;
  runtime: Runtime;
  requests: number;
  /** Share of predictions that failed (status error or shed), 0..1; NaN without traffic. */
  errorRate: number;
  /** 99th percentile latency in milliseconds; NaN without traffic. */
  p99Ms: number;
  /** The runtime's own signals (vLLM time to first token, Triton queue wait), milliseconds; NaN without data. */
  runtimeMs: Partial<Record<RuntimeSignal, number>>;
}

/** Signals only some runtimes emit; a version of that runtime without them is not scraped (hold). */
export type RuntimeSignal = "timeToFirstTokenP99" | "queueWait";

/** Which runtime signals a version's runtime must report, with the platform's recorded name and a label. */
export const RUNTIME_SIGNALS: Record<Runtime, { signal: RuntimeSignal; recorded: string; label: string; over: "max" | "avg" }[]> = {
  onnx: [],
  "kserve-v2": [],
  triton: [{ signal: "queueWait", recorded: RECORDED.queueSeconds, label: "queue wait", over: "avg" }],
  openai: [{ signal: "timeToFirstTokenP99", recorded: RECORDED.timeToFirstTokenP99, label: "TTFT p99", over: "max" }],
};

export interface VersionQueries {
  requests: string;
  errorRate: string;
  p99: string;
  /** One query per runtime signal of the version's runtime, seconds. */
  runtime: Partial<Record<RuntimeSignal, string>>;
}

/**
 * PromQL for one version over the window, on the platform's recorded names
 * (definition/runtime-metrics.ts RECORDED, written by components/k8s/monitoring/runtime-rules.ts),
 * so every runtime is judged on the same series: the serving container fronts them all for
 * requests, errors and latency, and vLLM's and Triton's own series add their signals.
 * - requests: the mean per-second rate over the window times its seconds;
 * - error rate: errors over requests; a version that never failed has no error series at all
 *   (Prometheus does not invent zeros), so a missing numerator is 0, not "no data";
 * - p99 and TTFT p99: the worst 5-minute p99 in the window (a gate should see the bad minutes);
 * - Triton's queue wait: the mean over the window.
 */
export function queries(model: string, version: Pick<ModelVersion, "name" | "runtime">, window: string): VersionQueries {
  const sel = `{model="${model}",version="${version.name}"}`;
  const seconds = parseDuration(window);
  if (seconds === undefined) throw new UsageError(`window ${window} is not a duration`);
  const avg = (recorded: string) => `sum(avg_over_time(${recorded}${sel}[${window}]))`;
  const runtime: Partial<Record<RuntimeSignal, string>> = {};
  for (const s of RUNTIME_SIGNALS[version.runtime])
    runtime[s.signal] = `max(${s.over === "max" ? "max" : "avg"}_over_time(${s.recorded}${sel}[${window}]))`;
  return {
    requests: `${avg(RECORDED.requestRate)} * ${seconds}`,
    errorRate: `(${avg(RECORDED.errorRate)} or vector(0)) / ${avg(RECORDED.requestRate)}`,
    p99: `max(max_over_time(${RECORDED.latencyP99}${sel}[${window}]))`,
    runtime,
  };
}

interface PromResponse {
  status: "success" | "error";
  error?: string;
  errorType?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** Runs an instant query (GET /api/v1/query); an empty result is NaN (no such series yet). */
export async function instantQuery(baseUrl: string, query: string, timeoutMs: number): Promise<number> {
  const url = new URL("api/v1/query", baseUrl.endsWith("/") ? baseUrl : `${baseUrl}/`);
  url.searchParams.set("query", query);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    // fetch() reports every network failure as "fetch failed"; the reason is in its cause.
    const reason =
      (error as Error).name === "TimeoutError"
        ? `no answer within ${timeoutMs} ms`
        : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new PrometheusError(`cannot query Prometheus at ${baseUrl}: ${reason}`);
  }
  let body: PromResponse;
  try {
    body = (await response.json()) as PromResponse;
  } catch {
    throw new PrometheusError(
      `Prometheus at ${baseUrl} answered HTTP ${response.status} without a JSON body; is --prometheus the Prometheus base URL?`,
    );
  }
  if (body.status !== "success")
    throw new PrometheusError(
      `Prometheus refused the query (HTTP ${response.status}, ${body.errorType ?? "error"}: ${body.error ?? "no reason given"}): ${query}`,
    );
  const first = body.data?.result[0];
  if (!first) return Number.NaN;
  return Number(first.value[1]);
}

export class PrometheusError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrometheusError";
  }
}

export async function versionStats(
  baseUrl: string,
  model: string,
  version: Pick<ModelVersion, "name" | "runtime">,
  window: string,
  timeoutMs: number,
): Promise<VersionStats> {
  const q = queries(model, version, window);
  const signals = Object.entries(q.runtime) as [RuntimeSignal, string][];
  const [requests, errorRate, p99Seconds, ...runtimeSeconds] = await Promise.all([
    instantQuery(baseUrl, q.requests, timeoutMs),
    instantQuery(baseUrl, q.errorRate, timeoutMs),
    instantQuery(baseUrl, q.p99, timeoutMs),
    ...signals.map(([, query]) => instantQuery(baseUrl, query, timeoutMs)),
  ]);
  const runtimeMs: VersionStats["runtimeMs"] = {};
  signals.forEach(([signal], i) => {
    runtimeMs[signal] = (runtimeSeconds[i] as number) * 1000;
  });
  return {
    version: version.name,
    runtime: version.runtime,
    requests: Number.isNaN(requests) ? 0 : requests,
    errorRate,
    p99Ms: p99Seconds * 1000,
    runtimeMs,
  };
}

/** The first runtime signal a version should report and Prometheus has no data for. */
function missingSignal(s: VersionStats): string | undefined {
  const missing = RUNTIME_SIGNALS[s.runtime].find((r) => Number.isNaN(s.runtimeMs[r.signal] ?? Number.NaN));
  return missing && `${missing.label} (${missing.recorded}) from its ${s.runtime} runtime`;
}

/** The verdict and the reasons for it, from the numbers alone (pure, so it is tested directly). */
export function judge(
  slo: ModelSpec["slo"],
  canary: VersionStats,
  stable: VersionStats,
  minRequests: number,
): { verdict: Verdict; reasons: string[] } {
  if (canary.requests < minRequests) {
    return {
      verdict: "hold",
      reasons: [
        `the canary served ${Math.round(canary.requests)} requests in the window, fewer than the ${minRequests} needed for a verdict`,
      ],
    };
  }
  if (Number.isNaN(canary.errorRate) || Number.isNaN(canary.p99Ms)) {
    return {
      verdict: "hold",
      reasons: [
        `Prometheus has requests but no ${Number.isNaN(canary.p99Ms) ? "latency histogram" : "error rate"} for the canary; check that its pods are scraped`,
      ],
    };
  }
  const breaches: string[] = [];
  if (canary.errorRate > slo.errorRate) breaches.push(`error rate ${pct(canary.errorRate)} is over the SLO's ${pct(slo.errorRate)}`);
  if (canary.p99Ms > slo.p99LatencyMs) breaches.push(`p99 ${ms(canary.p99Ms)} is over the SLO's ${ms(slo.p99LatencyMs)}`);
  const ttft = canary.runtimeMs.timeToFirstTokenP99;
  if (slo.timeToFirstTokenP99Ms !== undefined && ttft !== undefined && ttft > slo.timeToFirstTokenP99Ms)
    breaches.push(`time to first token p99 ${ms(ttft)} is over the SLO's ${ms(slo.timeToFirstTokenP99Ms)}`);
  if (breaches.length) return { verdict: "rollback", reasons: breaches };
  // A runtime whose own metrics are missing is not scraped: its queue and TTFT are unknown.
  const canaryMissing = missingSignal(canary);
  if (canaryMissing)
    return {
      verdict: "hold",
      reasons: [`Prometheus has no ${canaryMissing} for the canary; check the runtimes ServiceMonitor scrapes its pods`],
    };
  // No numbers for stable means no comparison: never promote on half the evidence.
  const stableMissing = Number.isNaN(stable.p99Ms) ? "latency" : Number.isNaN(stable.errorRate) ? "error rate" : missingSignal(stable);
  if (stableMissing) {
    return {
      verdict: "hold",
      reasons: [
        `the canary is within the SLO, but Prometheus has no ${stableMissing} for stable ${stable.version} to compare with; check that its pods are scraped, or promote by hand`,
      ],
    };
  }
  const worse: string[] = [];
  const errorTolerance = slo.errorRate * TOLERANCE.errorBudgetShare;
  if (canary.errorRate > stable.errorRate + errorTolerance) {
    worse.push(`error rate ${pct(canary.errorRate)} is more than ${pct(errorTolerance)} above stable's ${pct(stable.errorRate)}`);
  }
  if (canary.p99Ms > stable.p99Ms * TOLERANCE.latencyRatio) {
    worse.push(
      `p99 ${ms(canary.p99Ms)} is more than ${Math.round((TOLERANCE.latencyRatio - 1) * 100)}% above stable's ${ms(stable.p99Ms)}`,
    );
  }
  if (worse.length) return { verdict: "hold", reasons: [...worse, "within the SLO, but worse than stable: look before promoting"] };
  return {
    verdict: "promote",
    reasons: [`error rate ${pct(canary.errorRate)} and p99 ${ms(canary.p99Ms)} are within the SLO and not worse than stable`],
  };
}

function pct(x: number): string {
  return Number.isNaN(x) ? "n/a" : `${(x * 100).toFixed(2)}%`;
}
function ms(x: number): string {
  return Number.isNaN(x) ? "n/a" : `${x.toFixed(1)} ms`;
}

const processIo: Io = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
};

/** Runs the command; resolves to the exit code. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let values: ReturnType<typeof parseCommand>["values"];
  let positionals: string[];
  let minRequests: number;
  let timeoutMs: number;
  let windowSeconds: number | undefined;
  try {
    ({ values, positionals } = parseCommand(argv, FLAGS, io.env));
    if (values.help) {
      io.stdout(helpText(USAGE, DESCRIPTION, FLAGS));
      return 0;
    }
    if (positionals.length !== 2) throw new UsageError(`expected <model> <canary-version>, got ${positionals.length} argument(s)`);
    minRequests = Number(values["min-requests"]);
    timeoutMs = Number(values["timeout-ms"]);
    windowSeconds = parseDuration(String(values.window));
    if (!Number.isFinite(minRequests) || minRequests < 0)
      throw new UsageError(`--min-requests ${values["min-requests"]} is not a number of requests`);
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new UsageError(`--timeout-ms ${values["timeout-ms"]} is not a positive number of milliseconds`);
    if (!windowSeconds || windowSeconds < 60)
      throw new UsageError(`--window ${values.window} must be a duration of at least 1m, like 10m or 1h`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`canary-analysis: ${error.message}\nUsage: ${USAGE}\n`);
    return EXIT.usage;
  }
  const [modelName, canaryVersion] = positionals as [string, string];
  try {
    const model = loadModel(resolve(io.cwd, values.catalog as string), modelName);
    const canaryVersionSpec = model.versions.find((v) => v.name === canaryVersion);
    if (!canaryVersionSpec)
      throw new CanaryError(`${model.name} has no version "${canaryVersion}"; use one of ${model.versions.map((v) => v.name).join(", ")}`);
    const stableName = stableVersionOf(model, canaryVersion, values.stable as string | undefined);
    const stableVersionSpec = model.versions.find((v) => v.name === stableName) ?? { name: stableName, runtime: canaryVersionSpec.runtime };
    const window = formatDuration(windowSeconds);
    const base = String(values.prometheus);
    const [canary, stable] = await Promise.all([
      versionStats(base, model.name, canaryVersionSpec, window, timeoutMs),
      versionStats(base, model.name, stableVersionSpec, window, timeoutMs),
    ]);
    const { verdict, reasons } = judge(model.slo, canary, stable, minRequests);
    if (values.json) {
      io.stdout(
        `${JSON.stringify({ model: model.name, verdict, exitCode: EXIT[verdict], reasons, window, slo: model.slo, canary: jsonStats(canary), stable: jsonStats(stable) })}\n`,
      );
    } else {
      io.stdout(
        [
          `${model.name}: canary ${canary.version} vs stable ${stable.version} over ${window} (SLO: p99 ${ms(model.slo.p99LatencyMs)}, error rate ${pct(model.slo.errorRate)})`,
          statsLine(canary),
          statsLine(stable),
          `${verdict.toUpperCase()}: ${reasons.join("; ")}`,
          "",
        ].join("\n"),
      );
    }
    return EXIT[verdict];
  } catch (error) {
    if (error instanceof PrometheusError || error instanceof CanaryError) io.stderr(`canary-analysis: ${error.message}\n`);
    else if (error instanceof SpecError) io.stderr(`canary-analysis: the catalog is not valid.\n${formatIssues(error.issues)}\n`);
    else throw error;
    return EXIT.error;
  }
}

/** One version's row of the table: requests, errors, p99, then its runtime's own signals. */
function statsLine(s: VersionStats): string {
  const signals = RUNTIME_SIGNALS[s.runtime].map((r) => `  ${r.label} ${ms(s.runtimeMs[r.signal] ?? Number.NaN)}`).join("");
  return `  ${s.version.padEnd(12)} requests ${String(Math.round(s.requests)).padStart(8)}  errors ${pct(s.errorRate).padStart(7)}  p99 ${ms(s.p99Ms)}${signals}`;
}

/** NaN is not JSON: versions without traffic report null. */
function jsonStats(s: VersionStats): Record<string, unknown> {
  const n = (x: number) => (Number.isNaN(x) ? null : x);
  const runtimeMs = Object.fromEntries(Object.entries(s.runtimeMs).map(([k, v]) => [k, n(v)]));
  return { version: s.version, runtime: s.runtime, requests: s.requests, errorRate: n(s.errorRate), p99Ms: n(s.p99Ms), runtimeMs };
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
