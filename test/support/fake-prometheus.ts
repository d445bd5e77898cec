import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { RECORDED } from "../../definition";

/** What the fake Prometheus knows per version: requests in the window, error share, p99 and the runtime's signals in seconds. */
export type Series = Record<
  string,
  { requests: number; errorRate: number; p99Seconds: number; ttftSeconds?: number; queueSeconds?: number }
>;

/** The fake's answer to one of canary-analysis's queries, by the recorded series it reads; undefined is no data. */
export function answer(series: Series, query: string): number | undefined {
  const s = series[/version="([^"]+)"/.exec(query)?.[1] ?? ""];
  if (!s) return undefined;
  if (query.startsWith(`(sum(avg_over_time(${RECORDED.errorRate}`)) return s.errorRate;
  if (query.startsWith(`sum(avg_over_time(${RECORDED.requestRate}`)) return s.requests;
  if (query.includes(RECORDED.latencyP99)) return s.p99Seconds;
  if (query.includes(RECORDED.timeToFirstTokenP99)) return s.ttftSeconds;
  if (query.includes(RECORDED.queueSeconds)) return s.queueSeconds;
  return undefined;
}

export interface FakePrometheus {
  url: string;
  /** The series the next answers come from. */
  series: Series;
  mode: "ok" | "error" | "hang" | "html";
  /** "METHOD /path query" of every request, in order. */
  seen: string[];
  close(): Promise<void>;
}

/**
 * A real HTTP server speaking the Prometheus HTTP API's instant-query response format
 * (GET /api/v1/query), answering canary-analysis's queries from `series`; `mode` makes it refuse
 * the query, answer HTML or never answer.
 */
export async function startFakePrometheus(): Promise<FakePrometheus> {
  const fake: Omit<FakePrometheus, "url" | "close"> = { series: {}, mode: "ok", seen: [] };
  const server = createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    const query = u.searchParams.get("query") ?? "";
    fake.seen.push(`${req.method} ${u.pathname} ${query}`);
    if (fake.mode === "hang") return; // never answers: the client's timeout must fire
    if (fake.mode === "html") {
      res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>");
      return;
    }
    if (fake.mode === "error") {
      res
        .writeHead(400, { "content-type": "application/json" })
        .end(JSON.stringify({ status: "error", errorType: "bad_data", error: 'parse error at char 5: unexpected "{"' }));
      return;
    }
    const value = answer(fake.series, query);
    const result = value === undefined ? [] : [{ metric: {}, value: [1700000000.123, String(value)] }];
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ status: "success", data: { resultType: "vector", result } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return Object.assign(fake, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
}
