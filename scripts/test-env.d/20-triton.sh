# tritonclient[http,grpc] and kserve (clients and ModelServer) with onnxruntime: venv-triton, for the
# serving conformance tests (their unchanged client code against our V2 server) and the serving bench's peer baseline.
make_venv triton triton.txt
