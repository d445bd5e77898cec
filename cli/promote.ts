/**
 * `npm run promote -- <model> <version|@alias|models:/...> --sample FILE --reference PROFILE [--tracking-uri URL]`
 * Resolves the MLflow model version (`models:/<name>/<version>` or `models:/<name>@<alias>`),
 * checks the promotion gates the model declares in its catalog entry against the version's run
 * metrics and files, prints a table of gate, value, threshold and pass/fail, and on success sets
 * the registry alias (`--alias`, default "canary") on the version and writes it into the catalog
 * file as a canary at the first step of its schedule, pinned by number. Exits 1 when a gate fails
 * (for CI), 2 on a usage error.
 */
import { resolve } from "node:path";
import { loadCatalog } from "../definition";
import { helpText, parseCommand, UsageError } from "../services/core/cli";
import { MlflowClient } from "../services/core/mlflow";
import { readTableFile } from "../services/drift";
import { fetchModel } from "../services/serving/model-source";
import { addCanaryVersion } from "./lifecycle/catalog-edit";
import { driftGate, type GateResult, metricGates, servingGates, sizeGate } from "./lifecycle/gates";

const FLAGS = [
  { name: "tracking-uri", type: "string" as const, description: "MLflow tracking server", env: "MLFLOW_TRACKING_URI" },
  {
    name: "sample",
    type: "string" as const,
    description: "CSV/Parquet rows of the model's features to replay for the latency and schema gates",
  },
  { name: "reference", type: "string" as const, description: "the model's current reference profile (drift gate)" },
  { name: "training-set", type: "string" as const, description: "the new version's training set (drift gate; default: --sample)" },
  { name: "name", type: "string" as const, description: "version name in the catalog (default v<mlflow-version>)" },
  { name: "alias", type: "string" as const, description: "registry alias set on the version when every gate passes", default: "canary" },
  { name: "catalog", type: "string" as const, description: "catalog directory", default: "catalog" },
  { name: "dry-run", type: "boolean" as const, description: "check the gates but do not edit the catalog" },
  { name: "json", type: "boolean" as const, description: "print JSON" },
];
const USAGE = "npm run promote -- <model> <version|@alias|models:/...> --sample FILE --reference PROFILE [--tracking-uri URL]";

/**
 * The models:/ URI a command line names: `3`, `@champion`, `models:/<model>/3` or
 * `models:/<model>@champion`. A models:/ URI of another model is a usage error.
 */
export function modelUriOf(model: string, spec: string): string {
  if (spec.startsWith("models:/")) {
    const named = /^models:\/([^/@]+)[/@]/.exec(spec)?.[1];
    if (named !== model) throw new UsageError(`${spec} names model "${named ?? "?"}", not "${model}"`);
    return spec;
  }
  if (spec.startsWith("@")) {
    if (spec.length === 1) throw new UsageError('an alias needs a name, e.g. "@champion"');
    return `models:/${model}${spec}`;
  }
  if (!/^[1-9]\d*$/.test(spec)) throw new UsageError(`"${spec}" is not an MLflow version number, @alias or models:/ URI`);
  return `models:/${model}/${spec}`;
}

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand(argv, FLAGS);
  if (args.values.help) {
    console.log(helpText(USAGE, "Checks a model version's promotion gates and, when all pass, adds it to the catalog as a canary.", FLAGS));
    return 0;
  }
  const [modelName, versionSpec] = args.positionals;
  if (!modelName || !versionSpec) throw new UsageError("name the model and the MLflow version, e.g. promote fraud-scorer 3 (or @champion)");
  const modelUri = modelUriOf(modelName, versionSpec);
  if (!args.values["tracking-uri"]) throw new UsageError("give --tracking-uri (or MLFLOW_TRACKING_URI)");
  if (!args.values.sample) throw new UsageError("give --sample FILE: rows of the model's features to replay");
  const catalogDir = resolve(String(args.values.catalog));
  const catalog = loadCatalog(catalogDir, "mlops");
  const model = catalog.models[modelName];
  if (!model) throw new UsageError(`model "${modelName}" is not in the catalog; models: ${Object.keys(catalog.models).join(", ")}`);
  const trackingUri = String(args.values["tracking-uri"]);
  const mlflow = new MlflowClient(trackingUri);
  const json = args.values.json === true;
  const say = (line: string) => (json ? console.error : console.log)(line);

  say(`promote ${modelName}: resolving ${modelUri}`);
  const version = await mlflow.resolveModelUri(modelUri);
  const mlflowVersion = version.version;
  // The files of the exact version resolved above (an alias may move while the gates run).
  const local = await fetchModel(`models:/${modelName}/${mlflowVersion}`, { mlflowTrackingUri: trackingUri });
  const modelFile = local.path;
  const inputs = {
    catalog,
    model,
    version: mlflowVersion,
    mlflow,
    sample: await readTableFile(resolve(String(args.values.sample))),
    referenceProfile: args.values.reference ? resolve(String(args.values.reference)) : undefined,
    trainingSet: args.values["training-set"] ? resolve(String(args.values["training-set"])) : undefined,
  };
  const gates: GateResult[] = [];
  try {
    say("checking metric gates against the MLflow run...");
    gates.push(...(await metricGates(mlflow, version, model.gates?.minMetrics ?? {})));
    gates.push(...sizeGate(modelFile, model.gates?.maxSizeMb));
    say("loading the model in the serving service and replaying the sample...");
    gates.push(...(await servingGates(inputs, modelFile)));
    say("checking the training set for drift against the reference...");
    gates.push(...(await driftGate(inputs)));
  } finally {
    await local.cleanup();
  }
  const passed = gates.every((g) => g.pass);

  let canary: { version: string; weight: number; stable: string; stableWeight: number } | undefined;
  let alias: string | undefined;
  if (passed && !args.values["dry-run"]) {
    alias = String(args.values.alias);
    await mlflow.setAlias(modelName, alias, mlflowVersion);
    const name = String(args.values.name ?? `v${mlflowVersion}`);
    const weight = model.canary.steps[0] as number;
    const edit = addCanaryVersion(resolve(model.origin.file), { name, modelUri: `models:/${modelName}/${mlflowVersion}` }, weight);
    canary = { version: name, weight, ...edit };
  }
  if (json) {
    console.log(JSON.stringify({ model: modelName, version: mlflowVersion, uri: modelUri, passed, gates, canary, alias }, null, 2));
  } else {
    const width = Math.max(...gates.map((g) => g.gate.length), 4);
    console.log(`\n${"gate".padEnd(width)}  ${"value".padEnd(28)}  ${"threshold".padEnd(26)}  result`);
    for (const g of gates) {
      console.log(
        `${g.gate.padEnd(width)}  ${g.value.padEnd(28)}  ${g.threshold.padEnd(26)}  ${g.pass ? "pass" : "FAIL"}${g.detail && !g.pass ? `  (${g.detail})` : ""}`,
      );
    }
    console.log(
      passed
        ? canary
          ? `\nall ${gates.length} gates passed: models:/${modelName}@${alias} is version ${mlflowVersion}; ${model.origin.file} now has ${canary.version} at ${canary.weight}% (${canary.stable} at ${canary.stableWeight}%); open a pull request to plan and roll it out`
          : `\nall ${gates.length} gates passed (dry run: catalog unchanged)`
        : `\n${gates.filter((g) => !g.pass).length} of ${gates.length} gates failed: not promoted`,
    );
  }
  return passed ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`promote: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
