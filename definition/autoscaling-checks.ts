import type { ModelVersion } from "./catalog";
import { deploysTo } from "./catalog-checks";
import { gpuSharingMode, type NodePoolSpec, type StackSpec } from "./defaults";
import type { SpecIssue } from "./errors";
import type { Catalog } from "./registry";

/**
 * Checks of a model's autoscaling and GPU requests against the stack it deploys to: scale to
 * zero only where it is allowed and requests can be held, GPU versions only where KEDA scales
 * them, and a GPU share (MIG slice, time-sliced replica or a whole GPU) only where a pool offers it.
 */
export function checkScaling(catalog: Catalog, stack: StackSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const stackFile = `stacks/Pulumi.${stack.name}.yaml`;
  const gpuPools = stack.nodePools.filter((p) => p.role === "gpu");
  // EKS runs the platform's one device-plugin DaemonSet, with one config for every GPU pool.
  const modes = [...new Set(gpuPools.map((p) => gpuSharingMode(p.gpuSharing)))];
  if (stack.cloud === "aws" && modes.length > 1)
    issues.push({
      file: stackFile,
      path: "nodePools",
      message: `GPU pools share their GPUs in ${modes.length} ways (${modes.join(", ")}); one device plugin config serves them all on EKS`,
      fix: "give every GPU pool the same gpuSharing (or none)",
    });
  // GKE cuts every GPU of a pool into one partition size.
  gpuPools.forEach((p) => {
    if (stack.cloud === "gcp" && p.gpuSharing?.strategy === "mig" && Object.keys(p.gpuSharing.profiles).length > 1)
      issues.push({
        file: stackFile,
        path: `nodePools[${stack.nodePools.indexOf(p)}].gpuSharing.profiles`,
        message: `pool "${p.name}" lists ${Object.keys(p.gpuSharing.profiles).length} MIG profiles; GKE partitions every GPU of a pool the same way`,
        fix: "keep one profile per pool, and add a pool per profile",
      });
  });
  for (const model of Object.values(catalog.models)) {
    if (!deploysTo(model, stack.name)) continue;
    const at = (field: string, message: string, fix: string) =>
      issues.push({ file: model.origin.file, path: [model.origin.path, field].filter(Boolean).join("."), message, fix });
    if (model.autoscaling.minReplicas === 0) {
      if (stack.environment === "prod" && !model.autoscaling.scaleToZero)
        at(
          "autoscaling.minReplicas",
          `0 scales ${model.name} to zero on prod stack ${stack.name}, where the first request after idling waits a cold start`,
          "set autoscaling.scaleToZero: true to accept that, or minReplicas: 1",
        );
      if (!stack.autoscaling.keda)
        at(
          "autoscaling.minReplicas",
          `0 needs KEDA to scale from zero, and stack ${stack.name} has autoscaling.keda: false`,
          `set autoscaling.keda: true in ${stackFile}, or minReplicas: 1`,
        );
      else if (!stack.autoscaling.httpAddon)
        at(
          "autoscaling.minReplicas",
          `0 leaves no pod to answer while the first replica starts: stack ${stack.name} has no KEDA HTTP add-on to hold requests`,
          `set autoscaling.httpAddon: true in ${stackFile}, or minReplicas: 1`,
        );
    }
    model.versions.forEach((version, i) => {
      if (!version.gpu) return;
      if (!stack.autoscaling.keda)
        at(
          `versions[${i}].gpu`,
          `GPU version "${version.name}" scales on its runtime's queue, which needs KEDA, and stack ${stack.name} has autoscaling.keda: false`,
          `set autoscaling.keda: true in ${stackFile} (a CPU target says nothing about a GPU runtime's load)`,
        );
      const problem = gpuShareProblem(version, stack.nodePools);
      if (problem) at(`versions[${i}].gpu`, problem.message, problem.fix);
    });
  }
  return issues;
}

/** The kind of GPU a version asks for, in the words of the pools' sharing label. */
export function requestedShare(gpu: NonNullable<ModelVersion["gpu"]>): "exclusive" | "time-slicing" | "mig" {
  if (gpu.mig) return "mig";
  return gpu.timeSliced ? "time-slicing" : "exclusive";
}

/** Pools of the version's accelerator that can satisfy its share, best first. */
export function poolsFor(gpu: NonNullable<ModelVersion["gpu"]>, pools: NodePoolSpec[]): NodePoolSpec[] {
  const share = requestedShare(gpu);
  return pools.filter((p) => {
    if (p.role !== "gpu" || p.accelerator?.type !== gpu.accelerator) return false;
    const sharing = p.gpuSharing;
    if (share === "exclusive") return !sharing && gpu.count <= (p.accelerator?.count ?? 0);
    if (share === "time-slicing")
      return sharing?.strategy === "time-slicing" && gpu.count <= (p.accelerator?.count ?? 0) * sharing.replicas;
    if (sharing?.strategy !== "mig" || !gpu.mig) return false;
    const perGpu = sharing.profiles[gpu.mig] ?? 0;
    return perGpu > 0 && gpu.count <= perGpu * (p.accelerator?.count ?? 0);
  });
}

function gpuShareProblem(version: ModelVersion, pools: NodePoolSpec[]): { message: string; fix: string } | undefined {
  const gpu = version.gpu;
  if (!gpu) return undefined;
  if (gpu.mig && gpu.timeSliced)
    return { message: "asks for both a MIG slice and a time-sliced GPU", fix: "choose one: remove mig or timeSliced" };
  const ofType = pools.filter((p) => p.role === "gpu" && p.accelerator?.type === gpu.accelerator);
  // No pool of the accelerator at all is reported by checkCatalog already.
  if (ofType.length === 0 || poolsFor(gpu, pools).length > 0) return undefined;
  const offered = ofType
    .map((p) => {
      const s = p.gpuSharing;
      if (!s) return `${p.name}: whole GPUs (${p.accelerator?.count} per node)`;
      if (s.strategy === "time-slicing") return `${p.name}: time-sliced x${s.replicas}`;
      return `${p.name}: MIG ${s.mode} ${Object.entries(s.profiles)
        .map(([k, n]) => `${k} x${n}`)
        .join(", ")}`;
    })
    .join("; ");
  const share = requestedShare(gpu);
  const want =
    share === "mig"
      ? `${gpu.count} MIG slice(s) ${gpu.mig}`
      : share === "time-slicing"
        ? `${gpu.count} time-sliced GPU(s)`
        : `${gpu.count} whole GPU(s)`;
  return {
    message: `asks for ${want} of ${gpu.accelerator}, which no pool offers (${offered})`,
    fix:
      share === "mig"
        ? `use a profile a pool is partitioned with, or add it to a pool's gpuSharing.profiles`
        : share === "time-slicing"
          ? "add gpuSharing: { strategy: time-slicing, replicas: N } to a pool of that accelerator, or remove timeSliced"
          : "add a pool of that accelerator without gpuSharing, or ask for a share (mig or timeSliced)",
  };
}
