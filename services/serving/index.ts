export { createServingServer, type ServingHandle, type ServingServerOptions } from "./server";
export type { ModelConfig } from "./model-store";
export { ModelStore } from "./model-store";
export type { BackendKind, ModelBackend } from "./model-backend";
export { OnnxModel } from "./onnx-model";
export { UpstreamModel } from "./upstream-model";
export { OpenAiModel } from "./openai";
export { fetchModel, type ModelSourceOptions } from "./model-source";
export { FeaturesClient, type OnlineFeaturesResponse } from "./features-client";
export { PredictionLog } from "./prediction-log";
export {
  FileLogSink,
  GcsObjectWriter,
  LogLayout,
  ObjectLogSink,
  S3ObjectWriter,
  sinkFor,
  type ObjectWriter,
  type PredictionLogSink,
  type PredictionRecord,
} from "./log-sinks";
export { ServingMetrics } from "./metrics";
export type { PredictRequest, PredictResponse } from "./predict-route";
export type * from "./v2-types";
