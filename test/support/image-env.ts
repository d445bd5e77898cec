import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "..", "..");

export interface Instruction {
  op: string;
  args: string;
}

/** The Dockerfile's instructions per stage (continuation lines joined, comments dropped), by stage name. */
export function dockerfileStages(root = ROOT): Record<string, Instruction[]> {
  const lines = readFileSync(join(root, "Dockerfile"), "utf8")
    .replace(/\\\n\s*/g, " ")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
  const out: Record<string, Instruction[]> = {};
  let current = "";
  for (const line of lines) {
    const [op = "", ...rest] = line.split(/\s+/);
    const args = rest.join(" ");
    if (op === "FROM") {
      current = /AS\s+(\S+)/i.exec(args)?.[1] ?? "stage";
      out[current] = [];
    }
    out[current]?.push({ op, args });
  }
  return out;
}

/**
 * The environment the services image sets (the `ENV` instructions of the Dockerfile's runtime
 * stage), so a benchmark or test that starts a service as a child process runs it the way the
 * image does, from the one place that says it.
 */
export function imageEnv(root = ROOT): Record<string, string> {
  const env: Record<string, string> = {};
  for (const step of dockerfileStages(root).runtime ?? []) {
    if (step.op !== "ENV") continue;
    for (const pair of step.args.split(/\s+/)) {
      const at = pair.indexOf("=");
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}
