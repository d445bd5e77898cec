import { type Client, credentials, Metadata, type ServiceError, status } from "@grpc/grpc-js";
import { HttpError } from "../core";
import { fromGrpcResponse, type GrpcInferResponse, toGrpcRequest } from "./grpc-messages";
import { inferenceService } from "./grpc-server";
import type { InferenceRequest, InferenceResponse } from "./v2-types";

/** HTTP status of a runtime's gRPC failure: its client errors stay the client's, the rest is a bad gateway or unavailable. */
function httpStatusOf(code: status): number {
  if (code === status.INVALID_ARGUMENT || code === status.OUT_OF_RANGE) return 400;
  if (code === status.NOT_FOUND) return 404;
  if (code === status.UNAVAILABLE || code === status.RESOURCE_EXHAUSTED) return 503;
  if (code === status.DEADLINE_EXCEEDED) return 504;
  return 502;
}

type Infer = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (error: ServiceError | null, response: GrpcInferResponse) => void,
) => void;

/**
 * ModelInfer on a runtime that speaks V2 gRPC (Triton's port 8001, KServe's 8081), for requests
 * that reached us over gRPC: raw tensors stay raw end to end. One channel per runtime, a
 * deadline on every call; a runtime that is unavailable is retried like the REST path.
 */
export class GrpcUpstream {
  private readonly client: Client;

  constructor(
    private readonly target: string,
    private readonly options: { timeoutMs: number; retries: number },
  ) {
    const Ctor = inferenceService as unknown as new (
      target: string,
      creds: ReturnType<typeof credentials.createInsecure>,
      options: object,
    ) => Client;
    this.client = new Ctor(target, credentials.createInsecure(), { "grpc.max_receive_message_length": -1 });
  }

  async infer(request: InferenceRequest, model: string, version: string | undefined): Promise<InferenceResponse> {
    const message = toGrpcRequest(request, model, version);
    let last: ServiceError | undefined;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      try {
        const response = await new Promise<GrpcInferResponse>((resolve, reject) =>
          (this.client as unknown as { ModelInfer: Infer }).ModelInfer.call(
            this.client,
            message,
            new Metadata(),
            { deadline: Date.now() + this.options.timeoutMs },
            (error, answer) => (error ? reject(error) : resolve(answer)),
          ),
        );
        return fromGrpcResponse(response);
      } catch (error) {
        last = error as ServiceError;
        // Only UNAVAILABLE means the runtime did not take the call; anything else is its answer.
        if (last.code !== status.UNAVAILABLE) break;
      }
    }
    const code = last?.code ?? status.UNKNOWN;
    const reason = last?.details ?? "no answer";
    const httpStatus = httpStatusOf(code);
    throw new HttpError(httpStatus, httpStatus < 500 ? reason : `runtime at ${this.target} (gRPC) failed: ${reason}`, {
      upstream: this.target,
    });
  }

  close(): void {
    this.client.close();
  }
}
