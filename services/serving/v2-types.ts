/**
 * Open Inference Protocol (KServe V2) REST payloads, as the specification writes them
 * (github.com/kserve/open-inference-protocol, specification/protocol/inference_rest.md).
 */

/** Tensor element types of the protocol ("Tensor Data Types"). */
export const V2Datatype = [
  "BOOL",
  "UINT8",
  "UINT16",
  "UINT32",
  "UINT64",
  "INT8",
  "INT16",
  "INT32",
  "INT64",
  "FP16",
  "BF16",
  "FP32",
  "FP64",
  "BYTES",
] as const;
export type V2Datatype = (typeof V2Datatype)[number];

/** One tensor element in JSON: 64-bit integers beyond 2^53 are bigint (written exactly by v2-json.ts). */
export type TensorValue = number | bigint | string | boolean;
/** Tensor contents in row-major order, flat or nested. */
export type TensorData = Array<TensorValue | TensorData>;
/** The protocol's $parameters: values are strings, numbers or booleans. */
export type Parameters = Record<string, string | number | boolean>;

/** $metadata_tensor: variable-size dimensions are -1. */
export interface MetadataTensor {
  name: string;
  datatype: string;
  shape: number[];
}

/** $inference_request_input */
export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  /** JSON contents; absent when `raw` carries them. */
  data?: TensorData;
  /** Raw little-endian contents (Triton's binary extension, gRPC raw_input_contents). */
  raw?: Uint8Array;
}

/** $inference_request */
export interface InferenceRequest {
  id?: string;
  parameters?: Parameters;
  inputs: RequestInput[];
  outputs?: { name: string; parameters?: Parameters }[];
}

/** $response_output */
export interface ResponseOutput {
  name: string;
  shape: number[];
  datatype: string;
  parameters?: Parameters;
  /** JSON contents; absent when `raw` carries them. */
  data?: TensorData;
  /** Raw little-endian contents, when the client asked for binary outputs. */
  raw?: Uint8Array;
}

/** $inference_response */
export interface InferenceResponse {
  model_name: string;
  model_version?: string;
  id?: string;
  parameters?: Parameters;
  outputs: ResponseOutput[];
}

/** $metadata_model_response */
export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: MetadataTensor[];
  outputs: MetadataTensor[];
}

/** $metadata_server_response */
export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}
