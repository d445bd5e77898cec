export * from "./app";
export * from "./cli";
export * from "./errors";
export * from "./logger";
export * from "./metrics";
export * from "./mlflow";
export * from "./quantile";
