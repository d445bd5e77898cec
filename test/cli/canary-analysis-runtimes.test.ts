import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main, queries } from "../../cli/canary-analysis";
import type { Io } from "../../cli/canary";
import { runtimeRecordingRules } from "../../components/k8s/monitoring/runtime-rules";
import { LATENCY_BUCKETS, METRICS, type Runtime, TRITON_METRICS, VLLM_METRICS } from "../../definition";
import { scannerPaths } from "../../policies/scan/scanners";
import { type FakePrometheus, startFakePrometheus } from "../support/fake-prometheus";

/**
 * canary-analysis reads the platform's recorded series, the same names for every runtime; vLLM and
 * Triton add their own signals. Two proofs, per runtime:
 * 1. Prometheus's own engine (promtool test rules) evaluates our recording rules over each
 *    runtime's native series and then the exact queries canary-analysis sends: they return the
 *    numbers the traffic implies, and nothing for a runtime that is not scraped.
 * 2. Against a fake Prometheus answering those queries, the verdicts: no data holds (exit 2),
 *    a bad p99 (or vLLM time to first token) rolls back (exit 1).
 */

const ROOT = join(__dirname, "..", "..");
const NS = "models";
const WINDOW = "10m";

type Labels = Record<string, string>;
const series = (name: string, labels: Labels) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;

/** A counter growing by `perStep` every 15 s for 20 minutes, in promtool's expanding notation. */
const counter = (perStep: number) => `0+${perStep}x80`;

/**
 * The serving container's series for one version (it fronts every runtime): `rps` requests a
 * second, all answered in the latency bucket that ends at `le` seconds; `errorsPerSecond` failed.
 */
function servingSeries(model: string, version: string, rps: number, le: number, errorsPerSecond = 0) {
  const base = { namespace: NS, model, version };
  const out = [{ series: series(METRICS.servingPredictions, { ...base, status: "ok" }), values: counter(rps * 15) }];
  if (errorsPerSecond)
    out.push({ series: series(METRICS.servingPredictions, { ...base, status: "error" }), values: counter(errorsPerSecond * 15) });
  for (const bucket of [...LATENCY_BUCKETS, Number.POSITIVE_INFINITY]) {
    const labels = { ...base, route: "predict", status: "ok", le: bucket === Number.POSITIVE_INFINITY ? "+Inf" : String(bucket) };
    out.push({ series: series(`${METRICS.servingRequestSeconds}_bucket`, labels), values: counter(bucket >= le ? rps * 15 : 0) });
  }
  return out;
}

/** The p99 histogram_quantile gives when every observation fell in the bucket ending at `le`. */
function p99Of(le: number): number {
  const buckets = [0, ...LATENCY_BUCKETS];
  const i = buckets.indexOf(le);
  const lower = buckets[i - 1] ?? 0;
  return lower + (le - lower) * 0.99;
}

/** vLLM's own series: time to first token, all in the bucket ending at `le`. */
function vllmSeries(model: string, version: string, rps: number, le: number) {
  const base = { namespace: NS, model, version };
  return [0.25, 0.5, 1, "+Inf"].map((bucket) => ({
    series: series(`${VLLM_METRICS.timeToFirstToken.name}_bucket`, { ...base, le: String(bucket) }),
    values: counter(bucket === "+Inf" || Number(bucket) >= le ? rps * 15 : 0),
  }));
}

/** Triton's own series: `rps` successes a second, each waiting `queueMs` in the scheduler queue. */
function tritonSeries(model: string, version: string, rps: number, queueMs: number) {
  const base = { namespace: NS, model, version };
  return [
    { series: series(TRITON_METRICS.requestSuccess.name, base), values: counter(rps * 15) },
    { series: series(TRITON_METRICS.queueDuration.name, base), values: counter(rps * 15 * queueMs * 1000) },
  ];
}

/** A query's value as promtool compares it: whole millionths, so float rounding cannot fail the test. */
const micro = (expr: string) => `round((${expr}) * 1e6)`;

interface Expectation {
  runtime: Runtime;
  version: string;
  /** Expected values; undefined means "no data" (an empty result). */
  requests: number;
  errorRate: number;
  p99: number;
  runtime_?: { signal: "timeToFirstTokenP99" | "queueWait"; value?: number };
}

function exprTests(model: string, e: Expectation) {
  const q = queries(model, { name: e.version, runtime: e.runtime }, WINDOW);
  const sample = (v: number) => [{ labels: "{}", value: Math.round(v * 1e6) }];
  const tests = [
    { expr: micro(q.requests), eval_time: "20m", exp_samples: sample(e.requests) },
    { expr: micro(q.errorRate), eval_time: "20m", exp_samples: sample(e.errorRate) },
    { expr: micro(q.p99), eval_time: "20m", exp_samples: sample(e.p99) },
  ];
  if (e.runtime_) {
    const query = q.runtime[e.runtime_.signal];
    expect(query, `${e.runtime} has a ${e.runtime_.signal} query`).toBeDefined();
    tests.push({
      expr: micro(query as string),
      eval_time: "20m",
      exp_samples: e.runtime_.value === undefined ? [] : sample(e.runtime_.value),
    });
  }
  return tests;
}

describe("canary-analysis's queries, evaluated by Prometheus (promtool) over each runtime's own series", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "canary-promql-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the same recorded names for onnx, vLLM and Triton, and finds nothing for a runtime that is not scraped", () => {
    writeFileSync(
      join(dir, "rules.yaml"),
      stringify({ groups: [{ name: "runtime-signals", interval: "15s", rules: runtimeRecordingRules() }] }),
    );
    const input_series = [
      // onnx: 10 req/s at <= 25 ms, 0.1 req/s failing on v1; v2 never failed (no error series at all).
      ...servingSeries("scorer", "v1", 10, 0.025, 0.1),
      ...servingSeries("scorer", "v2", 2, 0.05),
      // vLLM: v1 scraped (TTFT <= 0.5 s), v2's runtime not scraped (serving series only).
      ...servingSeries("chat", "v1", 4, 2.5),
      ...vllmSeries("chat", "v1", 4, 0.5),
      ...servingSeries("chat", "v2", 1, 2.5),
      // Triton: 20 req/s waiting 3 ms each.
      ...servingSeries("detector", "v1", 20, 0.01),
      ...tritonSeries("detector", "v1", 20, 3),
    ];
    const seconds = 600;
    const tests = [
      ...exprTests("scorer", { runtime: "onnx", version: "v1", requests: 10.1 * seconds, errorRate: 0.1 / 10.1, p99: p99Of(0.025) }),
      ...exprTests("scorer", { runtime: "onnx", version: "v2", requests: 2 * seconds, errorRate: 0, p99: p99Of(0.05) }),
      ...exprTests("chat", {
        runtime: "openai",
        version: "v1",
        requests: 4 * seconds,
        errorRate: 0,
        p99: p99Of(2.5),
        runtime_: { signal: "timeToFirstTokenP99", value: 0.25 + 0.25 * 0.99 },
      }),
      ...exprTests("chat", {
        runtime: "openai",
        version: "v2",
        requests: 1 * seconds,
        errorRate: 0,
        p99: p99Of(2.5),
        runtime_: { signal: "timeToFirstTokenP99", value: undefined },
      }),
      ...exprTests("detector", {
        runtime: "triton",
        version: "v1",
        requests: 20 * seconds,
        errorRate: 0,
        p99: p99Of(0.01),
        runtime_: { signal: "queueWait", value: 0.003 },
      }),
    ];
    writeFileSync(
      join(dir, "canary.test.yaml"),
      stringify({
        rule_files: ["rules.yaml"],
        evaluation_interval: "15s",
        tests: [{ interval: "15s", input_series, promql_expr_test: tests }],
      }),
    );
    const ran = spawnSync(scannerPaths.promtool(), ["test", "rules", "canary.test.yaml"], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    expect(`${ran.stdout}${ran.stderr}`).toContain("SUCCESS");
    expect(ran.status).toBe(0);
  });
});

/** Two versions of a model on an external runtime, v1 stable (90%) and v2 the canary (10%). */
function modelFile(runtime: "openai" | "triton", image: string, slo: Record<string, number>): string {
  const version = (name: string, weight: number) => ({
    name,
    runtime,
    image,
    modelUri: `s3://mlops-artifacts/test/${name}/`,
    weight,
    resources: { cpu: "4", memory: "24Gi" },
    gpu: { count: 1, accelerator: "nvidia-l4" },
  });
  return stringify({
    owner: "support-platform@example.com",
    featureService: "support_context",
    stacks: ["aws-dev"],
    versions: [version("v1", 90), version("v2", 10)],
    slo,
  });
}

describe("canary-analysis verdicts per runtime, against a fake Prometheus", () => {
  let prometheus: FakePrometheus;
  let catalog: string;
  beforeAll(async () => {
    prometheus = await startFakePrometheus();
    catalog = mkdtempSync(join(tmpdir(), "canary-catalog-"));
    cpSync(join(ROOT, "catalog"), catalog, { recursive: true });
    writeFileSync(
      join(catalog, "models", "support", "chat.yaml"),
      modelFile("openai", "vllm/vllm-openai:v0.6.3", { p99LatencyMs: 5000, errorRate: 0.02, timeToFirstTokenP99Ms: 800 }),
    );
    writeFileSync(
      join(catalog, "models", "support", "detector.yaml"),
      modelFile("triton", "nvcr.io/nvidia/tritonserver:24.08-py3", { p99LatencyMs: 100, errorRate: 0.01 }),
    );
  });
  afterAll(async () => {
    await prometheus.close();
    rmSync(catalog, { recursive: true, force: true });
  });

  async function verdict(model: string): Promise<{ code: number; out: string }> {
    let out = "";
    const io: Io = { stdout: (t) => (out += t), stderr: (t) => (out += t), env: {}, cwd: ROOT };
    const code = await main([model, "v2", "--prometheus", prometheus.url, "--catalog", catalog], io);
    return { code, out };
  }

  const healthy = { requests: 5000, errorRate: 0.001 };

  describe("vLLM (runtime openai)", () => {
    it("promotes when latency and time to first token are within the SLO and no worse than stable", async () => {
      prometheus.series = {
        v1: { ...healthy, p99Seconds: 2, ttftSeconds: 0.4 },
        v2: { ...healthy, p99Seconds: 2, ttftSeconds: 0.41 },
      };
      const r = await verdict("chat");
      expect(r.out).toMatch(/v2 +requests +5000 +errors +0\.10% +p99 2000\.0 ms +TTFT p99 410\.0 ms/);
      expect(r.code).toBe(0);
    });

    it("holds (exit 2) when the canary's vLLM metrics have no data: its runtime is not scraped", async () => {
      prometheus.series = { v1: { ...healthy, p99Seconds: 2, ttftSeconds: 0.4 }, v2: { ...healthy, p99Seconds: 2 } };
      const r = await verdict("chat");
      expect(r.code).toBe(2);
      expect(r.out).toMatch(
        /HOLD: Prometheus has no TTFT p99 \(mlops:model_time_to_first_token_seconds:p99_5m\) from its openai runtime for the canary/,
      );
    });

    it("holds (exit 2) when stable's vLLM metrics have no data", async () => {
      prometheus.series = { v1: { ...healthy, p99Seconds: 2 }, v2: { ...healthy, p99Seconds: 2, ttftSeconds: 0.4 } };
      const r = await verdict("chat");
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/no TTFT p99 .* for stable v1/);
    });

    it("rolls back (exit 1) a canary whose time to first token breaks the SLO", async () => {
      prometheus.series = { v1: { ...healthy, p99Seconds: 2, ttftSeconds: 0.4 }, v2: { ...healthy, p99Seconds: 2, ttftSeconds: 1.2 } };
      const r = await verdict("chat");
      expect(r.code).toBe(1);
      expect(r.out).toContain("ROLLBACK: time to first token p99 1200.0 ms is over the SLO's 800.0 ms");
    });

    it("rolls back (exit 1) a canary whose p99 breaks the SLO", async () => {
      prometheus.series = { v1: { ...healthy, p99Seconds: 2, ttftSeconds: 0.4 }, v2: { ...healthy, p99Seconds: 6, ttftSeconds: 0.4 } };
      const r = await verdict("chat");
      expect(r.code).toBe(1);
      expect(r.out).toContain("ROLLBACK: p99 6000.0 ms is over the SLO's 5000.0 ms");
    });
  });

  describe("Triton", () => {
    it("promotes when within the SLO with its queue wait reported", async () => {
      prometheus.series = {
        v1: { ...healthy, p99Seconds: 0.04, queueSeconds: 0.002 },
        v2: { ...healthy, p99Seconds: 0.041, queueSeconds: 0.003 },
      };
      const r = await verdict("detector");
      expect(r.out).toMatch(/v2 +requests +5000 +errors +0\.10% +p99 41\.0 ms +queue wait 3\.0 ms/);
      expect(r.code).toBe(0);
    });

    it("holds (exit 2) when Triton's own metrics have no data", async () => {
      prometheus.series = { v1: { ...healthy, p99Seconds: 0.04, queueSeconds: 0.002 }, v2: { ...healthy, p99Seconds: 0.04 } };
      const r = await verdict("detector");
      expect(r.code).toBe(2);
      expect(r.out).toContain("no queue wait (mlops:model_queue_seconds) from its triton runtime for the canary");
    });

    it("rolls back (exit 1) a canary whose p99 breaks the SLO", async () => {
      prometheus.series = {
        v1: { ...healthy, p99Seconds: 0.04, queueSeconds: 0.002 },
        v2: { ...healthy, p99Seconds: 0.25, queueSeconds: 0.2 },
      };
      const r = await verdict("detector");
      expect(r.code).toBe(1);
      expect(r.out).toContain("ROLLBACK: p99 250.0 ms is over the SLO's 100.0 ms");
    });
  });

  describe("the serving image (onnx)", () => {
    it("holds (exit 2) when a version has no data, and rolls back a bad p99", async () => {
      prometheus.series = { v2: { ...healthy, p99Seconds: 0.02 } };
      expect((await main(["fraud-scorer", "v2", "--prometheus", prometheus.url], silentIo())).valueOf()).toBe(2);
      prometheus.series = { v1: { ...healthy, p99Seconds: 0.02 }, v2: { ...healthy, p99Seconds: 0.2 } };
      expect(await main(["fraud-scorer", "v2", "--prometheus", prometheus.url], silentIo())).toBe(1);
    });
  });
});

function silentIo(): Io {
  return { stdout: () => {}, stderr: () => {}, env: {}, cwd: ROOT };
}
