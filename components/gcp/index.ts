// The GCP cloud layer: thin components over pure settings functions (tested directly).
export * from "./artifact-store";
export * from "./bigquery-schema";
export * from "./foundation";
export * from "./gke-cluster";
export * from "./gpu-node-pool";
export * from "./kms-key";
export * from "./network";
export * from "./node-service-account";
export * from "./offline-store";
export * from "./memorystore-cluster";
export * from "./online-store";
export * from "./project";
export * from "./project-services";
export * from "./tracking-db";
export * from "./workload-identity";
