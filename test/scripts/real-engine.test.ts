import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The real engine on the local stack (scripts/real-engine.sh preview). Never builds the binaries
 * (tens of minutes of Go on 2 cores: `npm run real-engine -- build`); each test runs only when
 * the binaries it needs are present and is otherwise reported as not run, naming what is missing.
 * - With the CLI alone: login, stack init and preview run, and the engine refuses the Node program
 *   because the language host is missing (its Go module is not served by the module proxy).
 * - With the CLI, the Node language host and the Kubernetes provider: the real preview.
 */
const root = resolve(__dirname, "../..");
const RUN_TIMEOUT = 1_800_000;
const bin = join(process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops"), "pulumi", "bin");
const missing = (names: string[]): string[] => names.filter((b) => !existsSync(join(bin, b)));
const notRun = (names: string[]): string =>
  names.length === 0 ? "" : ` (not run: ${names.join(", ")} missing from ${bin}; npm run real-engine -- build)`;

const LANGUAGE_HOST = "pulumi-language-nodejs";
const cliOnly = missing(["pulumi"]);
const languageHostPresent = missing([LANGUAGE_HOST]).length === 0;
const everything = missing(["pulumi", LANGUAGE_HOST, "pulumi-resource-kubernetes"]);

function preview(): { status: number | null; log: string; stderr: string } {
  const log = join(mkdtempSync(join(tmpdir(), "real-engine-")), "preview.log");
  const r = spawnSync("bash", [join(root, "scripts/real-engine.sh"), "preview"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, REAL_ENGINE_LOG: log },
    timeout: RUN_TIMEOUT,
  });
  return { status: r.status, log: existsSync(log) ? readFileSync(log, "utf8") : "", stderr: r.stderr };
}

describe("the real Pulumi engine", () => {
  it.skipIf(cliOnly.length > 0 || languageHostPresent)(
    `without the Node language host, logs in, creates the local stack and refuses the program naming ${LANGUAGE_HOST}, leaving the stack file untouched${
      cliOnly.length > 0 ? notRun(cliOnly) : languageHostPresent ? " (not run: the language host is present)" : ""
    }`,
    () => {
      const stackFile = join(root, "stacks/Pulumi.local.yaml");
      const before = readFileSync(stackFile, "utf8");
      const r = preview();
      expect(r.stderr).toContain("Created stack 'local'");
      expect(r.log).toContain("Previewing update (local):");
      expect(r.log).toContain(
        `error: failed to load language plugin nodejs: no language plugin '${LANGUAGE_HOST}' found in the workspace or on your $PATH`,
      );
      expect(r.status).toBe(1);
      // stack init writes the passphrase salt into the stack file: the script gives it a copy.
      expect(readFileSync(stackFile, "utf8")).toBe(before);
    },
    RUN_TIMEOUT,
  );

  it.skipIf(everything.length > 0)(
    `previews the local stack with the policy pack against an unreachable cluster${notRun(everything)}`,
    () => {
      const r = preview();
      // The program compiled under the engine's ts-node and registered the stack; the policy pack loaded.
      expect(r.log).not.toMatch(/Unable to compile TypeScript/);
      expect(r.log).toMatch(/pulumi:pulumi:Stack/);
      expect(r.log).toMatch(/mlops-platform/);
      expect(r.status, r.log.slice(-4000)).toBe(0);
    },
    RUN_TIMEOUT,
  );
});
