import { fastifySwagger } from "@fastify/swagger";
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from "fastify";
import type { Registry } from "prom-client";
import { HttpError } from "./errors";
import type { Logger } from "./logger";
import { documentErrors, openApiInfo } from "./openapi";

export interface AppOptions {
  service: string;
  /** One line on what the service does: the OpenAPI document's description. */
  description?: string;
  logger: Logger;
  registry: Registry;
  /** Readiness check: resolves when the service can serve (store reachable, model loaded). */
  ready?: () => Promise<{ ok: boolean; reason?: string }>;
  /** Maximum request body in bytes. Defaults to 1 MiB. */
  bodyLimit?: number;
  /** Per-request timeout in ms (0 = none). Defaults to 30 s. */
  requestTimeout?: number;
  fastify?: Partial<FastifyServerOptions>;
}

const probeSchemas = {
  metrics: {
    description: "Prometheus metrics of this process",
    response: { 200: { description: "Prometheus text exposition format", content: { "text/plain": { schema: { type: "string" } } } } },
  },
  healthz: {
    description: "Liveness: the process answers",
    response: { 200: { type: "object", properties: { status: { const: "ok" } }, required: ["status"] } },
  },
  readyz: {
    description: "Readiness: the service can serve (stores reachable, models loaded)",
    response: {
      200: { type: "object", properties: { status: { const: "ready" } }, required: ["status"] },
      503: { type: "object", properties: { status: { const: "not ready" }, reason: { type: "string" } }, required: ["status"] },
    },
  },
} as const;

/**
 * A fastify app with what every platform service needs: `/metrics`, `/healthz` (liveness),
 * `/readyz` (readiness from `ready`), JSON errors with a reason (4xx for bad input, 503 for a
 * store outage, never a stack trace), a body limit, and `/openapi.json`: the OpenAPI 3.1 document
 * @fastify/swagger builds from the very route schemas fastify validates requests with.
 */
export function createApp(options: AppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestTimeout: options.requestTimeout ?? 30_000,
    // Per-request lines are off: request latency and status go to metrics, errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    ...options.fastify,
  });
  // Applied at once, not through register(): its onRoute hook must be in place before the routes
  // the caller declares right after createApp returns (a registered plugin loads only at ready()).
  fastifySwagger(app, { openapi: openApiInfo(options.service, options.description), transform: documentErrors }, (error?: Error) => {
    if (error) throw error;
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  app.get("/metrics", { schema: probeSchemas.metrics }, async (_req, reply) => {
    reply.header("content-type", options.registry.contentType);
    return options.registry.metrics();
  });
  app.get("/healthz", { schema: probeSchemas.healthz }, async () => ({ status: "ok" }));
  app.get("/readyz", { schema: probeSchemas.readyz }, async (_req, reply) => {
    const state = options.ready ? await options.ready().catch((e: Error) => ({ ok: false, reason: e.message })) : { ok: true };
    reply.code(state.ok ? 200 : 503);
    return state.ok ? { status: "ready" } : { status: "not ready", reason: state.reason };
  });
  app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown; code?: string }, request, reply) => {
    const status = error instanceof HttpError ? error.statusCode : (error.statusCode ?? 500);
    if (status >= 500) request.log.error({ err: error }, "request failed");
    const details = error instanceof HttpError ? error.details : undefined;
    const message = status >= 500 && !(error instanceof HttpError) ? "internal error" : error.message;
    reply.code(status).send({ error: message, ...details });
  });
  return app;
}

/** Closes the app on SIGTERM/SIGINT, letting in-flight requests finish (Kubernetes sends SIGTERM, then waits). */
export function closeOnSignals(app: FastifyInstance, logger: Logger, onClose?: () => Promise<void>): void {
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down: draining in-flight requests");
    try {
      await app.close();
      await onClose?.();
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, "shutdown failed");
      process.exit(1);
    }
  };
  process.once("SIGTERM", () => void close("SIGTERM"));
  process.once("SIGINT", () => void close("SIGINT"));
}
