import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { displayPath, REPOSITORY_ROOT, readYaml } from "../../definition/yaml-source";

const root = resolve(__dirname, "../..");
const cwd = process.cwd();
afterEach(() => process.chdir(cwd));

describe("origins of definition files", () => {
  it("are relative to the repository root whatever the working directory", () => {
    const file = join(root, "catalog", "features", "fraud.yaml");
    expect(REPOSITORY_ROOT).toBe(root);
    process.chdir(join(root, "stacks"));
    expect(displayPath(file)).toBe("catalog/features/fraud.yaml");
    expect(readYaml(file).file).toBe("catalog/features/fraud.yaml");
    process.chdir("/");
    expect(displayPath(file)).toBe("catalog/features/fraud.yaml");
  });

  it("stay absolute outside the repository", () => {
    expect(displayPath("/etc/hosts")).toBe("/etc/hosts");
  });
});
