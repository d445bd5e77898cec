import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { driftSettings, loadCurrent, parseWindow } from "../../../services/drift/run";

const catalogDir = join(__dirname, "../../../catalog");

describe("drift settings from the catalog", () => {
  it("reads the model's drift section from the catalog YAML", () => {
    expect(driftSettings(catalogDir, "fraud-scorer")).toEqual({
      driftShare: 0.5,
      window: 21600,
      features: { merchant_risk: { method: "psi", threshold: 0.2 } },
      webhook: undefined,
    });
  });
  it("reads the same section from the runtime config mounted in pods (models.json)", () => {
    const dir = mkdtempSync(join(tmpdir(), "drift-runtime-"));
    writeFileSync(
      join(dir, "models.json"),
      JSON.stringify({
        project: "p",
        stack: "local",
        models: {
          churn: { drift: { schedule: "0 * * * *", driftShare: 0.34, window: 3600, features: {}, webhook: "https://hooks.example.com/x" } },
        },
      }),
    );
    expect(driftSettings(dir, "churn")).toEqual({ driftShare: 0.34, window: 3600, features: {}, webhook: "https://hooks.example.com/x" });
    expect(() => driftSettings(dir, "nope")).toThrow(/model "nope" is not in the catalog .* \(models: churn\)/);
  });
  it("accepts a window in seconds or as a catalog duration, and refuses nonsense", () => {
    expect([parseWindow("3600"), parseWindow("6h"), parseWindow("1d"), parseWindow("1h30m")]).toEqual([3600, 21600, 86400, 5400]);
    expect(() => parseWindow("soon")).toThrow(/not a positive duration/);
  });
  it("asks for --model when the current data is a prediction-log directory", async () => {
    await expect(loadCurrent(tmpdir())).rejects.toThrow(/pass --model NAME/);
    await expect(loadCurrent("/nonexistent/file.txt")).rejects.toThrow(/must be a CSV\/Parquet file or a prediction-log directory/);
  });
});
