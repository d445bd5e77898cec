import type { InferenceRequest, InferenceResponse, MetadataTensor } from "./v2-types";

/** How a model version runs: in this process (ONNX) or in an external runtime behind a proxy. */
export const BackendKind = ["onnx", "kserve-v2", "triton", "openai"] as const;
export type BackendKind = (typeof BackendKind)[number];

/** How the request reached us: a runtime proxy answers gRPC clients over gRPC when the runtime offers it. */
export interface InferOptions {
  protocol?: "rest" | "grpc";
}

/**
 * One loaded model version. The V2 routes, the entity-keyed predict route and the metrics only
 * see this interface, so an in-process ONNX session and a remote Triton server look the same.
 */
export interface ModelBackend {
  readonly name: string;
  readonly version: string;
  readonly kind: BackendKind;
  /** The V2 metadata "platform", e.g. "onnxruntime_onnx". */
  readonly platform: string;
  readonly inputs: MetadataTensor[];
  readonly outputs: MetadataTensor[];
  /** Runs one V2 inference; throws HttpError (4xx) for a bad request, 5xx for a runtime failure. */
  infer(request: InferenceRequest, options?: InferOptions): Promise<InferenceResponse>;
  /** Releases the session or connections. */
  close(): Promise<void>;
}
