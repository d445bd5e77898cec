#!/usr/bin/env python3
"""Builds the small fraud-scorer ONNX models used by the serving tests, benchmark and demo.

Trains a logistic regression with numpy on synthetic card transactions it generates itself
(fixed seeds, so every run writes byte-identical files), writes the graph with onnx
(venv-scipy, pinned in scripts/constraints/scipy.txt), and records the expected probabilities for fixed inputs (computed with numpy in
float32) so the tests can compare what onnxruntime-node returns with what the model should say.

Inputs follow catalog feature service fraud_scorer_v1, in its order:
  txn_count_1h, txn_amount_avg_7d, txn_amount_max_24h, merchant_risk, chargeback_rate_30d
Graph: features float32 [N,5] -> (x - mean) / std -> MatMul W[5,1] + b -> Sigmoid -> probability [N,1]

Writes models/fraud-scorer/{v1,v2}/model.onnx and models/fraud-scorer/expected.json.
v1 and v2 are trained on different samples with different L2 strengths, so their weights (and
predictions) differ: the canary demo can tell them apart.
"""
import json
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit("build-test-model: needs numpy and onnx; run it with ~/.cache/mlops/venv-scipy/bin/python (scripts/test-env.sh builds that virtualenv)")

FEATURES = ["txn_count_1h", "txn_amount_avg_7d", "txn_amount_max_24h", "merchant_risk", "chargeback_rate_30d"]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "fraud-scorer")


def generate(seed: int, n: int):
    """Synthetic transactions: fraud is likelier with bursts of transactions, large maxima and risky merchants."""
    rng = np.random.default_rng(seed)
    count = rng.poisson(2.0, n).astype(np.float64)
    avg = rng.lognormal(3.5, 0.6, n)
    peak = avg * rng.lognormal(0.4, 0.5, n)
    risk = rng.beta(2, 8, n)
    chargeback = rng.beta(1, 40, n)
    x = np.stack([count, avg, peak, risk, chargeback], axis=1)
    logit = -4.0 + 0.45 * count + 0.004 * (peak - avg) + 5.0 * risk + 30.0 * chargeback
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.float64)
    return x, y


def train(x, y, l2: float, epochs: int = 400, lr: float = 0.5):
    """Full-batch gradient descent on standardized inputs; deterministic."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(epochs):
        p = 1.0 / (1.0 + np.exp(-(z @ w + b)))
        w -= lr * (z.T @ (p - y) / len(y) + l2 * w)
        b -= lr * float(np.mean(p - y))
    return mean.astype(np.float32), std.astype(np.float32), w.astype(np.float32), np.float32(b)


def build(version: str, mean, std, w, b):
    graph = helper.make_graph(
        nodes=[
            helper.make_node("Sub", ["features", "mean"], ["centered"]),
            helper.make_node("Div", ["centered", "std"], ["scaled"]),
            helper.make_node("MatMul", ["scaled", "weights"], ["product"]),
            helper.make_node("Add", ["product", "bias"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["probability"]),
        ],
        name=f"fraud_scorer_{version}",
        inputs=[helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", len(FEATURES)])],
        outputs=[helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["N", 1])],
        initializer=[
            numpy_helper.from_array(mean, "mean"),
            numpy_helper.from_array(std, "std"),
            numpy_helper.from_array(w.reshape(len(FEATURES), 1), "weights"),
            numpy_helper.from_array(np.array([b], dtype=np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="build-test-model.py")
    model.ir_version = 8
    model.metadata_props.append(onnx.StringStringEntryProto(key="features", value=",".join(FEATURES)))
    model.metadata_props.append(onnx.StringStringEntryProto(key="version", value=version))
    onnx.checker.check_model(model)
    return model


def predict(x, mean, std, w, b):
    """The graph's arithmetic in float32, as onnxruntime does it."""
    x = x.astype(np.float32)
    logit = ((x - mean) / std) @ w.reshape(-1, 1) + b
    return (np.float32(1.0) / (np.float32(1.0) + np.exp(-logit))).astype(np.float32)


def main():
    fixed_inputs = np.array(
        [
            [0, 25.0, 30.0, 0.05, 0.0],
            [1, 40.0, 55.0, 0.10, 0.01],
            [3, 35.5, 120.0, 0.25, 0.02],
            [6, 80.0, 600.0, 0.60, 0.08],
            [12, 150.0, 1500.0, 0.90, 0.20],
        ],
        dtype=np.float32,
    )
    expected = {"features": FEATURES, "input": "features", "output": "probability", "inputs": fixed_inputs.tolist(), "versions": {}}
    for version, seed, l2 in (("v1", 7, 0.0), ("v2", 11, 0.05)):
        x, y = generate(seed, 4000)
        mean, std, w, b = train(x, y, l2)
        model = build(version, mean, std, w, b)
        os.makedirs(os.path.join(ROOT, version), exist_ok=True)
        path = os.path.join(ROOT, version, "model.onnx")
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        outputs = predict(fixed_inputs, mean, std, w, b)
        expected["versions"][version] = {"path": f"models/fraud-scorer/{version}/model.onnx", "probability": outputs.reshape(-1).tolist()}
        print(f"build-test-model: wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes), weights {np.round(w, 3).tolist()}")
    with open(os.path.join(ROOT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    print(f"build-test-model: wrote {os.path.relpath(os.path.join(ROOT, 'expected.json'))}")


if __name__ == "__main__":
    main()
