/**
 * `npm run mutate -- policies [FILE ...]`: Stryker over the policy pack with the policy tests
 * (policies/stryker.config.mjs). Optional files narrow the run (`policies/security-mesh.ts`).
 * Not part of CI: a full run takes far longer than the suite.
 */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const root = resolve(__dirname, "..");
const targets: Record<string, string> = { policies: "policies/stryker.config.mjs" };
const [target, ...files] = process.argv.slice(2);
const config = target ? targets[target] : undefined;
if (!config) {
  console.error(`mutate: name what to mutate: ${Object.keys(targets).join(", ")} (got ${target ?? "nothing"})`);
  process.exit(2);
}
const ran = spawnSync(process.execPath, [join(root, "node_modules/@stryker-mutator/core/bin/stryker.js"), "run", config], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, MUTATE_FILES: files.join(",") },
});
process.exit(ran.status ?? 1);
