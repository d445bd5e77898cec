"""What the real-client scripts share: the tensors at every datatype's edges, the checks' bookkeeping
and the numpy reference of the fraud scorer (models/fraud-scorer/expected.json, computed with numpy
by scripts/build-test-model.py). Each script prints one JSON object: check name -> {ok, detail}."""
import json
import sys
import traceback

import numpy as np

EDGES = {
    "BOOL": np.array([True, False, True]),
    "UINT8": np.array([0, 255, 7], dtype=np.uint8),
    "UINT16": np.array([0, 65535, 7], dtype=np.uint16),
    "UINT32": np.array([0, 2**32 - 1, 7], dtype=np.uint32),
    "UINT64": np.array([2**64 - 1, 2**53 + 1, 0], dtype=np.uint64),
    "INT8": np.array([-128, 127, 0], dtype=np.int8),
    "INT16": np.array([-32768, 32767, 0], dtype=np.int16),
    "INT32": np.array([-(2**31), 2**31 - 1, 0], dtype=np.int32),
    "INT64": np.array([2**63 - 1, -(2**63), 2**53 + 1], dtype=np.int64),
    "FP16": np.array([1.0, 0.1, 65504], dtype=np.float16),
    "FP32": np.array([3.4028235e38, 1e-45, -0.1], dtype=np.float32),
    "FP64": np.array([1.7976931348623157e308, 5e-324, -0.1], dtype=np.float64),
    "BYTES": np.array(["".encode(), "naïve ✓".encode(), b"x"], dtype=np.object_),
}


class Checks:
    def __init__(self):
        self.results = {}

    def check(self, name, fn):
        """Runs fn(); it returns (ok, detail). An exception is a failed check with its traceback."""
        try:
            ok, detail = fn()
            self.results[name] = {"ok": bool(ok), "detail": str(detail)[:2000]}
        except Exception:  # noqa: BLE001 - every failure is reported, none stops the other checks
            self.results[name] = {"ok": False, "detail": traceback.format_exc()[-2000:]}

    def print(self):
        json.dump(self.results, sys.stdout)


def same(want, got):
    """Equal values and dtype; BYTES compared as bytes."""
    if want.dtype == np.object_:
        norm = [g if isinstance(g, bytes) else str(g).encode() for g in got.reshape(-1)]
        return list(want) == norm, f"{list(want)} vs {norm}"
    return got.dtype == want.dtype and np.array_equal(got, want), f"{want!r} vs {got!r}"


def fraud_reference(expected_path):
    expected = json.load(open(expected_path))
    return np.array(expected["inputs"], dtype=np.float32), {v: np.array(expected["versions"][v]["probability"], dtype=np.float32) for v in ("v1", "v2")}
