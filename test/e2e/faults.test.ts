import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cardProfileRows, merchantRows, transactionRows, writeOffline } from "../../demo/data";
import { type LocalPlatform, loggedRecords, sendTraffic, startPlatform, waitForLogs } from "../../demo/loop";

/**
 * Redis dies mid-traffic. The services must answer 503 with a reason (never crash, never hang),
 * recover within seconds once Redis is back, and lose no prediction-log record they accepted.
 */
let platform: LocalPlatform;
const data = { cards: 300, merchants: 50, hours: 4, end: new Date(Math.floor(Date.now() / 3600_000) * 3600_000), seed: 3 };
const traffic = { cards: data.cards, merchants: data.merchants, concurrency: 4, retryShed: false, timeoutMs: 4000 };

beforeAll(async () => {
  const workDir = mkdtempSync(join(tmpdir(), "faults-"));
  const db = join(workDir, "offline.duckdb");
  const hours = [4, 3, 2];
  const from = new Date(Date.now() - 26 * 3600_000);
  const end = new Date(Date.now() - 60_000);
  await writeOffline(db, {
    transactions: transactionRows(data, from, end),
    profiles: cardProfileRows(data, from),
    merchants: merchantRows(data, hours),
  });
  platform = await startPlatform({ workDir, progress: () => {} }, db);
  const r = await fetch(`${platform.features.url}/materialize`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ start_ts: new Date(from.getTime() - 3600_000).toISOString(), end_ts: end.toISOString() }),
  });
  expect(r.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
});

describe("Redis outage", () => {
  it("answers 503 with a reason while Redis is down, recovers when it returns, and logs every accepted prediction", async () => {
    const before = await sendTraffic(platform.mesh, 100, { ...traffic, seed: 1 });
    expect(before.ok).toBe(100);

    await platform.redis?.kill();
    const started = performance.now();
    const during = await sendTraffic(platform.mesh, 60, { ...traffic, seed: 2 });
    const outageSeconds = (performance.now() - started) / 1000;
    // No hung requests (each has a 4 s client deadline) and no dropped connections: every answer is an HTTP status.
    expect(during.failed.network).toBeUndefined();
    expect(during.failed["503"]?.count ?? 0).toBeGreaterThan(50);
    expect(during.failed["503"]?.reason).toMatch(/unavailable|redis|store/i);
    expect(outageSeconds).toBeLessThan(30);
    // Both services are still alive.
    expect(platform.features.child.exitCode).toBeNull();
    for (const s of Object.values(platform.serving)) expect(s.child.exitCode).toBeNull();
    const ready = await fetch(`${platform.features.url}/readyz`);
    expect(ready.status).toBe(503);

    await platform.redis?.restart();
    const deadline = Date.now() + 15_000;
    let recoveredAfter = -1;
    while (Date.now() < deadline) {
      const probe = await sendTraffic(platform.mesh, 1, { ...traffic, concurrency: 1, seed: 9 });
      if (probe.ok === 1) {
        recoveredAfter = 15 - (deadline - Date.now()) / 1000;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    expect(recoveredAfter).toBeLessThan(10);
    const after = await sendTraffic(platform.mesh, 100, { ...traffic, seed: 3 });
    expect(after.ok).toBe(100);

    const accepted = before.ok + during.ok + after.ok + 1;
    expect(await waitForLogs(platform.logDir, accepted)).toBe(accepted);
    expect(new Set(loggedRecords(platform.logDir).map((r) => r.request_id)).size).toBe(accepted);
  }, 120_000);
});
