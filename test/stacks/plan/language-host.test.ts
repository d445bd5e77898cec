import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import {
  languageHostConfig,
  nodeOptions,
  programLaunch,
  programLocation,
  readProject,
  splitArgs,
} from "../../../stacks/plan/language-host";

const root = resolve(__dirname, "../../..");

describe("the program launch the engine and the Node language host derive from Pulumi.yaml", () => {
  it("runs a file main from its own directory with its base name as the entry point (getPwdMain)", () => {
    expect(programLocation(root, "stacks/index.ts")).toEqual({ programDirectory: join(root, "stacks"), entryPoint: "index.ts" });
    expect(programLocation(root, "stacks")).toEqual({ programDirectory: join(root, "stacks"), entryPoint: "." });
    expect(programLocation(root, undefined)).toEqual({ programDirectory: root, entryPoint: "." });
    expect(() => programLocation(root, "stacks/missing.ts")).toThrow(/project 'main' could not be read/);
  });

  it("defaults typescript to true and refuses options of the wrong type, as parseOptions does", () => {
    expect(nodeOptions({})).toEqual({ typescript: true, tsconfig: undefined, nodeargs: "" });
    expect(() => nodeOptions({ typescript: "yes" })).toThrow(/typescript must be a boolean/);
    expect(() => nodeOptions({ nodeargs: 4096 })).toThrow(/nodeargs must be a string/);
  });

  it("splits nodeargs like a shell, quotes included", () => {
    expect(splitArgs(`--max-old-space-size=4096 --title "a b" 'c d'`)).toEqual(["--max-old-space-size=4096", "--title", "a b", "c d"]);
  });

  it("hands config over as <namespace>:config:<name>, the language host's old-format keys", () => {
    expect(JSON.parse(languageHostConfig({ "mlops-platform:platform": '{"a":1}' }))).toEqual({
      "mlops-platform:config:platform": '{"a":1}',
    });
  });

  it("starts the repository's program through @pulumi/pulumi/cmd/run in stacks/, with ts-node on and stacks/tsconfig.json", () => {
    const launch = programLaunch({
      root,
      project: readProject(root),
      stack: "local",
      organization: "organization",
      monitor: "127.0.0.1:1",
      engine: "127.0.0.1:2",
      config: {},
      dryRun: true,
      parallel: 8,
      env: { PATH: "/bin" },
      node: "/usr/bin/node",
    });
    expect(launch.cwd).toBe(join(root, "stacks"));
    expect(launch.args[0]).toBe("--max-old-space-size=4096");
    expect(launch.args[1]).toBe(join(root, "node_modules/@pulumi/pulumi/cmd/run"));
    expect(launch.args.slice(-1)).toEqual(["index.ts"]);
    expect(launch.args).toEqual(expect.arrayContaining(["--pwd", join(root, "stacks"), "--root-directory", root, "--dry-run"]));
    expect(launch.env.PULUMI_NODEJS_TYPESCRIPT).toBe("true");
    expect(launch.env.PULUMI_NODEJS_TSCONFIG_PATH).toBeUndefined();
    expect(launch.tsconfig).toBe(join(root, "stacks", "tsconfig.json"));
  });

  it("passes runtime.options.tsconfig through PULUMI_NODEJS_TSCONFIG_PATH", () => {
    const dir = mkdtempSync(join(tmpdir(), "langhost-"));
    mkdirSync(join(dir, "app"));
    writeFileSync(join(dir, "app", "main.ts"), "");
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    writeFileSync(
      join(dir, "Pulumi.yaml"),
      "name: p\nruntime:\n  name: nodejs\n  options:\n    tsconfig: tsconfig.pulumi.json\nmain: app/main.ts\n",
    );
    const launch = programLaunch({
      root: dir,
      project: readProject(dir),
      stack: "s",
      organization: "o",
      monitor: "m",
      engine: "e",
      config: {},
      dryRun: false,
      parallel: 1,
      env: {},
      node: "node",
    });
    expect(launch.env.PULUMI_NODEJS_TSCONFIG_PATH).toBe("tsconfig.pulumi.json");
    expect(launch.tsconfig).toBe(join(dir, "app", "tsconfig.pulumi.json"));
    expect(launch.args).not.toContain("--dry-run");
  });

  it("says to run npm install when @pulumi/pulumi does not resolve from the program directory", () => {
    const dir = mkdtempSync(join(tmpdir(), "langhost-"));
    writeFileSync(join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\n");
    const req = { root: dir, project: readProject(dir), stack: "s", organization: "o", monitor: "m", engine: "e" };
    expect(() => programLaunch({ ...req, config: {}, dryRun: true, parallel: 1, env: {}, node: "node" })).toThrow(/run npm install/);
  });
});
