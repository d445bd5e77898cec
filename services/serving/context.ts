import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError, withTimeout } from "../core";
import type { FeaturesClient } from "./features-client";
import type { PredictionRecord } from "./log-sinks";
import type { ServingMetrics } from "./metrics";
import type { InferOptions, ModelBackend } from "./model-backend";
import type { ModelStore } from "./model-store";
import type { PredictionLog } from "./prediction-log";
import { plainValues } from "./tensor";
import type { InferenceRequest, InferenceResponse, ResponseOutput } from "./v2-types";

declare module "fastify" {
  interface FastifyRequest {
    /** The model version answering this request, once resolved: drives headers and metric labels. */
    servedBy?: { model: string; version: string; finished?: boolean };
  }
  interface FastifyContextConfig {
    /** Prediction routes are shed under overload; probes and metrics never are. */
    shed?: boolean;
  }
}

/** What every serving route needs; built once by createServingServer. */
export interface ServingContext {
  store: ModelStore;
  metrics: ServingMetrics;
  predictionLog?: PredictionLog;
  features?: FeaturesClient;
  /** A model's feature service: its ordered short feature names and the join keys they need, from the catalog. */
  /** The model's feature service: its features in order, the join keys and the request fields (of on-demand features) a predict sends. */
  featureServiceOf(model: string): { name: string; features: string[]; joinKeys: string[]; requestFields: string[] } | undefined;
  /** Deadline for one inference, in ms. */
  inferenceTimeoutMs: number;
  /** Most entity rows in one predict request. */
  maxBatch: number;
  /** Whole-server readiness: every model loaded and warmed. */
  readiness(): { ok: boolean; reason?: string };
  /** Load shedding shared by REST and gRPC predictions. */
  admission: Admission;
}

/** One bound on concurrent predictions and event-loop delay for every protocol. */
export interface Admission {
  /** Admits one prediction (undefined), or says why it is shed; an admitted one must call leave() once. */
  enter(): string | undefined;
  leave(): void;
  retryAfterSeconds: number;
}

/**
 * Marks the request as served by this model version: the in-flight gauge goes up now and comes
 * down, with the latency and outcome recorded, when the response finishes, or when the
 * connection closes first (a client that hangs up gets no onResponse; counted as 499, nginx's
 * "client closed request"), so the gauge cannot drift.
 */
export function begin(context: ServingContext, request: FastifyRequest, reply: FastifyReply, backend: ModelBackend): void {
  request.servedBy = { model: backend.name, version: backend.version };
  context.metrics.inFlight.inc({ model: backend.name, version: backend.version });
  reply.raw.once("close", () => finish(context, request, reply.raw.writableFinished ? reply.statusCode : 499, reply.elapsedTime / 1000));
}

function finish(context: ServingContext, request: FastifyRequest, status: number, seconds: number): void {
  const served = request.servedBy;
  if (!served || served.finished) return;
  served.finished = true;
  const labels = { model: served.model, version: served.version };
  context.metrics.inFlight.dec(labels);
  context.metrics.requestSeconds.observe({ ...labels, route: request.routeOptions.url ?? "unknown", status: String(status) }, seconds);
  context.metrics.predictions.inc({ ...labels, status: status < 400 ? "ok" : "error" });
}

/** Version headers on every response, and request metrics for every request that reached a model. */
export function instrument(app: FastifyInstance, context: ServingContext): void {
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable on the JSON route.
  app.addHook("onSend", (request, reply, payload, done) => {
    const served = request.servedBy ?? named(context, request) ?? single(context);
    if (served) {
      reply.header("x-model-name", served.model);
      reply.header("x-model-version", served.version);
    }
    done(null, payload);
  });
  app.addHook("onResponse", (request, reply, done) => {
    finish(context, request, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * The model version a request names in its path, when this process serves it: metadata, ready
 * and requests refused before inference (schema 400s, shed 503s) carry its headers too.
 */
function named(context: ServingContext, request: FastifyRequest): { model: string; version: string } | undefined {
  const { name, version } = (request.params ?? {}) as { name?: string; version?: string };
  if (!name || !context.store.names().includes(name)) return undefined;
  if (version === undefined) return { model: name, version: context.store.defaultVersion(name) as string };
  return context.store.versionsOf(name).includes(version) ? { model: name, version } : undefined;
}

/** With one model in the process, even probes and errors before routing name it in their headers. */
function single(context: ServingContext): { model: string; version: string } | undefined {
  const names = context.store.names();
  if (names.length !== 1) return undefined;
  const version = context.store.defaultVersion(names[0] as string) as string;
  return { model: names[0] as string, version };
}

/** Counts a shed request against the model it named, and answers 503 with Retry-After. */
export function shed(
  context: ServingContext,
  request: FastifyRequest,
  reply: FastifyReply,
  retryAfterSeconds: number,
  reason: string,
): { error: string } {
  const params = (request.params ?? {}) as { name?: string; version?: string };
  const model = params.name ?? single(context)?.model ?? "unknown";
  const version = params.version ?? context.store.defaultVersion(model) ?? "unknown";
  context.metrics.predictions.inc({ model, version, status: "shed" });
  reply.code(503).header("retry-after", String(retryAfterSeconds));
  return { error: `overloaded (${reason}); retry after ${retryAfterSeconds} s` };
}

/** Runs one inference under the deadline (the server's, or the client's gRPC deadline when sooner) and records its duration. */
export async function timedInfer(
  context: ServingContext,
  backend: ModelBackend,
  request: InferenceRequest,
  options: InferOptions & { timeoutMs?: number } = {},
): Promise<InferenceResponse> {
  const end = context.metrics.inferenceSeconds.startTimer({ model: backend.name, version: backend.version });
  const timeoutMs = Math.min(options.timeoutMs ?? Number.POSITIVE_INFINITY, context.inferenceTimeoutMs);
  try {
    return await withTimeout(backend.infer(request, options), timeoutMs, `inference of ${backend.name} ${backend.version}`);
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if ((error as Error).message.includes("timed out")) throw new HttpError(504, (error as Error).message);
    throw error;
  } finally {
    end();
  }
}

/** Row i of an output whose first dimension is the batch: a number when the row holds one value. */
export function outputRow(output: ResponseOutput, row: number, rows: number): number | number[] {
  const flat = plainValues(output);
  const width = rows > 0 ? flat.length / rows : 0;
  const values = flat.slice(row * width, (row + 1) * width).map(Number);
  return values.length === 1 ? (values[0] as number) : values;
}

/** One prediction log record per row of a batch. */
export function predictionRecords(
  backend: ModelBackend,
  requestId: string,
  rows: Array<{ entities: Record<string, string | number>; features: PredictionRecord["features"] }>,
  outputs: ResponseOutput[],
): PredictionRecord[] {
  const timestamp = new Date().toISOString();
  return rows.map((row, i) => ({
    timestamp,
    model: backend.name,
    version: backend.version,
    request_id: requestId,
    entities: row.entities,
    features: row.features,
    outputs: Object.fromEntries(outputs.map((o) => [o.name, outputRow(o, i, rows.length)])),
  }));
}
