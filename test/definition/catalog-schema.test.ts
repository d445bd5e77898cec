import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { catalogSchemas, SCHEMA_DIR, staleSchemas } from "../../scripts/gen-catalog-schema";

const CATALOG = join(__dirname, "..", "..", "catalog");
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateModel = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, "model.schema.json"), "utf8")));
const validateFeatures = ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, "features.schema.json"), "utf8")));

function yamlUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".yaml")).map((f) => join(dir, f));
}

describe("catalog JSON Schema", () => {
  it("is committed exactly as the zod schemas generate it", () => {
    expect(staleSchemas(), "run npx tsx scripts/gen-catalog-schema.ts and commit catalog/schema/").toEqual([]);
    expect(Object.keys(catalogSchemas()).sort()).toEqual(["features.schema.json", "model.schema.json"]);
  });

  it("accepts every example in the catalog", () => {
    for (const file of yamlUnder(join(CATALOG, "models")))
      expect(validateModel(parse(readFileSync(file, "utf8"))), `${file}: ${ajv.errorsText(validateModel.errors)}`).toBe(true);
    for (const file of yamlUnder(join(CATALOG, "features")))
      expect(validateFeatures(parse(readFileSync(file, "utf8"))), `${file}: ${ajv.errorsText(validateFeatures.errors)}`).toBe(true);
  });

  it("flags in the editor what the plan would refuse: unknown fields, out-of-range weights, bad names and dtypes", () => {
    const model = parse(readFileSync(join(CATALOG, "models", "fraud", "fraud-scorer.yaml"), "utf8"));
    expect(validateModel({ ...model, replicas: 3 })).toBe(false);
    expect(validateModel({ ...model, versions: [{ ...model.versions[0], weight: 120 }] })).toBe(false);
    expect(validateModel({ ...model, versions: [{ ...model.versions[0], name: "V_1" }] })).toBe(false);
    expect(validateModel({ ...model, versions: [{ ...model.versions[0], runtime: "tensorflow" }] })).toBe(false);
    const features = parse(readFileSync(join(CATALOG, "features", "fraud.yaml"), "utf8"));
    const view = features.featureViews[0];
    expect(validateFeatures({ ...features, featureViews: [{ ...view, fields: [{ name: "x", dtype: "Float16" }] }] })).toBe(false);
  });
});
