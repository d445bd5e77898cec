import { beforeAll, describe, expect, it } from "vitest";
import { ISTIO_CHART_REPO, Mesh, meshPolicies } from "../../../components/k8s";
import { type CrdObject, validateCrd } from "../../../components/k8s/crd-schema";
import type { PlanResource } from "../../../components/plan-resource";
import { recorded, useMocks } from "../../support/mocks";
import { type AuthzRequest, allowed, policiesOf } from "./mesh-authz";
import { ofKind, platformOf } from "./k8s-objects";

const { stack } = platformOf("gcp-prod");
let all: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("gcp-prod", { region: "europe-west4" });
  new Mesh("gcp-prod-mesh", { stack });
  all = await recorded(mocks);
});

const releases = () => ofKind(all, "Release");

describe("the mesh on a cloud stack (gcp-prod, install mode)", () => {
  it("install Istio base, CNI, istiod and the ingress gateway from Istio's chart repository at the stack's version", () => {
    expect(releases().map((r) => r.inputs.chart)).toEqual(["base", "cni", "istiod", "gateway"]);
    for (const r of releases()) {
      expect(r.inputs.version).toBe(stack.mesh.version);
      expect(r.inputs.namespace).toBe("istio-system");
      expect((r.inputs.repositoryOpts as { repo: string }).repo).toBe(ISTIO_CHART_REPO);
    }
    // Each chart waits for the one before it (CRDs before istiod, istiod before gateways).
    const urns = releases().map((r) => r.urn);
    for (const [i, r] of releases().slice(1).entries()) expect(r.options.dependsOn).toContain(urns[i]);
  });

  it("run istiod with the CNI plugin and native sidecars, highly available in prod", () => {
    const values = releases().find((r) => r.inputs.chart === "istiod")?.inputs.values as {
      pilot: { cni: { enabled: boolean }; autoscaleMin: number; env: Record<string, string> };
      global: { platform?: string };
    };
    expect(values.pilot.cni.enabled).toBe(true);
    expect(values.pilot.autoscaleMin).toBe(2);
    expect(values.pilot.env.ENABLE_NATIVE_SIDECARS).toBe("true");
    expect(values.global.platform).toBe("gke");
  });

  it("require mutual TLS mesh-wide", () => {
    const peer = ofKind(all, "PeerAuthentication");
    expect(peer).toHaveLength(1);
    expect(peer[0]?.inputs.metadata).toMatchObject({ name: "default", namespace: "istio-system" });
    expect(peer[0]?.inputs.spec).toEqual({ mtls: { mode: "STRICT" } });
  });

  it("deny by default in the platform and model namespaces", () => {
    const denyAll = ofKind(all, "AuthorizationPolicy").filter((p) => p.inputs.metadata?.name === "deny-all");
    expect(denyAll.map((p) => p.inputs.metadata?.namespace).sort()).toEqual(["mlops", "models"]);
    for (const p of denyAll) expect(p.inputs.spec ?? {}).toEqual({});
  });

  it("create every mesh object after the charts that define their CRDs", () => {
    const releaseUrns = releases().map((r) => r.urn);
    for (const p of [...ofKind(all, "AuthorizationPolicy"), ...ofKind(all, "PeerAuthentication")])
      expect(p.options.dependsOn).toEqual(expect.arrayContaining(releaseUrns));
  });

  it("build objects that pass Istio's schema, and a wrong field is refused with its path", async () => {
    const objects = [...ofKind(all, "AuthorizationPolicy"), ...ofKind(all, "PeerAuthentication")];
    expect(objects.length).toBe(meshPolicies(stack).length);
    for (const o of objects) await expect(validateCrd(o.inputs as CrdObject)).resolves.toBeDefined();
    const bad: CrdObject = {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "x", namespace: "mlops" },
      spec: { action: "PERMIT" },
    };
    await expect(validateCrd(bad)).rejects.toThrow(/AuthorizationPolicy mlops\/x does not match its schema: \/spec\/action/);
  });
});

describe("what the mesh admits (the policies evaluated as Istio does)", () => {
  const policies = policiesOf(meshPolicies(stack));
  const ingress = { principal: "cluster.local/ns/istio-system/sa/istio-ingressgateway", namespace: "istio-system" };
  const serving = { principal: "cluster.local/ns/models/sa/fraud-scorer", namespace: "models" };
  const prometheus = { principal: "cluster.local/ns/monitoring/sa/kps-prometheus", namespace: "monitoring" };
  const stranger = { principal: "cluster.local/ns/default/sa/default", namespace: "default" };
  const features = { namespace: "mlops", labels: { "app.kubernetes.io/name": "features" }, port: 6566 };
  const drift = { namespace: "mlops", labels: { "app.kubernetes.io/name": "drift" }, port: 8080 };
  const mlflow = { namespace: "mlops", labels: { "app.kubernetes.io/name": "mlflow" }, port: 5000 };
  const model = { namespace: "models", labels: { "app.kubernetes.io/name": "fraud-scorer-v1" }, port: 8080 };
  const req = (
    source: AuthzRequest["source"],
    target: Omit<AuthzRequest, "source" | "method" | "path">,
    method = "POST",
    path = "/",
  ): AuthzRequest => ({ source, ...target, method, path });

  it("lets the ingress gateway reach models, and serving reach the feature service", () => {
    expect(allowed(policies, req(ingress, model, "POST", "/v2/models/fraud-scorer/infer"))).toBe(true);
    expect(allowed(policies, req(serving, features, "POST", "/get-online-features"))).toBe(true);
    expect(allowed(policies, req(ingress, features, "POST", "/get-online-features"))).toBe(true);
  });

  it("refuses the feature service on any other port and from outside the platform", () => {
    expect(allowed(policies, req(serving, { ...features, port: 9999 }))).toBe(false);
    expect(allowed(policies, req(stranger, features))).toBe(false);
  });

  it("admits nothing to drift checks but Prometheus reading /metrics", () => {
    for (const source of [ingress, serving, stranger]) expect(allowed(policies, req(source, drift, "GET", "/metrics"))).toBe(false);
    expect(allowed(policies, req(prometheus, drift, "GET", "/metrics"))).toBe(true);
    expect(allowed(policies, req(prometheus, drift, "POST", "/anything"))).toBe(false);
  });

  it("lets models and platform jobs reach MLflow, and nobody else", () => {
    expect(allowed(policies, req(serving, mlflow, "GET", "/api/2.0/mlflow/experiments/list"))).toBe(true);
    expect(allowed(policies, req(ingress, mlflow))).toBe(false);
    expect(allowed(policies, req(stranger, model))).toBe(false);
  });
});
