import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "../..");

/**
 * Vitest timeout for a test that runs plans: the program and the pack load as the engine loads
 * them (ts-node, type-checked), minutes each on a loaded 2-core machine; vitest's default is 60 s.
 */
export const PLAN_TIMEOUT = 900_000;

/** Runs `npm run plan -- ...` the way users and CI do (the same entry, in a child process). */
export function plan(args: string[], cwd = root) {
  const result = spawnSync(process.execPath, ["--import", "tsx", join(cwd, "stacks/plan.ts"), ...args], {
    cwd,
    encoding: "utf8",
    // The program loads as the engine loads it (ts-node, type-checked): minutes on a loaded 2-core machine.
    timeout: 600_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A copy of the repository's program, stacks and catalog, to break one thing in. */
export function copyProject(): string {
  const dir = mkdtempSync(join(tmpdir(), "plan-project-"));
  for (const part of [
    "stacks",
    "catalog",
    "definition",
    "components",
    "policies",
    "services",
    "package.json",
    "tsconfig.json",
    "Pulumi.yaml",
  ]) {
    cpSync(join(root, part), join(dir, part), { recursive: true });
  }
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return dir;
}
