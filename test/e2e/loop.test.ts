import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoopResult, runLoop } from "../../demo/loop";

/**
 * The demo's loop as a test, on real processes: Redis (Debian's redis-server), the features service
 * (DuckDB offline store), one serving process per model version behind the VirtualService routes,
 * and the drift service's check, with a webhook receiver.
 */
let result: LoopResult;
let webhook: Server;
const hooks: unknown[] = [];

beforeAll(async () => {
  webhook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hooks.push(JSON.parse(Buffer.concat(chunks).toString() || "{}"));
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  const port = (webhook.address() as { port: number }).port;
  result = await runLoop({
    workDir: mkdtempSync(join(tmpdir(), "e2e-")),
    requests: 600,
    concurrency: 6,
    data: { cards: 1000, merchants: 100, hours: 24, end: new Date(Math.floor(Date.now() / 3600_000) * 3600_000), seed: 7 },
    progress: () => {},
    webhookUrl: `http://127.0.0.1:${port}/retrain`,
  });
}, 300_000);

afterAll(async () => {
  await new Promise<void>((resolve) => webhook?.close(() => resolve()));
});

describe("end to end: materialize, serve, shift, detect drift", () => {
  it("every request succeeds (shed requests are retried after Retry-After)", () => {
    expect(result.unshifted.failed).toEqual({});
    expect(result.shifted.failed).toEqual({});
    expect(result.unshifted.ok).toBe(600);
  });

  it("the model is trained on the point-in-time training set and what was trained is what serves", () => {
    expect(result.trained.map((t) => t.version)).toEqual(["v1", "v2"]);
    for (const t of result.trained) {
      // Most of the 3,000 entity rows are complete; the fit beats predicting the base rate alone.
      expect(t.rows).toBeGreaterThan(2000);
      expect(t.logLoss).toBeLessThan(Math.log(2));
      expect(result.servedModels[t.version]).toBe(t.path);
    }
    // v2's stronger L2 gives other weights, so the canary's versions answer differently.
    expect(result.trained[1]?.weights).not.toEqual(result.trained[0]?.weights);
  });

  it("predictions equal the model's output on the point-in-time training-set features at their time, exactly", () => {
    // Unshifted, header-override and shifted predictions; a few may cross a tile edge mid-request.
    expect(result.predictionCheck.checked).toBeGreaterThan(1200);
    expect(result.predictionCheck.maxAbsError).toBe(0);
  });

  it("live transactions reach card_stats' tiles by push, none refused", () => {
    expect(result.pushed.live).toBeGreaterThan(0);
    expect(result.pushed.shifted).toBeGreaterThan(1000);
  });

  it("the version split follows the catalog weights within 4.5 binomial standard deviations", () => {
    const n = result.unshifted.ok + result.shifted.ok;
    for (const [version, weight] of Object.entries(result.catalogWeights)) {
      const p = weight / 100;
      const observed = (result.unshifted.byVersion[version] ?? 0) + (result.shifted.byVersion[version] ?? 0);
      expect(Math.abs(observed - n * p)).toBeLessThanOrEqual(4.5 * Math.sqrt(n * p * (1 - p)) + 1);
    }
  });

  it("the header override reaches the named version, every time", () => {
    expect(result.headerOverride.byVersion).toEqual({ v2: 40 });
  });

  it("every accepted prediction is in the prediction log", () => {
    expect(result.loggedRecords).toBe(result.unshifted.ok + result.shifted.ok + 40);
  });

  it("the drift check reports no drift on unshifted traffic", () => {
    expect(result.drift.unshifted.counts.checked).toBe(5);
    expect(result.drift.unshifted.dataset_drift).toBe(false);
  });

  it("the drift check reports dataset drift on shifted traffic", () => {
    expect(result.drift.shifted.dataset_drift).toBe(true);
    expect(result.drift.shifted.drift_share).toBeGreaterThanOrEqual(0.5);
  });

  it("the retraining webhook fires exactly once, for the shifted window", () => {
    expect(hooks).toHaveLength(1);
    expect(JSON.stringify(hooks[0])).toContain("fraud-scorer");
  });
});
