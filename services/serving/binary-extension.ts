import { HttpError } from "../core";
import { parseV2Json, stringifyV2 } from "./v2-json";
import type { InferenceRequest, InferenceResponse } from "./v2-types";

/**
 * Triton's binary tensor data extension of the V2 REST API (server/docs/protocol/extension_binary_data.md):
 * the body is a JSON header of `Inference-Header-Content-Length` bytes followed by the raw
 * tensors of the inputs that carry `parameters.binary_data_size`, in input order. Outputs are
 * answered the same way when the request asks (`outputs[].parameters.binary_data`, or
 * `parameters.binary_data_output` for all).
 */
export const HEADER_LENGTH = "inference-header-content-length";

/** Whether output `name` goes back as raw bytes: its own binary_data flag wins over the request-wide one. */
export function wantsBinary(request: InferenceRequest, name: string): boolean {
  const own = request.outputs?.find((o) => o.name === name)?.parameters?.binary_data;
  if (own !== undefined) return own === true;
  return request.parameters?.binary_data_output === true;
}

/** A request body (JSON, or JSON header + binary tail) as a request whose binary inputs carry `raw`. */
export function parseInferBody(body: Buffer, headerLength: string | undefined): InferenceRequest {
  let json = body;
  let tail: Buffer | undefined;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!Number.isInteger(n) || n < 0 || n > body.length)
      throw new HttpError(400, `header Inference-Header-Content-Length is "${headerLength}", but the body has ${body.length} bytes`);
    json = body.subarray(0, n);
    tail = body.subarray(n);
  }
  const request = parseV2Json(json.toString("utf8")) as InferenceRequest;
  if (typeof request !== "object" || request === null || Array.isArray(request))
    throw new HttpError(400, 'request body must be a JSON object with an "inputs" array');
  let at = 0;
  for (const input of Array.isArray(request.inputs) ? request.inputs : []) {
    const parameters = (typeof input === "object" && input?.parameters) || {};
    const where = `input "${input?.name}"`;
    if (parameters.shared_memory_region !== undefined)
      throw new HttpError(
        400,
        `${where} names shared-memory region "${parameters.shared_memory_region}"; this server has no shared memory: send the data in the body`,
      );
    const size = parameters.binary_data_size;
    if (size === undefined) continue;
    if (!tail)
      throw new HttpError(400, `${where} has parameters.binary_data_size, but the request has no Inference-Header-Content-Length header`);
    if (typeof size !== "number" || !Number.isInteger(size) || size < 0)
      throw new HttpError(400, `${where}: parameters.binary_data_size must be a byte count, got ${JSON.stringify(size)}`);
    if (input.data !== undefined) throw new HttpError(400, `${where} has both "data" and parameters.binary_data_size; send one`);
    if (at + size > tail.length)
      throw new HttpError(
        400,
        `${where} needs ${size} bytes of binary data at offset ${at}, but only ${tail.length - at} follow the JSON header`,
      );
    input.raw = tail.subarray(at, at + size);
    at += size;
  }
  if (tail && at !== tail.length)
    throw new HttpError(
      400,
      `the body has ${tail.length - at} bytes after the last binary input; binary_data_size values must add up to the bytes sent`,
    );
  return request;
}

/** A request as JSON, or as JSON header + binary tail when an input carries raw bytes (to forward it to a runtime). */
export function encodeInferRequest(request: InferenceRequest): { body: string | Buffer; headerLength?: number } {
  if (!request.inputs.some((i) => i.raw)) return { body: stringifyV2(request) };
  const raws: Uint8Array[] = [];
  const header: InferenceRequest = {
    ...request,
    inputs: request.inputs.map(({ raw, ...input }) => {
      if (!raw) return input;
      raws.push(raw);
      return { ...input, parameters: { ...input.parameters, binary_data_size: raw.byteLength } };
    }),
  };
  const json = Buffer.from(stringifyV2(header), "utf8");
  return { body: Buffer.concat([json, ...raws]), headerLength: json.length };
}

/**
 * A response as JSON, or as the parts of JSON header + binary tail when an output carries raw
 * bytes. The parts are not joined here: a large tensor is written to the socket as it is, so the
 * answer costs no copy of it (see sendInferResponse in v2-routes.ts).
 */
export function encodeInferResponse(
  response: InferenceResponse,
): { json: string } | { parts: Uint8Array[]; byteLength: number; headerLength: number } {
  if (!response.outputs.some((o) => o.raw)) return { json: stringifyV2(response) };
  const raws: Uint8Array[] = [];
  const header: InferenceResponse = {
    ...response,
    outputs: response.outputs.map(({ raw, ...output }) => {
      if (!raw) return output;
      raws.push(raw);
      return { ...output, parameters: { ...output.parameters, binary_data_size: raw.byteLength } };
    }),
  };
  const json = Buffer.from(stringifyV2(header), "utf8");
  const byteLength = raws.reduce((n, r) => n + r.byteLength, json.length);
  return { parts: [json, ...raws], byteLength, headerLength: json.length };
}

/** Splits a runtime's answer (JSON or binary) back into outputs with `raw`, so it can be re-encoded byte for byte. */
export function parseInferResponse(body: Buffer, headerLength: string | null): InferenceResponse & { error?: string } {
  const n = headerLength === null ? body.length : Number(headerLength);
  if (!Number.isInteger(n) || n < 0 || n > body.length)
    throw new HttpError(502, `runtime answered Inference-Header-Content-Length "${headerLength}" for a ${body.length}-byte body`);
  let response: InferenceResponse & { error?: string };
  try {
    response = parseV2Json(body.subarray(0, n).toString("utf8")) as InferenceResponse & { error?: string };
  } catch (error) {
    throw new HttpError(
      502,
      `runtime answered a body that is not V2 JSON: ${(error as Error).message}; ${body.subarray(0, Math.min(n, 200)).toString("utf8")}`,
    );
  }
  let at = n;
  for (const output of response.outputs ?? []) {
    const size = output.parameters?.binary_data_size;
    if (typeof size !== "number") continue;
    output.raw = body.subarray(at, at + size);
    const { binary_data_size: _, ...rest } = output.parameters ?? {};
    output.parameters = Object.keys(rest).length ? rest : undefined;
    at += size;
  }
  return response;
}
