import { status } from "@grpc/grpc-js";
import { HttpError } from "../core";
import { inputValues } from "./tensor";
import { fromJsonValues, toRaw } from "./tensor-codec";
import type { InferenceRequest, InferenceResponse, Parameters, RequestInput, TensorValue } from "./v2-types";

/**
 * V2 gRPC messages (open_inference_grpc.proto, loaded with longs as strings so int64 stays exact)
 * <-> the internal request and response the REST routes use. Requests may carry typed
 * `contents` or `raw_input_contents`; responses always use `raw_output_contents`, as Triton
 * does, which both tritonclient and the KServe SDK read.
 */

type Long = string;
export interface GrpcParameter {
  bool_param?: boolean;
  int64_param?: Long;
  string_param?: string;
  double_param?: number;
  uint64_param?: Long;
  parameter_choice?: string;
}
export interface GrpcContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Long[];
  uint_contents?: number[];
  uint64_contents?: Long[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}
export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, GrpcParameter>;
  inputs: Array<{
    name: string;
    datatype: string;
    shape: Long[];
    parameters?: Record<string, GrpcParameter>;
    contents?: GrpcContents | null;
  }>;
  outputs?: Array<{ name: string; parameters?: Record<string, GrpcParameter> }>;
  raw_input_contents?: Buffer[];
}
export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, GrpcParameter>;
  outputs: Array<{
    name: string;
    datatype: string;
    shape: Long[];
    parameters?: Record<string, GrpcParameter>;
    contents?: GrpcContents | null;
  }>;
  raw_output_contents: Uint8Array[];
}

/** An InferParameter's value; 64-bit ones become numbers when exact (the protocol's REST parameters are JSON numbers). */
function parameterValue(p: GrpcParameter): string | number | boolean {
  const which = p.parameter_choice as keyof GrpcParameter | undefined;
  const v = which ? p[which] : (p.string_param ?? p.bool_param ?? p.double_param ?? p.int64_param ?? p.uint64_param);
  if (which === "int64_param" || which === "uint64_param") return Number(v);
  return v as string | number | boolean;
}

export function fromGrpcParameters(map: Record<string, GrpcParameter> | undefined): Parameters | undefined {
  if (!map || Object.keys(map).length === 0) return undefined;
  return Object.fromEntries(Object.entries(map).map(([k, p]) => [k, parameterValue(p)]));
}

export function toGrpcParameters(parameters: Parameters | undefined): Record<string, GrpcParameter> {
  const out: Record<string, GrpcParameter> = {};
  for (const [k, v] of Object.entries(parameters ?? {})) {
    if (typeof v === "boolean") out[k] = { bool_param: v };
    else if (typeof v === "string") out[k] = { string_param: v };
    else if (Number.isSafeInteger(v)) out[k] = { int64_param: String(v) };
    else out[k] = { double_param: v };
  }
  return out;
}

/** A dimension as a number: int64 on the wire, but a tensor dimension past 2^53 is no request we can hold. */
function dimension(d: Long, where: string): number {
  const n = Number(d);
  if (!Number.isSafeInteger(n) || n < 0) throw new HttpError(400, `${where}: shape dimension ${d} must be a non-negative integer`);
  return n;
}

/** The typed contents field of a datatype, as JSON values (converted exactly later, with the REST path's checks). */
function contentsValues(datatype: string, contents: GrpcContents): TensorValue[] | undefined {
  switch (datatype) {
    case "BOOL":
      return contents.bool_contents;
    case "INT8":
    case "INT16":
    case "INT32":
      return contents.int_contents;
    case "UINT8":
    case "UINT16":
    case "UINT32":
      return contents.uint_contents;
    case "INT64":
      return contents.int64_contents?.map(BigInt);
    case "UINT64":
      return contents.uint64_contents?.map(BigInt);
    case "FP32":
      return contents.fp32_contents;
    case "FP64":
      return contents.fp64_contents;
    case "BYTES":
      return contents.bytes_contents?.map((b) => b.toString("utf8"));
    default:
      return undefined;
  }
}

function hasContents(contents: GrpcContents | null | undefined): boolean {
  return !!contents && Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);
}

/**
 * A ModelInferRequest as the internal request; every output is asked for as raw bytes. The
 * protocol wants raw contents for all inputs or none, but the KServe SDK sends FP16 raw beside
 * typed contents for the rest: raw entries go, in order, to the inputs that carry no contents.
 */
export function fromGrpcRequest(message: GrpcInferRequest): InferenceRequest {
  const raws = message.raw_input_contents ?? [];
  const rawTaking = message.inputs.filter((i) => !hasContents(i.contents));
  if (raws.length > 0 && raws.length !== rawTaking.length)
    throw new HttpError(
      400,
      `raw_input_contents has ${raws.length} entries, but ${rawTaking.length} inputs carry no typed contents; give one raw entry per such input, in input order`,
    );
  let next = 0;
  const inputs: RequestInput[] = message.inputs.map((input) => {
    const where = `input "${input.name}"`;
    const base = {
      name: input.name,
      datatype: input.datatype,
      shape: input.shape.map((d) => dimension(d, where)),
      parameters: fromGrpcParameters(input.parameters),
    };
    if (raws.length > 0 && !hasContents(input.contents)) return { ...base, raw: raws[next++] as Buffer };
    if (input.datatype === "FP16" || input.datatype === "BF16")
      throw new HttpError(400, `${where}: ${input.datatype} has no typed contents field; send it in raw_input_contents`);
    const data = input.contents ? contentsValues(input.datatype, input.contents) : undefined;
    return { ...base, data: data ?? [] };
  });
  return {
    id: message.id || undefined,
    parameters: { ...fromGrpcParameters(message.parameters), binary_data_output: true },
    inputs,
    outputs: message.outputs?.length ? message.outputs.map((o) => ({ name: o.name })) : undefined,
  };
}

/** The internal response as a ModelInferResponse with raw_output_contents (JSON outputs from a runtime are converted exactly). */
export function toGrpcResponse(response: InferenceResponse): GrpcInferResponse {
  const raws: Uint8Array[] = [];
  const outputs = response.outputs.map((o) => {
    raws.push(
      o.raw ?? toRaw(o.datatype, fromJsonValues(o.datatype, (o.data ?? []).flat(Number.POSITIVE_INFINITY as 1), `output "${o.name}"`)),
    );
    const { binary_data_size: _, ...parameters } = o.parameters ?? {};
    return { name: o.name, datatype: o.datatype, shape: o.shape.map(String), parameters: toGrpcParameters(parameters) };
  });
  return {
    model_name: response.model_name,
    model_version: response.model_version ?? "",
    id: response.id ?? "",
    parameters: toGrpcParameters(response.parameters),
    outputs,
    raw_output_contents: raws,
  };
}

/** The gRPC status of an HTTP error: the codes Triton and KServe use for the same failures. */
export function grpcStatus(httpStatus: number): status {
  if (httpStatus === 400 || httpStatus === 413) return status.INVALID_ARGUMENT;
  if (httpStatus === 404) return status.NOT_FOUND;
  if (httpStatus === 429) return status.RESOURCE_EXHAUSTED;
  if (httpStatus === 502 || httpStatus === 503) return status.UNAVAILABLE;
  if (httpStatus === 504) return status.DEADLINE_EXCEEDED;
  if (httpStatus >= 400 && httpStatus < 500) return status.FAILED_PRECONDITION;
  return status.INTERNAL;
}

/** The HTTP status a gRPC outcome counts as in the metrics, so dashboards read both protocols alike. */
export function httpEquivalent(code: status): number {
  const map: Partial<Record<status, number>> = {
    [status.OK]: 200,
    [status.INVALID_ARGUMENT]: 400,
    [status.NOT_FOUND]: 404,
    [status.RESOURCE_EXHAUSTED]: 503,
    [status.UNAVAILABLE]: 503,
    [status.DEADLINE_EXCEEDED]: 504,
    [status.CANCELLED]: 499,
  };
  return map[code] ?? 500;
}

/** The internal request as a ModelInferRequest for a runtime: every input as raw contents (JSON data converted exactly). */
export function toGrpcRequest(request: InferenceRequest, model: string, version: string | undefined): GrpcInferRequest {
  const { binary_data_output: _, ...parameters } = request.parameters ?? {};
  return {
    model_name: model,
    model_version: version ?? "",
    id: request.id ?? "",
    parameters: toGrpcParameters(parameters),
    inputs: request.inputs.map((i) => {
      const { binary_data_size: _size, ...rest } = i.parameters ?? {};
      return { name: i.name, datatype: i.datatype, shape: i.shape.map(String), parameters: toGrpcParameters(rest) };
    }),
    outputs: request.outputs?.map((o) => ({ name: o.name })),
    raw_input_contents: request.inputs.map((i) => Buffer.from(i.raw ?? toRaw(i.datatype, inputValues(i)))),
  };
}

/** A runtime's ModelInferResponse as the internal response, outputs as raw bytes (or typed contents as JSON data). */
export function fromGrpcResponse(message: GrpcInferResponse): InferenceResponse {
  const raws = message.raw_output_contents ?? [];
  return {
    model_name: message.model_name,
    model_version: message.model_version || undefined,
    id: message.id || undefined,
    parameters: fromGrpcParameters(message.parameters),
    outputs: message.outputs.map((o, i) => {
      const base = { name: o.name, datatype: o.datatype, shape: o.shape.map(Number), parameters: fromGrpcParameters(o.parameters) };
      if (raws[i]) return { ...base, raw: raws[i] };
      return { ...base, data: (o.contents && contentsValues(o.datatype, o.contents)) ?? [] };
    }),
  };
}
