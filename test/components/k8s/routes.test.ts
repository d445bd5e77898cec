import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  destinationRuleSpec,
  GRPC_PORT,
  GRPC_RETRY_ON,
  retryBudget,
  routedWeights,
  SERVING_PORT,
  validatedIstio,
  virtualServiceSpec,
} from "../../../components/k8s/routes";
import { Model, type ModelSpec } from "../../../definition";

function modelWith(weights: number[], shadow?: { index: number; mirrorPercentage: number }): ModelSpec {
  const parsed = Model.parse({
    owner: "team@example.com",
    featureService: "svc",
    versions: weights.map((weight, i) => ({ name: `v${i + 1}`, modelUri: `s3://bucket/m/v${i + 1}`, weight })),
    shadow: shadow ? { version: `v${shadow.index + 1}`, mirrorPercentage: shadow.mirrorPercentage } : undefined,
  });
  return { ...parsed, name: "scorer", team: "t", origin: { file: "catalog/models/t/scorer.yaml", path: "" } };
}

/** Random weight sets that sum to 100, as the catalog checks require, including 0-weight versions. */
const weightSets = fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }).map((cuts) => {
  const sorted = [...cuts].sort((a, b) => a - b);
  return [...sorted, 100].map((c, i) => c - (i === 0 ? 0 : (sorted[i - 1] as number)));
});

describe("routes", () => {
  it("for any valid weight set, the weighted routes sum to 100 and equal the catalog's non-zero weights", () => {
    fc.assert(
      fc.property(weightSets, (weights) => {
        const spec = virtualServiceSpec(modelWith(weights), "models");
        const routed = routedWeights(spec);
        expect(Object.values(routed).reduce((a, b) => a + b, 0)).toBe(100);
        const expected = Object.fromEntries(weights.flatMap((w, i) => (w > 0 ? [[`v${i + 1}`, w]] : [])));
        expect(routed).toEqual(expected);
        expect(Object.values(routed).every((w) => w > 0)).toBe(true);
        expect(routedWeights(spec, "grpc")).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it("for any weight set with a zero-weight shadow, only the shadow is mirrored and header routes stay first", () => {
    fc.assert(
      fc.property(weightSets, fc.integer({ min: 0, max: 100 }), (weights, pct) => {
        const zero = weights.indexOf(0);
        fc.pre(zero >= 0);
        const spec = virtualServiceSpec(modelWith(weights, { index: zero, mirrorPercentage: pct }), "models");
        // gRPC's routes (header, weighted) come first, matched by port; then HTTP's.
        const http = (spec.http ?? []).slice(weights.length + 1);
        expect(http.slice(0, weights.length).every((r) => r.match !== undefined && r.mirror === undefined)).toBe(true);
        expect(spec.http?.[weights.length]?.mirror).toEqual({ ...http.at(-1)?.mirror, port: { number: GRPC_PORT } });
        const last = http.at(-1);
        expect(last?.match).toBeUndefined();
        expect(last?.mirror?.subset).toBe(`v${zero + 1}`);
        expect(last?.mirrorPercentage?.value).toBe(pct);
        expect(last?.route?.some((r) => r.destination.subset === `v${zero + 1}`)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it("routes a request naming a version in the override header to that version, whatever its weight", () => {
    const spec = virtualServiceSpec(modelWith([100, 0]), "models");
    expect(spec.http?.find((r) => r.name === "x-model-version-v2")).toMatchObject({
      match: [{ headers: { "x-model-version": { exact: "v2" } } }],
      route: [{ destination: { subset: "v2", port: { number: SERVING_PORT } }, weight: 100 }],
    });
  });

  it("routes gRPC on its own port by the same header and weights, before the HTTP routes can take it", () => {
    const spec = virtualServiceSpec(modelWith([90, 10, 0]), "models");
    const http = spec.http ?? [];
    expect(http.map((r) => r.name)).toEqual([
      "grpc-x-model-version-v1",
      "grpc-x-model-version-v2",
      "grpc-x-model-version-v3",
      "grpc-weighted",
      "x-model-version-v1",
      "x-model-version-v2",
      "x-model-version-v3",
      "weighted",
    ]);
    expect(http[2]).toMatchObject({
      match: [{ headers: { "x-model-version": { exact: "v3" } }, port: GRPC_PORT }],
      route: [{ destination: { subset: "v3", port: { number: GRPC_PORT } }, weight: 100 }],
    });
    expect(http[3]?.match).toEqual([{ port: GRPC_PORT }]);
    expect(http[3]?.route?.map((r) => [r.destination.subset, r.destination.port?.number, r.weight])).toEqual([
      ["v1", GRPC_PORT, 90],
      ["v2", GRPC_PORT, 10],
    ]);
    // gRPC failures arrive as grpc-status: shed (RESOURCE_EXHAUSTED) and draining (UNAVAILABLE) are retried.
    expect(http[3]?.retries?.retryOn).toBe(GRPC_RETRY_ON);
    expect(GRPC_RETRY_ON.split(",")).toEqual(expect.arrayContaining(["unavailable", "resource-exhausted"]));
    expect(http[7]?.match).toBeUndefined();
  });

  it("honours a custom override header", () => {
    const spec = virtualServiceSpec({ ...modelWith([100]), headerOverride: { header: "x-canary" } }, "models");
    expect(Object.keys(spec.http?.[0]?.match?.[0]?.headers ?? {})).toEqual(["x-canary"]);
    expect(Object.keys(spec.http?.[2]?.match?.[0]?.headers ?? {})).toEqual(["x-canary"]);
  });

  it("derives retries and timeouts from the SLO so every try fits the overall timeout", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60000 }), (p99) => {
        const b = retryBudget({ p99LatencyMs: p99, errorRate: 0.01 });
        expect(b.perTryTimeoutMs).toBeGreaterThanOrEqual(2 * p99);
        expect(b.timeoutMs).toBeGreaterThan(b.perTryTimeoutMs * (b.attempts + 1));
      }),
    );
  });

  it("declares one subset per version, selected by the version label", () => {
    const dr = destinationRuleSpec(modelWith([60, 40, 0]), "models");
    expect(dr.subsets?.map((s) => s.labels)).toEqual([{ version: "v1" }, { version: "v2" }, { version: "v3" }]);
  });

  it("validates the rendered objects against Istio's schema and refuses a malformed one", async () => {
    const meta = { name: "scorer", namespace: "models", labels: { app: "scorer" } };
    const vs = await validatedIstio("VirtualService", meta, virtualServiceSpec(modelWith([90, 10]), "models"));
    expect(vs).toMatchObject({ apiVersion: "networking.istio.io/v1", kind: "VirtualService" });
    const bad = { hosts: ["scorer"], http: [{ route: [{ destination: { host: "scorer" }, weight: "ninety" }] }] } as unknown as Parameters<
      typeof validatedIstio
    >[2];
    await expect(validatedIstio("VirtualService", meta, bad)).rejects.toThrow(
      /VirtualService models\/scorer does not match the Istio schema/,
    );
  });
});
