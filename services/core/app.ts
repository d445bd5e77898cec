import { AjvCompiler } from "@fastify/ajv-compiler";
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

/**
 * Fastify's Ajv validators, with type coercion off for bodies: a JSON body already has its types,
 * and fastify's default coerces "abc" into ["abc"] and 1 into "1" (schemathesis found drift taking
 * a string for an array). Querystrings and path parameters are text and keep the coercion.
 */
const ajvCompilers = AjvCompiler();
type AjvFactoryOptions = { customOptions?: Record<string, unknown> } & Record<string, unknown>;
type Compile = (route: { httpPart?: string; schema?: unknown; method: string; url: string }) => unknown;
const build = ajvCompilers as unknown as (externalSchemas: unknown, options: AjvFactoryOptions) => Compile;
function strictBodies(externalSchemas: unknown, options: AjvFactoryOptions = {}): Compile {
  const coercing = build(externalSchemas, options);
  const strict = build(externalSchemas, { ...options, customOptions: { ...options.customOptions, coerceTypes: false } });
  return (route) => (route.httpPart === "body" ? strict : coercing)(route);
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
    schemaController: { compilersFactory: { buildValidator: strictBodies as unknown as typeof ajvCompilers } },
    ...options.fastify,
  });
  // Applied at once, not through register(): its onRoute hook must be in place before the routes
  // the caller declares right after createApp returns (a registered plugin loads only at ready()).
  fastifySwagger(app, { openapi: openApiInfo(options.service, options.description), transform: documentErrors }, (error?: Error) => {
    if (error) throw error;
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  // Unknown routes answer {"error": ...} like every other error; a known path asked with a method it
  // does not have answers 405 with Allow (RFC 9110), not 404.
  const paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  app.addHook("onRoute", (route) => {
    const entry = paths.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    paths.set(route.url, entry);
  });
  const allowedOn = (path: string): string | undefined => {
    const methods = [...paths.values()].filter((p) => p.pattern.test(path)).flatMap((p) => [...p.methods]);
    return methods.length ? [...new Set(methods)].sort().join(", ") : undefined;
  };
  // In onRequest, before body parsing: a body-carrying method (QUERY, PATCH) would otherwise be
  // refused for its missing content type before the router's verdict.
  // A callback hook, not an async one: it runs on every request of every service, and an async
  // hook costs a promise each time.
  app.addHook("onRequest", (request, reply, done) => {
    if (!request.is404) return done();
    const path = request.url.split("?")[0] ?? "/";
    const allow = allowedOn(path);
    if (!allow) return done();
    reply
      .code(405)
      .header("allow", allow)
      .send({ error: `${request.method} is not allowed on ${path}; allowed: ${allow}` });
  });
  app.setNotFoundHandler(async (request, reply) => {
    reply.code(404);
    return { error: `no route ${request.method} ${request.url.split("?")[0]}; see /openapi.json for the routes` };
  });
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

/** A fastify route URL (`/v2/models/:name/infer`) as a pattern matching concrete paths. */
export function routePattern(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+/g, "[^/]+");
  return new RegExp(`^${escaped}/?$`);
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
