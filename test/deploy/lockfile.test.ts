import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8")) as {
  packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }>;
};

describe("package-lock.json", () => {
  // The registry mirror here lacks other platforms' prebuilt packages (Biome, DuckDB), so `npm install`
  // leaves them out of the lock; `npm ci` then refuses the lock, on every machine. Their entries must
  // stay (npm ci skips them on Linux x64 without downloading).
  it("has an entry for every optional platform package, so npm ci accepts it", () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
        const nested = `${path}/node_modules/${name}`;
        const hoisted = `node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[hoisted]) missing.push(`${name}@${version} (of ${path || "the root"})`);
      }
    }
    expect(missing).toEqual([]);
  });
});
