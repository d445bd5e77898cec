import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerfileStages as stages } from "../support/image-env";

const root = resolve(__dirname, "../..");
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");

let app: string;

/**
 * No Docker engine runs here, so the build stage runs as a script: each COPY becomes a copy from
 * the repository and each RUN runs in bash, in a fresh directory, exactly as written.
 */
beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), "image-"));
  for (const step of stages().build ?? []) {
    if (step.op === "COPY") {
      const parts = step.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      const dest = parts.pop() as string;
      for (const src of parts)
        cpSync(join(root, src), dest.endsWith("/") || parts.length > 1 ? join(app, dest, src) : join(app, dest), { recursive: true });
    } else if (step.op === "RUN") {
      execFileSync("bash", ["-euo", "pipefail", "-c", step.args], {
        cwd: app,
        stdio: "pipe",
        env: { ...process.env, CI: "true" },
        maxBuffer: 1 << 28,
      });
    }
  }
}, 900_000);

afterAll(() => {
  if (app) rmSync(app, { recursive: true, force: true });
});

describe("the services image (Dockerfile build stage run as a script)", () => {
  it("pins its base image to an exact release, never latest", () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] as string);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(/^node:\d+\.\d+\.\d+-[a-z-]+$/);
  });

  it("runs as a non-root user", () => {
    const runtime = stages().runtime ?? [];
    expect(runtime.find((s) => s.op === "USER")?.args).toMatch(/^[1-9]\d*:[1-9]\d*$/);
  });

  it("keeps production dependencies only, and not the Pulumi SDKs", () => {
    expect(existsSync(join(app, "node_modules", "fastify"))).toBe(true);
    expect(existsSync(join(app, "node_modules", "vitest"))).toBe(false);
    expect(existsSync(join(app, "node_modules", "@pulumi"))).toBe(false);
  });

  it.each(["features", "serving", "drift"])("the %s entry point starts from the compiled, pruned tree", (service) => {
    const main = join(app, "dist", "services", service, "main.js");
    expect(existsSync(main)).toBe(true);
    const result = spawnSync(process.execPath, [main, "--help"], {
      cwd: app,
      encoding: "utf8",
      timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: "/tmp" },
    });
    expect(result.stderr).not.toMatch(/Cannot find module|ERR_/);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/Usage:/);
  });
});
