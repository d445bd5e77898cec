import type * as pulumi from "@pulumi/pulumi";
import type { PlanResource } from "../../components/plan-resource";
import { installMocks, type PlanMocks, settle } from "../../stacks/plan/mocks";

/**
 * Installs the plan's realistic mocks for a component test. Call once per test file (the Pulumi
 * runtime is process-global; vitest runs each file in its own fork), before creating resources.
 */
export async function useMocks(stack = "test", options: { region?: string; gcpProject?: string } = {}): Promise<PlanMocks> {
  return installMocks({
    project: "mlops-platform",
    stack,
    region: options.region ?? "us-east-1",
    gcpProject: options.gcpProject ?? "mlops-test",
  });
}

/** Waits for registrations, then returns the recorded resources (optionally of one type). */
export async function recorded(mocks: PlanMocks, type?: string): Promise<PlanResource[]> {
  await settle();
  return type ? mocks.resources.filter((r) => r.type === type) : mocks.resources;
}

/** Resolves an Output in a test. */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
