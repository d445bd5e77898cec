import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Catalog, checkScaling, loadPlatform, type ModelSpec, type StackSpec } from "../../definition";

const ROOT = join(__dirname, "..", "..");
const platform = (stack: string) => loadPlatform({ stacksDir: join(ROOT, "stacks"), catalogDir: join(ROOT, "catalog"), stack });

/** The catalog with one model changed (the rest as shipped). */
function withModel(catalog: Catalog, name: string, change: (m: ModelSpec) => ModelSpec): Catalog {
  const model = catalog.models[name];
  if (!model) throw new Error(`no model ${name} in the catalog`);
  return { ...catalog, models: { ...catalog.models, [name]: change(model) } };
}
const zero = (m: ModelSpec, scaleToZero = false): ModelSpec => ({ ...m, autoscaling: { ...m.autoscaling, minReplicas: 0, scaleToZero } });
const issuesOf = (catalog: Catalog, stack: StackSpec) => checkScaling(catalog, stack).map((i) => `${i.path}: ${i.message} -> ${i.fix}`);

describe("autoscaling checks against the stack", () => {
  it("accept the shipped catalog on every stack", () => {
    for (const name of ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod", "local"]) {
      const { stack, catalog } = platform(name);
      expect(checkScaling(catalog, stack), name).toEqual([]);
    }
  });

  it("refuse scale to zero on a prod stack unless the model accepts cold starts, and name the fix", () => {
    const { stack, catalog } = platform("aws-prod");
    const withAddon = { ...stack, autoscaling: { ...stack.autoscaling, httpAddon: true } };
    const refused = issuesOf(
      withModel(catalog, "fraud-scorer", (m) => zero(m)),
      withAddon,
    );
    expect(refused).toEqual([expect.stringMatching(/autoscaling\.minReplicas: 0 scales fraud-scorer to zero on prod.*scaleToZero: true/)]);
    expect(
      issuesOf(
        withModel(catalog, "fraud-scorer", (m) => zero(m, true)),
        withAddon,
      ),
    ).toEqual([]);
  });

  it("refuse scale to zero where no HTTP add-on can hold requests while the first replica starts", () => {
    const { stack, catalog } = platform("aws-dev");
    expect(stack.autoscaling.httpAddon).toBe(false);
    const refused = issuesOf(
      withModel(catalog, "fraud-scorer", (m) => zero(m)),
      stack,
    );
    expect(refused).toEqual([
      expect.stringMatching(/no KEDA HTTP add-on to hold requests -> set autoscaling\.httpAddon: true in stacks\/Pulumi\.aws-dev\.yaml/),
    ]);
    const noKeda = { ...stack, autoscaling: { ...stack.autoscaling, keda: false } };
    expect(
      issuesOf(
        withModel(catalog, "fraud-scorer", (m) => zero(m)),
        noKeda,
      ).join("\n"),
    ).toMatch(/needs KEDA to scale from zero/);
  });

  it("refuse a GPU version on a stack without KEDA: a CPU target says nothing about a GPU runtime's load", () => {
    const { stack, catalog } = platform("aws-dev");
    const noKeda = { ...stack, autoscaling: { ...stack.autoscaling, keda: false } };
    expect(issuesOf(catalog, noKeda)).toEqual([
      expect.stringMatching(/versions\[0\]\.gpu: GPU version "llama-8b" scales on its runtime's queue, which needs KEDA/),
    ]);
  });

  it("refuse a GPU share no pool offers, naming what the pools offer; accept it once a pool is shared that way", () => {
    const { stack, catalog } = platform("aws-dev");
    const asking = (gpu: Partial<NonNullable<ModelSpec["versions"][number]["gpu"]>>) =>
      withModel(catalog, "support-assistant", (m) => ({
        ...m,
        versions: m.versions.map((v) => (v.gpu ? { ...v, gpu: { ...v.gpu, ...gpu } } : v)),
      }));
    expect(issuesOf(asking({ mig: "1g.10gb" }), stack)).toEqual([
      expect.stringMatching(/asks for 1 MIG slice\(s\) 1g\.10gb of nvidia-l4, which no pool offers \(gpu-l4: whole GPUs \(1 per node\)\)/),
    ]);
    expect(issuesOf(asking({ timeSliced: true }), stack).join("\n")).toMatch(
      /1 time-sliced GPU\(s\).*add gpuSharing: \{ strategy: time-slicing/,
    );
    const sliced: StackSpec = {
      ...stack,
      nodePools: stack.nodePools.map((p) =>
        p.role === "gpu" ? { ...p, gpuSharing: { strategy: "time-slicing" as const, replicas: 4 } } : p,
      ),
    };
    expect(issuesOf(asking({ timeSliced: true }), sliced)).toEqual([]);
    // A whole GPU may not land on a time-sliced pool: it would get a share, not a GPU.
    expect(issuesOf(catalog, sliced).join("\n")).toMatch(/1 whole GPU\(s\) of nvidia-l4, which no pool offers \(gpu-l4: time-sliced x4\)/);
    expect(issuesOf(asking({ mig: "1g.10gb", timeSliced: true }), stack).join("\n")).toMatch(/both a MIG slice and a time-sliced GPU/);
  });
});
