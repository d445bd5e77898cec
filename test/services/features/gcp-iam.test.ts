import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StoreUnavailableError } from "../../../services/core/errors";
import { fetchAccessToken, METADATA_TOKEN_PATH, parseTokenResponse, refreshDelayMs } from "../../../services/features/online/gcp-iam";
import { parseRedisUrl } from "../../../services/features/online/redis-client";
import { openOnlineStore, type OnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { nanosFromSeconds } from "../../../services/features/timestamp";
import { freePort, type RedisCluster, startRedisCluster } from "../../support/redis";
import { fixtureCatalog } from "./support";

/**
 * Memorystore Cluster's IAM auth against a real three-master Redis Cluster whose password plays
 * the access token, and a stand-in for the GKE metadata server (the one cloud piece we cannot
 * reach): it answers as Google's does, and only with the Metadata-Flavor header.
 */
const run = promisify(execFile);
const stats = onlineViewOf(fixtureCatalog(), "driver_hourly_stats");
const keys = Array.from({ length: 60 }, (_, i) => [1000 + i]);

let token = "token-a";
const expiresIn = 2;
let answer: "token" | "error" = "token";
const requests: (string | undefined)[] = [];
let metadata: Server;
let cluster: RedisCluster;

/** Sets the password every node wants (requirepass: open connections stay authenticated, as Memorystore's do). */
async function requirePassword(password: string, current?: string): Promise<void> {
  for (const port of cluster.ports) {
    const auth = current ? ["-a", current, "--no-auth-warning"] : [];
    await run("redis-cli", ["-p", String(port), ...auth, "config", "set", "requirepass", password]);
  }
}

async function killClients(password: string): Promise<void> {
  for (const port of cluster.ports)
    await run("redis-cli", ["-p", String(port), "-a", password, "--no-auth-warning", "client", "kill", "type", "normal", "skipme", "yes"]);
}

beforeAll(async () => {
  metadata = createServer((req, res) => {
    requests.push(req.headers["metadata-flavor"] as string | undefined);
    if (req.url !== METADATA_TOKEN_PATH || req.headers["metadata-flavor"] !== "Google" || answer === "error") {
      res.writeHead(answer === "error" ? 500 : 403).end();
      return;
    }
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ access_token: token, expires_in: expiresIn, token_type: "Bearer" }));
  });
  await new Promise<void>((r) => metadata.listen(0, "127.0.0.1", r));
  process.env.GCE_METADATA_HOST = `127.0.0.1:${(metadata.address() as { port: number }).port}`;
  cluster = await startRedisCluster();
  await requirePassword("token-a");
}, 120_000);
afterAll(async () => {
  await cluster?.stop();
  metadata?.close();
});

describe("access tokens from the metadata server", () => {
  it("reads Google's answer and refuses one without a token", () => {
    expect(parseTokenResponse({ access_token: "ya29.x", expires_in: 3599, token_type: "Bearer" })).toEqual({
      token: "ya29.x",
      expiresInMs: 3_599_000,
    });
    expect(() => parseTokenResponse({ expires_in: 3599 })).toThrow(/no access_token/);
    expect(() => parseTokenResponse({ access_token: "t", expires_in: 0 })).toThrow(/expires_in=0/);
  });

  it("refreshes at half the remaining life, between 1 s and 30 min", () => {
    expect(refreshDelayMs(3_599_000)).toBe(1_799_500);
    expect(refreshDelayMs(100)).toBe(1000);
    expect(refreshDelayMs(10 * 3_600_000)).toBe(30 * 60_000);
  });

  it("gives up after its bounded tries, naming the metadata URL", async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(fetchAccessToken({ timeoutMs: 500, attempts: 3, host: `127.0.0.1:${port}` })).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${port}${METADATA_TOKEN_PATH}.*3 tries`),
    );
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("takes auth=gcp-iam from the store URL and refuses other auth values", () => {
    expect(parseRedisUrl("rediss+cluster://10.0.0.5:6379?auth=gcp-iam")).toMatchObject({
      target: "rediss+cluster://10.0.0.5:6379",
      iamAuth: true,
    });
    expect(parseRedisUrl("redis://h:6379").iamAuth).toBeUndefined();
    expect(() => parseRedisUrl("redis+cluster://h:6379?auth=aws-iam")).toThrow(/auth=aws-iam is not supported/);
  });
});

describe("a Redis Cluster with IAM auth (redis+cluster://...?auth=gcp-iam)", () => {
  let store: OnlineStore;
  afterAll(async () => store?.close());

  it("authenticates every shard with the token, sent only with Metadata-Flavor: Google", async () => {
    store = await openOnlineStore(`${cluster.url}?auth=gcp-iam`, { timeoutMs: 1000 });
    const written = await store.writeFeatures(
      stats,
      keys.map((key, i) => ({ key, eventTimestamp: nanosFromSeconds(1_700_000_000), values: { avg_daily_trips: i } })),
    );
    expect(written).toEqual({ written: keys.length, skipped: 0 });
    expect((await store.readFeatures(stats, keys, ["avg_daily_trips"])).map((r) => r?.values.avg_daily_trips)).toEqual(
      keys.map((_, i) => i),
    );
    expect(requests.length).toBeGreaterThan(0);
    expect(new Set(requests)).toEqual(new Set(["Google"]));
  });

  it("after the token rotates, connections opened later use the new one", async () => {
    token = "token-b";
    await requirePassword("token-b", "token-a");
    // The 2 s token is refreshed after 1 s; give it time, then drop every connection so all are new.
    await new Promise((r) => setTimeout(r, 2500));
    await killClients("token-b");
    const deadline = Date.now() + 10_000;
    let values: unknown[] = [];
    while (Date.now() < deadline) {
      try {
        values = (await store.readFeatures(stats, keys, ["avg_daily_trips"])).map((r) => r?.values.avg_daily_trips);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    expect(values).toEqual(keys.map((_, i) => i));
  }, 30_000);

  it("when the metadata server fails, opening still returns at once and calls answer 503", async () => {
    answer = "error";
    const started = Date.now();
    const failing = await openOnlineStore(`${cluster.url}?auth=gcp-iam`, { timeoutMs: 500 });
    try {
      await expect(failing.readFeatures(stats, keys.slice(0, 3), ["avg_daily_trips"])).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      await failing.close();
      answer = "token";
    }
  }, 30_000);
});
