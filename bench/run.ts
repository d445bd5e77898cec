/**
 * `npm run bench -- <name>`: runs bench/<name>.ts. Every benchmark measures its baseline in the
 * same run, prints absolute numbers, the machine, and ends with its headline ratio.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const available = readdirSync(__dirname)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.startsWith("_"))
  .map((f) => f.replace(/\.ts$/, ""))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === "--help" || name === "-h") {
  console.log(
    `Usage: npm run bench -- <name> [options]\n\nBenchmarks: ${available.join(", ")}\nEach prints its baseline and ratio; the last line is the headline ratio.`,
  );
  process.exit(name ? 0 : 2);
}
const file = join(__dirname, `${name}.ts`);
if (!existsSync(file)) {
  console.error(`bench: no benchmark "${name}"; choose one of ${available.join(", ")}`);
  process.exit(2);
}
const result = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", file, ...rest], { stdio: "inherit" });
process.exit(result.status ?? 1);
