// The AWS cloud layer's public surface: the foundation the platform composes, its parts, and the
// pure settings functions they delegate to (tested directly).
export * from "./artifact-store";
export * from "./cidr";
export * from "./defaults";
export * from "./dynamodb";
export * from "./eks-cluster";
export * from "./elasticache";
export * from "./foundation";
export * from "./gpu-node-pool";
export * from "./iam-policy";
export * from "./irsa";
export * from "./kms";
export * from "./network";
export * from "./offline-store";
export * from "./online-store";
export * from "./security-group";
export * from "./tracking-db";
export * from "./validate";
export * from "./eks-addons";
export * from "./karpenter";
export * from "./karpenter-settings";
