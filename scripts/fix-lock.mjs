#!/usr/bin/env node
// After `npm install`: the registry mirror here lacks other platforms' prebuilt packages (Biome,
// DuckDB, ...), so npm drops their entries from package-lock.json and `npm ci` then refuses the lock.
// This re-adds every optional-dependency entry the lock names but lacks, copied from the lock at
// git HEAD (or the ref given as the first argument). test/deploy/lockfile.test.ts checks the result.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";

const ref = process.argv[2] ?? "HEAD";
const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const old = JSON.parse(execFileSync("git", ["show", `${ref}:package-lock.json`], { encoding: "utf8", maxBuffer: 1 << 28 }));
let added = 0;
const missing = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ""}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[hoisted]) continue;
    const from = old.packages[nested] ? nested : old.packages[hoisted] ? hoisted : undefined;
    if (from) {
      lock.packages[from] = old.packages[from];
      added++;
    } else missing.push(`${name} (of ${path || "the root"})`);
  }
}
const sorted = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0)),
);
lock.packages = sorted;
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(`fix-lock: re-added ${added} platform entries from ${ref}`);
if (missing.length)
  console.log(`fix-lock: no entry at ${ref} for: ${missing.join(", ")} (add it by hand from \`npm view <name>@<version> dist\`)`);
