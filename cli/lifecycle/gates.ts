import { statSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import { type Catalog, type ModelSpec, resolveFeatureService } from "../../definition";
import type { MlflowClient, MlflowModelVersion } from "../../services/core/mlflow";
import { quantile } from "../../services/core/quantile";
import { checkDrift, readProfile, readTableFile, type Table } from "../../services/drift";
import { createServingServer } from "../../services/serving";

/** One promotion gate's outcome, as a row of the gate table. */
export interface GateResult {
  gate: string;
  value: string;
  threshold: string;
  pass: boolean;
  /** Why it failed (or what was not measurable), for the person reading the table. */
  detail?: string;
}

export interface GateInputs {
  catalog: Catalog;
  model: ModelSpec;
  /** The MLflow model version being promoted. */
  version: string;
  mlflow: MlflowClient;
  /** Rows of the feature service's features to replay for the latency gate (and to check for drift). */
  sample: Table;
  /** The current reference profile of the model (what production was trained on), for the drift gate. */
  referenceProfile?: string;
  /** The new version's training set (CSV/Parquet), checked against the reference. Defaults to `sample`. */
  trainingSet?: string;
  /** Requests replayed for the latency gate. Defaults to 300. */
  replays?: number;
}

/** Gate: every minimum metric declared in the catalog is met by the version's MLflow run. */
export async function metricGates(
  mlflow: MlflowClient,
  version: MlflowModelVersion,
  minimums: Record<string, number>,
): Promise<GateResult[]> {
  if (Object.keys(minimums).length === 0) return [];
  if (!version.run_id)
    return Object.entries(minimums).map(([m, t]) => ({
      gate: `metric ${m}`,
      value: "-",
      threshold: `>= ${t}`,
      pass: false,
      detail: "the version has no MLflow run",
    }));
  const metrics = await mlflow.runMetrics(version.run_id);
  return Object.entries(minimums).map(([metric, threshold]) => {
    const value = metrics[metric];
    if (value === undefined)
      return {
        gate: `metric ${metric}`,
        value: "-",
        threshold: `>= ${threshold}`,
        pass: false,
        detail: `run ${version.run_id} logged no "${metric}" (it has ${Object.keys(metrics).join(", ") || "none"})`,
      };
    return { gate: `metric ${metric}`, value: value.toFixed(4), threshold: `>= ${threshold}`, pass: value >= threshold };
  });
}

/**
 * Loads the version in the real serving service (in process), checks its input schema against the
 * feature service, and replays the sample through the V2 infer route to measure p99 latency.
 */
export async function servingGates(inputs: GateInputs, modelFile: string): Promise<GateResult[]> {
  const { model, catalog } = inputs;
  const features = resolveFeatureService(catalog, model.featureService);
  const results: GateResult[] = [];
  let app: FastifyInstance | undefined;
  try {
    app = await createServingServer({
      models: [{ name: model.name, version: `candidate`, uri: modelFile }],
      waitUntilReady: true,
      maxEventLoopDelayMs: 0,
    });
    const meta = (await app.inject({ method: "GET", url: `/v2/models/${model.name}/versions/candidate` })).json() as {
      inputs: { name: string; datatype: string; shape: number[] }[];
    };
    const input = meta.inputs[0];
    const width = input?.shape[input.shape.length - 1];
    const numeric = features.every((f) => /^(Int32|Int64|Float32|Float64|Bool|UnixTimestamp)$/.test(f.dtype));
    const schemaOk = meta.inputs.length === 1 && width === features.length && numeric;
    results.push({
      gate: "input schema",
      value: input ? `${input.name} ${input.datatype} [${input.shape.join(", ")}]` : "no inputs",
      threshold: `[-1, ${features.length}] from ${model.featureService}`,
      pass: schemaOk,
      detail: schemaOk
        ? undefined
        : `the model takes ${width ?? "?"} features; feature service ${model.featureService} gives ${features.length}${numeric ? "" : " (some not numeric)"}`,
    });
    if (!schemaOk || !input) return results;
    const rows = inputs.sample.rows;
    if (rows === 0) throw new Error("the replay sample has no rows");
    const missing = features.filter((f) => !(f.name in inputs.sample.columns));
    if (missing.length) throw new Error(`the replay sample lacks ${missing.map((f) => f.name).join(", ")}`);
    const durations: number[] = [];
    const replays = inputs.replays ?? 300;
    for (let i = 0; i < replays + 20; i++) {
      const row = i % rows;
      const data = features.map((f) => Number(inputs.sample.columns[f.name]?.[row] ?? 0));
      const started = process.hrtime.bigint();
      const response = await app.inject({
        method: "POST",
        url: `/v2/models/${model.name}/versions/candidate/infer`,
        payload: { inputs: [{ name: input.name, shape: [1, features.length], datatype: input.datatype, data }] },
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (response.statusCode !== 200) throw new Error(`replay ${i} answered ${response.statusCode}: ${response.body}`);
      if (i >= 20) durations.push(ms); // the first requests warm caches and the JIT
    }
    const p99 = quantile(durations, 0.99);
    const limit = model.gates?.maxP99Ms ?? model.slo.p99LatencyMs;
    results.push({
      gate: "p99 latency",
      value: `${p99.toFixed(2)} ms`,
      threshold: `<= ${limit} ms`,
      pass: p99 <= limit,
      detail: `${durations.length} replays in process`,
    });
  } finally {
    await app?.close();
  }
  return results;
}

/** Gate: the new training set does not drift from the current reference (dataset drift = fail). */
export async function driftGate(inputs: GateInputs): Promise<GateResult[]> {
  if (!inputs.referenceProfile)
    return [
      {
        gate: "training-set drift",
        value: "-",
        threshold: "no dataset drift",
        pass: false,
        detail: "no reference profile given (--reference)",
      },
    ];
  const profile = readProfile(inputs.referenceProfile);
  const table = inputs.trainingSet ? await readTableFile(inputs.trainingSet) : inputs.sample;
  const result = checkDrift(profile, table, { model: inputs.model.name, driftShare: inputs.model.drift.driftShare });
  return [
    {
      gate: "training-set drift",
      value: `${result.counts.drifted}/${result.counts.checked} features (share ${result.drift_share.toFixed(2)})`,
      threshold: `share < ${result.drift_share_threshold}`,
      pass: !result.dataset_drift,
      detail: result.dataset_drift
        ? `drifted: ${result.features
            .filter((f) => f.drifted)
            .map((f) => f.name)
            .join(", ")}`
        : undefined,
    },
  ];
}

/** Gate: the model file is no bigger than the catalog allows. */
export function sizeGate(modelFile: string, maxSizeMb: number | undefined): GateResult[] {
  if (maxSizeMb === undefined) return [];
  const mb = statSync(modelFile).size / 2 ** 20;
  return [{ gate: "model size", value: `${mb.toFixed(2)} MiB`, threshold: `<= ${maxSizeMb} MiB`, pass: mb <= maxSizeMb }];
}
