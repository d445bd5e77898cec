import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError } from "../core";
import { begin, type ServingContext, predictionRecords, timedInfer } from "./context";
import type { PredictionRecord } from "./log-sinks";
import { encodeInferResponse, HEADER_LENGTH, parseInferBody } from "./binary-extension";
import { BodyBufferPool, OWN_BUFFER_ABOVE, readBody } from "./body-reader";
import { plainValues } from "./tensor";
import { inferSchema, liveSchema, modelMetadataSchema, modelReadySchema, readySchema, serverMetadataSchema } from "./v2-schemas";
import type { InferenceRequest, ModelMetadata, RequestInput } from "./v2-types";

type ModelParams = { name: string; version?: string };

/** Server metadata: Triton's binary tensor extension is the one this server implements (tritonclient reads the list). */
export const SERVER = { name: "mlops-serving", version: "0.1.0", extensions: ["binary_tensor_data"] };

/**
 * The Open Inference Protocol (KServe V2) REST API: health, server and model metadata, model
 * readiness and inference, each path with and without `/versions/{version}`. Errors are
 * `{"error": "..."}` with 400 for a bad request, 404 for an unknown model or version, 413 for an
 * oversized tensor, 503 while loading or overloaded and 504 when inference passes its deadline.
 */
export async function v2Routes(app: FastifyInstance, options: { context: ServingContext }): Promise<void> {
  const { context } = options;
  const { store } = context;

  // Every body is read as bytes: tritonclient sends no Content-Type at all, KServe's SDK sends
  // application/json or application/octet-stream, and the binary extension puts raw tensors
  // after the JSON header. The JSON is parsed with exact 64-bit integers (v2-json.ts).
  // The body is read by readBody, not fastify's buffer parser: it is allocated once from the
  // Content-Length and placed so that the binary tail starts 8-byte aligned, which lets a binary
  // input reach onnxruntime as a view on the body instead of a copy.
  // The parser is registered under the media types clients send as well as "*": fastify caches
  // the parser it finds for a content type, but not its "*" fallback, so with "*" alone every
  // JSON request paid a content-type parse and four lookups before its body was read.
  // Large bodies (binary tensors) are read into buffers of this app's pool, each given back once its request is answered.
  const bodies = new BodyBufferPool();
  const parseV2Body = v2BodyParser(bodies);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(["application/json", "application/octet-stream"], parseV2Body);
  app.addContentTypeParser("*", parseV2Body);
  // The protocol's media type is application/json, and the KServe SDK reads an error's message
  // only when the content type is exactly that (JSON is UTF-8 by definition, RFC 8259).
  // A callback hook, not an async one: no promise per request on the JSON route.
  app.addHook("onSend", (_request, reply, payload, done) => {
    const type = reply.getHeader("content-type");
    if (typeof type === "string" && type !== JSON_TYPE && type.startsWith(JSON_TYPE)) reply.header("content-type", JSON_TYPE);
    done(null, payload);
  });

  app.get("/v2", { schema: serverMetadataSchema }, async () => SERVER);
  app.get("/v2/", { schema: serverMetadataSchema }, async () => SERVER);
  app.get("/v2/health/live", { schema: liveSchema }, async () => ({ live: true }));
  app.get("/v2/health/ready", { schema: readySchema }, async (_request, reply) => {
    const readiness = context.readiness();
    if (readiness.ok) return { ready: true };
    reply.code(503);
    return { ready: false, error: readiness.reason };
  });

  const metadata = async (request: FastifyRequest<{ Params: ModelParams }>): Promise<ModelMetadata> => {
    const backend = store.resolve(request.params.name, request.params.version);
    return {
      name: backend.name,
      versions: store.versionsOf(backend.name),
      platform: backend.platform,
      inputs: backend.inputs,
      outputs: backend.outputs,
    };
  };
  app.get<{ Params: ModelParams }>("/v2/models/:name", { schema: modelMetadataSchema }, metadata);
  app.get<{ Params: ModelParams }>("/v2/models/:name/versions/:version", { schema: modelMetadataSchema }, metadata);

  const ready = async (request: FastifyRequest<{ Params: ModelParams }>, reply: FastifyReply) => {
    const { name, version } = request.params;
    if (!store.names().includes(name))
      throw new HttpError(404, `model "${name}" is not served here; served models: ${store.names().join(", ")}`);
    if (version && !store.versionsOf(name).includes(version))
      throw new HttpError(404, `model "${name}" has no version "${version}" here; served versions: ${store.versionsOf(name).join(", ")}`);
    const readiness = store.readiness(name, version);
    if (readiness.ok) return { name, ready: true };
    reply.code(503);
    return { name, ready: false, error: readiness.reason };
  };
  app.get<{ Params: ModelParams }>("/v2/models/:name/ready", { schema: modelReadySchema }, ready);
  app.get<{ Params: ModelParams }>("/v2/models/:name/versions/:version/ready", { schema: modelReadySchema }, ready);

  const infer = async (request: FastifyRequest<{ Params: ModelParams; Body: InferenceRequest }>, reply: FastifyReply) => {
    // Inputs may be views on the pooled body; they are done with once the answer is out (or the
    // client has gone). A run that outlives its deadline only reads them, into an answer nobody gets.
    const pooled = pooledBodies.get(request.body);
    if (pooled) reply.raw.once("close", () => bodies.release(pooled));
    const backend = store.resolve(request.params.name, request.params.version);
    begin(context, request, reply, backend);
    // The protocol echoes the client's id; without one we make one, so the response and its prediction log line can be matched.
    const body = request.body.id ? request.body : { ...request.body, id: randomUUID() };
    const response = await timedInfer(context, backend, body);
    const log = context.predictionLog;
    if (log?.sampled(backend.name)) {
      const rows = tensorRows(body.inputs, context.featureServiceOf(backend.name)?.features);
      log.add(predictionRecords(backend, body.id as string, rows, response.outputs));
    }
    const encoded = encodeInferResponse({ ...response, id: body.id });
    // Already JSON text: through a serializer that keeps it as it is, fastify sends it with the type
    // set here; a plain string would get "; charset=utf-8" appended, only for the hook above to take it off again.
    if ("json" in encoded) return reply.header("content-type", JSON_TYPE).serializer(asIs).send(encoded.json);
    reply.type("application/octet-stream").header(HEADER_LENGTH, String(encoded.headerLength));
    return reply.send(binaryPayload(encoded.parts, encoded.byteLength, reply));
  };
  const shed = { shed: true };
  app.post<{ Params: ModelParams; Body: InferenceRequest }>("/v2/models/:name/infer", { schema: inferSchema, config: shed }, infer);
  app.post<{ Params: ModelParams; Body: InferenceRequest }>(
    "/v2/models/:name/versions/:version/infer",
    { schema: inferSchema, config: shed },
    infer,
  );
}

const JSON_TYPE = "application/json";
const asIs = (text: string): string => text;

/** Parsed infer bodies whose buffer came from the pool, so the route can give it back when it has answered. */
const pooledBodies = new WeakMap<object, Buffer>();

/**
 * Fastify's content-type parser for every infer body: read as bytes (see readBody), large ones
 * into `pool`'s buffers, then JSON or JSON header + binary tail (parseInferBody).
 */
function v2BodyParser(pool: BodyBufferPool) {
  return (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: unknown) => void): void => {
    const header = request.headers[HEADER_LENGTH];
    const headerLength = Array.isArray(header) ? header[0] : header;
    const declared = request.headers["content-length"];
    const alignAt = Number(headerLength);
    readBody(
      payload,
      {
        contentLength: declared === undefined || !/^\d+$/.test(declared) ? undefined : Number(declared),
        limit: request.routeOptions.bodyLimit ?? Number.POSITIVE_INFINITY,
        alignAt: Number.isSafeInteger(alignAt) && alignAt > 0 ? alignAt : 0,
        pool,
      },
      (error, body) => {
        if (error) return done(error, undefined);
        const bytes = body as Buffer;
        try {
          const parsed = parseInferBody(bytes, headerLength);
          if (bytes.length >= OWN_BUFFER_ABOVE) pooledBodies.set(parsed, bytes);
          done(null, parsed);
        } catch (parseError) {
          done(parseError as Error, undefined);
        }
      },
    );
  };
}

/** Below this many bytes the parts are joined (one write); above it a copy costs more than a stream. */
const STREAM_ABOVE_BYTES = 64 * 1024;

/**
 * A binary answer as fastify's payload: small ones joined into one buffer, large ones as a stream
 * of the parts with their Content-Length, so the output tensor goes to the socket without a copy.
 */
export function binaryPayload(parts: Uint8Array[], byteLength: number, reply: FastifyReply): Buffer | Readable {
  if (byteLength < STREAM_ABOVE_BYTES) return Buffer.concat(parts, byteLength);
  reply.header("content-length", String(byteLength));
  return new Readable({
    read() {
      for (const part of parts) this.push(part);
      this.push(null);
    },
  });
}

/**
 * Prediction-log rows of a raw tensor request. A single 2-D input [N, F] of a model with F
 * catalog features is logged under the feature names, so drift checks see the same columns as
 * for entity-keyed requests; anything else is logged as `<input>_<column>`.
 */
export function tensorRows(
  inputs: RequestInput[],
  featureNames: string[] | undefined,
): Array<{ entities: Record<string, never>; features: PredictionRecord["features"] }> {
  const first = inputs[0];
  if (!first) return [];
  const rows = first.shape[0] ?? 1;
  const out = Array.from({ length: rows }, () => ({ entities: {}, features: {} as PredictionRecord["features"] }));
  for (const input of inputs) {
    const flat = plainValues(input).map((v) => (typeof v === "bigint" ? v.toString() : v));
    const width = rows > 0 ? flat.length / rows : 0;
    const names = inputs.length === 1 && featureNames?.length === width ? featureNames : undefined;
    for (let r = 0; r < rows; r++) {
      const row = out[r]?.features as PredictionRecord["features"];
      for (let c = 0; c < width; c++) row[names ? (names[c] as string) : `${input.name}_${c}`] = flat[r * width + c] ?? null;
    }
  }
  return out;
}
