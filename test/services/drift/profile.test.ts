import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildProfile,
  parseProfile,
  PROFILE_VERSION,
  readProfile,
  reservoirSample,
  seededRandom,
  writeProfile,
} from "../../../services/drift/profile";
import { loadReference } from "../../../services/drift/run";
import { readTableFile } from "../../../services/drift/table";

const dir = mkdtempSync(join(tmpdir(), "drift-profile-"));

describe("reference profile", () => {
  it("is computed from a Parquet training set read with DuckDB, with exact statistics", async () => {
    const path = join(dir, "train.parquet");
    const instance = await DuckDBInstance.create(":memory:");
    const connection = await instance.connect();
    await connection.run(
      `COPY (SELECT i::DOUBLE AS x, CASE WHEN i % 4 = 0 THEN 'a' ELSE 'b' END AS c, i % 2 = 0 AS flag, (i % 3)::BIGINT AS k, TIMESTAMP '2026-01-01' AS ts FROM range(1, 1001) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    connection.closeSync();
    instance.closeSync();
    const profile = buildProfile(await readTableFile(path), { exclude: ["ts"], sampleSize: 100 });
    const x = profile.features.x!;
    expect(x.type).toBe("numeric");
    if (x.type !== "numeric") return;
    expect([x.n, x.min, x.max, x.mean]).toEqual([1000, 1, 1000, 500.5]);
    expect(x.std).toBeCloseTo(Math.sqrt((1000 ** 2 - 1) / 12), 9);
    expect(x.sample).toHaveLength(100);
    expect(x.psi.counts).toEqual(Array(10).fill(100));
    expect(profile.features.c).toMatchObject({ type: "categorical", counts: { a: 250, b: 750 } });
    expect(profile.features.flag).toMatchObject({ type: "categorical", counts: { true: 500, false: 500 } });
    expect(profile.features.k).toMatchObject({ type: "numeric", distinct: { values: [0, 1, 2], counts: [333, 334, 333] } });
    expect(profile.features.ts).toBeUndefined();
  });

  it("round-trips through JSON and is refused with a clear error when its version is unknown", () => {
    const profile = buildProfile({ rows: 3, columns: { x: [1, 2, null] } });
    const path = join(dir, "p.json");
    writeProfile(path, profile);
    expect(readProfile(path)).toEqual(profile);
    expect(() => parseProfile({ ...profile, version: PROFILE_VERSION + 1 }, "p.json")).toThrow(
      /p.json: profile version 2 is not supported .* rebuild it/,
    );
    expect(() => parseProfile({ hello: 1 }, "p.json")).toThrow(/not a drift profile/);
  });

  it("loads a CSV reference directly, profiling it on the fly", async () => {
    const path = join(dir, "train.csv");
    writeFileSync(path, "a,b\n1,x\n2,y\n3,x\n");
    const profile = await loadReference(path);
    expect(Object.keys(profile.features)).toEqual(["a", "b"]);
    expect(profile.source).toBe(path);
  });

  it("a reservoir sample never exceeds its size and keeps every value when it fits", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (values, size) => {
        const sample = reservoirSample(values, size, seededRandom(1));
        return sample.length === Math.min(size, values.length) && (values.length > size || sample.join() === values.join());
      }),
    );
  });
});
