import { describe, expect, it } from "vitest";
import { createApp, createLogger, createRegistry, StoreUnavailableError } from "../../../services/core";
import { documentErrors, errorBody } from "../../../services/core/openapi";

function app() {
  const a = createApp({ service: "probe", description: "a probe", logger: createLogger("probe"), registry: createRegistry("probe") });
  a.post<{ Body: { n: number } }>(
    "/items/:id",
    {
      schema: {
        body: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
        response: { 200: { type: "object", properties: { n: { type: "integer" } } } },
      },
    },
    async (request) => {
      if (request.body.n < 0) throw new StoreUnavailableError("redis", new Error("connection refused"));
      return { n: request.body.n, dropped: "not in the response schema" };
    },
  );
  return a;
}

describe("OpenAPI from the route schemas", () => {
  it("GET /openapi.json describes the routes declared right after createApp, with path parameters and the body schema", async () => {
    const a = app();
    const doc = (await a.inject("/openapi.json")).json();
    expect(doc.info).toEqual({ title: "mlops probe", version: expect.any(String), description: "a probe" });
    const post = doc.paths["/items/{id}"].post;
    expect(post.parameters).toEqual([{ schema: { type: "string" }, in: "path", name: "id", required: true }]);
    expect(post.requestBody.content["application/json"].schema.required).toEqual(["n"]);
    expect(post.responses["4XX"].content["application/json"].schema).toEqual(errorBody);
    expect(post.responses["5XX"].content["application/json"].schema).toEqual(errorBody);
    expect(Object.keys(doc.paths)).toEqual(["/metrics", "/healthz", "/readyz", "/items/{id}"]);
    await a.close();
  });

  it("documenting errors leaves the route's own schema alone: the error details still reach the client", async () => {
    const a = app();
    await a.inject("/openapi.json");
    const outage = await a.inject({ method: "POST", url: "/items/1", payload: { n: -1 } });
    expect(outage.statusCode).toBe(503);
    expect(outage.json()).toEqual({ error: "redis is unavailable: connection refused", store: "redis" });
    const ok = await a.inject({ method: "POST", url: "/items/1", payload: { n: 2 } });
    expect(ok.json()).toEqual({ n: 2 });
    // No coercion: "2" is not an integer (fastify's default would have taken it as 2).
    const coerced = await a.inject({ method: "POST", url: "/items/1", payload: { n: "2" } });
    expect([coerced.statusCode, coerced.json().error]).toEqual([400, "body/n must be integer"]);
    await a.close();
  });

  it("answers a method a known path lacks with 405 and Allow, and an unknown path with 404, both as {error}", async () => {
    const a = app();
    const trace = await a.inject({ method: "TRACE", url: "/items/7?x=1" });
    expect([trace.statusCode, trace.headers.allow]).toEqual([405, "POST"]);
    expect(trace.json()).toEqual({ error: "TRACE is not allowed on /items/7; allowed: POST" });
    const get = await a.inject({ method: "DELETE", url: "/healthz" });
    expect([get.statusCode, get.headers.allow]).toEqual([405, "GET, HEAD"]);
    const query = await a.inject({ method: "QUERY", url: "/healthz" });
    expect(query.statusCode).toBe(405);
    const missing = await a.inject({ method: "GET", url: "/items" });
    expect([missing.statusCode, missing.json()]).toEqual([404, { error: "no route GET /items; see /openapi.json for the routes" }]);
    await a.close();
  });

  it("keeps a range the route documents itself, adds a success entry where only errors are documented, and copies", () => {
    const own = { response: { "4xx": { type: "object" }, 503: { type: "object" } } };
    const { schema } = documentErrors({ schema: own, url: "/x" });
    expect(schema.response).toEqual({
      "4xx": { type: "object" },
      503: { type: "object" },
      "2XX": { description: "Success" },
      "5XX": errorBody,
    });
    expect(own.response).toEqual({ "4xx": { type: "object" }, 503: { type: "object" } });
    expect(documentErrors({ schema: { hide: true } as never, url: "/y" }).schema).toEqual({ hide: true });
  });
});
