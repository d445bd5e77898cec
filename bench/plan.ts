/**
 * Plan time and peak memory per stack, and how the plan grows with the catalog (20 -> 200 models
 * x 2 versions, generated). Each plan runs in a fresh process (the Pulumi runtime is global), so
 * peak RSS is the plan's own. Baseline, measured in the same run: a process that only loads the
 * Pulumi SDKs (the fixed cost every plan pays). Last line: plan seconds for 200 models / for 20.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { listStacks } from "../definition";
import { machine, median } from "./_machine";

const root = resolve(__dirname, "..");
const repeats = Number(process.env.BENCH_REPEATS ?? 3);

interface Sample {
  seconds: number;
  programSeconds: number;
  policySeconds: number;
  peakRssMb: number;
  resources: number;
}

function runPlan(cwd: string, stack: string): Sample {
  const out = mkdtempSync(join(tmpdir(), "bench-plan-"));
  const r = spawnSync(process.execPath, ["--import", "tsx", join(cwd, "stacks/plan.ts"), stack, "--json", "--out", out], {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  rmSync(out, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`plan ${stack} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const s = JSON.parse(r.stdout);
  return {
    seconds: s.seconds,
    programSeconds: s.programSeconds,
    policySeconds: s.policySeconds,
    peakRssMb: s.peakRssMb,
    resources: s.resources,
  };
}

function baseline(): { seconds: number; peakRssMb: number } {
  const script =
    "const t=performance.now();require('@pulumi/pulumi');require('@pulumi/aws');require('@pulumi/gcp');require('@pulumi/kubernetes');console.log(JSON.stringify({seconds:(performance.now()-t)/1000,peakRssMb:process.resourceUsage().maxRSS/1024}))";
  const r = spawnSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8" });
  return JSON.parse(r.stdout);
}

function medianSample(samples: Sample[]): Sample {
  return {
    seconds: median(samples.map((s) => s.seconds)),
    programSeconds: median(samples.map((s) => s.programSeconds)),
    policySeconds: median(samples.map((s) => s.policySeconds)),
    peakRssMb: median(samples.map((s) => s.peakRssMb)),
    resources: samples[0]?.resources ?? 0,
  };
}

/** A project copy whose catalog has `models` generated fraud-style models with 2 versions each. */
function generatedProject(models: number): string {
  const dir = mkdtempSync(join(tmpdir(), `bench-catalog-${models}-`));
  for (const part of ["stacks", "components", "policies", "services", "package.json", "tsconfig.json"])
    cpSync(join(root, part), join(dir, part), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  mkdirSync(join(dir, "catalog", "models"), { recursive: true });
  cpSync(join(root, "catalog", "features"), join(dir, "catalog", "features"), { recursive: true });
  for (let i = 0; i < models; i++) {
    const team = `team-${i % 10}`;
    mkdirSync(join(dir, "catalog", "models", team), { recursive: true });
    const model = {
      owner: `${team}@example.com`,
      featureService: "fraud_scorer_v1",
      versions: [
        { name: "v1", runtime: "onnx", modelUri: `models:/model-${i}/1`, weight: 80 },
        { name: "v2", runtime: "onnx", modelUri: `models:/model-${i}/2`, weight: 20 },
      ],
      autoscaling: { minReplicas: 2, maxReplicas: 6 },
    };
    writeFileSync(join(dir, "catalog", "models", team, `model-${i}.yaml`), stringify(model));
  }
  return dir;
}

function main(): void {
  console.log(`bench plan: ${machine()}, ${repeats} runs each, medians`);
  const base = medianSample(Array.from({ length: repeats }, () => ({ ...baseline(), programSeconds: 0, policySeconds: 0, resources: 0 })));
  console.log(`baseline (load the Pulumi SDKs only): ${base.seconds.toFixed(2)} s, peak ${base.peakRssMb.toFixed(0)} MiB`);
  console.log("\nstack        resources   plan s   program s   policies s   peak MiB   x baseline");
  for (const stack of listStacks(join(root, "stacks"))) {
    const s = medianSample(Array.from({ length: repeats }, () => runPlan(root, stack)));
    console.log(
      `${stack.padEnd(12)} ${String(s.resources).padStart(9)} ${s.seconds.toFixed(2).padStart(8)} ${s.programSeconds.toFixed(2).padStart(11)} ${s.policySeconds.toFixed(3).padStart(12)} ${s.peakRssMb.toFixed(0).padStart(10)} ${(s.seconds / base.seconds).toFixed(1).padStart(12)}`,
    );
  }
  console.log("\ncatalog scaling on the aws-prod stack (generated models x 2 versions):");
  console.log("models   resources   plan s   program s   policies s   peak MiB");
  const sizes: Record<number, Sample> = {};
  for (const models of [20, 100, 200]) {
    const dir = generatedProject(models);
    const s = medianSample(Array.from({ length: Math.max(1, Math.min(repeats, 2)) }, () => runPlan(dir, "aws-prod")));
    sizes[models] = s;
    rmSync(dir, { recursive: true, force: true });
    console.log(
      `${String(models).padStart(6)} ${String(s.resources).padStart(11)} ${s.seconds.toFixed(2).padStart(8)} ${s.programSeconds.toFixed(2).padStart(11)} ${s.policySeconds.toFixed(3).padStart(12)} ${s.peakRssMb.toFixed(0).padStart(10)}`,
    );
  }
  const r20 = sizes[20] as Sample;
  const r200 = sizes[200] as Sample;
  console.log(
    `\nresources grew x${(r200.resources / r20.resources).toFixed(1)} from 20 to 200 models; plan time grew x${(r200.seconds / r20.seconds).toFixed(2)}`,
  );
  console.log(
    `headline: plan of 200 models x 2 versions takes ${(r200.seconds / r20.seconds).toFixed(2)}x the time of 20 models (${r200.seconds.toFixed(1)} s vs ${r20.seconds.toFixed(1)} s, peak ${r200.peakRssMb.toFixed(0)} MiB)`,
  );
}

main();
