import { HttpError } from "../core";
import { GrpcUpstream } from "./grpc-upstream";
import type { BackendKind, InferOptions, ModelBackend } from "./model-backend";
import type { TensorLimits } from "./tensor";
import { encodeInferRequest, HEADER_LENGTH, parseInferResponse } from "./binary-extension";
import { callUpstream, type UpstreamOptions, upstreamJson } from "./upstream";
import type { InferenceRequest, InferenceResponse, MetadataTensor, ModelMetadata } from "./v2-types";

export interface UpstreamModelOptions extends UpstreamOptions {
  /** The name this service answers to (and labels metrics with). */
  name: string;
  /** The version label this service reports (the catalog's version name). */
  version: string;
  kind: Extract<BackendKind, "kserve-v2" | "triton">;
  /** The model's name in the runtime. Defaults to `name`. */
  upstreamModel?: string;
  /** The model's version in the runtime (Triton numbers them); omitted means the runtime's default. */
  upstreamVersion?: string;
  limits: TensorLimits;
  /** host:port of the runtime's V2 gRPC API; requests that reach us over gRPC are forwarded there. */
  grpcTarget?: string;
}

/**
 * A model served by an external V2 runtime (Triton, KServe ModelServer, MLServer): requests are
 * forwarded as they are, so this service adds its metrics, logging, limits and features
 * without changing the protocol. Loading fetches the runtime's metadata and readiness.
 */
export class UpstreamModel implements ModelBackend {
  readonly kind: UpstreamModelOptions["kind"];
  readonly name: string;
  readonly version: string;
  platform = "";
  inputs: MetadataTensor[] = [];
  outputs: MetadataTensor[] = [];
  private readonly modelPath: string;
  private readonly grpc?: GrpcUpstream;

  private constructor(private readonly options: UpstreamModelOptions) {
    this.kind = options.kind;
    this.name = options.name;
    this.version = options.version;
    const model = encodeURIComponent(options.upstreamModel ?? options.name);
    this.modelPath = `/v2/models/${model}${options.upstreamVersion ? `/versions/${encodeURIComponent(options.upstreamVersion)}` : ""}`;
    if (options.grpcTarget)
      this.grpc = new GrpcUpstream(options.grpcTarget, { timeoutMs: options.timeoutMs ?? 10_000, retries: options.retries ?? 2 });
  }

  static async load(options: UpstreamModelOptions): Promise<UpstreamModel> {
    const model = new UpstreamModel(options);
    const ready = await callUpstream(options, `${model.modelPath}/ready`, { method: "GET" });
    await ready.body?.cancel();
    if (ready.status !== 200)
      throw new Error(`runtime at ${options.url} says model ${options.upstreamModel ?? options.name} is not ready (HTTP ${ready.status})`);
    const response = await callUpstream(options, model.modelPath, { method: "GET" });
    const metadata = await upstreamJson<ModelMetadata & { error?: string }>(response, `runtime at ${options.url}`);
    if (response.status !== 200)
      throw new Error(
        `runtime at ${options.url} refused the metadata request for ${model.modelPath}: HTTP ${response.status} ${metadata.error ?? ""}`,
      );
    model.platform = metadata.platform ?? options.kind;
    model.inputs = metadata.inputs ?? [];
    model.outputs = metadata.outputs ?? [];
    return model;
  }

  async infer(request: InferenceRequest, options: InferOptions = {}): Promise<InferenceResponse> {
    for (const input of request.inputs) {
      const count = input.shape.reduce((n, d) => n * d, 1);
      if (count > this.options.limits.maxElements) {
        throw new HttpError(
          413,
          `input "${input.name}" has ${count} elements; the limit is ${this.options.limits.maxElements}; send smaller batches`,
        );
      }
    }
    if (options.protocol === "grpc" && this.grpc) {
      const answer = await this.grpc.infer(request, this.options.upstreamModel ?? this.name, this.options.upstreamVersion);
      return { ...answer, model_name: this.name, model_version: this.version };
    }
    // Binary inputs go on as Triton's binary extension (the bytes unchanged), and binary outputs come back the same way.
    const { body: sent, headerLength } = encodeInferRequest(request);
    const headers: Record<string, string> =
      headerLength === undefined ? {} : { "content-type": "application/octet-stream", [HEADER_LENGTH]: String(headerLength) };
    const response = await callUpstream(this.options, `${this.modelPath}/infer`, { method: "POST", body: sent, headers });
    const bytes = Buffer.from(await response.arrayBuffer());
    const body = parseUpstreamAnswer(bytes, response.headers.get(HEADER_LENGTH), response.status, this.options.url);
    if (response.status >= 400) {
      const reason = body.error ?? `HTTP ${response.status}`;
      // The runtime's 4xx is the client's problem and keeps its status; its 5xx is ours to report as a bad gateway.
      if (response.status < 500) throw new HttpError(response.status, reason, { upstream: this.options.url });
      throw new HttpError(502, `runtime at ${this.options.url} failed: ${reason}`, { upstream: this.options.url });
    }
    return { ...body, model_name: this.name, model_version: this.version };
  }

  async close(): Promise<void> {
    this.grpc?.close();
  }
}

/** A runtime's infer answer; one that is not V2 JSON (or a binary header + tensors) is a 502 quoting what came back. */
function parseUpstreamAnswer(
  bytes: Buffer,
  headerLength: string | null,
  status: number,
  url: string,
): InferenceResponse & { error?: string } {
  try {
    return parseInferResponse(bytes, headerLength);
  } catch {
    throw new HttpError(
      502,
      `runtime at ${url} answered HTTP ${status} with a body that is not JSON: ${bytes.subarray(0, 200).toString("utf8")}`,
    );
  }
}
