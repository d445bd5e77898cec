import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Arm } from "./ab-stats";

/** Every file under a directory, recursively (prediction logs are <root>/<model>/<day>/<hour>/*.jsonl). */
function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

async function* lines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) if (line.trim()) yield line;
}

function truthy(value: unknown): boolean | undefined {
  if (value === true || value === 1 || value === "1" || value === "true") return true;
  if (value === false || value === 0 || value === "0" || value === "false") return false;
  return undefined;
}

/**
 * Reads outcomes (request_id -> success) from a CSV with a header (request_id,outcome) or JSONL
 * ({"request_id": ..., "outcome": 0|1|true|false}): labels that arrive after the prediction.
 */
export async function readOutcomes(path: string): Promise<Map<string, boolean>> {
  const outcomes = new Map<string, boolean>();
  let header: string[] | undefined;
  let lineNo = 0;
  for await (const line of lines(path)) {
    lineNo++;
    let id: unknown;
    let outcome: unknown;
    if (path.endsWith(".csv")) {
      const cells = line.split(",").map((c) => c.trim());
      if (!header) {
        header = cells;
        if (!header.includes("request_id") || !header.includes("outcome"))
          throw new Error(`${path}: the header must have request_id and outcome columns (got ${line})`);
        continue;
      }
      id = cells[header.indexOf("request_id")];
      outcome = cells[header.indexOf("outcome")];
    } else {
      const record = JSON.parse(line) as { request_id?: unknown; outcome?: unknown };
      id = record.request_id;
      outcome = record.outcome;
    }
    const value = truthy(outcome);
    if (typeof id !== "string" || value === undefined)
      throw new Error(`${path}:${lineNo}: needs a request_id and an outcome of 0/1 or true/false`);
    outcomes.set(id, value);
  }
  return outcomes;
}

/** Per-version arms from the serving service's prediction logs of one model, joined with outcomes. */
export async function armsFromLogs(logRoot: string, model: string, outcomes: Map<string, boolean>): Promise<Arm[]> {
  const arms = new Map<string, Arm>();
  for (const file of files(join(logRoot, model)).filter((f) => f.endsWith(".jsonl"))) {
    for await (const line of lines(file)) {
      const record = JSON.parse(line) as { request_id?: string; version?: string; model?: string };
      if (record.model !== model || !record.version || !record.request_id) continue;
      const outcome = outcomes.get(record.request_id);
      if (outcome === undefined) continue;
      const arm = arms.get(record.version) ?? { version: record.version, successes: 0, trials: 0 };
      arm.trials++;
      if (outcome) arm.successes++;
      arms.set(record.version, arm);
    }
  }
  return [...arms.values()].sort((x, y) => x.version.localeCompare(y.version));
}

/** Per-version arms from two Prometheus instant queries returning vectors labelled by `version`. */
export async function armsFromPrometheus(url: string, successQuery: string, trialsQuery: string, timeoutMs = 10_000): Promise<Arm[]> {
  const query = async (q: string) => {
    const response = await fetch(`${url.replace(/\/$/, "")}/api/v1/query?query=${encodeURIComponent(q)}`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw new Error(`Prometheus answered ${response.status} to ${q}`);
    const body = (await response.json()) as {
      status: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      error?: string;
    };
    if (body.status !== "success" || !body.data) throw new Error(`Prometheus query failed: ${body.error ?? body.status}`);
    return new Map(body.data.result.map((r) => [r.metric.version ?? "", Number(r.value[1])]));
  };
  const [successes, trials] = await Promise.all([query(successQuery), query(trialsQuery)]);
  return [...trials.entries()]
    .filter(([version]) => version !== "")
    .map(([version, n]) => ({ version, trials: Math.round(n), successes: Math.round(successes.get(version) ?? 0) }))
    .sort((x, y) => x.version.localeCompare(y.version));
}
