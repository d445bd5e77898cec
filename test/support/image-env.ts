import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The environment the services image sets (the `ENV` instructions of the Dockerfile's runtime
 * stage), so a benchmark or test that starts a service as a child process runs it the way the
 * image does, from the one place that says it.
 */
export function imageEnv(root = join(__dirname, "..", "..")): Record<string, string> {
  const text = readFileSync(join(root, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const env: Record<string, string> = {};
  let runtime = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) runtime = /\sAS\s+runtime$/i.test(line);
    if (!runtime || !/^ENV\s/i.test(line)) continue;
    for (const pair of line.replace(/^ENV\s+/i, "").split(/\s+/)) {
      const at = pair.indexOf("=");
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}
