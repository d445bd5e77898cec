/**
 * Writes docs/openapi/{features,serving,drift}.json: each service's OpenAPI document exactly as it
 * serves it on GET /openapi.json, built by @fastify/swagger from the route schemas fastify
 * validates with. Run after changing a route or its schema (`npm run openapi`); `--check` exits 1
 * when a committed document is out of date (test/scripts/openapi.test.ts runs it too).
 * The documents do not depend on the data a service is started with (catalog, models, profile):
 * each service is built here with the smallest inputs that let it declare its routes.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { loadCatalog } from "../definition/load";
import { createRegistry } from "../services/core/metrics";
import { buildProfile } from "../services/drift/profile";
import { createDriftServer } from "../services/drift/server";
import { EmbeddedOnlineStore } from "../services/features/online/embedded";
import { createFeaturesServer } from "../services/features/server";
import { createServingServer } from "../services/serving/server";

const ROOT = join(__dirname, "..");
export const OPENAPI_DIR = join(ROOT, "docs", "openapi");

/** The services with an HTTP API, each built the way its CLI builds it, minus the data. */
export const SERVICES: Record<string, () => Promise<FastifyInstance>> = {
  features: () =>
    createFeaturesServer({
      catalog: loadCatalog(join(ROOT, "catalog"), "openapi"),
      onlineStore: new EmbeddedOnlineStore(),
      registry: createRegistry("features-openapi"),
    }),
  serving: () =>
    createServingServer({
      models: [{ name: "fraud-scorer", version: "v1", uri: join(ROOT, "models", "fraud-scorer", "v1", "model.onnx") }],
      registry: createRegistry("serving-openapi"),
      maxEventLoopDelayMs: 0,
      waitUntilReady: false,
    }),
  drift: async () => createDriftServer({ profile: buildProfile({ rows: 1, columns: { x: [0] } }) }),
};

/** The document a service serves at /openapi.json, as committed (two-space JSON, final newline). */
export async function openApiDocument(service: string): Promise<string> {
  const build = SERVICES[service];
  if (!build) throw new Error(`no service "${service}"; services: ${Object.keys(SERVICES).join(", ")}`);
  const app = await build();
  try {
    const response = await app.inject("/openapi.json");
    if (response.statusCode !== 200) throw new Error(`${service}: GET /openapi.json answered ${response.statusCode}: ${response.body}`);
    return `${JSON.stringify(response.json(), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

/** The services whose committed document differs from what they serve. */
export async function staleDocuments(dir = OPENAPI_DIR): Promise<string[]> {
  const stale: string[] = [];
  for (const service of Object.keys(SERVICES)) {
    let committed = "";
    try {
      committed = readFileSync(join(dir, `${service}.json`), "utf8");
    } catch {
      // missing counts as stale
    }
    if (committed !== (await openApiDocument(service))) stale.push(service);
  }
  return stale;
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(
      "Usage: npm run openapi [-- --check]\n\nWrites docs/openapi/<service>.json from each service's /openapi.json; --check only reports stale files (exit 1).\n",
    );
    return 0;
  }
  if (args.includes("--check")) {
    const stale = await staleDocuments();
    if (stale.length) {
      process.stderr.write(`docs/openapi is out of date for ${stale.join(", ")}: run npm run openapi and commit docs/openapi/\n`);
      return 1;
    }
    process.stdout.write("docs/openapi is up to date\n");
    return 0;
  }
  mkdirSync(OPENAPI_DIR, { recursive: true });
  for (const service of Object.keys(SERVICES)) {
    writeFileSync(join(OPENAPI_DIR, `${service}.json`), await openApiDocument(service));
    process.stdout.write(`wrote docs/openapi/${service}.json\n`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: Error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
