/**
 * `npm run bench -- feature-engineering [--repeats N] [--reads N] [--scale F]`
 *
 * Aggregated views (issue 16), in one run with a real redis-server and DuckDB, in process:
 *  1. Online read of 10 aggregates (one view, 2 tile sizes, 3 window-block groups) for 1 and for
 *     100 entities (readAggregates: one HMGET of 9 window-block fields per entity, at most two
 *     states merged per aggregation) against a plain 10-feature read of the same entities (Feast's
 *     hashes, HMGET), each timed with process.hrtime.bigint(); p50/p99 in microseconds. Each entity
 *     holds a week of events (one an hour), so ~400 tile and block fields in its record.
 *  2. Push: raw events per second into the tiles (pushEvents: HMGET of the touched tiles + one
 *     compare-and-set script per entity), 100 events per push over 100 entities, against raw
 *     pipelined HSET + EXPIRE of the same keys and fields with the same states (the floor).
 *  3. Training set on DuckDB: `--scale` x 1M entity rows x 10 aggregates over `--scale` x 10M
 *     events (default --scale 0.01: 10k x 100k, a couple of minutes on a quiet 2-core machine),
 *     seconds and peak RSS, and the same at a tenth of the events (growth with the events).
 * Medians of repeats; `uptime` is printed beside the numbers. The last line is the headline ratio.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import Redis from "ioredis";
import { loadCatalog } from "../definition/load";
import type { Catalog } from "../definition/registry";
import { openTileStore, pushEvents, readAggregates } from "../services/features/aggregations";
import { DuckDBOfflineStore } from "../services/features/offline/duckdb";
import { openOnlineStore } from "../services/features/online/store";
import { onlineViewOf } from "../services/features/online/view";
import { nanosFromSeconds } from "../services/features/timestamp";
import { buildTrainingSet } from "../services/features/training-set";
import { startRedis } from "../test/support/redis";
import { machine, median } from "./_machine";

const AGGREGATIONS = `
      - { function: count, window: 1h }
      - { function: count, window: 1d }
      - { column: amount, function: sum, window: 1h }
      - { column: amount, function: mean, window: 7d }
      - { column: amount, function: max, window: 24h }
      - { column: amount, function: min, window: 24h }
      - { column: amount, function: sum, window: 7d }
      - { column: amount, function: stddev, window: 7d }
      - { column: amount, function: count_distinct, window: 7d, name: merchants_7d }
      - { column: amount, function: last, window: 1d }`;

function benchCatalog(dir: string): Catalog {
  mkdirSync(join(dir, "features"), { recursive: true });
  writeFileSync(
    join(dir, "features", "bench.yaml"),
    `team: bench
entities:
  - { name: card, joinKeys: [card_id], valueType: INT64 }
featureViews:
  - name: card_txn
    entities: [card]
    allowedLateness: 8d
    source: { table: transactions, timestampField: event_timestamp }
    fields:
      - { name: amount, dtype: Float64 }
    aggregations:${AGGREGATIONS}
  - name: card_plain
    entities: [card]
    ttl: 7d
    source: { table: card_plain, timestampField: event_timestamp }
    fields:
${Array.from({ length: 10 }, (_, i) => `      - { name: f${i}, dtype: Float64 }`).join("\n")}
`,
  );
  return loadCatalog(dir, "bench");
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Latencies, and this process's CPU time per call (the client's share; less noisy than wall time on a shared machine). */
async function timed(n: number, call: () => Promise<unknown>): Promise<{ p50: number; p99: number; cpu: number }> {
  const times: number[] = [];
  for (let i = 0; i < Math.min(50, Math.ceil(n / 10)); i++) await call();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await call();
    times.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), cpu: (cpu.user + cpu.system) / n };
}

async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakMiB: number }> {
  (globalThis as { gc?: () => void }).gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  const t0 = performance.now();
  try {
    const result = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, seconds: (performance.now() - t0) / 1000, peakMiB: (peak - base) / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

const us = (s: { p50: number; p99: number; cpu: number }) =>
  `p50 ${s.p50.toFixed(1).padStart(8)} us   p99 ${s.p99.toFixed(1).padStart(8)} us   cpu ${s.cpu.toFixed(1).padStart(8)} us`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: "string", default: "3" },
      reads: { type: "string", default: "2000" },
      scale: { type: "string", default: "0.01" },
    },
  });
  const repeats = Number(values.repeats);
  const reads = Number(values.reads);
  const scale = Number(values.scale);
  const { execSync } = await import("node:child_process");
  console.log(`bench feature-engineering: ${machine()}; load: ${execSync("uptime").toString().trim()}`);
  const dir = mkdtempSync(join(tmpdir(), "bench-fe-"));
  const catalog = benchCatalog(dir);
  const redis = await startRedis();
  const nowS = Math.floor(Date.now() / 1000);
  const nowUs = nowS * 1_000_000;
  try {
    const tiles = await openTileStore(redis.url, catalog, { timeoutMs: 5000 });
    const online = await openOnlineStore(redis.url, { timeoutMs: 5000 });
    const plain = onlineViewOf(catalog, "card_plain");
    const cards = Array.from({ length: 100 }, (_, i) => i + 1);
    // A week of hourly events per card, pushed in day-sized batches.
    for (let day = 7; day >= 0; day--) {
      const events = cards.flatMap((card) =>
        Array.from({ length: 24 }, (_, h) => ({
          card_id: card,
          event_timestamp: new Date((nowS - day * 86400 - h * 3600 - 60) * 1000).toISOString(),
          amount: (card * 7 + h) % 200,
        })),
      );
      await pushEvents(catalog, tiles, "card_txn", events, nowUs);
    }
    await online.writeFeatures(
      plain,
      cards.map((card) => ({
        key: [card],
        eventTimestamp: nanosFromSeconds(nowS - 60),
        values: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`f${i}`, card + i / 10])),
      })),
    );
    const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
    type Timing = { p50: number; p99: number; cpu: number };
    const read: Record<string, { plain: Timing[]; agg: Timing[] }> = {};
    for (const n of [1, 100]) {
      const keys = cards.slice(0, n).map((c) => [c]);
      read[n] = { plain: [], agg: [] };
      // 100-entity reads take ~100x longer: a twentieth of the reads keeps the default run short.
      const count = n === 1 ? reads : Math.max(50, Math.round(reads / 20));
      for (let r = 0; r < repeats; r++) {
        read[n]?.plain.push(await timed(count, () => online.readFeatures(plain, keys, names)));
        read[n]?.agg.push(await timed(count, () => readAggregates(catalog, tiles, "card_txn", keys, nowUs)));
      }
    }
    const med = (runs: Timing[]) => ({
      p50: median(runs.map((x) => x.p50)),
      p99: median(runs.map((x) => x.p99)),
      cpu: median(runs.map((x) => x.cpu)),
    });
    console.log("\nonline read (in process, one redis-server on loopback; 10 features; ~400 fields per record, 9 read)");
    for (const n of [1, 100]) {
      const [p, a] = [med(read[n]?.plain ?? []), med(read[n]?.agg ?? [])];
      console.log(`  ${String(n).padStart(3)} entities  plain 10 features (HMGET)   ${us(p)}`);
      console.log(
        `  ${String(n).padStart(3)} entities  10 aggregates (blocks)       ${us(a)}   p99 ratio ${(a.p99 / p.p99).toFixed(2)}x, cpu ${(a.cpu / p.cpu).toFixed(2)}x`,
      );
    }

    // Push: 100 events a push, one per card, in the current tile (the steady state of a stream).
    const admin = new Redis(redis.url);
    const pushRates: number[] = [];
    const rawRates: number[] = [];
    const pushes = Math.max(20, Math.round(reads / 20));
    for (let r = 0; r < repeats; r++) {
      let t0 = performance.now();
      for (let i = 0; i < pushes; i++) {
        const at = new Date((nowS - 30) * 1000 + i).toISOString();
        await pushEvents(
          catalog,
          tiles,
          "card_txn",
          cards.map((card) => ({ card_id: card, event_timestamp: at, amount: i % 50 })),
          nowUs,
        );
      }
      pushRates.push((pushes * cards.length) / ((performance.now() - t0) / 1000));
      // The floor: the same keys and fields rewritten with the same states, pipelined, no read, no script.
      const keys = await admin.keysBuffer("agg:bench:card_txn:*");
      const records = await Promise.all(keys.map((k) => admin.hgetall(k)));
      const current = records.map((rec) =>
        Object.entries(rec).filter(([f]) => f.startsWith("300:") || f.startsWith("3600:") || f.startsWith("86400:")),
      );
      const touched = current.map((fields) => {
        const latest = new Map<string, [string, string]>();
        for (const [f, v] of fields) {
          const size = f.split(":")[0] as string;
          const seen = latest.get(size);
          if (!seen || Number(f.split(":")[1]) > Number(seen[0].split(":")[1])) latest.set(size, [f, v]);
        }
        return [...latest.values()];
      });
      t0 = performance.now();
      for (let i = 0; i < pushes; i++) {
        const pipeline = admin.pipeline();
        keys.forEach((k, j) => {
          for (const [f, v] of touched[j] ?? []) pipeline.hset(k, f, v);
          pipeline.expire(k, 86400 * 9);
        });
        await pipeline.exec();
      }
      rawRates.push((pushes * keys.length) / ((performance.now() - t0) / 1000));
    }
    admin.disconnect();
    const [pushRate, rawRate] = [median(pushRates), median(rawRates)];
    console.log(`\npush (100 events per push over 100 entities, ${pushes} pushes, each touching 3 tiles per entity)`);
    console.log(`  raw pipelined HSET + EXPIRE of the same keys   ${rawRate.toFixed(0).padStart(8)} events/s`);
    console.log(
      `  pushEvents (HMGET + compare-and-set script)    ${pushRate.toFixed(0).padStart(8)} events/s   ratio ${(pushRate / rawRate).toFixed(2)}x`,
    );
    await tiles.close();
    await online.close();

    // Training set on DuckDB.
    const entities = Math.round(1_000_000 * scale);
    const cardsN = Math.max(100, Math.round(entities / 10));
    const offline = await DuckDBOfflineStore.open(join(dir, "offline.duckdb"));
    const runs: { events: number; seconds: number; peakMiB: number }[] = [];
    for (const events of [Math.round(1_000_000 * scale), Math.round(10_000_000 * scale)]) {
      // Events over 30 days before the entity rows' times (the last 7 days of them).
      await offline.run(`CREATE OR REPLACE TABLE transactions AS SELECT i % ${cardsN} AS card_id,
        TIMESTAMPTZ '2024-05-01 00:00:00+00' + to_microseconds((i * 7919) % (37 * 86400 * 1000000::BIGINT)) AS event_timestamp,
        ((i * 31) % 5000) / 10.0 AS amount FROM range(${events}) t(i)`);
      const entityFile = join(dir, "entities.parquet");
      await offline.run(`COPY (SELECT i % ${cardsN} AS card_id, TIMESTAMPTZ '2024-05-31 00:00:00+00' + to_microseconds((i * 104729) % (7 * 86400 * 1000000::BIGINT)) AS event_timestamp
        FROM range(${entities}) t(i)) TO '${entityFile}' (FORMAT parquet)`);
      const seconds: number[] = [];
      let peak = 0;
      for (let r = 0; r < Math.max(1, Math.min(repeats, 2)); r++) {
        const run = await measured(() =>
          buildTrainingSet(catalog, offline, {
            entities: { file: entityFile },
            features: AGGREGATIONS.trim()
              .split("\n")
              .map((line) => {
                const fn = /function: (\w+)/.exec(line)?.[1];
                const col = /column: (\w+)/.exec(line)?.[1];
                const win = /window: (\w+)/.exec(line)?.[1];
                const name = /name: (\w+)/.exec(line)?.[1];
                return `card_txn:${name ?? [col, fn, win].filter(Boolean).join("_")}`;
              }),
            out: join(dir, "train.parquet"),
          }),
        );
        if (run.result.rows !== entities) throw new Error(`training set has ${run.result.rows} rows, expected ${entities}`);
        seconds.push(run.seconds);
        peak = Math.max(peak, run.peakMiB);
      }
      runs.push({ events, seconds: median(seconds), peakMiB: peak });
    }
    await offline.close();
    console.log(`\ntraining set on DuckDB: ${entities} entity rows x 10 aggregates (${cardsN} cards), Parquet out`);
    for (const r of runs)
      console.log(
        `  ${String(r.events).padStart(9)} events   ${r.seconds.toFixed(2).padStart(7)} s   peak RSS +${r.peakMiB.toFixed(0)} MiB`,
      );
    const [small, large] = runs as [(typeof runs)[number], (typeof runs)[number]];
    console.log(
      `  10x the events: ${(large.seconds / small.seconds).toFixed(2)}x the time, ${(large.peakMiB / Math.max(1, small.peakMiB)).toFixed(2)}x the peak memory`,
    );
    const p99Ratio = (med(read[1]?.agg ?? []).p99 / med(read[1]?.plain ?? []).p99).toFixed(2);
    console.log(`\nheadline: online read of 10 aggregates for 1 entity, p99 ${p99Ratio}x a plain 10-feature read`);
  } finally {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
