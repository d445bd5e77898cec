import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { DriftCheck } from "../../../components/k8s/drift-check";
import { FeatureService } from "../../../components/k8s/feature-service";
import { Materialization } from "../../../components/k8s/materialization";
import { ModelServing } from "../../../components/k8s/model-serving";
import { RuntimeConfig } from "../../../components/k8s/runtime-config";
import type { PlanResource } from "../../../components/plan-resource";
import { listStacks, loadPlatform, type PlatformSpec } from "../../../definition";
import { evaluatePolicies } from "../../../policies/harness";
import { toK8sObject } from "../../../stacks/plan/k8s-objects";
import type { PlanMocks } from "../../../stacks/plan/mocks";
import { validateK8sObject } from "../../../stacks/plan/validate-k8s";
import { recorded, useMocks } from "../../support/mocks";

const root = `${__dirname}/../../..`;
const stacks = listStacks(`${root}/stacks`);
const none = pulumi.output<Record<string, string>>({});
let mocks: PlanMocks;
const byStack: Record<string, PlanResource[]> = {};
const specs: Record<string, PlatformSpec> = {};

/** Renders the whole catalog layer of each stack, as platform.ts wires it, and records what it creates. */
beforeAll(async () => {
  mocks = await useMocks("schema-check");
  for (const name of stacks) {
    const { stack, catalog } = loadPlatform({ stacksDir: `${root}/stacks`, catalogDir: `${root}/catalog`, stack: name });
    specs[name] = { stack, catalog };
    const before = (await recorded(mocks)).length;
    const online = {
      kind: "redis" as const,
      url: pulumi.output("redis://redis.mlops.svc.cluster.local:6379"),
      password: pulumi.secret("pw"),
      serviceAccountAnnotations: none,
    };
    const offline = { kind: "duckdb" as const, url: pulumi.output("duckdb:/data/offline.duckdb"), serviceAccountAnnotations: none };
    const runtime = new RuntimeConfig(`${name}-runtime`, { stack, catalog });
    const features = new FeatureService(`${name}-features`, { stack, catalog, runtime, online, offline, serviceAccountAnnotations: none });
    new Materialization(`${name}-materialize`, { stack, catalog, runtime, online, offline });
    for (const model of Object.values(catalog.models)) {
      new ModelServing(`${name}-${model.name}`, {
        stack,
        catalog,
        model,
        runtime,
        featuresUrl: features.url,
        serviceAccountAnnotations: none,
      });
      new DriftCheck(`${name}-${model.name}-drift`, { stack, model, runtime, serviceAccountAnnotations: none });
    }
    byStack[name] = (await recorded(mocks)).slice(before);
  }
});

describe("the catalog layer of every stack", () => {
  it("covers every stack in stacks/", () => {
    expect(stacks).toEqual(expect.arrayContaining(["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]));
  });

  for (const name of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]) {
    it(`renders only objects that match their Kubernetes, Istio and autoscaling schemas (${name})`, async () => {
      const objects = (byStack[name] ?? []).map(toK8sObject).filter((o) => o !== undefined);
      const kinds = new Set(objects.map((o) => `${o.apiVersion} ${o.kind}`));
      expect([...kinds].sort()).toEqual(
        expect.arrayContaining([
          "apps/v1 Deployment",
          // Cloud stacks scale model versions with KEDA; local (KEDA off by default) with CPU HPAs.
          name === "local" ? "autoscaling/v2 HorizontalPodAutoscaler" : "keda.sh/v1alpha1 ScaledObject",
          "batch/v1 CronJob",
          "networking.istio.io/v1 DestinationRule",
          "networking.istio.io/v1 VirtualService",
          "policy/v1 PodDisruptionBudget",
          "v1 ConfigMap",
          "v1 Secret",
          "v1 Service",
          "v1 ServiceAccount",
        ]),
      );
      const problems = (await Promise.all(objects.map(validateK8sObject))).filter((p) => p !== undefined);
      expect(problems).toEqual([]);
    });
  }

  /** Stack-wide mesh rules are the Mesh component's job (a default-deny policy, STRICT mTLS), not this layer's. */
  const MESH_WIDE = new Set(["istio-default-deny", "istio-strict-mtls"]);

  for (const name of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]) {
    it(`passes the policy pack: catalog, reliability, security and cost rules (${name})`, () => {
      const report = evaluatePolicies(byStack[name] ?? [], specs[name] as PlatformSpec);
      const violations = report.violations.filter((v) => !MESH_WIDE.has(v.policy));
      expect(violations.map((v) => `${v.enforcementLevel} ${v.policy}: ${v.message}`)).toEqual([]);
      expect(report.policiesRun).toBeGreaterThan(20);
    });
  }
});
