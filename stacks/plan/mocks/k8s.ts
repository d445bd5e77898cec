import { type MockTable, suffix } from "./types";

interface Metadata {
  name?: string;
  namespace?: string;
}

/**
 * Kubernetes objects: the mock echoes inputs, plus what the API server or Helm would fill in
 * that components read back: a Service's cluster IP, a Release's status, a Namespace's name.
 */
export const k8s: MockTable = {
  outputs: {
    "kubernetes:core/v1:Service": ({ name, inputs }) => {
      const h = parseInt(suffix(name, 4), 16);
      const spec = (inputs.spec ?? {}) as Record<string, unknown>;
      return { spec: { ...spec, clusterIP: `10.96.${(h >> 8) % 256}.${(h % 254) + 1}`, type: spec.type ?? "ClusterIP" } };
    },
    "kubernetes:helm.sh/v3:Release": ({ name, inputs }) => ({
      status: {
        name: inputs.name ?? name,
        namespace: inputs.namespace ?? "default",
        chart: inputs.chart,
        version: inputs.version,
        revision: 1,
        status: "deployed",
      },
    }),
    "kubernetes:core/v1:Namespace": ({ name, inputs }) => ({
      metadata: { ...((inputs.metadata ?? {}) as Metadata), name: ((inputs.metadata ?? {}) as Metadata).name ?? name },
      status: { phase: "Active" },
    }),
  },
  calls: {},
};
