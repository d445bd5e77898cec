import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import protobuf from "protobufjs";
import { seeded } from "./data";

/**
 * The demo's training step: a logistic regression fitted on the point-in-time training set the demo
 * builds, written as ONNX and served. Deterministic (full-batch gradient descent from zero weights,
 * a seeded label draw), so a run with the same data writes the same model. The graph is the one
 * scripts/build-test-model.py writes for the tests' prebuilt models:
 *   features float32 [N, F] -> (x - mean) / std -> MatMul weights [F, 1] + bias -> Sigmoid -> probability [N, 1]
 */

/** A fitted model: standardisation and weights in float32, as the graph holds them. */
export interface FraudModel {
  features: string[];
  mean: Float32Array;
  std: Float32Array;
  weights: Float32Array;
  bias: number;
  /** Mean log loss on the training rows at the end of the fit (float64). */
  logLoss: number;
}

/** The features the ground truth reads (feature service fraud_scorer_v1). */
type FraudFeature = "txn_count_1h" | "txn_amount_avg_7d" | "txn_amount_max_24h" | "merchant_risk" | "chargeback_rate_30d";

/**
 * Labels for the demo's training rows: the generated world has no fraud flags, so each row is drawn
 * from a ground truth in which fraud is likelier with bursts, large maxima over the usual amount and
 * risky merchants (the rule build-test-model.py generates its data with), with a seeded draw.
 */
export function fraudLabels(rows: Record<FraudFeature, number>[], seed: number): number[] {
  const rand = seeded(seed);
  return rows.map((r) => {
    const logit =
      -4 + 0.45 * r.txn_count_1h + 0.004 * (r.txn_amount_max_24h - r.txn_amount_avg_7d) + 5 * r.merchant_risk + 30 * r.chargeback_rate_30d;
    return rand() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  });
}

/** Full-batch gradient descent on standardised inputs with L2 on the weights (not the bias). */
export function fitLogisticRegression(
  features: string[],
  x: number[][],
  y: number[],
  options: { l2: number; epochs?: number; learningRate?: number },
): FraudModel {
  const [n, f] = [x.length, features.length];
  if (n === 0) throw new Error("the training set has no complete rows to fit on");
  const mean = Array.from({ length: f }, (_, j) => x.reduce((s, row) => s + (row[j] as number), 0) / n);
  const std = mean.map((m, j) => Math.sqrt(x.reduce((s, row) => s + ((row[j] as number) - m) ** 2, 0) / n) || 1);
  const z = x.map((row) => row.map((v, j) => (v - (mean[j] as number)) / (std[j] as number)));
  const w = new Array<number>(f).fill(0);
  let b = 0;
  let logLoss = 0;
  const lr = options.learningRate ?? 0.5;
  for (let epoch = 0; epoch < (options.epochs ?? 400); epoch++) {
    const grad = new Array<number>(f).fill(0);
    let gradB = 0;
    logLoss = 0;
    for (let i = 0; i < n; i++) {
      const row = z[i] as number[];
      const logit = row.reduce((s, v, j) => s + v * (w[j] as number), b);
      const p = 1 / (1 + Math.exp(-logit));
      const error = p - (y[i] as number);
      for (let j = 0; j < f; j++) grad[j] = (grad[j] as number) + error * (row[j] as number);
      gradB += error;
      logLoss -= (y[i] as number) === 1 ? Math.log(Math.max(p, 1e-15)) : Math.log(Math.max(1 - p, 1e-15));
    }
    for (let j = 0; j < f; j++) w[j] = (w[j] as number) - lr * ((grad[j] as number) / n + options.l2 * (w[j] as number));
    b -= lr * (gradB / n);
  }
  return {
    features,
    mean: Float32Array.from(mean),
    std: Float32Array.from(std),
    weights: Float32Array.from(w),
    bias: Math.fround(b),
    logLoss: logLoss / n,
  };
}

// ONNX's protobuf field numbers (onnx/onnx.proto) for the few messages the graph needs.
const FLOAT = 1;
const LEN = 2;
const VARINT = 0;

function message(w: protobuf.Writer, field: number, body: (w: protobuf.Writer) => void): void {
  w.uint32((field << 3) | LEN).fork();
  body(w);
  w.ldelim();
}
const text = (w: protobuf.Writer, field: number, value: string) => w.uint32((field << 3) | LEN).string(value);
const varint = (w: protobuf.Writer, field: number, value: number) => w.uint32((field << 3) | VARINT).int64(value);

/** TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian). */
function tensor(w: protobuf.Writer, field: number, name: string, dims: number[], values: Float32Array): void {
  message(w, field, (t) => {
    for (const d of dims) varint(t, 1, d);
    varint(t, 2, FLOAT);
    text(t, 8, name);
    t.uint32((9 << 3) | LEN).bytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  });
}

/** ValueInfoProto: name (1), type (2) TypeProto.tensor_type (1): elem_type (1), shape (2) of dims (1): dim_value (1) or dim_param (2). */
function valueInfo(w: protobuf.Writer, field: number, name: string, dims: (number | string)[]): void {
  message(w, field, (v) => {
    text(v, 1, name);
    message(v, 2, (type) =>
      message(type, 1, (tensorType) => {
        varint(tensorType, 1, FLOAT);
        message(tensorType, 2, (shape) => {
          for (const d of dims) message(shape, 1, (dim) => (typeof d === "number" ? varint(dim, 1, d) : text(dim, 2, d)));
        });
      }),
    );
  });
}

/** NodeProto: input (1), output (2), name (3), op_type (4). */
function node(w: protobuf.Writer, op: string, inputs: string[], output: string): void {
  message(w, 1, (n) => {
    for (const i of inputs) text(n, 1, i);
    text(n, 2, output);
    text(n, 3, `${op.toLowerCase()}_${output}`);
    text(n, 4, op);
  });
}

/** The model as ONNX bytes (IR 8, opset 13), with its features and version in metadata_props. */
export function fraudModelOnnx(model: FraudModel, version: string): Uint8Array {
  const f = model.features.length;
  const w = protobuf.Writer.create();
  varint(w, 1, 8); // ir_version
  text(w, 2, "demo/train.ts"); // producer_name
  message(w, 7, (g) => {
    node(g, "Sub", ["features", "mean"], "centered");
    node(g, "Div", ["centered", "std"], "scaled");
    node(g, "MatMul", ["scaled", "weights"], "product");
    node(g, "Add", ["product", "bias"], "logit");
    node(g, "Sigmoid", ["logit"], "probability");
    text(g, 2, `fraud_scorer_${version}`);
    tensor(g, 5, "mean", [f], model.mean);
    tensor(g, 5, "std", [f], model.std);
    tensor(g, 5, "weights", [f, 1], model.weights);
    tensor(g, 5, "bias", [1], Float32Array.of(model.bias));
    valueInfo(g, 11, "features", ["N", f]);
    valueInfo(g, 12, "probability", ["N", 1]);
  });
  message(w, 8, (o) => {
    text(o, 1, "");
    varint(o, 2, 13);
  });
  for (const [key, value] of [
    ["features", model.features.join(",")],
    ["version", version],
  ] as const)
    message(w, 14, (p) => {
      text(p, 1, key);
      text(p, 2, value);
    });
  return w.finish();
}

/** A trained version as the demo serves it. */
export interface TrainedVersion {
  version: string;
  path: string;
  rows: number;
  l2: number;
  logLoss: number;
  weights: number[];
}

/**
 * Fits one model per version on the training set's complete rows (a row with a null feature cannot
 * be scored, so it is left out), v2 with a stronger L2 so the canary's versions answer differently,
 * and writes `<dir>/<version>/model.onnx`.
 */
export function trainFraudModels(
  rows: Record<string, unknown>[],
  features: string[],
  versions: string[],
  dir: string,
  seed: number,
): TrainedVersion[] {
  // Counts are Int64 (bigint from the offline store): the model reads float32 anyway.
  const numeric = rows.map((r) => Object.fromEntries(features.map((n) => [n, typeof r[n] === "bigint" ? Number(r[n]) : r[n]])));
  const complete = numeric.filter((r) => features.every((n) => typeof r[n] === "number" && Number.isFinite(r[n])));
  const x = complete.map((r) => features.map((n) => r[n] as number));
  const y = fraudLabels(complete as Record<FraudFeature, number>[], seed);
  return versions.map((version, i) => {
    const l2 = i === 0 ? 0 : 0.05 * i;
    const model = fitLogisticRegression(features, x, y, { l2 });
    const path = join(dir, version, "model.onnx");
    mkdirSync(join(dir, version), { recursive: true });
    writeFileSync(path, fraudModelOnnx(model, version));
    return { version, path, rows: complete.length, l2, logLoss: model.logLoss, weights: [...model.weights] };
  });
}
