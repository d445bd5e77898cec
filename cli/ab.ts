/**
 * `npm run ab -- <model> [--a V] [--b V] (--logs DIR --outcomes FILE | --prometheus URL --success-query Q --trials-query Q)`
 * A/B significance between two versions of a model: two-proportion z-test, the Bayesian
 * probability that B beats A, and the sample size still needed for the minimum detectable effect.
 */
import { resolve } from "node:path";
import { loadCatalog } from "../definition";
import { helpText, parseCommand, UsageError } from "../services/core/cli";
import { abReport, type Arm } from "./lifecycle/ab-stats";
import { armsFromLogs, armsFromPrometheus, readOutcomes } from "./lifecycle/outcomes";

const FLAGS = [
  { name: "a", type: "string" as const, description: "control version (default: the version with the most traffic weight)", env: "AB_A" },
  { name: "b", type: "string" as const, description: "treatment version (default: the other weighted version)", env: "AB_B" },
  { name: "logs", type: "string" as const, description: "prediction log directory of the serving service", env: "PREDICTION_LOG_DIR" },
  { name: "outcomes", type: "string" as const, description: "outcomes file (CSV or JSONL: request_id, outcome 0/1)", env: "AB_OUTCOMES" },
  { name: "prometheus", type: "string" as const, description: "Prometheus URL (instead of logs)", env: "PROMETHEUS_URL" },
  { name: "success-query", type: "string" as const, description: "PromQL giving successes by version ($model is replaced)" },
  { name: "trials-query", type: "string" as const, description: "PromQL giving trials by version ($model is replaced)" },
  { name: "mde", type: "string" as const, description: "minimum detectable effect, absolute", default: "0.01" },
  { name: "alpha", type: "string" as const, description: "significance level", default: "0.05" },
  { name: "power", type: "string" as const, description: "statistical power", default: "0.8" },
  { name: "catalog", type: "string" as const, description: "catalog directory", default: "catalog" },
  { name: "json", type: "boolean" as const, description: "print JSON" },
];
const USAGE = "npm run ab -- <model> [--a V] [--b V] (--logs DIR --outcomes FILE | --prometheus URL --success-query Q --trials-query Q)";

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(argv, FLAGS);
  if (args.values.help) {
    console.log(helpText(USAGE, "A/B significance between two versions: z-test, P(B beats A), sample size still needed.", FLAGS));
    return 0;
  }
  const modelName = args.positionals[0];
  if (!modelName) throw new UsageError("name the model");
  const catalog = loadCatalog(resolve(String(args.values.catalog)), "mlops");
  const model = catalog.models[modelName];
  if (!model) throw new UsageError(`model "${modelName}" is not in the catalog; models: ${Object.keys(catalog.models).join(", ")}`);
  const byWeight = [...model.versions].sort((x, y) => y.weight - x.weight).map((v) => v.name);
  const aName = String(args.values.a ?? byWeight[0]);
  const bName = String(args.values.b ?? byWeight.find((v) => v !== aName) ?? "");
  let arms: Arm[];
  if (args.values.prometheus) {
    const sq = args.values["success-query"];
    const tq = args.values["trials-query"];
    if (!sq || !tq) throw new UsageError("--prometheus needs --success-query and --trials-query");
    arms = await armsFromPrometheus(
      String(args.values.prometheus),
      String(sq).replaceAll("$model", modelName),
      String(tq).replaceAll("$model", modelName),
    );
  } else {
    if (!args.values.logs || !args.values.outcomes)
      throw new UsageError("give --logs DIR and --outcomes FILE, or --prometheus URL with queries");
    arms = await armsFromLogs(resolve(String(args.values.logs)), modelName, await readOutcomes(resolve(String(args.values.outcomes))));
  }
  const a = arms.find((x) => x.version === aName);
  const b = arms.find((x) => x.version === bName);
  if (!a || !b)
    throw new UsageError(
      `no outcomes for ${!a ? aName : bName}; versions with outcomes: ${arms.map((x) => `${x.version} (${x.trials})`).join(", ") || "none"}`,
    );
  const report = abReport(a, b, { mde: Number(args.values.mde), alpha: Number(args.values.alpha), power: Number(args.values.power) });
  if (args.values.json) {
    console.log(JSON.stringify({ model: modelName, ...report }, null, 2));
  } else {
    const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
    console.log(`A/B test of ${modelName}: A = ${a.version}, B = ${b.version}`);
    console.log(`  version   trials   successes   rate`);
    for (const arm of [a, b])
      console.log(
        `  ${arm.version.padEnd(8)} ${String(arm.trials).padStart(7)} ${String(arm.successes).padStart(11)}   ${pct(arm.successes / arm.trials)}`,
      );
    console.log(
      `  lift B - A: ${pct(report.test.lift)}${report.test.relativeLift === null ? "" : ` (${pct(report.test.relativeLift)} relative)`}`,
    );
    console.log(`  z = ${report.test.z.toFixed(4)}, two-sided p = ${report.test.pValue.toPrecision(4)} (alpha ${report.test.alpha})`);
    console.log(`  P(B beats A) = ${pct(report.probabilityBBeatsA)} (Beta(1,1) priors)`);
    console.log(`  sample size per arm for an MDE of ${pct(report.mde)}: ${report.requiredPerArm}; still needed: ${report.stillNeeded}`);
    console.log(`verdict: ${report.verdict}`);
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`ab: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
