// The cloud-neutral Kubernetes layer: everything here receives connections (components/types.ts)
// and a Kubernetes provider, never a cloud.
export * from "./cluster-addons";
export * from "./crd-schema";
export * from "./drift-check";
export * from "./feature-service";
export * from "./cold-start";
export * from "./gpu-device-plugin";
export * from "./image-prepull";
export * from "./keda";
export * from "./local-stores";
export * from "./materialization";
export * from "./mesh";
export * from "./model-serving";
export * from "./monitoring";
export * from "./runtime-config";
export * from "./scaling";
export * from "./tracking-server";
export * from "./workload";
export * from "./training-admission";
export * from "./training-job";
