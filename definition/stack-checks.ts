import type { StackSpec } from "./defaults";
import type { SpecIssue } from "./errors";

/** Which stores each cloud can provision. */
export const STORES_BY_CLOUD = {
  aws: { online: ["redis", "dynamodb"], offline: ["redshift"] },
  gcp: { online: ["redis"], offline: ["bigquery"] },
  local: { online: ["redis"], offline: ["duckdb", "postgres"] },
} as const;

/** Cross-field checks on a resolved stack; returns every problem found. */
export function checkStack(stack: StackSpec, file: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, fix: string) => issues.push({ file, path, message, fix });
  const names = new Set<string>();
  stack.nodePools.forEach((pool, i) => {
    const at = `nodePools[${i}]`;
    if (names.has(pool.name)) add(`${at}.name`, `"${pool.name}" is used by two node pools`, "give each pool a unique name");
    names.add(pool.name);
    if (pool.role === "gpu" && !pool.accelerator) {
      add(
        `${at}.accelerator`,
        `GPU pool "${pool.name}" names no accelerator`,
        "add accelerator: { type: nvidia-l4, count: 1 } (or the GPU this machine type has)",
      );
    }
    if (pool.role === "system" && pool.accelerator) {
      add(`${at}.accelerator`, `system pool "${pool.name}" has an accelerator`, "set role: gpu, or remove the accelerator");
    }
    if (pool.maxSize < pool.minSize) {
      add(`${at}.maxSize`, `${pool.maxSize} is below minSize ${pool.minSize}`, `set maxSize to at least ${pool.minSize}`);
    }
    if (pool.role === "system" && pool.minSize < 1 && stack.cloud !== "local") {
      add(`${at}.minSize`, `system pool "${pool.name}" may scale to 0, leaving the platform nowhere to run`, "set minSize to at least 1");
    }
    if (stack.environment === "prod" && pool.role === "system" && pool.spot) {
      add(
        `${at}.spot`,
        `true is not allowed for the system pool of a prod stack (spot capacity can be reclaimed at any time)`,
        "set spot: false",
      );
    }
  });
  if (stack.cloud !== "local" && !stack.nodePools.some((p) => p.role === "system")) {
    add("nodePools", "has no system pool to run the platform's services", "add a pool with role: system");
  }
  const allowed = STORES_BY_CLOUD[stack.cloud];
  if (!(allowed.online as readonly string[]).includes(stack.onlineStore.kind)) {
    add("onlineStore.kind", `"${stack.onlineStore.kind}" is not available on ${stack.cloud}`, `use one of ${allowed.online.join(", ")}`);
  }
  if (!(allowed.offline as readonly string[]).includes(stack.offlineStore.kind)) {
    add("offlineStore.kind", `"${stack.offlineStore.kind}" is not available on ${stack.cloud}`, `use one of ${allowed.offline.join(", ")}`);
  }
  if (stack.cloud === "gcp" && !stack.project) add("project", "is required for a gcp stack", "set project: <your GCP project id>");
  if (stack.cloud !== "local" && stack.cluster.privateEndpoint === false && stack.cluster.publicAccessCidrs.length === 0) {
    add(
      "cluster.publicAccessCidrs",
      "is empty while the endpoint is public, so nobody could reach the API server",
      "list the CIDRs allowed, or set privateEndpoint: true",
    );
  }
  return issues;
}
