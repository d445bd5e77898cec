/**
 * Feast's own SDK (venv-feast, scripts/test-env.d/30-feast.sh) on a repository that
 * `export-feast` writes from a catalog: the interop tests drive it with one JSON command per line
 * (test/support/feast_peer.py) and compare what Feast reads and writes with what we do.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import type { Catalog } from "../../definition/registry";
import { parseJson, stringifyJson } from "../../services/core/json";
import { type FeastExportOptions, feastRepository } from "../../services/features/export-feast";
import { peerPython } from "./peers";

export interface FeastPeer {
  /** The exported repository directory. */
  repo: string;
  /** Sends one command to Feast's SDK and resolves with its result; rejects with Feast's error text. */
  call<T = unknown>(command: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

/** Exports the catalog as a Feast repository, applies it with Feast, and keeps Feast's SDK running on it. */
export async function startFeast(catalog: Catalog, options: FeastExportOptions): Promise<FeastPeer> {
  const python = peerPython("feast");
  const repo = mkdtempSync(join(tmpdir(), "feast-repo-"));
  mkdirSync(join(repo, "data"), { recursive: true });
  for (const [file, text] of Object.entries(feastRepository(catalog, options))) writeFileSync(join(repo, file), text);
  const child: ChildProcessWithoutNullStreams = spawn(python, [join(__dirname, "feast_peer.py"), repo], {
    env: { ...process.env, PYTHONWARNINGS: "ignore", FEAST_USAGE: "False", AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  lines.on("line", (line) => waiting.shift()?.(line));
  const next = (timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`Feast did not answer in ${timeoutMs} ms; its stderr:\n${stderr}`)), timeoutMs);
      waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
      void exited.then(() => reject(new Error(`Feast exited; its stderr:\n${stderr}`)));
    });
  const answer = (line: string) => {
    const reply = parseJson(line) as { ok?: unknown; error?: string; trace?: string };
    if (reply.error !== undefined) throw new Error(`Feast: ${reply.error}\n${reply.trace ?? ""}`);
    return reply.ok;
  };
  answer(await next(180_000));
  let queue = Promise.resolve<unknown>(undefined);
  return {
    repo,
    call<T>(command: Record<string, unknown>): Promise<T> {
      const result = queue.then(async () => {
        const reply = next(120_000);
        child.stdin.write(`${stringifyJson(command)}\n`);
        return answer(await reply) as T;
      });
      queue = result.catch(() => undefined);
      return result;
    },
    async stop() {
      child.stdin.end();
      child.kill();
      await exited;
      rmSync(repo, { recursive: true, force: true });
    },
  };
}
