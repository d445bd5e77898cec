import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../support/redis";
import { expected, modelPath, ROOT } from "./fakes";

const MAIN = join(ROOT, "services", "serving", "main.ts");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");

function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(TSX, [MAIN, ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "silent", ...env },
    timeout: 60_000,
  });
}

async function waitFor<T>(check: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready within ${ms} ms`);
}

describe("npm run serving", () => {
  it("--help lists every flag with its environment twin", () => {
    const result = run(["serve", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Usage: npm run serving -- serve --model NAME=PATH_OR_URI");
    expect(result.stdout).toMatch(/--features <value> .*\[env FEATURES\]/);
    expect(result.stdout).toMatch(/--request-timeout <value> .*\[env REQUEST_TIMEOUT_MS\]/);
    expect(result.stdout).toMatch(/--port <value> .*\(default: 8080\) \[env PORT\]/);
  });

  it("bad flags are a usage error (exit 2) that says what to write", () => {
    const result = run(["serve", "--model", "no-equals-sign"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--model "no-equals-sign" must look like NAME=PATH_OR_URI/);
    const runtime = run(["serve", "--model", "a=b", "--runtime", "triton"]);
    expect(runtime.status).toBe(2);
    expect(runtime.stderr).toMatch(/--runtime triton needs --upstream URL/);
  });

  it("serves a model from flags given as environment twins, answers V2 inference, and exits 0 on SIGTERM", async () => {
    const port = await freePort();
    const child: ChildProcess = spawn(TSX, [MAIN, "serve", "--json"], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOG_LEVEL: "silent",
        MODEL: `fraud-scorer@v2=${modelPath("v2")}`,
        PORT: String(port),
        HOST: "127.0.0.1",
        MAX_EVENT_LOOP_DELAY: "2000",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout?.on("data", (c: Buffer) => (stdout += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => ((await fetch(`${base}/v2/health/ready`)).status === 200 ? true : undefined), 45_000);
      const res = await fetch(`${base}/v2/models/fraud-scorer/infer`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ inputs: [{ name: "features", shape: [1, 5], datatype: "FP32", data: expected.inputs[2] }] }),
      });
      expect(res.headers.get("x-model-version")).toBe("v2");
      const body = (await res.json()) as { outputs: { data: number[] }[] };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(Math.abs((body.outputs[0]?.data[0] as number) - (expected.versions.v2.probability[2] as number))).toBeLessThan(1e-6);
      expect(JSON.parse(stdout.trim().split("\n")[0] as string)).toMatchObject({
        address: base,
        models: [{ name: "fraud-scorer", version: "v2", runtime: "onnx" }],
      });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
