import { execFileSync } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The files of revision `rev` of the repository at `root` in a temporary directory that resolves
 * packages from `root`'s node_modules: a benchmark can run an older tree's code beside this one's
 * in the same run without checking anything out. The caller removes the directory.
 */
export function archiveTree(root: string, rev: string): { dir: string; rev: string } {
  const short = execFileSync("git", ["-C", root, "rev-parse", "--short", rev], { encoding: "utf8" }).trim();
  const dir = mkdtempSync(join(tmpdir(), "bench-tree-"));
  const archive = execFileSync("git", ["-C", root, "archive", rev], { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  return { dir, rev: short };
}
