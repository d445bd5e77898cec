import { beforeAll, describe, expect, it } from "vitest";
import { CATALOG_CONFIG_MAP, renderRuntimeConfig, RuntimeConfig, runtimeConfigChecksum } from "../../../components/k8s/runtime-config";
import { k8sLabels } from "../../../components/names";
import type { PlanResource } from "../../../components/plan-resource";
import { loadPlatform, resolveFeatureService } from "../../../definition";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { recorded, useMocks, valueOf as resolved } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const { stack, catalog } = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: "gcp-prod" });
let mocks: PlanMocks;
let maps: PlanResource[];
let runtime: RuntimeConfig;

beforeAll(async () => {
  mocks = await useMocks("gcp-prod", { region: "europe-west4" });
  runtime = new RuntimeConfig("runtime", { stack, catalog });
  maps = await recorded(mocks, "kubernetes:core/v1:ConfigMap");
});

type ConfigMap = { metadata: { name: string; namespace: string; labels: Record<string, string> }; data: Record<string, string> };

describe("RuntimeConfig", () => {
  it("renders the same catalog into the platform and the models namespace", () => {
    const inputs = maps.map((m) => m.inputs as unknown as ConfigMap);
    expect(inputs.map((m) => m.metadata.namespace).sort()).toEqual(["mlops", "models"]);
    for (const m of inputs) {
      expect(m.metadata.name).toBe(CATALOG_CONFIG_MAP);
      expect(m.data).toEqual(renderRuntimeConfig(stack, catalog));
      expect(m.metadata.labels).toMatchObject(k8sLabels(stack));
    }
  });

  it("holds a registry the services can read back into the same feature definitions", () => {
    const data = renderRuntimeConfig(stack, catalog);
    const registry = JSON.parse(data["registry.json"] as string);
    expect(registry.project).toBe(stack.featureStore.project);
    expect(resolveFeatureService({ ...registry, models: {} }, "fraud_scorer_v1")).toEqual(
      resolveFeatureService(catalog, "fraud_scorer_v1"),
    );
    expect(data.project).toBe("mlops");
  });

  it("holds the model catalog with traffic, SLO and drift thresholds", () => {
    const models = JSON.parse(renderRuntimeConfig(stack, catalog)["models.json"] as string).models;
    expect(Object.keys(models).sort()).toEqual(Object.keys(catalog.models).sort());
    expect(models["fraud-scorer"].drift.features.merchant_risk).toEqual({ method: "psi", threshold: 0.2 });
    expect(models["fraud-scorer"].versions.map((v: { weight: number }) => v.weight)).toEqual([90, 10]);
    expect(models["fraud-scorer"].slo).toEqual({ p99LatencyMs: 50, errorRate: 0.005 });
  });

  it("renders byte-identical output for the same catalog, and a new checksum when it changes", () => {
    const a = renderRuntimeConfig(stack, catalog);
    const reordered = { ...catalog, models: Object.fromEntries(Object.entries(catalog.models).reverse()) };
    expect(renderRuntimeConfig(stack, reordered)).toEqual(a);
    const fraud = catalog.models["fraud-scorer"];
    if (!fraud) throw new Error("example catalog lost fraud-scorer");
    const changed = { ...catalog, models: { ...catalog.models, "fraud-scorer": { ...fraud, slo: { ...fraud.slo, p99LatencyMs: 60 } } } };
    expect(runtimeConfigChecksum(renderRuntimeConfig(stack, changed))).not.toBe(runtimeConfigChecksum(a));
    expect(runtime.checksum).toBe(runtimeConfigChecksum(a));
  });

  it("names the ConfigMap per namespace for the services to mount", async () => {
    expect(await resolved(runtime.registryConfigMap.name)).toBe(CATALOG_CONFIG_MAP);
    expect(await resolved(runtime.modelsConfigMap.name)).toBe(CATALOG_CONFIG_MAP);
    expect(() => runtime.configMapIn("default")).toThrow(/no ConfigMap in namespace "default"/);
  });
});

describe("RuntimeConfig limits", () => {
  it("refuses a catalog too large for a ConfigMap, saying how to split it", () => {
    const fraud = catalog.models["fraud-scorer"];
    if (!fraud) throw new Error("example catalog lost fraud-scorer");
    const huge = { ...catalog, models: { ...catalog.models, "fraud-scorer": { ...fraud, description: "x".repeat(1_100_000) } } };
    expect(() => new RuntimeConfig("too-big", { stack, catalog: huge })).toThrow(
      /over the 1 MB a ConfigMap can hold; split the catalog across stacks/,
    );
  });
});
