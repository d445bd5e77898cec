import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const tsx = join(root, "node_modules/tsx/dist/cli.mjs");

describe("npm run mutate", () => {
  const dir = mkdtempSync(join(tmpdir(), "mutate-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const mutate = (...args: string[]) =>
    spawnSync(process.execPath, [tsx, join(dir, "scripts/mutate.ts"), ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  mkdirSync(join(dir, "scripts"));
  copyFileSync(join(root, "scripts/mutate.ts"), join(dir, "scripts/mutate.ts"));

  it("refuses an unknown target with the ones it knows", () => {
    const run = mutate("services");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain("mutate: name what to mutate: policies (got services)");
  });

  it("refuses a symlinked node_modules, which Stryker's sandbox would not link, before running anything", () => {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    const run = mutate("policies");
    expect(run.status).toBe(2);
    expect(run.stderr).toContain(`mutate: ${join(dir, "node_modules")} is a symlink (to ${join(root, "node_modules")})`);
    expect(run.stderr).toContain(`cp -al ${join(root, "node_modules")} node_modules`);
    expect(run.stdout).not.toContain("RUN");
  });
});
