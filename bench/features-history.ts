/**
 * `npm run bench -- features-history [--base REV] [--duration S] [--repeats N] [--connections C]`
 *
 * Has the lookup got slower? bench/features' lookup (1x10 and 100x10, closed loop, hrtime, µs)
 * against two features services in the same run, back to back on the same redis-server and rows:
 * this tree's and the one at `--base` (default dab5b28, the commit before issue 21 made 64-bit
 * integers exact and event times nanosecond: lossless parsing, bigint times, the wider decode).
 * Each gets the same floor, measured in the same run: raw pipelined Redis + a bare HTTP server.
 * The base's code comes from `git archive` into a temporary directory sharing this tree's
 * node_modules, so nothing in the repository is checked out. Old and new alternate in every
 * repeat so load on a shared machine falls on both. The last line is the headline ratio.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { startRedis } from "../test/support/redis";
import { benchCatalog, medianStats, rawRedis, seedLookupRows, start } from "./features";
import { assertSameValues } from "./_feast";
import { archiveTree } from "./_tree";
import { closedLoop, type LoadStats } from "./_load";
import { machine } from "./_machine";

const ROOT = resolve(__dirname, "..");
const BASE = "dab5b28448c559637516936d9a45076f7e9b68b7";
const FEATURES = Array.from({ length: 10 }, (_, i) => `stats_a:f${i}`);

/** Child role: the features service of another tree (its own server code, this tree's catalog). */
async function treeServer(tree: string, redisUrl: string): Promise<void> {
  const { createFeaturesServer } = await import(join(tree, "services/features/server"));
  const { openOnlineStore } = await import(join(tree, "services/features/online/store"));
  const { createLogger } = await import(join(tree, "services/core"));
  const onlineStore = await openOnlineStore(redisUrl);
  const app = await createFeaturesServer({ catalog: benchCatalog(), onlineStore, logger: createLogger("features", "silent") });
  process.send?.({ url: await app.listen({ port: 0, host: "127.0.0.1" }) });
}

function startTree(tree: string, redisUrl: string): Promise<{ url: string; proc: ChildProcess }> {
  const proc = fork(__filename, ["--role", "tree", tree, redisUrl], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((done, fail) => {
    proc.once("message", (m: { url: string }) => done({ url: m.url, proc }));
    proc.once("exit", (code) => fail(new Error(`base features server exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      base: { type: "string", default: BASE },
      duration: { type: "string", default: "4" },
      repeats: { type: "string", default: "3" },
      connections: { type: "string", default: "10" },
    },
  });
  const [seconds, repeats, connections] = [Number(values.duration), Number(values.repeats), Number(values.connections)];
  const base = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", values.base as string], { encoding: "utf8" }).trim();
  const head = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
  console.log(`features lookup, this tree (${head}) against ${base}, on ${machine()}`);
  console.log(`${connections} connections, ${seconds} s per run, ${repeats} runs (medians), old and new alternating\n`);
  const redisServer = await startRedis();
  const redis = new Redis(redisServer.url);
  const baseTree = archiveTree(ROOT, values.base as string).dir;
  const children: ChildProcess[] = [];
  const ratios: { shape: string; before: number; after: number }[] = [];
  try {
    await seedLookupRows(redisServer.url);
    const after = await start("features", redisServer.url);
    const before = await startTree(baseTree, redisServer.url);
    children.push(after.proc, before.proc);
    for (const rows of [1, 100]) {
      const ids = Array.from({ length: rows }, (_, i) => (i * 97) % 10_000);
      const body = JSON.stringify({ features: FEATURES, entities: { driver_id: ids } });
      const url = (server: { url: string }) => `${server.url}/get-online-features`;
      const answers = await Promise.all(
        [after, before].map(async (s) =>
          (await fetch(url(s), { method: "POST", body, headers: { "content-type": "application/json" } })).text(),
        ),
      );
      assertSameValues(answers[0] as string, answers[1] as string);
      const bare = await start("bare", String(Buffer.byteLength(answers[0] as string)));
      children.push(bare.proc);
      for (const s of [after, before, bare]) await closedLoop(s === bare ? s.url : url(s), body, 1, connections); // warm-up
      const runs: Record<"after" | "before" | "http" | "raw", LoadStats[]> = { after: [], before: [], http: [], raw: [] };
      for (let r = 0; r < repeats; r++) {
        // Alternate which goes first, so neither always runs on the warmer (or busier) machine.
        const order = r % 2 ? (["before", "after"] as const) : (["after", "before"] as const);
        for (const which of order) runs[which].push(await closedLoop(url(which === "after" ? after : before), body, seconds, connections));
        runs.http.push(await closedLoop(bare.url, body, seconds, connections));
        runs.raw.push(await rawRedis(redis, ids, seconds, connections));
      }
      bare.proc.kill();
      const [a, b, h, w] = [medianStats(runs.after), medianStats(runs.before), medianStats(runs.http), medianStats(runs.raw)];
      const floor = h.p99 + w.p99;
      const us = (n: number) => `${n.toFixed(0)} µs`;
      console.log(
        `lookup ${rows}x10 (response ${Buffer.byteLength(answers[0] as string)} B here, ${Buffer.byteLength(answers[1] as string)} B at ${base})`,
      );
      console.log(
        `  ${head} (after)   p50 ${us(a.p50)}  p99 ${us(a.p99)}  ${a.rps.toFixed(0)} req/s  p99/floor ${(a.p99 / floor).toFixed(2)}x`,
      );
      console.log(
        `  ${base} (before)  p50 ${us(b.p50)}  p99 ${us(b.p99)}  ${b.rps.toFixed(0)} req/s  p99/floor ${(b.p99 / floor).toFixed(2)}x`,
      );
      console.log(
        `  floor: raw Redis p99 ${us(w.p99)} + bare HTTP p99 ${us(h.p99)} = ${us(floor)}; after/before p99 ${(a.p99 / b.p99).toFixed(2)}x, req/s ${(a.rps / b.rps).toFixed(2)}x\n`,
      );
      ratios.push({ shape: `${rows}x10`, before: b.p99 / floor, after: a.p99 / floor });
    }
    console.log(`machine load (uptime): ${execFileSync("uptime", { encoding: "utf8" }).trim()}`);
    console.log(
      `headline: lookup p99/floor ratio ${ratios.map((r) => `${r.shape} ${r.before.toFixed(2)}x -> ${r.after.toFixed(2)}x`).join(", ")} (${base} -> ${head}; lower is better)`,
    );
  } finally {
    for (const c of children) c.kill();
    redis.disconnect();
    await redisServer.stop();
    rmSync(baseTree, { recursive: true, force: true });
  }
}

const roleAt = process.argv.indexOf("--role");
if (roleAt >= 0) {
  void treeServer(process.argv[roleAt + 2] as string, process.argv[roleAt + 3] as string);
} else {
  main().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`bench features-history: ${error.stack ?? error.message}`);
      process.exit(1);
    },
  );
}
