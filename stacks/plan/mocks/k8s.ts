import type { MockTable } from "./types";

/** Kubernetes objects: the mock echoes inputs (the API server would add status; nothing reads it). */
export const k8s: MockTable = {
  outputs: {},
  calls: {},
};
