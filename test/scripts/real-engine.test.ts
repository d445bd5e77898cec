import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The real engine on the local stack (scripts/real-engine.sh preview): runs only when the binaries
 * the script builds are present; never builds them (tens of minutes of Go on 2 cores: `npm run
 * real-engine -- build`). Reported as skipped, with the missing binaries named, when they are not.
 */
const root = resolve(__dirname, "../..");
const PLAN_TIMEOUT = 1_800_000;
const bin = join(process.env.MLOPS_CACHE ?? join(homedir(), ".cache", "mlops"), "pulumi", "bin");
const needed = ["pulumi", "pulumi-language-nodejs", "pulumi-resource-kubernetes"];
const missing = needed.filter((b) => !existsSync(join(bin, b)));
const reason = `not run: ${missing.join(", ")} missing from ${bin} (npm run real-engine -- build; the Node language host's Go module is not served by the module proxy)`;

describe("the real Pulumi engine", () => {
  it.skipIf(missing.length > 0)(
    `previews the local stack with the policy pack against an unreachable cluster${missing.length ? ` (${reason})` : ""}`,
    () => {
      const log = join(mkdtempSync(join(tmpdir(), "real-engine-")), "preview.log");
      const r = spawnSync("bash", [join(root, "scripts/real-engine.sh"), "preview"], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, REAL_ENGINE_LOG: log },
        timeout: 1_800_000,
      });
      const text = readFileSync(log, "utf8");
      // The program compiled under the engine's ts-node and registered the stack; the policy pack loaded.
      expect(text).not.toMatch(/Unable to compile TypeScript/);
      expect(text).toMatch(/pulumi:pulumi:Stack/);
      expect(text).toMatch(/mlops-platform/);
      expect(r.status, text.slice(-4000)).toBe(0);
    },
    PLAN_TIMEOUT,
  );
});
