import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { FastifyInstance } from "fastify";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog } from "../../definition/load";
import { createRegistry } from "../../services/core";
import { buildProfile } from "../../services/drift/profile";
import { createDriftServer } from "../../services/drift/server";
import { DuckDBOfflineStore } from "../../services/features/offline/duckdb";
import { EmbeddedOnlineStore } from "../../services/features/online/embedded";
import { createFeaturesServer } from "../../services/features/server";
import { createServingServer } from "../../services/serving";
import { modelPath } from "../services/serving/fakes";
import { generator } from "../services/drift/generate";
import { peerBin } from "../support/peers";
import { FIXTURE_CATALOG, PROJECT } from "../services/features/support";

/**
 * schemathesis (venv-schemathesis) fuzzes each running service from its own /openapi.json: every
 * check (no 5xx, status codes, content types and bodies as documented, schema-violating input
 * refused, 405 for undeclared methods) except positive_data_acceptance: our APIs refuse with 400
 * input that is schema-valid but wrong (columns of unequal length, a feature view not in the
 * catalog), which a JSON Schema cannot say. Bounded: 25 examples per operation, a fixed seed,
 * 60 s per service at most (CI time: about 3 minutes for the three).
 */
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "schemathesis-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function fuzz(service: string, app: FastifyInstance): Promise<{ cases: number; output: string }> {
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  try {
    const args = [
      "--no-color",
      "run",
      `${url}/openapi.json`,
      ...["--checks", "all", "--exclude-checks", "positive_data_acceptance"],
      ...["--max-examples", "25", "--seed", "1", "--workers", "1", "--max-time", "60"],
      ...["--request-timeout", "20", "--generation-database", "none"],
    ];
    const result = await run(peerBin("schemathesis", "schemathesis"), args, {
      cwd: work,
      timeout: 300_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; code?: number }) => {
      throw new Error(`schemathesis found failures (exit ${error.code}):\n${error.stdout ?? ""}${error.stderr ?? ""}`);
    });
    const cases = Number(/(\d+) generated/.exec(result.stdout)?.[1] ?? Number.NaN);
    console.log(`schemathesis ${service}: ${cases} test cases, all passed`);
    return { cases, output: result.stdout };
  } finally {
    await app.close();
  }
}

describe("schemathesis against each running service", () => {
  it("features: no 5xx, answers as documented, bad input refused", async () => {
    const app = await createFeaturesServer({
      catalog: loadCatalog(FIXTURE_CATALOG, PROJECT),
      onlineStore: new EmbeddedOnlineStore(),
      offlineStore: await DuckDBOfflineStore.open(":memory:"),
      registry: createRegistry("features-fuzz"),
    });
    const { cases, output } = await fuzz("features", app);
    expect(cases, output).toBeGreaterThan(100);
  }, 400_000);

  it("serving: no 5xx, answers as documented, bad input refused", async () => {
    const app = await createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: modelPath("v1") }],
      registry: createRegistry("serving-fuzz"),
      maxEventLoopDelayMs: 0,
    });
    const { cases, output } = await fuzz("serving", app);
    expect(cases, output).toBeGreaterThan(100);
  }, 400_000);

  it("drift: no 5xx, answers as documented, bad input refused", async () => {
    const g = generator(3);
    const profile = buildProfile({
      rows: 500,
      columns: { amount: g.normal(500), channel: Array.from({ length: 500 }, (_, i) => (i % 3 ? "pos" : "web")) },
    });
    const { cases, output } = await fuzz("drift", createDriftServer({ profile }));
    expect(cases, output).toBeGreaterThan(20);
  }, 400_000);
});
