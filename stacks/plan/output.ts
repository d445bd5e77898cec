import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { PlanResource } from "../../components/plan-resource";
import type { K8sObject } from "./k8s-objects";

export const SECRET = "[secret]";

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur: Record<string, unknown> = target;
  for (const key of keys.slice(0, -1)) {
    const next = cur[key];
    if (!next || typeof next !== "object") return;
    cur = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1] as string;
  if (last in cur) cur[last] = value;
}

/** Masks Kubernetes Secret payloads (every value, whatever the key). */
export function maskSecretObject<T extends Record<string, unknown>>(object: T, kind: string): T {
  if (kind !== "Secret") return object;
  const masked: Record<string, unknown> = { ...object };
  for (const field of ["data", "stringData"]) {
    const payload = masked[field];
    if (payload && typeof payload === "object") masked[field] = Object.fromEntries(Object.keys(payload).map((k) => [k, SECRET]));
  }
  return masked as T;
}

/** A resource for plan.json: inputs with every secret (and Secret payload) replaced by "[secret]". */
export function maskedResource(r: PlanResource): Omit<PlanResource, "outputs" | "secretPaths"> {
  const inputs = structuredClone(r.inputs);
  if (r.secretPaths?.includes(""))
    return { type: r.type, name: r.name, urn: r.urn, parent: r.parent, custom: r.custom, inputs: { value: SECRET }, options: r.options };
  for (const path of r.secretPaths ?? []) setPath(inputs, path, SECRET);
  const kind = r.type.split(":")[2] ?? "";
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    parent: r.parent,
    custom: r.custom,
    inputs: maskSecretObject(inputs, kind),
    options: r.options,
  };
}

/** File name of a rendered manifest: <namespace>.<kind>.<name>.yaml, lower-case. */
export function manifestFileName(object: K8sObject): string {
  const ns = object.metadata?.namespace ?? "cluster";
  return `${ns}.${object.kind}.${object.metadata?.name ?? "unnamed"}.yaml`.toLowerCase().replace(/[^a-z0-9._-]/g, "-");
}

/**
 * Writes plan.json and manifests/*.yaml under `out` (replacing a previous plan there). Manifests are
 * YAML 1.1, as kubectl and every Go tool read them: under 1.2 rules an arg `yes` stays unquoted and
 * they parse it as a boolean (kube-score refused the local Redis StatefulSet for it).
 */
export function writePlan(
  out: string,
  plan: { resources: PlanResource[]; objects: K8sObject[]; summary: Record<string, unknown> },
): { planFile: string; manifestsDir: string } {
  const manifestsDir = join(out, "manifests");
  rmSync(manifestsDir, { recursive: true, force: true });
  mkdirSync(manifestsDir, { recursive: true });
  const planFile = join(out, "plan.json");
  writeFileSync(planFile, `${JSON.stringify({ ...plan.summary, resources: plan.resources.map(maskedResource) }, null, 2)}\n`);
  for (const object of plan.objects) {
    writeFileSync(
      join(manifestsDir, manifestFileName(object)),
      stringify(maskSecretObject(object, object.kind), { lineWidth: 0, version: "1.1" }),
    );
  }
  return { planFile, manifestsDir };
}
