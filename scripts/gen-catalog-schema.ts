/**
 * Writes the JSON Schemas of the catalog files under catalog/schema/, generated from the zod
 * schemas in definition/catalog.ts (zod 4's z.toJSONSchema), so editors validate and
 * complete catalog YAML with exactly the rules the plan enforces. Run after changing the schemas:
 *   npx tsx scripts/gen-catalog-schema.ts [--check]
 * `--check` exits 1 when a committed schema is out of date (CI and the test use it).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { FeatureFile, Model } from "../definition/catalog";

export const SCHEMA_DIR = join(__dirname, "..", "catalog", "schema");

/** The schema files, by file name, as they should be committed. */
export function catalogSchemas(): Record<string, string> {
  const render = (schema: z.ZodType, id: string, title: string, description: string) => {
    // "input" describes what people write (defaults optional, durations as strings), not the parsed result.
    const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Record<string, unknown>;
    return `${JSON.stringify({ $id: id, title, description, ...json }, null, 2)}\n`;
  };
  return {
    "features.schema.json": render(
      FeatureFile,
      "https://mlops-platform.dev/catalog/schema/features.schema.json",
      "Catalog feature file (catalog/features/<team>.yaml)",
      "Entities, feature views, feature services and push sources of one team. Generated from definition/catalog.ts; do not edit.",
    ),
    "model.schema.json": render(
      Model,
      "https://mlops-platform.dev/catalog/schema/model.schema.json",
      "Catalog model file (catalog/models/<team>/<model>.yaml)",
      "A model's versions, traffic, SLO, autoscaling and drift checks. Generated from definition/catalog.ts; do not edit.",
    ),
  };
}

/** Names of the committed schema files that differ from what the zod schemas generate. */
export function staleSchemas(dir = SCHEMA_DIR): string[] {
  return Object.entries(catalogSchemas())
    .filter(([file, text]) => {
      try {
        return readFileSync(join(dir, file), "utf8") !== text;
      } catch {
        return true;
      }
    })
    .map(([file]) => file);
}

if (require.main === module) {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    process.stdout.write(
      "Usage: npx tsx scripts/gen-catalog-schema.ts [--check]\n\nWrites catalog/schema/*.schema.json from the zod schemas; --check only reports stale files (exit 1).\n",
    );
  } else if (process.argv.includes("--check")) {
    const stale = staleSchemas();
    if (stale.length) {
      process.stderr.write(
        `catalog/schema is out of date: ${stale.join(", ")}; run npx tsx scripts/gen-catalog-schema.ts and commit the result\n`,
      );
      process.exit(1);
    }
    process.stdout.write("catalog/schema is up to date\n");
  } else {
    for (const [file, text] of Object.entries(catalogSchemas())) {
      writeFileSync(join(SCHEMA_DIR, file), text);
      process.stdout.write(`wrote catalog/schema/${file}\n`);
    }
  }
}
