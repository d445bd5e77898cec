import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generator } from "./generate";

const root = join(__dirname, "../../..");
const dir = mkdtempSync(join(tmpdir(), "drift-e2e-"));
const g = generator(1234);
const channel = (web: number) => (g.random() < web ? "web" : g.random() < 0.5 ? "pos" : "atm");

/** Training set as CSV; prediction logs of one hour in the serving layout, with traffic shifted. */
function writeInputs(shift: number): { reference: string; logs: string } {
  const rows = ["amount,merchant_risk,channel,hour"];
  for (let i = 0; i < 4000; i++)
    rows.push(`${(50 + 10 * g.normal(1)[0]!).toFixed(3)},${g.random().toFixed(4)},${channel(0.2)},${Math.floor(g.random() * 24)}`);
  const reference = join(dir, `train-${shift}.csv`);
  writeFileSync(reference, `${rows.join("\n")}\n`);
  const logs = join(dir, `logs-${shift}`);
  const hourDir = join(logs, "fraud-scorer/2026-11-23/10");
  mkdirSync(hourDir, { recursive: true });
  for (const [file, count] of [
    ["v1-4242-0.jsonl", 900],
    ["v2-4243-0.jsonl", 300],
  ] as const) {
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      const timestamp = new Date(Date.UTC(2026, 10, 23, 10, Math.floor(g.random() * 60), 0)).toISOString();
      const features = {
        amount: 50 + shift * 15 + 10 * g.normal(1)[0]!,
        merchant_risk: Math.min(1, g.random() + shift * 0.3),
        channel: channel(0.2 + shift * 0.5),
        hour: Math.floor(g.random() * 24),
      };
      lines.push(
        JSON.stringify({
          timestamp,
          model: "fraud-scorer",
          version: file.slice(0, 2),
          request_id: `r${i}`,
          entities: { card_id: i },
          features,
          outputs: { score: 0.1 },
        }),
      );
    }
    writeFileSync(join(hourDir, file), `${lines.join("\n")}\n`);
  }
  return { reference, logs };
}

/** Runs the CLI in a child process, asynchronously: the in-test webhook server must keep serving meanwhile. */
function drift(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(root, "services/drift/main.ts"), ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      timeout: 120_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let server: Server;
let url = "";
const received: { body: { text: string; result: { dataset_drift: boolean } }; status: number }[] = [];
let failFirst = true;
beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const status = failFirst ? 500 : 200;
      failFirst = false;
      received.push({ body: JSON.parse(Buffer.concat(chunks).toString()), status });
      res.writeHead(status).end(status === 200 ? "ok" : "try later");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/retrain`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("a shift in live traffic", () => {
  it("is found by the CLI from prediction logs, fires the webhook once (after retrying a 500), and writes report and metrics", async () => {
    const { reference, logs } = writeInputs(1);
    const profile = join(dir, "train.profile.json");
    const made = await drift(["profile", "--data", reference, "--out", profile, "--json"]);
    expect(made.code).toBe(0);
    expect(JSON.parse(made.stdout)).toMatchObject({ rows: 4000, numeric: 3, categorical: 1 });

    const report = join(dir, "report.html");
    const metrics = join(dir, "drift.prom");
    // --current and --window come from their environment twins, as in the CronJob.
    const checked = await drift(
      [
        "check",
        "--reference",
        profile,
        "--model",
        "fraud-scorer",
        "--end",
        "2026-11-23T11:00:00Z",
        "--webhook",
        url,
        "--report",
        report,
        "--metrics-file",
        metrics,
        "--json",
      ],
      { CURRENT: logs, WINDOW: "3600" },
    );
    expect(checked.stderr).toMatch(/webhook attempt 1: HTTP 500/);
    expect(checked.code).toBe(0);
    const result = JSON.parse(checked.stdout);
    expect(result.dataset_drift).toBe(true);
    expect(result.current.rows).toBe(1200);
    expect(result.window).toEqual({ start: "2026-11-23T10:00:00.000Z", end: "2026-11-23T11:00:00.000Z" });
    const drifted = result.features
      .filter((f: { drifted: boolean }) => f.drifted)
      .map((f: { name: string }) => f.name)
      .sort();
    expect(drifted).toEqual(["amount", "channel", "merchant_risk"]);

    expect(received.map((r) => r.status)).toEqual([500, 200]);
    expect(received[1]!.body.text).toMatch(/Dataset drift for model fraud-scorer: 3 of 4 features drifted/);
    expect(received[1]!.body.result.dataset_drift).toBe(true);

    expect(readFileSync(report, "utf8")).toContain("Dataset drift: 3 of 4 features drifted");
    const prom = readFileSync(metrics, "utf8");
    expect(prom).toMatch(/mlops_drift_dataset_drift\{model="fraud-scorer",service="drift"\} 1/);
    expect(prom).toMatch(/mlops_drift_dataset_drift_share\{model="fraud-scorer",service="drift"\} 0.75/);
    expect(prom).toMatch(/mlops_drift_score\{model="fraud-scorer",feature="amount",method="wasserstein",service="drift"\}/);
  });

  it("does not fire the webhook when traffic looks like training", async () => {
    const before = received.length;
    const { reference, logs } = writeInputs(0);
    const profile = join(dir, "calm.profile.json");
    expect((await drift(["profile", "--data", reference, "--out", profile])).code).toBe(0);
    const checked = await drift([
      "check",
      "--reference",
      profile,
      "--current",
      logs,
      "--model",
      "fraud-scorer",
      "--end",
      "2026-11-23T11:00:00Z",
      "--window",
      "3600",
      "--webhook",
      url,
      "--json",
    ]);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout).dataset_drift).toBe(false);
    expect(received.length).toBe(before);
  });

  it("answers --help and rejects a missing flag with a usage error naming it and its env twin", async () => {
    const help = await drift(["check", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--current <value>.*\[env CURRENT\]/);
    const bad = await drift(["check", "--reference", "x.json"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--current is required \(or set CURRENT\)/);
  });
});
