"""tritonclient's own code (HTTP or gRPC) against the serving service, unchanged.
Usage: triton_client.py http|grpc HOST:PORT models/fraud-scorer/expected.json"""
import sys

import numpy as np

from common import EDGES, Checks, fraud_reference, same

protocol, url, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
if protocol == "http":
    import tritonclient.http as client
else:
    import tritonclient.grpc as client
from tritonclient.utils import InferenceServerException

c = client.InferenceServerClient(url=url, **({"network_timeout": 30.0} if protocol == "http" else {}))
checks = Checks()
x, reference = fraud_reference(expected_path)


def metadata_dict(m):
    if protocol == "http":
        return m
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(m, preserving_proto_field_name=True)


checks.check("live and ready", lambda: (c.is_server_live() and c.is_server_ready() and c.is_model_ready("fraud-scorer") and c.is_model_ready("fraud-scorer", "v2"), "ok"))
checks.check("unknown model is not ready", lambda: (not c.is_model_ready("nope"), "ok"))


def server_metadata():
    m = metadata_dict(c.get_server_metadata())
    return m["name"] == "mlops-serving" and "binary_tensor_data" in m.get("extensions", []), m


checks.check("server metadata", server_metadata)


def model_metadata():
    m = metadata_dict(c.get_model_metadata("fraud-scorer"))
    shape = [int(d) for d in m["inputs"][0]["shape"]]
    return (m["platform"] == "onnx_onnxv1" and m["versions"] == ["v1", "v2"] and m["inputs"][0]["datatype"] == "FP32" and shape == [-1, 5]), m


checks.check("model metadata", model_metadata)


def fraud(binary, version):
    def run():
        inp = client.InferInput("features", list(x.shape), "FP32")
        if protocol == "http":
            inp.set_data_from_numpy(x, binary_data=binary)
            outputs = [client.InferRequestedOutput("probability", binary_data=binary)]
        else:
            inp.set_data_from_numpy(x)
            outputs = [client.InferRequestedOutput("probability")]
        r = c.infer("fraud-scorer", [inp], model_version=version, outputs=outputs, request_id="r-1")
        got = r.as_numpy("probability").reshape(-1)
        err = float(np.max(np.abs(got - reference[version])))
        return err < 1e-6 and r.get_response(**({} if protocol == "http" else {"as_json": True}))["id"] == "r-1", f"max error {err} vs numpy"

    return run


for version in ("v1", "v2"):
    for binary in (False, True) if protocol == "http" else (True,):
        checks.check(f"fraud-scorer {version} {'binary' if binary else 'json'} matches numpy", fraud(binary, version))


def every_datatype(binary):
    def run():
        inputs, outputs = [], []
        for t, arr in EDGES.items():
            i = client.InferInput(f"in_{t}", list(arr.shape), t)
            if protocol == "http":
                i.set_data_from_numpy(arr, binary_data=binary)
                outputs.append(client.InferRequestedOutput(f"out_{t}", binary_data=binary))
            else:
                i.set_data_from_numpy(arr)
                outputs.append(client.InferRequestedOutput(f"out_{t}"))
            inputs.append(i)
        r = c.infer("dtypes", inputs, outputs=outputs)
        bad = {}
        for t, arr in EDGES.items():
            ok, detail = same(arr, r.as_numpy(f"out_{t}"))
            if not ok:
                bad[t] = detail
        return not bad, bad or "all 13 datatypes equal"

    return run


for binary in (False, True) if protocol == "http" else (True,):
    checks.check(f"every datatype {'binary' if binary else 'json'} round-trips exactly", every_datatype(binary))


def outputs_selection():
    inputs = []
    for t, arr in EDGES.items():
        i = client.InferInput(f"in_{t}", list(arr.shape), t)
        i.set_data_from_numpy(arr)
        inputs.append(i)
    r = c.infer("dtypes", inputs, outputs=[client.InferRequestedOutput("out_INT64")])
    names = [o["name"] for o in r.get_response(**({} if protocol == "http" else {"as_json": True}))["outputs"]]
    return names == ["out_INT64"] and same(EDGES["INT64"], r.as_numpy("out_INT64"))[0], names


checks.check("only the requested output comes back", outputs_selection)


def no_outputs_listed():
    # No outputs named: tritonclient asks for every output in binary (binary_data_output) over HTTP.
    inputs = []
    for t, arr in EDGES.items():
        i = client.InferInput(f"in_{t}", list(arr.shape), t)
        i.set_data_from_numpy(arr)
        inputs.append(i)
    r = c.infer("dtypes", inputs)
    return all(same(arr, r.as_numpy(f"out_{t}"))[0] for t, arr in EDGES.items()), "13 outputs"


checks.check("every output when none is named", no_outputs_listed)


def error_surfaces(model, shape, want):
    def run():
        inp = client.InferInput("features", shape, "FP32")
        inp.set_data_from_numpy(np.zeros(shape, dtype=np.float32))
        try:
            c.infer(model, [inp])
        except InferenceServerException as e:
            return want in str(e), str(e)
        return False, "no error"

    return run


checks.check("a bad shape surfaces our message", error_surfaces("fraud-scorer", [1, 4], "dimension 1 must be 5"))
checks.check("an unknown model surfaces our message", error_surfaces("nope", [1, 5], "is not served here"))
checks.print()
