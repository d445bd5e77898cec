/**
 * What every service's OpenAPI document shares: the info block, and the documented error body.
 * Every error of every service goes through createApp's error handler, which answers
 * `{"error": "<reason>", ...details}`; the transform below documents that body on each route for
 * the status ranges the route does not describe itself, so clients and schemathesis check it.
 */
import type { FastifySchema, RouteOptions } from "fastify";
import { version } from "../../package.json";

/** The body of every error answer (4xx and 5xx): a reason, plus fields some errors add (e.g. `store`). */
export const errorBody = {
  type: "object",
  properties: { error: { type: "string", description: "what went wrong and how to fix it" } },
  required: ["error"],
  additionalProperties: true,
  description: "Error",
} as const;

export function openApiInfo(service: string, description?: string) {
  return {
    openapi: "3.1.0",
    info: { title: `mlops ${service}`, version, ...(description ? { description } : {}) },
  };
}

type Responses = Record<string, unknown>;

/**
 * @fastify/swagger transform: adds the error body under 4XX and 5XX unless the route documents that
 * range itself, and a success entry when the route documents none (a response schema with only
 * error codes would otherwise leave 200 undocumented). It copies: the route's own schema object
 * is what fastify serialises with, and must not change.
 */
export function documentErrors({ schema, url }: { schema?: FastifySchema; url: string; route?: RouteOptions }): {
  schema: FastifySchema;
  url: string;
} {
  const base = schema ?? {};
  if ((base as { hide?: boolean }).hide) return { schema: base, url };
  const own = (base.response ?? {}) as Responses;
  const codes = Object.keys(own).map((code) => code.toUpperCase());
  const response: Responses = { ...own };
  if (!codes.some((code) => code.startsWith("2"))) response["2XX"] = { description: "Success" };
  if (!codes.includes("4XX")) response["4XX"] = errorBody;
  if (!codes.includes("5XX")) response["5XX"] = errorBody;
  return { schema: { ...base, response }, url };
}
