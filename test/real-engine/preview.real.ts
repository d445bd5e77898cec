import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The real engine on the local stack (scripts/real-engine.sh preview), run by
 * `npm run real-engine:test` after `npm run real-engine -- build`. It never builds the binaries and
 * never skips: without the CLI it fails, naming what to run.
 * - Without the Node language host (its Go module is not served by the module proxy): login, stack
 *   init and preview run, and the engine refuses the Node program, naming the language host.
 * - With the language host and the Kubernetes provider: the real preview succeeds.
 */
const root = resolve(__dirname, "../..");
const bin = join(process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops"), "pulumi", "bin");
const missing = (names: string[]): string[] => names.filter((b) => !existsSync(join(bin, b)));
const LANGUAGE_HOST = "pulumi-language-nodejs";

function preview(): { status: number | null; log: string; stderr: string } {
  const log = join(mkdtempSync(join(tmpdir(), "real-engine-")), "preview.log");
  const r = spawnSync("bash", [join(root, "scripts/real-engine.sh"), "preview"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, REAL_ENGINE_LOG: log },
    timeout: 1_800_000,
  });
  return { status: r.status, log: existsSync(log) ? readFileSync(log, "utf8") : "", stderr: r.stderr };
}

describe("the real Pulumi engine", () => {
  it(`previews the local stack with the policy pack against an unreachable cluster, or without ${LANGUAGE_HOST} refuses the program naming it, leaving the stack file untouched`, () => {
    expect(missing(["pulumi"]), `missing from ${bin}: npm run real-engine -- build`).toEqual([]);
    const stackFile = join(root, "stacks/Pulumi.local.yaml");
    const before = readFileSync(stackFile, "utf8");
    const r = preview();
    expect(r.stderr).toContain("Created stack 'local'");
    expect(r.log).toContain("Previewing update (local):");
    if (missing([LANGUAGE_HOST]).length > 0) {
      expect(r.log).toContain(
        `error: failed to load language plugin nodejs: no language plugin '${LANGUAGE_HOST}' found in the workspace or on your $PATH`,
      );
      expect(r.status).toBe(1);
    } else {
      expect(missing(["pulumi-resource-kubernetes"]), "npm run real-engine -- build").toEqual([]);
      // The program compiled under the engine's ts-node and registered the stack; the policy pack loaded.
      expect(r.log).not.toMatch(/Unable to compile TypeScript/);
      expect(r.log).toMatch(/pulumi:pulumi:Stack/);
      expect(r.log).toMatch(/mlops-platform/);
      expect(r.status, r.log.slice(-4000)).toBe(0);
    }
    // stack init writes the passphrase salt into the stack file: the script gives it a copy.
    expect(readFileSync(stackFile, "utf8")).toBe(before);
  });
});
