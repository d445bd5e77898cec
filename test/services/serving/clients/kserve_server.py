"""KServe's own Python model server (kserve.ModelServer) running an ONNX file through onnxruntime
from PyPI: a real V2 runtime (REST with the binary extension, and gRPC) for the proxy tests and the
serving bench's peer baseline. Usage: kserve_server.py NAME MODEL.onnx HTTP_PORT GRPC_PORT"""
import sys
import uuid

import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer
from kserve.utils.utils import from_np_dtype

name, path, http_port, grpc_port = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


class OnnxModel(Model):
    def __init__(self):
        super().__init__(name)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.outputs = [o.name for o in self.session.get_outputs()]
        self.ready = True

    async def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        feeds = {i.name: i.as_numpy() for i in payload.inputs}
        wanted = [o.name for o in payload.request_outputs] if payload.request_outputs else self.outputs
        results = self.session.run(wanted, feeds)
        binary = payload.use_binary_outputs
        outputs = []
        for output_name, array in zip(wanted, results):
            out = InferOutput(name=output_name, shape=list(array.shape), datatype=from_np_dtype(array.dtype))
            out.set_data_from_numpy(array, binary_data=binary)
            outputs.append(out)
        return InferResponse(model_name=self.name, infer_outputs=outputs, response_id=payload.id or str(uuid.uuid4()), use_binary_outputs=binary)


if __name__ == "__main__":
    ModelServer(http_port=http_port, grpc_port=grpc_port, workers=1, enable_docs_url=False).start([OnnxModel()])
