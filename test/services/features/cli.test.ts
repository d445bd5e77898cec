import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DuckDBOfflineStore } from "../../../services/features/offline/duckdb";
import { readRecords } from "../../../services/features/offline/files";
import { EmbeddedOnlineStore } from "../../../services/features/online/embedded";
import { onlineViewOf } from "../../../services/features/online/view";
import { driverStatsTableSql, FIXTURE_CATALOG, fixtureCatalog, PROJECT } from "./support";

const MAIN = "services/features/main.ts";
let dir: string;

function features(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "silent", ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "features-cli-"));
  const offline = await DuckDBOfflineStore.open(join(dir, "offline.duckdb"));
  for (const s of driverStatsTableSql([
    {
      driver_id: 1,
      event_timestamp: "2024-05-01 10:00:00",
      created: "2024-05-01 10:00:00",
      conv_rate: 0.5,
      acc_rate: 0.25,
      avg_daily_trips: 10,
    },
    {
      driver_id: 1,
      event_timestamp: "2024-05-01 11:00:00",
      created: "2024-05-01 11:00:00",
      conv_rate: 0.75,
      acc_rate: 0.5,
      avg_daily_trips: 11,
    },
    {
      driver_id: 2,
      event_timestamp: "2024-05-01 09:00:00",
      created: "2024-05-01 09:00:00",
      conv_rate: 0.125,
      acc_rate: 0.5,
      avg_daily_trips: 20,
    },
  ]))
    await offline.run(s);
  await offline.run(
    `COPY (SELECT * FROM (VALUES (1, TIMESTAMP '2024-05-01 10:30:00'), (2, TIMESTAMP '2024-05-01 12:00:00')) t(driver_id, event_timestamp)) TO '${join(dir, "entities.parquet")}' (FORMAT parquet)`,
  );
  await offline.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("features command line", () => {
  it.each(["serve", "training-set"])("%s --help lists its flags with their env twins", (command) => {
    const { code, stdout } = features([command, "--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("--offline-store");
    expect(stdout).toContain("[env OFFLINE_STORE]");
  });

  it("exits 2 with the reason for an unknown command or a bad date", () => {
    const unknown = features(["serve-please"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "serve-please"');
    const date = features(["materialize", "yesterday", "2024-05-02", "--catalog", FIXTURE_CATALOG]);
    expect(date.code).toBe(2);
    expect(date.stderr).toContain('<start> "yesterday" is not a date');
  });

  it("materializes into an embedded store file with progress lines, and prints a JSON summary with --json", () => {
    const common = [
      "--catalog",
      FIXTURE_CATALOG,
      "--project",
      PROJECT,
      "--offline-store",
      `duckdb:${join(dir, "offline.duckdb")}`,
      "--online-store",
      `embedded:${join(dir, "online.json")}`,
      "--state",
      join(dir, "state.json"),
      "--views",
      "driver_hourly_stats",
    ];
    const human = features(["materialize", "2024-05-01", "2024-05-01T10:30:00", ...common]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/driver_hourly_stats: done, 2 rows read, 2 keys written/);
    // Env twin instead of the flag.
    const json = features(
      ["materialize-incremental", "2024-05-02", ...common.filter((a) => a !== "--state" && !a.endsWith("state.json")), "--json"],
      { MATERIALIZATION_STATE: join(dir, "state.json") },
    );
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.views[0]).toMatchObject({
      featureView: "driver_hourly_stats",
      start: "2024-05-01T10:30:00.000Z",
      rowsRead: 1,
      keysWritten: 1,
    });
    expect(JSON.parse(readFileSync(join(dir, "state.json"), "utf8")).driver_hourly_stats).toBe("2024-05-02T00:00:00.000Z");
  });

  it("leaves what it materialized in the embedded file for `serve` to load", async () => {
    const store = new EmbeddedOnlineStore(join(dir, "online.json"));
    const [row] = await store.readFeatures(onlineViewOf(fixtureCatalog(), "driver_hourly_stats"), [[1]], ["avg_daily_trips", "conv_rate"]);
    expect(row?.values).toEqual({ avg_daily_trips: 11, conv_rate: 0.75 });
  });

  it("writes a point-in-time training set to Parquet", async () => {
    const out = join(dir, "train.parquet");
    const { code, stdout } = features([
      "training-set",
      "--catalog",
      FIXTURE_CATALOG,
      "--offline-store",
      `duckdb:${join(dir, "offline.duckdb")}`,
      "--entities",
      join(dir, "entities.parquet"),
      "--feature-service",
      "driver_activity",
      "--out",
      out,
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/wrote 2 rows to .*train\.parquet/);
    expect(existsSync(out)).toBe(true);
    const rows = await readRecords(out);
    // Driver 2's only value is 3 h old at 12:00, past the view's 2 h TTL: null.
    expect(rows.map((r) => (r.avg_daily_trips === null ? null : Number(r.avg_daily_trips)))).toEqual([10, null]);
  });
});
