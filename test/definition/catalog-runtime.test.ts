import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadCatalog, loadPlatform, RUNTIME_FILES, readRuntimeCatalog, renderRuntimeFiles, resolveFeatureService } from "../../definition";

const ROOT = join(__dirname, "..", "..");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function mount(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "runtime-config-"));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe("the runtime config the pods mount", () => {
  const { stack, catalog } = loadPlatform({ stacksDir: join(ROOT, "stacks"), catalogDir: join(ROOT, "catalog"), stack: "local" });

  it("reads back, through the services' own loadCatalog, into exactly the catalog Pulumi deployed", () => {
    const dir = mount(renderRuntimeFiles(catalog, stack));
    const mounted = loadCatalog(dir, "ignored-project");
    expect(mounted).toEqual(JSON.parse(JSON.stringify(catalog)));
    expect(resolveFeatureService(mounted, "fraud_scorer_v1")).toEqual(resolveFeatureService(catalog, "fraud_scorer_v1"));
    // Filtered to the stack: the GPU model is not deployed to local.
    expect(Object.keys(mounted.models).sort()).toEqual(["churn-predictor", "fraud-scorer"]);
  });

  it("keeps the stack's feature store project", () => {
    const files = renderRuntimeFiles(catalog, { name: "x", featureStore: { project: "fraud_prod" } });
    expect(files[RUNTIME_FILES.project]).toBe("fraud_prod");
    expect(readRuntimeCatalog(mount(files))?.project).toBe("fraud_prod");
  });

  it("is not mistaken for a catalog source directory, nor the other way round", () => {
    expect(readRuntimeCatalog(join(ROOT, "catalog"))).toBeUndefined();
  });

  it("says how to fix a runtime config that is not one", () => {
    expect(() => readRuntimeCatalog(mount({ [RUNTIME_FILES.registry]: "{ not json" }))).toThrow(
      /registry\.json: cannot be read as the platform's runtime config .*re-render it with pulumi up/,
    );
    expect(() => readRuntimeCatalog(mount({ [RUNTIME_FILES.registry]: '{"project":"mlops"}' }))).toThrow(/has no "entities" object/);
  });
});
