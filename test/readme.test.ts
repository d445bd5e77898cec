import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(__dirname, "..");
const readme = readFileSync(join(root, "README.md"), "utf8");

/** The command in the fenced block right after `<!-- setup:<name> -->`. */
function setupCommand(name: string): string {
  const match = new RegExp(`<!-- setup:${name} -->\\s*\`\`\`bash\\n([^\\n]+)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no setup:${name} block`);
  return match[1].trim();
}

describe("the README's set-up commands", () => {
  it("there are exactly two: the main job and the tests", () => {
    expect(readme.match(/<!-- setup:\w+ -->/g)).toEqual(["<!-- setup:main -->", "<!-- setup:test -->"]);
  });

  it("CI runs exactly the README's test command", () => {
    const ci = readFileSync(join(root, ".ci", "run"), "utf8");
    expect(ci.split("\n").map((l) => l.trim())).toContain(setupCommand("test"));
  });

  it("the main job plans a stack, and that plan passes", () => {
    const main = setupCommand("main");
    expect(main).toMatch(/^npm ci && npm run plan -- [a-z0-9-]+$/);
    // `npm ci` already ran to get here; run the rest exactly as written.
    const planCommand = main.replace(/^npm ci && /, "");
    const result = spawnSync("bash", ["-c", `${planCommand} --out ${join(root, "out", "readme-check")}`], {
      cwd: root,
      encoding: "utf8",
      timeout: 300_000,
    });
    expect(result.stdout).toContain("PASS");
    expect(result.status).toBe(0);
  });
});
