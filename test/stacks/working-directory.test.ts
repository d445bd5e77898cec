import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { copyProject, PLAN_TIMEOUT, plan } from "../support/plan";

/**
 * The engine runs the program from the directory of Pulumi.yaml's `main` (stacks/); a project
 * without `main` runs it from the root (package.json's main). Two checkouts at different paths,
 * one of each: every rendered object must be the same bytes, or pods restart on every `up` from
 * another machine or CI path (the catalog ConfigMap's checksum is on the pods).
 */
describe("rendered objects", () => {
  it(
    "are byte-identical whether the program runs from stacks/ or from the repository root, in any checkout path",
    () => {
      const fromStacks = copyProject();
      const fromRoot = copyProject();
      const pulumiYaml = join(fromRoot, "Pulumi.yaml");
      writeFileSync(pulumiYaml, readFileSync(pulumiYaml, "utf8").replace(/^main: .*\n/m, ""));

      const a = plan(["local", "--out", join(fromStacks, "out")], fromStacks);
      const b = plan(["local", "--out", join(fromRoot, "out")], fromRoot);
      // Progress goes to stdout for people (stderr with --json); either way it names the directory.
      expect(a.stdout + a.stderr).toContain(`(in ${join(fromStacks, "stacks")})`);
      expect(b.stdout + b.stderr).toContain(`(in ${fromRoot})`);
      expect(a.code).toBe(0);
      expect(b.code).toBe(0);

      const manifests = (dir: string) => readdirSync(join(dir, "out", "manifests")).sort();
      expect(manifests(fromRoot)).toEqual(manifests(fromStacks));
      expect(manifests(fromStacks).length).toBeGreaterThan(50);
      const catalog = manifests(fromStacks).find((f) => f.includes("configmap.mlops-catalog"));
      expect(readFileSync(join(fromStacks, "out", "manifests", catalog as string), "utf8")).toContain('"file": "catalog/models/');
      for (const file of manifests(fromStacks)) {
        const left = readFileSync(join(fromStacks, "out", "manifests", file));
        const right = readFileSync(join(fromRoot, "out", "manifests", file));
        expect(right.equals(left), `${file} differs`).toBe(true);
        expect(left.includes(fromStacks), `${file} embeds the checkout path`).toBe(false);
      }
    },
    PLAN_TIMEOUT,
  );
});
