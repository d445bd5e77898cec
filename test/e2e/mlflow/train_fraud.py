#!/usr/bin/env python3
"""Trains a fraud scorer with scikit-learn, logs it to a real MLflow tracking server and registers it.

What a team's training job does, small: synthetic card transactions (fixed seed), a
StandardScaler + LogisticRegression pipeline, AUC and F1 on a held-out split logged as run
metrics, the hyper-parameters as params, and the model exported to ONNX (the graph written
by hand from the fitted coefficients: features float32 [N,5] -> (x - mean) / scale -> MatMul
+ bias -> Sigmoid -> probability [N,1], the serving tests' layout) and logged with
mlflow.onnx.log_model(registered_model_name=...), which registers a new version.

`--variants real,shuffled` registers one version per variant, in order; "shuffled" trains on
permuted labels: a version whose AUC is about 0.5, for the gate that must refuse it. Prints one
JSON line per version: run_id, name, version, source, metrics, and scikit-learn's probabilities
for a few probe rows (what the served ONNX model must answer).

Run with the venv-mlflow python (scripts/test-env.d/50-lifecycle.sh):
  ~/.cache/mlops/venv-mlflow/bin/python test/e2e/mlflow/train_fraud.py --tracking-uri http://127.0.0.1:5000
"""
import argparse
import json

import mlflow
import mlflow.onnx
import numpy as np
import onnx
from mlflow import MlflowClient
from onnx import TensorProto, helper, numpy_helper
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["txn_count_1h", "txn_amount_avg_7d", "txn_amount_max_24h", "merchant_risk", "chargeback_rate_30d"]


def generate(seed: int, n: int):
    rng = np.random.default_rng(seed)
    count = rng.poisson(2.0, n).astype(np.float64)
    avg = rng.lognormal(3.5, 0.6, n)
    peak = avg * rng.lognormal(0.4, 0.5, n)
    risk = rng.beta(2, 8, n)
    chargeback = rng.beta(1, 40, n)
    x = np.stack([count, avg, peak, risk, chargeback], axis=1)
    logit = -7.0 + 1.2 * count + 0.01 * (peak - avg) + 12.0 * risk + 70.0 * chargeback
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    return x, y


def to_onnx(pipeline, name: str) -> onnx.ModelProto:
    scaler, model = pipeline[0], pipeline[1]
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Sub", ["features", "mean"], ["centered"]),
            helper.make_node("Div", ["centered", "scale"], ["scaled"]),
            helper.make_node("MatMul", ["scaled", "weights"], ["product"]),
            helper.make_node("Add", ["product", "bias"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
        ],
        name=name,
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(FEATURES)])],
        outputs=[helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        initializer=[
            numpy_helper.from_array(scaler.mean_.astype(np.float32), "mean"),
            numpy_helper.from_array(scaler.scale_.astype(np.float32), "scale"),
            numpy_helper.from_array(model.coef_.reshape(len(FEATURES), 1).astype(np.float32), "weights"),
            numpy_helper.from_array(model.intercept_.astype(np.float32), "bias"),
        ],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="train_fraud.py")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


# Rows the tests send to the served model; the script prints what scikit-learn predicts for them.
PROBE_ROWS = [[0, 20.0, 25.0, 0.05, 0.001], [3, 45.0, 120.0, 0.3, 0.02], [9, 90.0, 600.0, 0.8, 0.1]]


def train_one(args, shuffle: bool) -> dict:
    x, y = generate(args.seed, args.samples)
    if shuffle:
        y = np.random.default_rng(args.seed + 1).permutation(y)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=args.seed, stratify=y)
    with mlflow.start_run() as run:
        mlflow.log_params({"C": args.C, "samples": args.samples, "seed": args.seed, "shuffle_labels": shuffle})
        pipeline = make_pipeline(StandardScaler(), LogisticRegression(C=args.C, max_iter=1000)).fit(x_train, y_train)
        scores = pipeline.predict_proba(x_test)[:, 1]
        # F1 at the threshold that maximises it on the test split: the catalog gate compares a best-case F1.
        f1 = max(f1_score(y_test, scores >= t, zero_division=0) for t in np.quantile(scores, np.linspace(0.5, 0.99, 50)))
        metrics = {"auc": float(roc_auc_score(y_test, scores)), "f1": float(f1)}
        mlflow.log_metrics(metrics)
        info = mlflow.onnx.log_model(to_onnx(pipeline, args.name.replace("-", "_")), name="model", registered_model_name=args.name)
    version = MlflowClient(args.tracking_uri).get_model_version(args.name, str(info.registered_model_version))
    expected = pipeline.predict_proba(np.array(PROBE_ROWS, dtype=np.float64))[:, 1]
    return {
        "run_id": run.info.run_id,
        "name": args.name,
        "version": version.version,
        "source": version.source,
        "metrics": metrics,
        "probe": {"rows": PROBE_ROWS, "probability": [float(p) for p in expected]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", required=True)
    parser.add_argument("--name", default="fraud-scorer", help="registered model name")
    parser.add_argument("--experiment", default="fraud-scorer")
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--C", type=float, default=1.0, help="inverse L2 strength")
    parser.add_argument(
        "--variants",
        default="real",
        help="comma-separated versions to register in order: real (the labels) or shuffled (permuted labels, AUC about 0.5)",
    )
    args = parser.parse_args()
    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.experiment)
    # One process for every version: importing mlflow costs more than training this model.
    for variant in args.variants.split(","):
        if variant not in ("real", "shuffled"):
            parser.error(f"--variants: unknown variant {variant!r}; use real or shuffled")
        print(json.dumps({"variant": variant, **train_one(args, variant == "shuffled")}), flush=True)


if __name__ == "__main__":
    main()
