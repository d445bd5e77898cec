import { parseCidr, unreachableRange } from "./cidr";
import type { StackSpec } from "./defaults";
import type { SpecIssue } from "./errors";

/**
 * The value the shipped dev stacks carry in `cluster.publicAccessCidrs`: who may reach a public API
 * endpoint is the user's choice, so `pulumi preview` and `up` refuse to run until it is replaced.
 * The credential-free plan accepts it (and says so), so a fresh clone can plan every stack.
 */
export const CIDR_PLACEHOLDER = "REPLACE-WITH-YOUR-EGRESS-CIDR";

/** What to write instead of a placeholder or an unreachable range: the runner's public address. */
const EGRESS_EXAMPLE =
  'list the public egress address of the machine that runs pulumi as a /32, e.g. "81.2.69.160/32" ' +
  '(echo "$(curl -s https://checkip.amazonaws.com)/32"), or your office/VPN range; or set privateEndpoint: true';

export interface StackCheckOptions {
  /** Accept CIDR_PLACEHOLDER (the offline plan only; the real engine refuses it). Defaults to false. */
  allowPlaceholders?: boolean;
}

/** Paths of the placeholder values a stack still carries, e.g. `cluster.publicAccessCidrs[0]`. */
export function placeholderFields(stack: StackSpec): string[] {
  return stack.cluster.publicAccessCidrs.flatMap((c, i) => (c === CIDR_PLACEHOLDER ? [`cluster.publicAccessCidrs[${i}]`] : []));
}

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const IAM_MEMBER = /^(user|group|serviceAccount|domain):[^\s]+$/;

/** Which stores each cloud can provision. */
export const STORES_BY_CLOUD = {
  aws: { online: ["redis", "dynamodb"], offline: ["redshift"] },
  gcp: { online: ["redis"], offline: ["bigquery"] },
  local: { online: ["redis"], offline: ["duckdb", "postgres"] },
} as const;

/** Cross-field checks on a resolved stack; returns every problem found. */
export function checkStack(stack: StackSpec, file: string, options: StackCheckOptions = {}): SpecIssue[] {
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
    if (stack.cloud === "aws" && pool.role === "gpu" && pool.minSize > 0) {
      add(
        `${at}.minSize`,
        `${pool.minSize}: GPU pools on EKS are provisioned by Karpenter, which starts nodes for pending pods and keeps no minimum`,
        "set minSize: 0 (a model with minReplicas > 0 keeps its GPU node up)",
      );
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
  checkEndpointCidrs(stack, add, options);
  checkAdmins(stack, add);
  const nap = stack.cluster.autoProvisioning;
  if (nap && stack.cloud !== "gcp") {
    add(
      "cluster.autoProvisioning",
      `is a GKE feature; ${stack.cloud} stacks cannot use it`,
      "remove it (EKS GPU pools scale with Karpenter)",
    );
  }
  if (nap) {
    const pooled = stack.nodePools.reduce((sum, p) => sum + p.maxSize * (p.accelerator?.count ?? 0), 0);
    const provisioned = Object.values(nap.gpus).reduce((sum: number, n) => sum + (n ?? 0), 0);
    if (pooled + provisioned > stack.serving.maxGpus) {
      add(
        "cluster.autoProvisioning.gpus",
        `node pools (${pooled}) and auto-provisioning (${provisioned}) could run ${pooled + provisioned} GPUs, over serving.maxGpus ${stack.serving.maxGpus}`,
        "lower the GPU limits, or raise serving.maxGpus with the budget owner's approval",
      );
    }
  }
  return issues;
}

type Add = (path: string, message: string, fix: string) => void;

/**
 * A public endpoint's allow-list must admit a real client: a documentation, private or reserved
 * range admits nobody (every Kubernetes call from the runner times out after minutes).
 */
function checkEndpointCidrs(stack: StackSpec, add: Add, options: StackCheckOptions): void {
  if (stack.cloud === "local" || stack.cluster.privateEndpoint) return;
  stack.cluster.publicAccessCidrs.forEach((text, i) => {
    const at = `cluster.publicAccessCidrs[${i}]`;
    if (text === CIDR_PLACEHOLDER) {
      if (!options.allowPlaceholders) {
        add(at, `"${text}" is a placeholder: who may reach the cluster's public API endpoint is yours to choose`, EGRESS_EXAMPLE);
      }
      return;
    }
    let reason: string | undefined;
    try {
      reason = unreachableRange(parseCidr(text));
    } catch (error) {
      add(at, `"${text}" is not valid: ${(error as Error).message}`, EGRESS_EXAMPLE);
      return;
    }
    if (reason) {
      add(
        at,
        `"${text}" is in ${reason}: no client reaching a public endpoint has such an address, so every call would time out`,
        EGRESS_EXAMPLE,
      );
    }
  });
}

function checkAdmins(stack: StackSpec, add: Add): void {
  stack.cluster.admins.forEach((admin, i) => {
    const at = `cluster.admins[${i}]`;
    if (stack.cloud === "aws" && !IAM_ROLE_ARN.test(admin)) {
      add(at, `"${admin}" is not an IAM role ARN`, 'write it like "arn:aws:iam::123456789012:role/platform-admins"');
    } else if (stack.cloud === "gcp" && !IAM_MEMBER.test(admin)) {
      add(at, `"${admin}" is not an IAM member`, 'write it like "group:platform-admins@example.com" or "user:ana@example.com"');
    } else if (stack.cloud === "local") {
      add(at, "is not used on a local stack: the kubeconfig decides who is admin", "remove cluster.admins");
    }
  });
}
