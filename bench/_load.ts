import { Agent, request } from "node:http";

/** Latency percentiles in microseconds and throughput of one load run. */
export interface LoadStats {
  p50: number;
  p99: number;
  rps: number;
}

/** A percentile of latencies already sorted ascending (nearest rank). */
export function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

/** Sorted latencies -> p50/p99 (µs) and requests per second over `seconds`. */
export function loadStats(latenciesMicros: number[], seconds: number): LoadStats {
  const sorted = Float64Array.from(latenciesMicros).sort();
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), rps: sorted.length / seconds };
}

/**
 * A closed-loop HTTP load generator: `connections` loops, each on its own keep-alive socket,
 * sending the next POST when the previous answer is fully read, timed with
 * process.hrtime.bigint() (nanoseconds, reported in microseconds). Unlike autocannon, whose
 * histogram keeps whole milliseconds, sub-millisecond latencies keep their digits. Any non-200
 * answer fails the run.
 */
export async function closedLoop(url: string, body: string, seconds: number, connections: number): Promise<LoadStats> {
  const target = new URL(url);
  const payload = Buffer.from(body);
  const agent = new Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const latencies: number[] = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": payload.length },
        },
        (res) => {
          if (res.statusCode !== 200) {
            // Say why: the body is the service's {"error": ...} reason.
            let reason = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              if (reason.length < 2000) reason += chunk;
            });
            res.on("end", () => reject(new Error(`${url}: HTTP ${res.statusCode}: ${reason.slice(0, 500)}`)));
            res.on("error", reject);
            return;
          }
          res.on("data", () => {});
          res.on("end", resolve);
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  const loop = async () => {
    while (process.hrtime.bigint() < deadline) {
      const t0 = process.hrtime.bigint();
      await once();
      latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  };
  const started = process.hrtime.bigint();
  try {
    await Promise.all(Array.from({ length: connections }, loop));
  } finally {
    agent.destroy();
  }
  return loadStats(latencies, Number(process.hrtime.bigint() - started) / 1e9);
}
