"""The KServe SDK's own clients (InferenceRESTClient or InferenceGRPCClient) against the serving
service, unchanged. Usage: kserve_client.py rest|grpc URL models/fraud-scorer/expected.json
(URL is http://host:port for rest, host:port for grpc)."""
import asyncio
import sys

import numpy as np
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig
from kserve.protocol.infer_type import RequestedOutput

from common import EDGES, Checks, fraud_reference, same

protocol, url, expected_path = sys.argv[1], sys.argv[2], sys.argv[3]
checks = Checks()
x, reference = fraud_reference(expected_path)


async def acheck(name, fn):
    try:
        ok, detail = await fn()
        checks.results[name] = {"ok": bool(ok), "detail": str(detail)[:2000]}
    except Exception as e:  # noqa: BLE001
        import traceback

        checks.results[name] = {"ok": False, "detail": (repr(e) + traceback.format_exc())[-2000:]}


def request(model, inputs, outputs=None, version=None, binary=True):
    req = []
    for name, t, arr in inputs:
        i = InferInput(name, list(arr.shape), t)
        # KServe's REST path refuses FP16 as JSON, so FP16 always goes binary.
        i.set_data_from_numpy(arr, binary_data=binary or t == "FP16")
        req.append(i)
    outs = [RequestedOutput(o, parameters={"binary_data": binary}) for o in outputs] if outputs else None
    return InferRequest(model_name=model, infer_inputs=req, request_id="k-1", request_outputs=outs, model_version=version)


async def main():
    if protocol == "rest":
        client = InferenceRESTClient(RESTConfig(protocol="v2", timeout=30))
        infer = lambda req: client.infer(url, req, model_name=req.model_name)  # noqa: E731
        ready = lambda: client.is_server_ready(url)  # noqa: E731
        live = lambda: client.is_server_live(url)  # noqa: E731
        model_ready = lambda m: client.is_model_ready(url, m)  # noqa: E731
    else:
        client = InferenceGRPCClient(url, timeout=30)
        infer = client.infer
        ready = client.is_server_ready
        live = client.is_server_live
        model_ready = client.is_model_ready

    async def health():
        return (await live()) and (await ready()) and (await model_ready("fraud-scorer")), "ok"

    await acheck("live and ready", health)

    for binary in (False, True):
        kind = "binary" if binary else "json"

        async def fraud(binary=binary):
            r = await infer(request("fraud-scorer", [("features", "FP32", x)], ["probability"], binary=binary))
            got = r.outputs[0].as_numpy().reshape(-1)
            err = float(np.max(np.abs(got - reference["v1"])))
            return err < 1e-6 and r.id == "k-1" and r.model_name == "fraud-scorer", f"max error {err} vs numpy"

        await acheck(f"fraud-scorer {kind} matches numpy", fraud)

        async def dtypes(binary=binary):
            r = await infer(request("dtypes", [(f"in_{t}", t, a) for t, a in EDGES.items()], [f"out_{t}" for t in EDGES], binary=binary))
            got = {o.name: o.as_numpy() for o in r.outputs}
            bad = {t: same(a, got[f"out_{t}"])[1] for t, a in EDGES.items() if not same(a, got[f"out_{t}"])[0]}
            return not bad, bad or "all 13 datatypes equal"

        await acheck(f"every datatype {kind} round-trips exactly", dtypes)

    async def selection():
        r = await infer(request("dtypes", [(f"in_{t}", t, a) for t, a in EDGES.items()], ["out_UINT64"]))
        return [o.name for o in r.outputs] == ["out_UINT64"] and same(EDGES["UINT64"], r.outputs[0].as_numpy())[0], [o.name for o in r.outputs]

    await acheck("only the requested output comes back", selection)

    async def error():
        try:
            await infer(request("fraud-scorer", [("features", "FP32", np.zeros((1, 4), dtype=np.float32))]))
        except Exception as e:  # noqa: BLE001 - httpx.HTTPStatusError or grpc.RpcError
            text = e.details() if hasattr(e, "details") else str(e)
            return "dimension 1 must be 5" in text, text
        return False, "no error"

    await acheck("a bad shape surfaces our message", error)
    await client.close()


asyncio.run(main())
checks.print()
