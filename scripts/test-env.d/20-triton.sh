# tritonclient[http,grpc] and kserve (clients and ModelServer) with onnxruntime: venv-triton, for the
# serving conformance tests (their unchanged client code against our V2 server) and the serving bench's peer baseline.
make_venv triton triton.txt
# The datatype test model (every V2 datatype onnxruntime runs), built with venv-scipy's onnx like the fraud scorer.
"$MLOPS_CACHE/venv-scipy/bin/python" scripts/build-dtype-model.py
