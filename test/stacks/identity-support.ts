import { expect } from "vitest";
import { Platform } from "../../components/platform";
import type { PlanResource } from "../../components/plan-resource";
import { loadPlatform } from "../../definition";
import { recorded, useMocks } from "../support/mocks";

type Meta = { name?: string; namespace?: string; annotations?: Record<string, string> };

/** The whole platform of a stack under the plan's mocks. */
export async function platformResources(stackName: string): Promise<PlanResource[]> {
  const spec = loadPlatform({ stacksDir: "stacks", catalogDir: "catalog", stack: stackName });
  const mocks = await useMocks(stackName, { region: spec.stack.region, gcpProject: spec.stack.project });
  new Platform("mlops", { spec });
  return recorded(mocks);
}

export function serviceAccounts(all: PlanResource[]): { namespace: string; name: string; annotations: Record<string, string> }[] {
  return all
    .filter((r) => r.type === "kubernetes:core/v1:ServiceAccount")
    .map((r) => r.inputs.metadata as Meta)
    .map((m) => ({ namespace: m.namespace ?? "default", name: m.name ?? "", annotations: m.annotations ?? {} }));
}

/** Every pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob) with its namespace. */
export function podTemplates(all: PlanResource[]): { kind: string; name: string; namespace: string; serviceAccountName?: string }[] {
  const out: { kind: string; name: string; namespace: string; serviceAccountName?: string }[] = [];
  for (const r of all) {
    const kind = r.type.split(":")[2] ?? "";
    if (!r.type.startsWith("kubernetes:") || !["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(kind)) continue;
    const meta = r.inputs.metadata as Meta;
    const spec = r.inputs.spec as {
      template?: { spec?: { serviceAccountName?: string } };
      jobTemplate?: { spec?: { template?: { spec?: { serviceAccountName?: string } } } };
    };
    const pod = kind === "CronJob" ? spec.jobTemplate?.spec?.template?.spec : spec.template?.spec;
    out.push({ kind, name: meta.name ?? r.name, namespace: meta.namespace ?? "default", serviceAccountName: pod?.serviceAccountName });
  }
  return out;
}

/** Every pod that names a ServiceAccount names one the plan creates, in its own namespace. */
export function expectPodAccountsExist(all: PlanResource[]): void {
  const accounts = new Set(serviceAccounts(all).map((a) => `${a.namespace}/${a.name}`));
  const pods = podTemplates(all).filter((p) => p.serviceAccountName);
  expect(pods.length).toBeGreaterThan(3);
  for (const p of pods)
    expect(accounts, `${p.kind} ${p.namespace}/${p.name} runs as a missing ServiceAccount`).toContain(
      `${p.namespace}/${p.serviceAccountName}`,
    );
}
