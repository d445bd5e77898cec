import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { judge, main, queries, type VersionStats } from "../../cli/canary-analysis";
import type { Io } from "../../cli/canary";
import { RECORDED } from "../../definition";
import { type FakePrometheus, startFakePrometheus } from "../support/fake-prometheus";

const ROOT = join(__dirname, "..", "..");
const SLO = { p99LatencyMs: 50, errorRate: 0.005 }; // fraud-scorer's SLO in the example catalog

let prometheus: FakePrometheus;
let url: string;
beforeAll(async () => {
  prometheus = await startFakePrometheus();
  url = prometheus.url;
});
afterAll(() => prometheus.close());

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {}, cwd: ROOT };
  const code = await main(["fraud-scorer", "v2", "--prometheus", url, ...args], io);
  return { code, out, err };
}

describe("canary-analysis against Prometheus", () => {
  it("promotes a canary within the SLO and no worse than stable (exit 0)", async () => {
    prometheus.mode = "ok";
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.03 },
      v2: { requests: 1000, errorRate: 0.0012, p99Seconds: 0.031 },
    };
    const r = await run([]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("PROMOTE");
    expect(r.out).toMatch(/v2\s+requests\s+1000\s+errors\s+0\.12%\s+p99 31\.0 ms/);
  });

  it("rolls back a canary whose error rate breaks the SLO (exit 1)", async () => {
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.03 },
      v2: { requests: 1000, errorRate: 0.02, p99Seconds: 0.03 },
    };
    const r = await run(["--json"]);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({
      model: "fraud-scorer",
      verdict: "rollback",
      exitCode: 1,
      canary: { version: "v2", requests: 1000, errorRate: 0.02 },
      stable: { version: "v1" },
    });
    expect(result.reasons[0]).toBe("error rate 2.00% is over the SLO's 0.50%");
  });

  it("rolls back a canary whose p99 breaks the SLO (exit 1)", async () => {
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.03 },
      v2: { requests: 1000, errorRate: 0.001, p99Seconds: 0.075 },
    };
    const r = await run([]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("ROLLBACK: p99 75.0 ms is over the SLO's 50.0 ms");
  });

  it("holds (exit 2), never promotes, when Prometheus has no series for stable: a runtime that is not scraped", async () => {
    prometheus.mode = "ok";
    prometheus.series = { v2: { requests: 1000, errorRate: 0.001, p99Seconds: 0.02 } };
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/HOLD: .*no latency for stable v1/);
  });

  it("holds while the canary has served too few requests (exit 2)", async () => {
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.03 },
      v2: { requests: 40, errorRate: 0.5, p99Seconds: 0.2 },
    };
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("the canary served 40 requests in the window, fewer than the 100 needed");
  });

  it("holds a canary within the SLO but clearly slower than stable (exit 2)", async () => {
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.02 },
      v2: { requests: 1000, errorRate: 0.001, p99Seconds: 0.045 },
    };
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toContain("p99 45.0 ms is more than 20% above stable's 20.0 ms");
  });

  it("queries the platform's recorded series for each version over the window", async () => {
    prometheus.series = {
      v1: { requests: 9000, errorRate: 0.001, p99Seconds: 0.03 },
      v2: { requests: 1000, errorRate: 0.001, p99Seconds: 0.03 },
    };
    prometheus.seen.length = 0;
    await run(["--window", "15m"]);
    expect(prometheus.seen).toHaveLength(6);
    expect(prometheus.seen.every((s) => s.startsWith("GET /api/v1/query "))).toBe(true);
    expect(prometheus.seen.join("\n")).toContain(`max(max_over_time(${RECORDED.latencyP99}{model="fraud-scorer",version="v2"}[15m]))`);
    expect(prometheus.seen.join("\n")).toContain(
      `(sum(avg_over_time(${RECORDED.errorRate}{model="fraud-scorer",version="v1"}[15m])) or vector(0))`,
    );
  });

  it("says it could not decide (exit 3) when Prometheus refuses the query, quoting its reason", async () => {
    prometheus.mode = "error";
    const r = await run([]);
    prometheus.mode = "ok";
    expect(r.code).toBe(3);
    expect(r.err).toContain("Prometheus refused the query (HTTP 400, bad_data: parse error at char 5");
  });

  it("says it could not decide (exit 3) when the URL is not Prometheus", async () => {
    prometheus.mode = "html";
    const r = await run([]);
    prometheus.mode = "ok";
    expect(r.code).toBe(3);
    expect(r.err).toContain("answered HTTP 502 without a JSON body");
  });

  it("gives up after its timeout when Prometheus does not answer, instead of hanging CI", async () => {
    prometheus.mode = "hang";
    const started = Date.now();
    const r = await run(["--timeout-ms", "300"]);
    prometheus.mode = "ok";
    expect(r.code).toBe(3);
    expect(r.err).toContain("no answer within 300 ms");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("names the network error when nothing listens at the Prometheus URL", async () => {
    // A port that was just free: nothing listens there, so the connection is refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    let err = "";
    const io: Io = { stdout: () => {}, stderr: (t) => (err += t), env: {}, cwd: ROOT };
    const code = await main(["fraud-scorer", "v2", "--prometheus", `http://127.0.0.1:${port}`, "--timeout-ms", "2000"], io);
    expect(code).toBe(3);
    expect(err).toContain(`cannot query Prometheus at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it("answers usage mistakes with exit 64", async () => {
    expect((await run(["--window", "soon"])).code).toBe(64);
    expect((await run(["--min-requests", "many"])).code).toBe(64);
    let out = "";
    expect(await main(["--help"], { stdout: (t) => (out += t), stderr: () => {}, env: {}, cwd: ROOT })).toBe(0);
    expect(out).toContain("exit 1");
    expect(out).toContain("[env CANARY_WINDOW]");
  });
});

describe("judge", () => {
  const stats = (version: string, requests: number, errorRate: number, p99Ms: number): VersionStats => ({
    version,
    runtime: "onnx",
    requests,
    errorRate,
    p99Ms,
    runtimeMs: {},
  });

  it("rolls back on an SLO breach even when stable is just as bad", () => {
    expect(judge(SLO, stats("v2", 500, 0.01, 10), stats("v1", 500, 0.01, 10), 100).verdict).toBe("rollback");
  });

  it("never promotes when stable has no data to compare with: it holds, naming the missing metric", () => {
    const r = judge(SLO, stats("v2", 500, 0.001, 10), stats("v1", 0, Number.NaN, Number.NaN), 100);
    expect(r.verdict).toBe("hold");
    expect(r.reasons[0]).toMatch(/no latency for stable v1 to compare with/);
    expect(judge(SLO, stats("v2", 500, 0.001, 10), stats("v1", 500, Number.NaN, 10), 100).reasons[0]).toMatch(
      /no error rate for stable v1/,
    );
  });

  it("still rolls back an SLO breach when stable has no data", () => {
    expect(judge(SLO, stats("v2", 500, 0.001, 80), stats("v1", 0, Number.NaN, Number.NaN), 100).verdict).toBe("rollback");
  });

  it("holds when the canary has traffic but no latency series", () => {
    expect(judge(SLO, stats("v2", 500, 0.001, Number.NaN), stats("v1", 500, 0.001, 10), 100).verdict).toBe("hold");
  });

  it("builds PromQL from the platform's recorded names, whatever the runtime", () => {
    const q = queries("m", { name: "v", runtime: "onnx" }, "5m");
    expect(q.requests).toBe(`sum(avg_over_time(${RECORDED.requestRate}{model="m",version="v"}[5m])) * 300`);
    expect(q.runtime).toEqual({});
    expect(queries("m", { name: "v", runtime: "openai" }, "5m").runtime).toEqual({
      timeToFirstTokenP99: `max(max_over_time(${RECORDED.timeToFirstTokenP99}{model="m",version="v"}[5m]))`,
    });
    expect(queries("m", { name: "v", runtime: "triton" }, "5m").runtime).toEqual({
      queueWait: `max(avg_over_time(${RECORDED.queueSeconds}{model="m",version="v"}[5m]))`,
    });
  });
});
