import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../core";
import { begin, outputRow, predictionRecords, type ServingContext, timedInfer } from "./context";
import type { EntityRows, OnlineFeaturesResponse } from "./features-client";
import type { PredictionRecord } from "./log-sinks";

/** POST /v1/models/{name}[/versions/{version}]/predict */
export interface PredictRequest {
  /**
   * Join key -> one value per row, as Feast takes entity rows: {"card_id": [1, 2], "merchant_id": [7, 9]};
   * plus the request fields of the feature service's on-demand features ({"amount": [12.5, 80]}), passed on
   * to the features service as Feast passes request data.
   */
  entities: EntityRows;
  /** Also return the feature values the model saw. Defaults to false. */
  return_features?: boolean;
  id?: string;
}

export interface PredictResponse {
  id: string;
  model_name: string;
  model_version: string;
  /** One object per entity row, in request order: output name -> value. */
  predictions: Array<Record<string, number | number[]>>;
  /** One object per entity row: feature name -> value, when return_features was true. */
  features?: Array<Record<string, number | string | boolean | null>>;
}

export const predictSchema = {
  params: {
    type: "object",
    properties: { name: { type: "string", minLength: 1 }, version: { type: "string", minLength: 1 } },
    required: ["name"],
  },
  body: {
    type: "object",
    properties: {
      entities: { type: "object", minProperties: 1, additionalProperties: { type: "array", minItems: 1 } },
      return_features: { type: "boolean", default: false },
      id: { type: "string" },
    },
    required: ["entities"],
    additionalProperties: false,
  },
} as const;

/**
 * Entity-keyed prediction: the caller sends entity keys, this route reads the model's feature
 * service from the features service, builds the input tensor in the feature service's order
 * (the order the model was trained with), runs the model and answers per row.
 */
export async function predictRoutes(app: FastifyInstance, options: { context: ServingContext }): Promise<void> {
  const { context } = options;
  const predict = async (
    request: FastifyRequest<{ Params: { name: string; version?: string }; Body: PredictRequest }>,
    reply: FastifyReply,
  ): Promise<PredictResponse> => {
    const backend = context.store.resolve(request.params.name, request.params.version);
    begin(context, request, reply, backend);
    const service = context.featureServiceOf(backend.name);
    if (!service)
      throw new HttpError(
        400,
        `model "${backend.name}" has no feature service in the catalog, so it cannot predict from entity keys; start the server with --catalog, or send tensors to /v2/models/${backend.name}/infer`,
      );
    if (!context.features) throw new HttpError(503, "no features service is configured; start the server with --features URL");
    const input = backend.inputs[0];
    if (backend.inputs.length !== 1 || !input)
      throw new HttpError(
        400,
        `model "${backend.name}" has ${backend.inputs.length} inputs; entity-keyed predict needs a model with one [N, features] input`,
      );

    const { entities } = request.body;
    const rows = checkEntities(entities, service.joinKeys, service.requestFields, context.maxBatch);
    const fetchEnd = context.metrics.featureFetchSeconds.startTimer({ model: backend.name, version: backend.version });
    let online: OnlineFeaturesResponse;
    try {
      online = await context.features.get(service.name, entities);
    } finally {
      fetchEnd();
    }
    const table = featureTable(online, service.features, entities, rows);

    const id = request.body.id ?? randomUUID();
    const response = await timedInfer(context, backend, {
      id,
      inputs: [{ name: input.name, datatype: input.datatype, shape: [rows, service.features.length], data: table.numbers }],
    });
    const predictions = Array.from({ length: rows }, (_, r) =>
      Object.fromEntries(response.outputs.map((o) => [o.name, outputRow(o, r, rows)])),
    );
    const log = context.predictionLog;
    if (log?.sampled(backend.name)) {
      const logRows = table.features.map((features, r) => ({ entities: entityOf(entities, r), features }));
      log.add(predictionRecords(backend, id, logRows, response.outputs));
    }
    return {
      id,
      model_name: backend.name,
      model_version: backend.version,
      predictions,
      ...(request.body.return_features ? { features: table.features } : {}),
    };
  };
  const config = { shed: true };
  app.post<{ Params: { name: string; version?: string }; Body: PredictRequest }>(
    "/v1/models/:name/predict",
    { schema: predictSchema, config },
    predict,
  );
  app.post<{ Params: { name: string; version?: string }; Body: PredictRequest }>(
    "/v1/models/:name/versions/:version/predict",
    { schema: predictSchema, config },
    predict,
  );
}

/**
 * Every join key and request field the feature service needs, each with the same number of rows
 * (at most maxBatch). Join keys are integers or strings; request fields are checked against their
 * dtype by the features service, which answers 400 naming the field.
 */
function checkEntities(entities: EntityRows, joinKeys: string[], requestFields: string[], maxBatch: number): number {
  const missing = joinKeys.filter((k) => !(k in entities));
  if (missing.length)
    throw new HttpError(
      400,
      `entities must include ${missing.map((m) => `"${m}"`).join(", ")}: the model's features are keyed by ${joinKeys.join(", ")}`,
    );
  const missingFields = requestFields.filter((k) => !(k in entities));
  if (missingFields.length)
    throw new HttpError(
      400,
      `entities must include the request field(s) ${missingFields.map((m) => `"${m}"`).join(", ")}: the model's on-demand features are computed from them`,
    );
  // Checked here, not in the schema: Ajv's type coercion would turn 1 into "1" (or "12" into 12) under anyOf.
  for (const [key, values] of Object.entries(entities)) {
    if (requestFields.includes(key)) continue;
    const bad = values.findIndex((v) => typeof v !== "string" && !(typeof v === "number" && Number.isInteger(v)));
    if (bad >= 0)
      throw new HttpError(400, `entities.${key}[${bad}] is ${JSON.stringify(values[bad])}; entity keys are integers or strings`);
  }
  const lengths = new Set(Object.values(entities).map((v) => v.length));
  if (lengths.size > 1)
    throw new HttpError(
      400,
      `every entity key needs the same number of values; got ${Object.entries(entities)
        .map(([k, v]) => `${k}: ${v.length}`)
        .join(", ")}`,
    );
  const rows = [...lengths][0] as number;
  if (rows > maxBatch) throw new HttpError(413, `${rows} entity rows in one request; the limit is ${maxBatch}; split the batch`);
  return rows;
}

function entityOf(entities: EntityRows, row: number): Record<string, string | number> {
  return Object.fromEntries(Object.entries(entities).map(([k, v]) => [k, v[row] as string | number]));
}

/**
 * Columns of the Feast answer in feature-service order, as a row-major number array for the
 * tensor and per-row objects for the answer and the log. A feature that is absent, null, stale
 * (OUTSIDE_MAX_AGE) or not numeric is a 422 naming the entity row and the feature: predicting
 * on a made-up value would be worse than no prediction.
 */
function featureTable(
  online: OnlineFeaturesResponse,
  features: string[],
  entities: EntityRows,
  rows: number,
): { numbers: number[]; features: PredictionRecord["features"][] } {
  const numbers = new Array<number>(rows * features.length);
  const perRow = Array.from({ length: rows }, () => ({}) as PredictionRecord["features"]);
  const names = online.metadata.feature_names;
  features.forEach((feature, f) => {
    // Feast answers with short names unless full_feature_names is set; accept both spellings.
    let column = names.indexOf(feature);
    if (column < 0) column = names.findIndex((n) => n.endsWith(`__${feature}`) || n.endsWith(`:${feature}`));
    const result = column >= 0 ? online.results[column] : undefined;
    if (!result)
      throw new HttpError(422, `the features service did not return feature "${feature}"; it returned: ${names.join(", ")}`, { feature });
    for (let r = 0; r < rows; r++) {
      const status = result.statuses[r] ?? "NOT_FOUND";
      const raw = result.values[r];
      const value = typeof raw === "boolean" ? Number(raw) : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : raw;
      if (status !== "PRESENT" || typeof value !== "number" || !Number.isFinite(value)) {
        const entity = entityOf(entities, r);
        const what = status !== "PRESENT" ? `is ${status}` : `is ${JSON.stringify(raw)}, not a number`;
        throw new HttpError(
          422,
          `feature "${feature}" ${what} for entity ${JSON.stringify(entity)}; materialize it, or leave this entity out`,
          { entity, feature, status },
        );
      }
      numbers[r * features.length + f] = value;
      (perRow[r] as PredictionRecord["features"])[feature] = raw as number | string | boolean;
    }
  });
  return { numbers, features: perRow };
}
