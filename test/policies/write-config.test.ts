import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { main } from "../../policies/write-config";
import { UsageError } from "../../services/core/cli";

describe("policies/write-config", () => {
  it("writes the stack's policy config for the engine and prints a JSON summary", () => {
    const file = join(mkdtempSync(join(tmpdir(), "policy-config-")), "aws-dev.json");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    expect(main(["aws-dev", "--out", file, "--json"])).toBe(0);
    const summary = JSON.parse(String(log.mock.calls[0]?.[0]));
    log.mockRestore();
    const config = JSON.parse(readFileSync(file, "utf8"));
    expect(summary).toEqual({
      stack: "aws-dev",
      file,
      policies: Object.keys(config).length,
      levels: { mandatory: expect.any(Number), advisory: expect.any(Number) },
    });
    expect(config["serving-autoscaled"]).toEqual({ enforcementLevel: "advisory", servingNamespace: "models" });
    expect(config["gpu-count-within-budget"]).toEqual({ enforcementLevel: "mandatory", maxGpus: 4 });
    expect(config["catalog-consistent"].catalog.models["fraud-scorer"].versions.map((v: { weight: number }) => v.weight)).toEqual([90, 10]);
  });

  it("refuses a missing stack name with the stacks to choose from", () => {
    expect(() => main([])).toThrow(UsageError);
    expect(() => main([])).toThrow(/aws-dev, aws-prod, gcp-dev, gcp-prod, local/);
  });
});
