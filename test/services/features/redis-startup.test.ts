import { nanosFromSeconds } from "../../../services/features/timestamp";
import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { openOnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { freePort } from "../../support/redis";
import { fixtureCatalog } from "./support";

let server: ChildProcess | undefined;
afterAll(() => {
  server?.kill("SIGKILL");
});

describe("Redis online store started before Redis", () => {
  it("opens without Redis, answers 503-style errors, and serves once Redis comes up", async () => {
    const port = await freePort();
    const started = Date.now();
    const store = await openOnlineStore(`redis://127.0.0.1:${port}`, { timeoutMs: 200 });
    // Opening does not hang on a missing Redis.
    expect(Date.now() - started).toBeLessThan(3000);
    const view = onlineViewOf(fixtureCatalog(), "driver_hourly_stats");
    await expect(store.readFeatures(view, [[1]], ["acc_rate"])).rejects.toMatchObject({ statusCode: 503 });
    await expect(store.health()).rejects.toThrow(/unavailable/);

    server = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const deadline = Date.now() + 5000;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      healthy = await store.health().then(
        () => true,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthy).toBe(true);
    await store.writeFeatures(view, [{ key: [1], eventTimestamp: nanosFromSeconds(1700000000), values: { acc_rate: 0.5 } }]);
    expect((await store.readFeatures(view, [[1]], ["acc_rate"]))[0]?.values).toEqual({ acc_rate: 0.5 });
    await store.close();
  });
});
