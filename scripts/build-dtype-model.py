#!/usr/bin/env python3
"""Builds models/dtypes/model.onnx: one Identity per V2 datatype that onnxruntime runs, for the
serving conformance tests (every datatype in and out, INT64/UINT64 at their edges, FP16).

Inputs in_<DATATYPE> and outputs out_<DATATYPE>, each of shape [N], for BOOL, UINT8..UINT64,
INT8..INT64, FP16, FP32, FP64 and BYTES (ONNX string). BF16 is left out: onnxruntime-node has no
bfloat16 tensors (its session refuses such a model), so BF16 is served through an external runtime.
Also writes models/dtypes/bf16.onnx (one BF16 Identity) so the load error can be tested, and
models/dtypes/fp32.onnx (one FP32 Identity) for the binary-REST benchmark's single 1 MiB input.
Deterministic: every run writes the same bytes. Run with ~/.cache/mlops/venv-scipy/bin/python.
"""
import os
import sys

try:
    import onnx
    from onnx import TensorProto, helper
except ImportError:
    sys.exit("build-dtype-model: needs onnx; run it with ~/.cache/mlops/venv-scipy/bin/python (scripts/test-env.sh builds that virtualenv)")

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "dtypes")
TYPES = {
    "BOOL": TensorProto.BOOL,
    "UINT8": TensorProto.UINT8,
    "UINT16": TensorProto.UINT16,
    "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "FP16": TensorProto.FLOAT16,
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}


def identity_model(name, types):
    nodes = [helper.make_node("Identity", [f"in_{k}"], [f"out_{k}"]) for k in types]
    inputs = [helper.make_tensor_value_info(f"in_{k}", t, ["N"]) for k, t in types.items()]
    outputs = [helper.make_tensor_value_info(f"out_{k}", t, ["N"]) for k, t in types.items()]
    model = helper.make_model(helper.make_graph(nodes, name, inputs, outputs), opset_imports=[helper.make_opsetid("", 13)], producer_name="build-dtype-model.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    os.makedirs(ROOT, exist_ok=True)
    for file, model in [("model.onnx", identity_model("dtypes", TYPES)), ("bf16.onnx", identity_model("bf16", {"BF16": TensorProto.BFLOAT16})), ("fp32.onnx", identity_model("fp32", {"FP32": TensorProto.FLOAT}))]:
        path = os.path.join(ROOT, file)
        onnx.save(model, path)
        print(f"build-dtype-model: wrote models/dtypes/{file} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
