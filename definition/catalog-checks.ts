import { featuresOf } from "./aggregations";
import { checkScaling } from "./autoscaling-checks";
import type { StackSpec } from "./defaults";
import type { SpecIssue } from "./errors";
import { checkFeatureEngineering } from "./feature-engineering-checks";
import type { Catalog } from "./registry";

const LATEST = /(:latest$)|(^[^:@]+$)/;

/** Cross-file checks on the merged catalog (and against the stack, for GPU placement). */
export function checkCatalog(catalog: Catalog, stack?: StackSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const at = (origin: { file: string; path: string }, field: string, message: string, fix: string) =>
    issues.push({ file: origin.file, path: [origin.path, field].filter(Boolean).join("."), message, fix });

  for (const view of Object.values(catalog.featureViews)) {
    view.entities.forEach((entity, i) => {
      if (!catalog.entities[entity]) {
        at(
          view.origin,
          `entities[${i}]`,
          `entity "${entity}" is not declared`,
          `declare it under entities: in a catalog/features file, or use one of ${list(Object.keys(catalog.entities))}`,
        );
      }
    });
    const keyList = view.entities.flatMap((e) => catalog.entities[e]?.joinKeys ?? []);
    const joinKeys = new Set(keyList);
    if (joinKeys.size < keyList.length) {
      at(
        view.origin,
        "entities",
        `entities ${list(view.entities)} share a join key (${list(keyList.filter((k, i) => keyList.indexOf(k) !== i))})`,
        "each join key may appear once per view; use one entity per key",
      );
    }
    if (view.schedule !== undefined && !view.online) {
      at(
        view.origin,
        "schedule",
        `"${view.schedule}" is set, but the view is offline only, so there is nothing to materialize`,
        "set online: true, or remove schedule",
      );
    } else if (view.schedule !== undefined && !view.offline) {
      at(
        view.origin,
        "schedule",
        `"${view.schedule}" is set, but the view has no offline data to materialize from (offline: false)`,
        "remove schedule (fill the view with a push source), or set offline: true",
      );
    }
    const seen = new Set<string>();
    view.fields.forEach((field, i) => {
      if (seen.has(field.name)) at(view.origin, `fields[${i}].name`, `"${field.name}" is declared twice`, "remove the duplicate field");
      seen.add(field.name);
      if (joinKeys.has(field.name))
        at(
          view.origin,
          `fields[${i}].name`,
          `"${field.name}" is a join key of the view's entity`,
          "join keys are not features; remove it from fields",
        );
    });
  }
  checkFeatureEngineering(catalog, at);
  for (const service of Object.values(catalog.featureServices)) {
    service.features.forEach((ref, i) => {
      const [viewName, name] = ref.split(":") as [string, string];
      const view = catalog.featureViews[viewName];
      const onDemand = catalog.onDemandFeatureViews?.[viewName];
      if (onDemand) {
        if (!onDemand.features.some((f) => f.name === name))
          at(
            service.origin,
            `features[${i}]`,
            `"${ref}": on-demand feature view "${viewName}" has no feature "${name}"`,
            `use one of ${list(onDemand.features.map((f) => f.name))}`,
          );
      } else if (!view) {
        at(
          service.origin,
          `features[${i}]`,
          `"${ref}" names feature view "${viewName}", which does not exist`,
          `use one of ${list(Object.keys(catalog.featureViews))}`,
        );
      } else if (!featuresOf(view).some((f) => f.name === name)) {
        at(
          service.origin,
          `features[${i}]`,
          `"${ref}": feature view "${viewName}" has no field "${name}"`,
          `use one of ${list(featuresOf(view).map((f) => f.name))}`,
        );
      } else if (!view.online) {
        at(
          service.origin,
          `features[${i}]`,
          `"${ref}" is in feature view "${viewName}", which is offline only`,
          "set online: true on the view, or remove the feature from the service",
        );
      }
    });
    const dupes = service.features.filter((f, i) => service.features.indexOf(f) !== i);
    if (dupes.length) at(service.origin, "features", `lists ${list(dupes)} twice`, "list each feature once");
  }
  for (const push of Object.values(catalog.pushSources)) {
    const named: [string, string][] = [
      ["featureView", push.featureView],
      ...(push.featureViews ?? []).map((v, i): [string, string] => [`featureViews[${i}]`, v]),
    ];
    for (const [field, viewName] of named) {
      const target = catalog.featureViews[viewName];
      if (!target) {
        at(push.origin, field, `"${viewName}" is not a feature view`, `use one of ${list(Object.keys(catalog.featureViews))}`);
      } else if (!target.online) {
        at(
          push.origin,
          field,
          `"${viewName}" is offline only, but pushed rows are written to the online store`,
          `set online: true on feature view "${viewName}"`,
        );
      }
    }
  }

  for (const model of Object.values(catalog.models)) {
    const o = model.origin;
    const service = catalog.featureServices[model.featureService];
    if (!service) {
      at(
        o,
        "featureService",
        `"${model.featureService}" is not a feature service`,
        `use one of ${list(Object.keys(catalog.featureServices))}, or declare it in catalog/features/`,
      );
    }
    const names = new Set<string>();
    model.versions.forEach((v, i) => {
      if (names.has(v.name)) at(o, `versions[${i}].name`, `"${v.name}" is used by two versions`, "give each version a unique name");
      names.add(v.name);
      if (v.runtime !== "onnx" && !v.image) {
        at(
          o,
          `versions[${i}].image`,
          `is missing for runtime "${v.runtime}"`,
          "set the runtime image, pinned by tag, e.g. nvcr.io/nvidia/tritonserver:24.08-py3",
        );
      }
      if (v.runtime === "onnx" && v.image) {
        at(
          o,
          `versions[${i}].image`,
          `is set for runtime "onnx", which runs in the platform's serving image`,
          "remove image, or choose an external runtime (triton, kserve-v2, openai)",
        );
      }
      if (v.image && LATEST.test(v.image)) {
        at(o, `versions[${i}].image`, `"${v.image}" is not pinned`, 'pin a tag or digest, e.g. "vllm/vllm-openai:v0.6.3"');
      }
      const objectName = `${model.name}-${v.name}`;
      if (objectName.length > 63) {
        at(
          o,
          `versions[${i}].name`,
          `"${v.name}" makes the Deployment name "${objectName}" ${objectName.length} characters long; Kubernetes allows 63`,
          `shorten the model or version name by ${objectName.length - 63} characters`,
        );
      }
      for (const [request, limit] of [
        ["cpu", "cpuLimit"],
        ["memory", "memoryLimit"],
      ] as const) {
        const r = v.resources[request];
        const l = v.resources[limit];
        if (l !== undefined && quantity(l) < quantity(r)) {
          at(
            o,
            `versions[${i}].resources.${limit}`,
            `${l} is below the request ${request}: ${r}, which Kubernetes refuses`,
            `set ${limit} to at least ${r}, or remove it (limits default to the requests)`,
          );
        }
      }
      if (v.gpu && v.runtime === "onnx") {
        at(
          o,
          `versions[${i}].gpu`,
          `asks for GPUs, but the bundled onnx runtime is CPU-only`,
          "use runtime triton, kserve-v2 or openai with a GPU image, or remove gpu",
        );
      }
      if (v.gpu && stack && deploysTo(model, stack.name)) {
        const pool = stack.nodePools.find((p) => p.role === "gpu" && p.accelerator?.type === v.gpu?.accelerator);
        if (!pool) {
          const have = stack.nodePools.filter((p) => p.accelerator).map((p) => p.accelerator?.type as string);
          at(
            o,
            `versions[${i}].gpu.accelerator`,
            `"${v.gpu.accelerator}" has no GPU pool in stack ${stack.name}`,
            have.length
              ? `use one of ${list(have)}, or add a pool with that accelerator to stacks/Pulumi.${stack.name}.yaml`
              : `add a GPU pool with that accelerator to stacks/Pulumi.${stack.name}.yaml`,
          );
        } else if (pool.accelerator && v.gpu.count > pool.accelerator.count) {
          at(
            o,
            `versions[${i}].gpu.count`,
            `${v.gpu.count} is more than the ${pool.accelerator.count} GPU(s) per node of pool "${pool.name}"`,
            `ask for at most ${pool.accelerator.count}, or use a bigger machine type`,
          );
        }
      }
    });
    const total = model.versions.reduce((sum, v) => sum + v.weight, 0);
    if (total !== 100) {
      at(
        o,
        "versions",
        `weights sum to ${total} (${model.versions.map((v) => `${v.name}=${v.weight}`).join(", ")})`,
        "weights must sum to 100",
      );
    }
    if (model.shadow) {
      const i = model.versions.findIndex((v) => v.name === model.shadow?.version);
      if (i < 0) at(o, "shadow.version", `"${model.shadow.version}" is not one of the model's versions`, `use one of ${list([...names])}`);
      else if ((model.versions[i]?.weight ?? 0) > 0) {
        at(
          o,
          `versions[${i}].weight`,
          `shadow version "${model.shadow.version}" also has weight ${model.versions[i]?.weight}`,
          "a shadow version gets mirrored traffic only; set its weight to 0",
        );
      }
    }
    if (model.shadow && model.shadow.mirrorPercentage === 0) {
      at(
        o,
        "shadow.mirrorPercentage",
        "0 mirrors no traffic, so the shadow version would see no requests",
        "set a share above 0 (e.g. 10), or remove shadow:",
      );
    }
    const header = model.headerOverride.header;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(header) || RESERVED_HEADERS.has(header)) {
      at(
        o,
        "headerOverride.header",
        `"${header}" cannot be used to pick a version`,
        'use a lower-case custom header name such as "x-model-version"',
      );
    }
    if (model.gates?.maxP99Ms !== undefined && model.gates.maxP99Ms > model.slo.p99LatencyMs) {
      at(
        o,
        "gates.maxP99Ms",
        `${model.gates.maxP99Ms} ms is looser than the SLO's p99LatencyMs ${model.slo.p99LatencyMs} ms, so a model could pass the gate and still break the SLO`,
        `set it to at most ${model.slo.p99LatencyMs}`,
      );
    }
    if (model.autoscaling.maxReplicas < model.autoscaling.minReplicas) {
      at(
        o,
        "autoscaling.maxReplicas",
        `${model.autoscaling.maxReplicas} is below minReplicas ${model.autoscaling.minReplicas}`,
        `set maxReplicas to at least ${model.autoscaling.minReplicas}`,
      );
    }
    const steps = model.canary.steps;
    if (steps.some((s, i) => i > 0 && s <= (steps[i - 1] as number)) || steps[steps.length - 1] !== 100) {
      at(o, "canary.steps", `${JSON.stringify(steps)} must rise and end at 100`, "write them like [5, 20, 50, 100]");
    }
    if (service) {
      const featureNames = new Set(service.features.map((ref) => ref.split(":")[1] as string));
      const full = new Set(service.features.map((ref) => ref.replace(":", "__")));
      for (const [feature, override] of Object.entries(model.drift.features)) {
        if (!featureNames.has(feature) && !full.has(feature) && feature !== "prediction") {
          at(
            o,
            `drift.features.${feature}`,
            `"${feature}" is not a feature of service "${service.name}"`,
            `use one of ${list([...featureNames])}`,
          );
          continue;
        }
        const ref = service.features.find((r) => r.split(":")[1] === feature || r.replace(":", "__") === feature);
        const refView = ref ? catalog.featureViews[ref.split(":")[0] as string] : undefined;
        const dtype = refView ? featuresOf(refView).find((f) => f.name === ref?.split(":")[1])?.dtype : undefined;
        const method = override.method;
        if (dtype && method && !methodFits(method, dtype)) {
          at(
            o,
            `drift.features.${feature}.method`,
            `"${method}" does not apply to ${dtype} feature "${feature}"`,
            `use one of ${list(DRIFT_METHODS_BY_KIND[dtypeKind(dtype)])}`,
          );
        }
      }
    }
  }
  if (stack) issues.push(...checkScaling(catalog, stack));
  return issues;
}

/** Headers the mesh or HTTP itself own; matching on them would route every request or none. */
const RESERVED_HEADERS = new Set([
  "host",
  "authority",
  "content-type",
  "content-length",
  "authorization",
  "cookie",
  "user-agent",
  "x-forwarded-for",
  "x-request-id",
]);

type DtypeKind = "numeric" | "binary" | "categorical" | "list";
/** Drift methods that make sense for each kind of feature (see services/drift for the defaults). */
const DRIFT_METHODS_BY_KIND: Record<DtypeKind, string[]> = {
  numeric: ["ks", "wasserstein", "psi", "chisquare", "jensenshannon"],
  binary: ["ztest", "chisquare", "jensenshannon", "psi"],
  categorical: ["chisquare", "jensenshannon", "psi"],
  list: [],
};

function dtypeKind(dtype: string): DtypeKind {
  if (dtype.startsWith("Array(")) return "list";
  if (dtype === "Bool") return "binary";
  if (dtype === "String" || dtype === "Bytes") return "categorical";
  return "numeric";
}

function methodFits(method: string, dtype: string): boolean {
  return DRIFT_METHODS_BY_KIND[dtypeKind(dtype)].includes(method);
}

const QUANTITY_UNITS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** A Kubernetes quantity ("500m", "2", "512Mi") as a number, to compare requests with limits. */
export function quantity(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * (QUANTITY_UNITS[match[2] ?? ""] as number);
}

/** Whether a model deploys to the named stack (its `stacks` list, or every stack when absent). */
export function deploysTo(model: { stacks?: string[] }, stackName: string): boolean {
  return model.stacks === undefined || model.stacks.includes(stackName);
}

function list(items: string[]): string {
  if (items.length === 0) return "(none declared)";
  const shown = items.slice(0, 8).map((s) => `"${s}"`);
  return items.length > 8 ? `${shown.join(", ")}, ...` : shown.join(", ");
}
