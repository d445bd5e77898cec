import { describe, expect, it } from "vitest";
import {
  container,
  EPHEMERAL_STORAGE,
  livenessFor,
  quantityMi,
  scheduledJobSpec,
  withEmptyDirStorage,
} from "../../../components/k8s/workload";

const base = {
  name: "app",
  image: "ghcr.io/acme/app:1.0.0",
  resources: { cpu: "100m", memory: "128Mi" },
  probe: { http: "/ready", port: 8080 },
};

describe("the shared container and pod builders", () => {
  it("pull images on every start, so a re-pushed tag or a revoked pull secret is noticed", () => {
    expect(container(base).imagePullPolicy).toBe("Always");
  });

  it("check liveness with a TCP connect when readiness is an HTTP check, never the same check twice", () => {
    const c = container(base);
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/ready", port: 8080 } });
    expect(c.livenessProbe).toMatchObject({ tcpSocket: { port: 8080 } });
    expect(livenessFor({ exec: ["true"] })).toEqual({ exec: ["true"] });
    expect(container({ ...base, liveness: { http: "/live", port: 8080 } }).livenessProbe).toMatchObject({ httpGet: { path: "/live" } });
  });

  it("request and limit ephemeral storage for logs and the writable layer", () => {
    expect(container(base).resources).toMatchObject({
      requests: { "ephemeral-storage": EPHEMERAL_STORAGE },
      limits: { "ephemeral-storage": EPHEMERAL_STORAGE },
    });
    expect(container({ ...base, resources: { ...base.resources, ephemeralStorage: "5Gi" } }).resources).toMatchObject({
      limits: { "ephemeral-storage": "5Gi" },
    });
  });

  it("add each disk emptyDir to the first container mounting it, and skip memory-backed ones", () => {
    const app = container({
      ...base,
      volumeMounts: [
        { name: "cache", mountPath: "/cache" },
        { name: "shm", mountPath: "/dev/shm" },
      ],
    });
    const side = container({ ...base, name: "side", volumeMounts: [{ name: "cache", mountPath: "/cache" }] });
    const [a, b] = withEmptyDirStorage(
      [app, side],
      [
        { name: "cache", emptyDir: { sizeLimit: "20Gi" } },
        { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } },
        { name: "catalog", configMap: { name: "c" } },
      ],
    );
    expect(a?.resources).toMatchObject({ requests: { "ephemeral-storage": "21504Mi" }, limits: { "ephemeral-storage": "21504Mi" } });
    expect(b?.resources).toMatchObject({ limits: { "ephemeral-storage": EPHEMERAL_STORAGE } });
  });

  it("read binary quantities in MiB and refuse what they cannot read", () => {
    expect(quantityMi("64Mi")).toBe(64);
    expect(quantityMi("1Gi")).toBe(1024);
    expect(quantityMi("2048Ki")).toBe(2);
    expect(quantityMi("1G")).toBeUndefined();
    expect(quantityMi(undefined)).toBeUndefined();
  });

  it("mount the ServiceAccount token only in pods that call the Kubernetes API", () => {
    const job = (kubernetesApi?: boolean) =>
      scheduledJobSpec({
        schedule: "0 * * * *",
        labels: {},
        containers: [container(base)],
        serviceAccountName: "sa",
        activeDeadlineSeconds: 60,
        kubernetesApi,
      });
    const pod = (spec: ReturnType<typeof job>) =>
      (spec.jobTemplate as { spec: { template: { spec: { automountServiceAccountToken: boolean } } } }).spec.template.spec;
    expect(pod(job()).automountServiceAccountToken).toBe(false);
    expect(pod(job(true)).automountServiceAccountToken).toBe(true);
  });
});
