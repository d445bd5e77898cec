/**
 * The drift HTTP API: POST /check compares posted rows with the loaded reference profile and
 * answers the JSON result (or the HTML report with `?format=html`); metrics of the last check are
 * on GET /metrics, next to /healthz and /readyz from the shared core.
 */
import type { FastifyInstance } from "fastify";
import { createApp, createLogger, createRegistry, HttpError } from "../core";
import { type CheckOptions, checkDrift, resultToJson } from "./check";
import { createDriftMetrics, recordResult } from "./metrics";
import type { Profile } from "./profile";
import { renderReport } from "./report";
import { driftResultSchema } from "./result-schema";
import { type Table, tableFromRows, toCell } from "./table";

export interface DriftServerOptions {
  profile: Profile;
  /** Defaults for every check (model, drift share, overrides from the catalog). */
  check?: CheckOptions;
  /** Maximum request body in bytes. Defaults to 64 MiB (a window of rows). */
  bodyLimit?: number;
}

const checkBody = {
  type: "object",
  properties: {
    rows: { type: "array", items: { type: "object" }, description: "current rows as {feature: value} objects" },
    columns: { type: "object", additionalProperties: { type: "array" }, description: "current data as {feature: [values]}" },
  },
  oneOf: [{ required: ["rows"] }, { required: ["columns"] }],
} as const;

function columnsTable(columns: Record<string, unknown[]>): Table {
  const lengths = new Set(Object.values(columns).map((c) => c.length));
  if (lengths.size > 1)
    throw new HttpError(400, `columns have different lengths (${[...lengths].join(", ")}); every column needs one value per row`);
  const rows = lengths.size ? [...lengths][0]! : 0;
  return { rows, columns: Object.fromEntries(Object.entries(columns).map(([k, v]) => [k, v.map(toCell)])) };
}

export function createDriftServer(options: DriftServerOptions): FastifyInstance {
  const logger = createLogger("drift");
  const registry = createRegistry("drift");
  const metrics = createDriftMetrics(registry);
  const app = createApp({
    service: "drift",
    description: "Drift checks of current data against a model's reference profile",
    logger,
    registry,
    bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024,
  });
  app.post<{ Body: { rows?: Record<string, unknown>[]; columns?: Record<string, unknown[]> }; Querystring: { format?: string } }>(
    "/check",
    {
      schema: {
        description: "Compares the posted rows with the reference profile: the JSON result, or the HTML report with ?format=html",
        body: checkBody,
        querystring: { type: "object", properties: { format: { enum: ["json", "html"] } } },
        response: {
          200: {
            description: "The drift result",
            content: { "application/json": { schema: driftResultSchema }, "text/html": { schema: { type: "string" } } },
          },
        },
      },
    },
    async (request, reply) => {
      const table = request.body.rows ? tableFromRows(request.body.rows) : columnsTable(request.body.columns ?? {});
      let result: ReturnType<typeof checkDrift>;
      try {
        result = checkDrift(options.profile, table, options.check);
      } catch (error) {
        throw new HttpError(400, (error as Error).message);
      }
      recordResult(metrics, result);
      if (request.query.format === "html") {
        reply.type("text/html; charset=utf-8");
        return renderReport(result);
      }
      reply.type("application/json");
      return resultToJson(result);
    },
  );
  return app;
}
