import { randomUUID } from "node:crypto";
import { join } from "node:path";
import {
  loadPackageDefinition,
  Metadata,
  type sendUnaryData,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  status,
} from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { HttpError, type Logger } from "../core";
import { predictionRecords, type ServingContext, timedInfer } from "./context";
import { fromGrpcRequest, type GrpcInferRequest, grpcStatus, httpEquivalent, toGrpcResponse } from "./grpc-messages";
import type { ModelBackend } from "./model-backend";
import { SERVER, tensorRows } from "./v2-routes";

/**
 * The Open Inference Protocol over gRPC (inference.GRPCInferenceService, from the protocol's own
 * .proto, loaded at run time), plus grpc.health.v1 for Kubernetes' grpc probes. Same model
 * store, metrics, version labels, shedding (RESOURCE_EXHAUSTED), deadlines (DEADLINE_EXCEEDED:
 * the client's grpc-timeout or the server's inference deadline, whichever is sooner) and drain
 * as the REST routes.
 */
const PROTO_DIR = join(__dirname, "proto");
const LOADER = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true } as const;
type Service = { service: ServiceDefinition };
const packages = {
  inference: () =>
    (
      loadPackageDefinition(loadSync(join(PROTO_DIR, "open_inference_grpc.proto"), LOADER)) as unknown as {
        inference: { GRPCInferenceService: Service };
      }
    ).inference.GRPCInferenceService,
  health: () =>
    (
      loadPackageDefinition(loadSync(join(PROTO_DIR, "health.proto"), LOADER)) as unknown as {
        grpc: { health: { v1: { Health: Service } } };
      }
    ).grpc.health.v1.Health,
};
/** The loaded service definitions; the client side (grpc-upstream.ts) uses the same. */
export const inferenceService = packages.inference();
const healthService = packages.health();

export interface GrpcServing {
  port: number;
  /** Stops taking calls and waits for in-flight ones, forcing the rest closed after `graceMs`. */
  drain(graceMs: number): Promise<void>;
}

const ROUTE = "/inference.GRPCInferenceService/ModelInfer";

function failure(error: unknown, logger: Logger): { code: status; details: string } {
  const given = error as { code?: unknown; details?: unknown };
  if (typeof given?.code === "number" && typeof given.details === "string") return given as { code: status; details: string };
  if (error instanceof HttpError) return { code: grpcStatus(error.statusCode), details: error.message };
  const message = (error as Error).message ?? String(error);
  if (message.includes("timed out")) return { code: status.DEADLINE_EXCEEDED, details: message };
  logger.error({ err: error }, "gRPC call failed");
  return { code: status.INTERNAL, details: "internal error" };
}

function versionMetadata(backend: Pick<ModelBackend, "name" | "version">): Metadata {
  const md = new Metadata();
  md.set("x-model-name", backend.name);
  md.set("x-model-version", backend.version);
  return md;
}

export async function listenGrpc(
  context: ServingContext,
  options: { port: number; host: string; maxMessageBytes: number; logger: Logger; isClosing: () => boolean },
): Promise<GrpcServing> {
  const { store, metrics } = context;
  const { logger } = options;
  const server = new Server({
    "grpc.max_receive_message_length": options.maxMessageBytes,
    "grpc.max_send_message_length": -1,
  });

  /** A unary handler whose thrown HttpError becomes the matching gRPC status with our message. */
  const unary =
    <Req, Res>(handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
      handler(call.request, call).then(
        (response) => callback(null, response),
        (error: unknown) => callback(failure(error, logger)),
      );
    };

  server.addService(inferenceService.service, {
    ServerLive: unary(async () => ({ live: true })),
    ServerReady: unary(async () => ({ ready: context.readiness().ok })),
    ServerMetadata: unary(async () => SERVER),
    // An unknown model is "not ready" rather than an error: tritonclient and KServe's is_model_ready return a boolean.
    ModelReady: unary(async (request: { name: string; version: string }) => ({
      ready: store.names().includes(request.name) && store.readiness(request.name, request.version || undefined).ok,
    })),
    ModelMetadata: unary(async (request: { name: string; version: string }, call) => {
      const backend = store.resolve(request.name, request.version || undefined);
      call.sendMetadata(versionMetadata(backend));
      return {
        name: backend.name,
        versions: store.versionsOf(backend.name),
        platform: backend.platform,
        inputs: backend.inputs,
        outputs: backend.outputs,
      };
    }),
    ModelInfer: (call: ServerUnaryCall<GrpcInferRequest, unknown>, callback: sendUnaryData<unknown>) => {
      void modelInfer(call).then(
        (response) => callback(null, response),
        (error: { code: status; details: string; metadata?: Metadata }) => callback(error),
      );
    },
  });

  async function modelInfer(call: ServerUnaryCall<GrpcInferRequest, unknown>) {
    const started = process.hrtime.bigint();
    const message = call.request;
    let backend: ModelBackend | undefined;
    let code: status = status.OK;
    const shedReason = context.admission.enter();
    if (shedReason) {
      const version = message.model_version || store.defaultVersion(message.model_name) || "unknown";
      metrics.predictions.inc({ model: message.model_name || "unknown", version, status: "shed" });
      const retry = new Metadata();
      retry.set("retry-after", String(context.admission.retryAfterSeconds));
      throw {
        code: status.RESOURCE_EXHAUSTED,
        details: `overloaded (${shedReason}); retry after ${context.admission.retryAfterSeconds} s`,
        metadata: retry,
      };
    }
    try {
      backend = store.resolve(message.model_name, message.model_version || undefined);
      metrics.inFlight.inc({ model: backend.name, version: backend.version });
      const deadline = call.getDeadline();
      const remainingMs = deadline instanceof Date ? deadline.getTime() - Date.now() : Number(deadline) - Date.now();
      if (remainingMs <= 0)
        throw new HttpError(504, `the call's deadline passed before inference of ${backend.name} ${backend.version} began`);
      const request = fromGrpcRequest(message);
      const id = request.id ?? randomUUID();
      const response = await timedInfer(
        context,
        backend,
        { ...request, id },
        { protocol: "grpc", timeoutMs: Number.isFinite(remainingMs) ? remainingMs : undefined },
      );
      const log = context.predictionLog;
      if (log?.sampled(backend.name))
        log.add(
          predictionRecords(backend, id, tensorRows(request.inputs, context.featureServiceOf(backend.name)?.features), response.outputs),
        );
      call.sendMetadata(versionMetadata(backend));
      return toGrpcResponse({ ...response, id });
    } catch (error) {
      const f = failure(error, logger);
      code = f.code;
      throw { ...f, metadata: backend ? versionMetadata(backend) : undefined };
    } finally {
      context.admission.leave();
      if (backend) {
        const labels = { model: backend.name, version: backend.version };
        const httpStatus = httpEquivalent(code);
        metrics.inFlight.dec(labels);
        metrics.requestSeconds.observe(
          { ...labels, route: ROUTE, status: String(httpStatus) },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
        metrics.predictions.inc({ ...labels, status: httpStatus < 400 ? "ok" : "error" });
      }
    }
  }

  // Liveness ("" service): alive until the drain starts. The inference service's entry follows readiness.
  const health = (service: string): string | undefined => {
    if (service === "") return options.isClosing() ? "NOT_SERVING" : "SERVING";
    if (service === "inference.GRPCInferenceService") return context.readiness().ok && !options.isClosing() ? "SERVING" : "NOT_SERVING";
    return undefined;
  };
  server.addService(healthService.service, {
    Check: unary(async (request: { service: string }) => {
      const state = health(request.service);
      if (!state) throw { code: status.NOT_FOUND, details: `unknown service "${request.service}"` };
      return { status: state };
    }),
    Watch: (call: ServerWritableStream<{ service: string }, unknown>) => {
      call.write({ status: health(call.request.service) ?? "SERVICE_UNKNOWN" });
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    port,
    drain: (graceMs) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
