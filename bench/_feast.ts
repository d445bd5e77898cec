/**
 * Feast's own Python feature server as a benchmark baseline: `feast serve` (venv-feast, the
 * pinned Feast of scripts/test-env.d/30-feast.sh) on the repository `export-feast` writes from the
 * same catalog, against the same Redis, so it reads the same rows the features service reads.
 *
 * One gunicorn worker (our service is one Node process), no access log, and `--max-requests 0`:
 * Feast's default recycles the worker every ~1000 requests, and a worker's restart (Feast's import
 * takes seconds) would land in the p99 as a pause that is about the bench, not the server.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../demo/processes";
import type { Catalog } from "../definition/registry";
import { feastRepository } from "../services/features/export-feast";
import { peerBin } from "../test/support/peers";

export interface FeastServer {
  url: string;
  /** The Feast version that answered (`feast version`). */
  version: string;
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const FEAST_ENV = { ...process.env, PYTHONWARNINGS: "ignore", FEAST_USAGE: "False" };

/** Polls `GET url` until it answers 200, the process exits, or `timeoutMs` passes. */
async function ready(url: string, proc: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`feast serve exited (${proc.exitCode ?? proc.signalCode}):\n${log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`feast serve did not answer ${url} within ${timeoutMs} ms:\n${log()}`);
}

/**
 * Exports `catalog` for `redisUrl`, runs `feast apply` on it and starts `feast serve` on a free
 * port; resolves once its /health answers. Throws (never skips) when venv-feast is missing.
 */
export async function startFeastServer(catalog: Catalog, redisUrl: string, timeoutMs = 240_000): Promise<FeastServer> {
  const feast = peerBin("feast", "feast");
  const repo = mkdtempSync(join(tmpdir(), "bench-feast-"));
  mkdirSync(join(repo, "data"), { recursive: true });
  for (const [file, text] of Object.entries(feastRepository(catalog, { onlineStore: redisUrl }))) writeFileSync(join(repo, file), text);
  // Asynchronous, so the caller's event loop keeps writing rows while Feast imports itself.
  const run = async (args: string[]) => {
    const { stdout } = await execFileAsync(feast, ["-c", repo, ...args], { env: FEAST_ENV, encoding: "utf8", timeout: timeoutMs });
    return stdout;
  };
  try {
    const [printed] = await Promise.all([run(["version"]), run(["apply"])]);
    // `feast version` prints `Feast SDK Version: "0.67.0"` in colour.
    const version = /\d+\.\d+\.\d+[\w.+-]*/.exec(printed)?.[0] ?? "unknown";
    const port = await freePort();
    // Its own process group, so stop() reaches gunicorn's worker as well as its master.
    const proc = spawn(
      feast,
      ["-c", repo, "serve", "-h", "127.0.0.1", "-p", String(port), "--no-access-log", "-w", "1", "--max-requests", "0"],
      { env: FEAST_ENV, detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    const signal = (name: NodeJS.Signals) => {
      try {
        if (proc.pid) process.kill(-proc.pid, name);
      } catch {
        // already gone
      }
    };
    const stop = async () => {
      if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
        signal("SIGTERM");
        const killed = setTimeout(() => signal("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killed);
      }
      rmSync(repo, { recursive: true, force: true });
    };
    const url = `http://127.0.0.1:${port}`;
    try {
      await ready(`${url}/health`, proc, timeoutMs, () => stderr);
    } catch (error) {
      await stop();
      throw error;
    }
    return { url, version, stop };
  } catch (error) {
    rmSync(repo, { recursive: true, force: true });
    throw error;
  }
}

interface OnlineResponse {
  metadata: { feature_names: string[] };
  results: { values: unknown[] }[];
}

/**
 * Two servers' answers to one request, feature name -> values, must agree: the baseline reads the
 * same rows, or its numbers mean nothing. Throws naming the first feature that differs.
 */
export function assertSameValues(ours: string, feast: string): void {
  const byName = (text: string) => {
    const body = JSON.parse(text) as OnlineResponse;
    return new Map(body.metadata.feature_names.map((name, i) => [name, JSON.stringify(body.results[i]?.values)]));
  };
  const [a, b] = [byName(ours), byName(feast)];
  for (const [name, values] of a) {
    if (b.get(name) !== values) throw new Error(`the baseline answers ${name} = ${b.get(name)}, the features service ${values}`);
  }
}
