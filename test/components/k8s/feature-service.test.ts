import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { FeatureService, urlWithPassword } from "../../../components/k8s/feature-service";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform } from "../../../definition";
import type { OfflineStoreConnection, OnlineStoreConnection } from "../../../components/types";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks, valueOf as resolved } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const prod = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "aws-prod" });
const dev = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "local" });
const PASSWORD = "s3cr3t-auth-token-from-elasticache";
let mocks: PlanMocks;
let all: PlanResource[];
let prodFeatures: FeatureService;

const online: OnlineStoreConnection = {
  kind: "redis",
  url: pulumi.output("rediss://master.features.abc123.euw1.cache.amazonaws.com:6379"),
  password: pulumi.secret(PASSWORD),
  serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
};
const offline: OfflineStoreConnection = {
  kind: "redshift",
  url: pulumi.output("redshift://mlops/features"),
  serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
};
const annotations = pulumi.output<Record<string, string>>({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/features" });

type Obj = {
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: tests walk rendered manifests as the API server would see them
  spec: Record<string, any>;
  stringData?: Record<string, string>;
};

beforeAll(async () => {
  mocks = await useMocks("aws-prod", { region: "eu-west-1" });
  const runtime = new RuntimeConfig("prod-runtime", prod);
  prodFeatures = new FeatureService("prod", { ...prod, runtime, online, offline, serviceAccountAnnotations: annotations }, {});
  all = await recorded(mocks);
});

const of = (type: string) => all.filter((r) => r.type === type).map((r) => r.inputs as unknown as Obj);

describe("FeatureService", () => {
  it("serves at the Feast feature server's port in the platform namespace", async () => {
    expect(await resolved(prodFeatures.url)).toBe("http://features.mlops.svc.cluster.local:6566");
  });

  it("runs the services image with the features command and the store URLs as env twins", () => {
    const [d] = of("kubernetes:apps/v1:Deployment");
    const c = d?.spec.template.spec.containers[0];
    expect(c.image).toBe(prod.stack.serving.image);
    expect([...c.command, ...c.args]).toEqual(["node", "dist/services/features/main.js", "serve"]);
    const env = Object.fromEntries(
      c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]),
    );
    expect(env).toMatchObject({
      OFFLINE_STORE: "redshift://mlops/features",
      CATALOG: "/etc/mlops/catalog",
      PORT: "6566",
      FEATURE_STORE_PROJECT: "mlops",
      MATERIALIZATION_STATE: "/tmp/materialization-state.json",
    });
    // The online store has a password, so its whole URL comes from the Secret.
    expect(env.ONLINE_STORE).toEqual({ secretKeyRef: { name: "features-stores", key: "online-store-url" } });
    expect(JSON.stringify(d?.spec)).not.toContain(PASSWORD);
  });

  it("keeps the store URL with its password in a Secret marked secret, built from the connection", () => {
    const secrets = all.filter((r) => r.type === "kubernetes:core/v1:Secret");
    expect(secrets).toHaveLength(1);
    const secret = secrets[0] as PlanResource;
    // Inputs are recorded with secrets unwrapped; secretPaths says which were secret (masked in plan.json).
    const data = (secret.inputs as { stringData: Record<string, unknown> }).stringData;
    expect("value" in data ? data.value : data).toEqual({
      "online-store-url": `rediss://:${PASSWORD}@master.features.abc123.euw1.cache.amazonaws.com:6379`,
    });
    expect(secret.secretPaths).toContain("stringData");
  });

  it("runs 2 replicas with a PDB and an HPA in prod, as a ServiceAccount with the features identity", () => {
    const [d] = of("kubernetes:apps/v1:Deployment");
    // The HPA owns the count (minReplicas 2): the Deployment carries none.
    expect(d?.spec.replicas).toBeUndefined();
    expect(of("kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(1);
    const [hpa] = of("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    expect(hpa?.spec.minReplicas).toBe(2);
    const [sa] = of("kubernetes:core/v1:ServiceAccount");
    expect(sa?.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/features" });
    expect(d?.spec.template.spec.serviceAccountName).toBe("features");
  });

  it("mounts the catalog ConfigMap and probes readiness and liveness", () => {
    const [d] = of("kubernetes:apps/v1:Deployment");
    const pod = d?.spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: "catalog", configMap: { name: "mlops-catalog" } });
    expect(pod.containers[0].readinessProbe.httpGet).toEqual({ path: "/readyz", port: 6566 });
    expect(pod.containers[0].livenessProbe.httpGet).toEqual({ path: "/healthz", port: 6566 });
  });

  it("runs a single replica without HPA or PDB in dev", async () => {
    const before = all.length;
    const runtime = new RuntimeConfig("dev-runtime", dev);
    const dn = new FeatureService("dev", {
      ...dev,
      runtime,
      online: { ...online, password: undefined },
      offline,
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
    });
    const added = (await recorded(mocks)).slice(before);
    const deployment = added.find((r) => r.type === "kubernetes:apps/v1:Deployment")?.inputs as unknown as Obj;
    expect(deployment.spec.replicas).toBe(1);
    expect(added.some((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toBe(false);
    expect(dn.hpa).toBeUndefined();
  });

  it("puts a password into a store URL percent-encoded, and leaves URLs that carry one alone", () => {
    expect(urlWithPassword("redis://10.0.0.3:6379/0", "p@ss/w:rd")).toBe("redis://:p%40ss%2Fw%3Ard@10.0.0.3:6379/0");
    expect(urlWithPassword("postgres://mlops@db:5432/features", "x")).toBe("postgres://mlops:x@db:5432/features");
    expect(urlWithPassword("redis://:already@h:6379", "x")).toBe("redis://:already@h:6379");
  });
});
