import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseDocument } from "yaml";
import { loadPlatform, SpecError } from "../../definition";

const ROOT = join(__dirname, "..", "..");
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A copy of catalog/ with one YAML file changed through the Document API (comments kept, one edit). */
function catalogWith(file: string, edit: (doc: ReturnType<typeof parseDocument>) => void, moveTo?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "bad-catalog-"));
  made.push(dir);
  cpSync(join(ROOT, "catalog"), dir, { recursive: true });
  const path = join(dir, file);
  const doc = parseDocument(readFileSync(path, "utf8"));
  edit(doc);
  writeFileSync(path, doc.toString());
  if (moveTo) renameSync(path, join(dir, moveTo));
  return dir;
}

function planError(catalogDir: string, stack = "aws-prod"): SpecError {
  try {
    loadPlatform({ stacksDir: join(ROOT, "stacks"), catalogDir, stack });
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("the bad catalog was accepted");
}

interface BadCase {
  mistake: string;
  file: string;
  edit: (doc: ReturnType<typeof parseDocument>) => void;
  stack?: string;
  /** Renames the edited file (a model's name is its file name). */
  moveTo?: string;
  /** The field path the error must name. */
  path: string;
  /** What the message says is wrong (the value or the reason). */
  message: RegExp;
  /** The fix the message must give. */
  fix: RegExp;
}

const FRAUD = "models/fraud/fraud-scorer.yaml";
const CHURN = "models/support/churn-predictor.yaml";
const LLM = "models/support/support-assistant.yaml";
const FRAUD_FEATURES = "features/fraud.yaml";

const cases: BadCase[] = [
  {
    mistake: "a feature service that does not exist",
    file: FRAUD,
    edit: (d) => d.set("featureService", "fraud_scorer_v9"),
    path: "featureService",
    message: /"fraud_scorer_v9" is not a feature service/,
    fix: /use one of "fraud_scorer_v1"/,
  },
  {
    mistake: "a feature that is not a field of its view",
    file: FRAUD_FEATURES,
    edit: (d) => d.setIn(["featureServices", 0, "features", 1], "card_stats:txn_amount_avg_30d"),
    path: "featureServices[0].features[1]",
    message: /feature view "card_stats" has no field "txn_amount_avg_30d"/,
    fix: /use one of "txn_count_1h"/,
  },
  {
    mistake: "weights that do not sum to 100",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 0, "weight"], 95),
    path: "versions",
    message: /weights sum to 105 \(v1=95, v2=10\)/,
    fix: /weights must sum to 100/,
  },
  {
    mistake: "a weight over 100",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 0, "weight"], 120),
    path: "versions[0].weight",
    message: /120 is not valid/,
    fix: /at most 100: weights are percentages of live traffic/,
  },
  {
    mistake: "a shadow version that also takes live traffic",
    file: CHURN,
    edit: (d) => {
      d.setIn(["versions", 0, "weight"], 75);
      d.setIn(["versions", 1, "weight"], 25);
    },
    path: "versions[1].weight",
    message: /shadow version "v4" also has weight 25/,
    fix: /set its weight to 0/,
  },
  {
    mistake: "a shadow that names no version",
    file: CHURN,
    edit: (d) => d.setIn(["shadow", "version"], "v5"),
    path: "shadow.version",
    message: /"v5" is not one of the model's versions/,
    fix: /use one of "v3", "v4"/,
  },
  {
    mistake: "a GPU the stack has no pool for",
    file: LLM,
    edit: (d) => d.setIn(["versions", 0, "gpu", "accelerator"], "nvidia-h100-80gb"),
    stack: "aws-dev",
    path: "versions[0].gpu.accelerator",
    message: /"nvidia-h100-80gb" has no GPU pool in stack aws-dev/,
    fix: /use one of "nvidia-l4"/,
  },
  {
    mistake: "more GPUs than a node of the pool has",
    file: LLM,
    edit: (d) => d.setIn(["versions", 0, "gpu", "count"], 4),
    stack: "gcp-prod",
    path: "versions[0].gpu.count",
    message: /4 is more than the 1 GPU\(s\) per node of pool "gpu-l4"/,
    fix: /ask for at most 1/,
  },
  {
    mistake: "a version name that is not DNS-1123",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 1, "name"], "V2_canary"),
    path: "versions[1].name",
    message: /"V2_canary" is not valid: must be a DNS-1123 label/,
    fix: /lower-case letters, digits and '-'/,
  },
  {
    mistake: "a misspelt field",
    file: FRAUD,
    edit: (d) => d.set("autoscale", { maxReplicas: 4 }),
    path: "",
    message: /unknown field "autoscale"/,
    fix: /remove it, or check its spelling against the schema in catalog\/schema/,
  },
  {
    mistake: "an unknown runtime",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 0, "runtime"], "tensorflow"),
    path: "versions[0].runtime",
    message: /"tensorflow" is not valid/,
    fix: /use one of "onnx", "triton", "kserve-v2", "openai"/,
  },
  {
    mistake: "an external runtime without an image",
    file: LLM,
    edit: (d) => d.deleteIn(["versions", 0, "image"]),
    path: "versions[0].image",
    message: /is missing for runtime "openai"/,
    fix: /set the runtime image, pinned by tag/,
  },
  {
    mistake: "an unpinned runtime image",
    file: LLM,
    edit: (d) => d.setIn(["versions", 0, "image"], "vllm/vllm-openai:latest"),
    path: "versions[0].image",
    message: /"vllm\/vllm-openai:latest" is not pinned/,
    fix: /pin a tag or digest/,
  },
  {
    mistake: "GPUs for the CPU-only onnx runtime",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 1, "gpu"], { count: 1, accelerator: "nvidia-l4" }),
    path: "versions[1].gpu",
    message: /bundled onnx runtime is CPU-only/,
    fix: /use runtime triton, kserve-v2 or openai/,
  },
  {
    mistake: "canary steps that do not end at 100",
    file: FRAUD,
    edit: (d) => d.setIn(["canary", "steps"], [10, 50, 25]),
    path: "canary.steps",
    message: /\[10,50,25\] must rise and end at 100/,
    fix: /write them like \[5, 20, 50, 100\]/,
  },
  {
    mistake: "a drift override for a feature the model does not read",
    file: FRAUD,
    edit: (d) => d.setIn(["drift", "features", "home_country"], { method: "psi" }),
    path: "drift.features.home_country",
    message: /"home_country" is not a feature of service "fraud_scorer_v1"/,
    fix: /use one of "txn_count_1h"/,
  },
  {
    mistake: "a drift method that does not fit the feature's type",
    file: "models/support/churn-predictor.yaml",
    edit: (d) => d.setIn(["drift", "features"], { tenure_days: { method: "ztest" } }),
    path: "drift.features.tenure_days.method",
    message: /"ztest" does not apply to Int32 feature "tenure_days"/,
    fix: /use one of "ks", "wasserstein"/,
  },
  {
    mistake: "a CPU limit below the request",
    file: FRAUD,
    edit: (d) => d.setIn(["versions", 0, "resources", "cpuLimit"], "250m"),
    path: "versions[0].resources.cpuLimit",
    message: /250m is below the request cpu: 500m/,
    fix: /set cpuLimit to at least 500m/,
  },
  {
    mistake: "a materialization schedule on an offline-only view",
    file: FRAUD_FEATURES,
    edit: (d) => d.setIn(["featureViews", 1, "online"], false),
    path: "featureViews[1].schedule",
    message: /the view is offline only, so there is nothing to materialize/,
    fix: /set online: true, or remove schedule/,
  },
  {
    mistake: "a TTL that is not a duration",
    file: FRAUD_FEATURES,
    edit: (d) => d.setIn(["featureViews", 0, "ttl"], "two days"),
    path: "featureViews[0].ttl",
    message: /"two days" is not a duration/,
    fix: /write it like "90s", "15m", "24h" or "7d"/,
  },
  {
    mistake: "a feature view naming an undeclared entity",
    file: FRAUD_FEATURES,
    edit: (d) => d.setIn(["featureViews", 1, "entities", 0], "shop"),
    path: "featureViews[1].entities[0]",
    message: /entity "shop" is not declared/,
    fix: /declare it under entities:/,
  },
  {
    mistake: "a push source into an offline-only view",
    file: FRAUD_FEATURES,
    edit: (d) => d.setIn(["featureViews", 2, "online"], false),
    path: "pushSources[0].featureView",
    message: /"card_realtime" is offline only, but pushed rows are written to the online store/,
    fix: /set online: true on feature view "card_realtime"/,
  },
  {
    mistake: "a latency gate looser than the SLO",
    file: FRAUD,
    edit: (d) => d.setIn(["gates", "maxP99Ms"], 80),
    path: "gates.maxP99Ms",
    message: /80 ms is looser than the SLO's p99LatencyMs 50 ms/,
    fix: /set it to at most 50/,
  },
  {
    mistake: "a reserved header for the version override",
    file: FRAUD,
    edit: (d) => d.setIn(["headerOverride", "header"], "Host"),
    path: "headerOverride.header",
    message: /"Host" cannot be used to pick a version/,
    fix: /lower-case custom header name/,
  },
  {
    mistake: "a model and version name too long for Kubernetes",
    file: FRAUD,
    moveTo: "models/fraud/fraud-scorer-gradient-boosted-trees.yaml",
    edit: (d) => d.setIn(["versions", 1, "name"], "v2-trained-on-the-full-history"),
    path: "versions[1].name",
    message: /characters long; Kubernetes allows 63/,
    fix: /shorten the model or version name by \d+ characters/,
  },
  {
    mistake: "a stack name that does not exist",
    file: LLM,
    edit: (d) => d.setIn(["stacks", 1], "aws-production"),
    path: "stacks[1]",
    message: /"aws-production" is not a stack/,
    fix: /use one of: aws-dev, aws-prod/,
  },
];

describe("a bad catalog fails the plan with the file, the field, what is wrong and the fix", () => {
  it("covers at least 12 different mistakes", () => {
    expect(new Set(cases.map((c) => c.mistake)).size).toBeGreaterThanOrEqual(12);
  });

  for (const c of cases) {
    it(`refuses ${c.mistake}`, () => {
      const error = planError(catalogWith(c.file, c.edit, c.moveTo), c.stack);
      const issue = error.issues.find((i) => i.path === c.path && c.message.test(i.message));
      expect(issue, `no issue at ${c.path} matching ${c.message} in:\n${error.message}`).toBeDefined();
      const file = c.moveTo ?? c.file;
      // The loader adds the line of the offending value, except for the per-stack filter, which runs after parsing.
      const line = c.path.startsWith("stacks") ? "" : ":\\d+";
      expect(issue?.file).toMatch(new RegExp(`${file.replace(/[.]/g, "\\.")}${line}$`));
      expect(`${issue?.message}; ${issue?.fix ?? ""}`).toMatch(c.fix);
      expect(error.message).toContain(file);
    });
  }

  it("reports every mistake of a catalog together, each with its line", () => {
    const dir = catalogWith(FRAUD, (d) => {
      d.setIn(["versions", 0, "weight"], 95);
      d.setIn(["shadow"], { version: "v9" });
    });
    const error = planError(dir);
    expect(error.issues.map((i) => i.path).sort()).toEqual(["shadow.version", "versions"]);
    for (const issue of error.issues) expect(issue.file).toMatch(/fraud-scorer\.yaml:\d+$/);
  });
});
