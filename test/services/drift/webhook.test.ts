import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { DriftResult } from "../../../services/drift/check";
import { checkDrift } from "../../../services/drift/check";
import { buildProfile } from "../../../services/drift/profile";
import { sendWebhook, webhookBody } from "../../../services/drift/webhook";

const profile = buildProfile({ rows: 4, columns: { x: [1, 2, 3, 4] } });
const result: DriftResult = checkDrift(profile, { rows: 4, columns: { x: [10, 11, 12, 13] } }, { model: "m" });

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
async function serve(statuses: number[]): Promise<{ url: string; hits: () => number }> {
  let hits = 0;
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(statuses[Math.min(hits++, statuses.length - 1)]!).end());
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`, hits: () => hits };
}

describe("retraining webhook", () => {
  it("has a Slack-compatible text field and the full result", () => {
    const body = JSON.parse(webhookBody(result));
    expect(body.text).toMatch(/Dataset drift for model m: 1 of 1 features drifted/);
    expect(body.result.dataset_drift).toBe(true);
  });
  it("gives up after a bounded number of attempts when the server keeps failing", async () => {
    const { url, hits } = await serve([503]);
    const outcome = await sendWebhook(url, result, { attempts: 3, backoffMs: 10 });
    expect(outcome).toEqual({ delivered: false, attempts: 3, status: 503, error: "HTTP 503" });
    expect(hits()).toBe(3);
  });
  it("does not retry a 4xx: the request itself is wrong", async () => {
    const { url, hits } = await serve([404]);
    const outcome = await sendWebhook(url, result, { attempts: 3, backoffMs: 10 });
    expect([outcome.delivered, outcome.attempts, hits()]).toEqual([false, 1, 1]);
  });
  it("retries a refused connection and reports the error", async () => {
    const outcome = await sendWebhook("http://127.0.0.1:9/", result, { attempts: 2, backoffMs: 10, timeoutMs: 2000 });
    expect(outcome.delivered).toBe(false);
    expect(outcome.attempts).toBe(2);
    expect(outcome.error).toBeTruthy();
  });
});
