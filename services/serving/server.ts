import underPressure from "@fastify/under-pressure";
import type { FastifyError, FastifyInstance } from "fastify";
import type { Registry } from "prom-client";
import { type Catalog, resolveFeatureService, serviceInputsOf } from "../../definition/registry";
import { createApp, createLogger, createRegistry, HttpError, type Logger } from "../core";
import { type Admission, instrument, type ServingContext, shed } from "./context";
import { type GrpcServing, listenGrpc } from "./grpc-server";
import { FeaturesClient } from "./features-client";
import { type PredictionLogSink, sinkFor } from "./log-sinks";
import { ServingMetrics } from "./metrics";
import type { ModelSourceOptions } from "./model-source";
import { type ModelConfig, ModelStore } from "./model-store";
import { openAiRoutes } from "./openai";
import { predictRoutes } from "./predict-route";
import { PredictionLog } from "./prediction-log";
import { v2Routes } from "./v2-routes";

/** Options of createServingServer; every default is named here once. */
export interface ServingServerOptions {
  /** The model versions to serve; the first version of each name answers requests that give none. */
  models: ModelConfig[];
  /** The catalog: feature services (for entity-keyed predict) and log sample rates. */
  catalog?: Catalog;
  /** Features service (Feast-compatible) base URL for entity-keyed predict. */
  featuresUrl?: string;
  /** Deadline of one feature lookup, in ms. Defaults to 200. */
  featuresTimeoutMs?: number;
  /** Prediction log: where (a directory, s3://bucket/prefix, gs://bucket/prefix, or a sink) and how much. Off when neither is given. */
  predictionLog?: { target?: string; sink?: PredictionLogSink; sampleRate?: number; maxBuffered?: number; flushIntervalMs?: number };
  /** Largest request body in bytes (413 above). Defaults to 8 MiB. */
  bodyLimit?: number;
  /** Largest input tensor in elements (413 above). Defaults to 1 000 000. */
  maxTensorElements?: number;
  /** Most entity rows in one predict request (413 above). Defaults to 1 000. */
  maxBatch?: number;
  /** Prediction requests processed at once before new ones are shed with 503. Defaults to 256. */
  maxInFlight?: number;
  /** Event-loop delay (ms) above which prediction requests are shed; 0 turns the check off. Defaults to 200. */
  maxEventLoopDelayMs?: number;
  /** Retry-After (s) on a shed request. Defaults to 1. */
  retryAfterSeconds?: number;
  /** Deadline of one inference (in-process run or runtime round trip), in ms. Defaults to 5 000. */
  inferenceTimeoutMs?: number;
  /** Clients and MLflow URL for remote model URIs. */
  modelSource?: ModelSourceOptions;
  logger?: Logger;
  registry?: Registry;
  /**
   * Resolve only once every model is loaded and warmed (and reject if one fails). Defaults to
   * true; the CLI passes false to listen at once and let readiness report the loading.
   */
  waitUntilReady?: boolean;
}

/** What the server exposes besides its routes (the CLI and tests use it). */
export interface ServingHandle {
  store: ModelStore;
  /**
   * Starts the V2 gRPC API (inference.GRPCInferenceService, grpc.health.v1) on the same models,
   * metrics and shedding; resolves with the bound port. Closing the app drains it with the REST server.
   */
  listenGrpc(options: { port: number; host?: string }): Promise<number>;
  predictionLog?: PredictionLog;
  metrics: ServingMetrics;
  /** Settles when every model has loaded (rejects with the reasons when one failed). */
  loaded: Promise<void>;
}

declare module "fastify" {
  interface FastifyInstance {
    serving: ServingHandle;
  }
}

/**
 * The serving service as a fastify app, not yet listening: the KServe V2 API, entity-keyed
 * predict, the OpenAI passthrough, metrics by model and version, sampled prediction logging,
 * limits and load shedding. Closing it drains in-flight requests, then flushes the log.
 */
export async function createServingServer(options: ServingServerOptions): Promise<FastifyInstance> {
  if (options.models.length === 0) throw new Error("no model to serve: give at least one --model NAME=PATH_OR_URI");
  const logger = options.logger ?? createLogger("serving");
  const registry = options.registry ?? createRegistry("serving");
  const bodyLimit = options.bodyLimit ?? 8 * 1024 * 1024;
  const retryAfter = options.retryAfterSeconds ?? 1;
  const maxInFlight = options.maxInFlight ?? 256;
  const metrics = new ServingMetrics(registry);
  const store = new ModelStore(options.models, {
    limits: { maxElements: options.maxTensorElements ?? 1_000_000 },
    source: options.modelSource,
    logger,
  });

  const catalog = options.catalog;
  const sampleOverride = options.predictionLog?.sampleRate;
  const logOptions = options.predictionLog;
  const sink =
    logOptions?.sink ??
    (logOptions?.target ? await sinkFor(logOptions.target, { s3: options.modelSource?.s3, gcs: options.modelSource?.gcs }) : undefined);
  const predictionLog = sink
    ? new PredictionLog({
        sink,
        sampleRate: (model) => sampleOverride ?? catalog?.models[model]?.logging.sampleRate ?? 0.1,
        maxBuffered: logOptions?.maxBuffered,
        flushIntervalMs: logOptions?.flushIntervalMs,
        onDrop: (model, version, count) => metrics.logDropped.inc({ model, version }, count),
        logger,
      })
    : undefined;

  // In-flight bound: a cap on concurrent predictions keeps memory and tail latency bounded when a runtime or the features service slows down.
  // Event-loop delay: the process is CPU-saturated, and queueing more work only makes every request late.
  let inFlight = 0;
  let pressureReason = (): string | undefined => undefined;
  const admission: Admission = {
    retryAfterSeconds: retryAfter,
    enter() {
      const pressure = pressureReason();
      if (pressure) return pressure;
      if (inFlight >= maxInFlight) return `${inFlight} requests in flight, limit ${maxInFlight}`;
      inFlight++;
      return undefined;
    },
    leave() {
      inFlight--;
    },
  };
  const featureServices = new Map<string, ReturnType<ServingContext["featureServiceOf"]>>();
  const context: ServingContext = {
    store,
    metrics,
    predictionLog,
    features: options.featuresUrl ? new FeaturesClient({ url: options.featuresUrl, timeoutMs: options.featuresTimeoutMs }) : undefined,
    inferenceTimeoutMs: options.inferenceTimeoutMs ?? 5_000,
    maxBatch: options.maxBatch ?? 1_000,
    readiness: () => store.readiness(),
    admission,
    featureServiceOf(model) {
      if (!featureServices.has(model)) {
        const spec = catalog?.models[model];
        if (!catalog || !spec) featureServices.set(model, undefined);
        else {
          const resolved = resolveFeatureService(catalog, spec.featureService);
          const { joinKeys, requestFields } = serviceInputsOf(catalog, spec.featureService);
          featureServices.set(model, {
            name: spec.featureService,
            features: resolved.map((f) => f.name),
            joinKeys,
            requestFields: requestFields.map((f) => f.name),
          });
        }
      }
      return featureServices.get(model);
    },
  };

  // Loading (session creation, warm-up, schema compilation) blocks the event loop; readiness waits
  // for one calm sample after it, so the first requests a new pod gets are not shed for that.
  let calm = false;
  const readiness = (): { ok: boolean; reason?: string } => {
    const models = store.readiness();
    if (!models.ok || calm) return models;
    return { ok: false, reason: "warming up: waiting for the event loop to settle after loading" };
  };
  context.readiness = readiness;
  const app = createApp({
    service: "serving",
    logger,
    registry,
    bodyLimit,
    ready: async () => readiness(),
    // The V2 parameters schema lists its value types (see v2-schemas.ts); ajv's strict mode wants that said.
    fastify: { ajv: { customOptions: { allowUnionTypes: true } } },
  });
  instrument(app, context);

  // Hooks are added before the routes' plugin is registered, so its routes inherit them.
  // Node's server.close() only ends connections that are idle when it is called; a keep-alive
  // connection whose request is in flight would hold shutdown open forever. Answering that
  // request with "connection: close" lets the client's socket end with it.
  let closing = false;
  const grpcServers: GrpcServing[] = [];
  let grpcDrained: Promise<unknown> = Promise.resolve();
  app.addHook("preClose", async () => {
    closing = true;
    // gRPC drains beside HTTP: no new calls, in-flight ones finish (bounded by the inference deadline).
    grpcDrained = Promise.all(grpcServers.map((g) => g.drain(context.inferenceTimeoutMs + 1_000)));
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  // Event-loop delay: the process is CPU-saturated, and queueing more work only makes every request late.
  // under-pressure samples the delay; the hook below decides, so probes and /metrics are never shed.
  // Sampling as often as the bound: a window without a single sample (reported as Infinity) then
  // means the loop was blocked at least that long, so it is shed for a real reason.
  const maxEventLoopDelay = options.maxEventLoopDelayMs ?? 200;
  await app.register(underPressure, {
    maxEventLoopDelay,
    sampleInterval: maxEventLoopDelay,
    retryAfter,
    pressureHandler: () => undefined,
  });
  pressureReason = () => (app.isUnderPressure() ? `event-loop delay ${Math.round(app.memoryUsage().eventLoopDelay)} ms` : undefined);
  // A callback hook (no promise per request); a shed request is answered here, and its done() is not called.
  const leave = () => admission.leave();
  app.addHook("onRequest", (request, reply, done) => {
    if (!request.routeOptions.config.shed) return done();
    const reason = admission.enter();
    if (reason) {
      reply.send(shed(context, request, reply, retryAfter, reason));
      return;
    }
    // 'close' fires whether the response finished or the client went away, so the count cannot leak.
    reply.raw.once("close", leave);
    done();
  });

  await app.register(async (scope) => {
    scope.setErrorHandler((error: FastifyError) => {
      if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE")
        throw new HttpError(413, `request body is larger than the ${bodyLimit}-byte limit; send smaller batches`);
      if (error.validation) throw new HttpError(400, `invalid request: ${error.message}`);
      throw error;
    });
    await scope.register(v2Routes, { context });
    await scope.register(predictRoutes, { context });
    await scope.register(openAiRoutes, { context });
  });

  app.addHook("onClose", async () => {
    // Runs after the listener stopped and in-flight requests finished: their log records are in the buffer.
    await grpcDrained;
    await predictionLog?.close();
    await context.features?.close();
    await store.close();
  });

  const waitForCalm = async () => {
    for (let waited = 0; app.isUnderPressure() && waited < 3 * maxEventLoopDelay; waited += 10) await new Promise((r) => setTimeout(r, 10));
  };
  const loaded = store.load().then(async () => {
    await waitForCalm();
    calm = true;
  });
  const grpcMessageBytes = bodyLimit;
  app.decorate("serving", {
    store,
    predictionLog,
    metrics,
    loaded,
    async listenGrpc({ port, host }) {
      if (closing) throw new Error("the server is closing; gRPC cannot start");
      const served = await listenGrpc(context, {
        port,
        host: host ?? "0.0.0.0",
        maxMessageBytes: grpcMessageBytes,
        logger,
        isClosing: () => closing,
      });
      grpcServers.push(served);
      return served.port;
    },
  });
  if (options.waitUntilReady ?? true) {
    try {
      await loaded;
    } catch (error) {
      await app.close();
      throw error;
    }
    // Schema compilation happens at ready(); let the loop settle after it too.
    await app.ready();
    await waitForCalm();
  } else {
    loaded.catch((error: Error) => logger.error({ err: error }, "model loading failed; readiness stays false"));
  }
  return app;
}
