import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ClusterAddons,
  DCGM_EXPORTER_IMAGE,
  DEVICE_PLUGIN_IMAGE,
  POLICY_EXCEPTION_LABEL,
  POLICY_EXCEPTIONS,
} from "../../../components/k8s";
import type { PlanResource } from "../../../components/plan-resource";
import { GPU_TAINT, POOL_ROLE_LABEL } from "../../../definition";
import { recorded, useMocks } from "../../support/mocks";
import { containersOf, named, ofKind, plain, platformOf, securityProblems, workloads } from "./k8s-objects";

const { stack } = platformOf("aws-prod");
let all: PlanResource[];

beforeAll(async () => {
  const mocks = await useMocks("aws-prod", { region: "eu-west-1" });
  const addons = new ClusterAddons("aws-prod-addons", {
    stack,
    cluster: { name: pulumi.output("aws-prod"), kubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n"), workloadIdentity: "irsa" },
  });
  expect(addons.gpu).toBeDefined();
  all = await recorded(mocks);
});

describe("cluster add-ons on a cloud stack with GPU pools (aws-prod)", () => {
  it("use a provider with server-side apply built from the cluster's kubeconfig", () => {
    const provider = all.find((r) => r.type === "pulumi:providers:kubernetes");
    expect(provider?.inputs.enableServerSideApply).toBe("true");
    expect(plain<string>(provider?.inputs.kubeconfig)).toContain("kind: Config");
    // Every Kubernetes object goes through that provider, not the ambient kubeconfig.
    for (const o of all.filter((r) => r.type.startsWith("kubernetes:") && r.custom))
      expect(o.options.provider).toContain("pulumi:providers:kubernetes");
  });

  it("label the platform and model namespaces for sidecar injection and enforce the restricted Pod Security level", () => {
    for (const name of ["mlops", stack.serving.namespace]) {
      const labels = named(all, "Namespace", name).inputs.metadata?.labels ?? {};
      expect(labels["istio-injection"]).toBe("enabled");
      expect(labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      expect(labels["mlops.platform/environment"]).toBe("prod");
      expect(labels["mlops.platform/cost-center"]).toBe("cc-ml-1001");
    }
    for (const name of ["istio-system", "monitoring", "gpu-system"]) {
      expect(named(all, "Namespace", name).inputs.metadata?.labels?.["istio-injection"]).toBeUndefined();
    }
  });

  it("run the device plugin only on GPU nodes, tolerating their taint", () => {
    const ds = named(all, "DaemonSet", "nvidia-device-plugin");
    const pod = workloads(all).find((w) => w.object === ds)?.pod;
    expect(pod?.tolerations).toContainEqual({ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect });
    const terms = pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
    expect(terms).toEqual([{ matchExpressions: [{ key: POOL_ROLE_LABEL, operator: "In", values: ["gpu"] }] }]);
    expect(pod?.containers[0]?.image).toBe(DEVICE_PLUGIN_IMAGE);
    expect(pod?.volumes?.find((v) => v.hostPath)?.hostPath?.path).toBe("/var/lib/kubelet/device-plugins");
  });

  it("export GPU metrics with DCGM on GPU nodes, behind a Service, probed on /health", () => {
    const pod = workloads(all).find((w) => w.object.inputs.metadata?.name === "dcgm-exporter")?.pod;
    expect(pod?.containers[0]?.image).toBe(DCGM_EXPORTER_IMAGE);
    expect(pod?.containers[0]?.readinessProbe?.httpGet?.path).toBe("/health");
    expect(pod?.tolerations?.[0]?.key).toBe(GPU_TAINT.key);
    expect(pod?.volumes?.some((v) => v.hostPath)).toBe(false);
    const svc = named(all, "Service", "dcgm-exporter").inputs.spec as { ports: { name: string; port: number }[] };
    expect(svc.ports[0]).toMatchObject({ name: "metrics", port: 9400 });
  });

  it("give every container probes and resources, and only the labelled GPU daemons run as root", () => {
    const found = workloads(all);
    expect(found.length).toBe(2);
    for (const { object, pod } of found) {
      const exception = object.inputs.metadata?.labels?.[POLICY_EXCEPTION_LABEL];
      expect(Object.values(POLICY_EXCEPTIONS)).toContain(exception);
      expect(object.inputs.metadata?.annotations?.["mlops.platform/policy-exception-reason"]).toMatch(/root/);
      expect(pod.hostNetwork).toBe(false);
      for (const c of containersOf(pod)) {
        expect(securityProblems(c, true)).toEqual([]);
        expect(c.readinessProbe && c.livenessProbe).toBeTruthy();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it("carry team, environment and cost-centre labels on every object", () => {
    for (const o of ofKind(all, "Namespace").concat(ofKind(all, "DaemonSet"), ofKind(all, "Service"))) {
      expect(o.inputs.metadata?.labels?.["mlops.platform/team"]).toBe("ml-platform");
    }
  });
});
