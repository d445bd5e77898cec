/**
 * JSON Schema of the drift result (DriftResult in check.ts), for the OpenAPI document of POST
 * /check: clients and schemathesis check answers against it. Documentation only: the route
 * answers resultToJson's string, which fastify sends as it is (no serializer drops a field).
 * Numbers are nullable where resultToJson turns a non-finite value into null.
 */
const num = { type: ["number", "null"] } as const;
const strings = { type: "array", items: { type: "string" } } as const;
const count = { type: "integer", minimum: 0 } as const;

const feature = {
  type: "object",
  required: ["name", "type", "status", "method", "statistic", "p_value", "threshold", "drifted", "psi", "reference", "current", "notes"],
  properties: {
    name: { type: "string" },
    type: { enum: ["numeric", "categorical"] },
    status: { enum: ["checked", "skipped"] },
    method: { enum: ["ks", "chisquare", "ztest", "psi", "wasserstein", "jensenshannon", null] },
    method_name: { type: ["string", "null"] },
    reason: { type: "string" },
    statistic: num,
    p_value: num,
    threshold: num,
    drifted: { type: "boolean" },
    psi: {
      anyOf: [
        { type: "null" },
        { type: "object", required: ["value", "level"], properties: { value: num, level: { enum: ["ok", "warn", "drift"] } } },
      ],
    },
    reference: { type: "object", required: ["n", "missing"], properties: { n: count, missing: count } },
    current: {
      type: "object",
      required: ["n", "missing", "unseen_categories", "out_of_range"],
      properties: { n: count, missing: count, unseen_categories: strings, out_of_range: count },
    },
    notes: strings,
    histogram: { type: ["object", "null"] },
  },
} as const;

export const driftResultSchema = {
  type: "object",
  description: "The drift result (format mlops-drift-result), as docs/drift.md describes it",
  required: [
    "format",
    "version",
    "dataset_drift",
    "drift_share",
    "drift_share_threshold",
    "counts",
    "features",
    "unprofiled_columns",
    "notes",
  ],
  properties: {
    format: { const: "mlops-drift-result" },
    version: { type: "integer" },
    model: { type: ["string", "null"] },
    checked_at: { type: "string", format: "date-time" },
    window: { anyOf: [{ type: "null" }, { type: "object", properties: { start: { type: "string" }, end: { type: "string" } } }] },
    reference: { type: "object" },
    current: { type: "object", properties: { rows: count } },
    dataset_drift: { type: "boolean" },
    drift_share: num,
    drift_share_threshold: { type: "number" },
    counts: {
      type: "object",
      required: ["features", "checked", "skipped", "drifted"],
      properties: { features: count, checked: count, skipped: count, drifted: count, psi_warn: count, psi_drift: count },
    },
    features: { type: "array", items: feature },
    unprofiled_columns: strings,
    notes: strings,
  },
} as const;
