import { InferenceSession, type Tensor } from "onnxruntime-node";
import { HttpError } from "../core";
import type { ModelBackend } from "./model-backend";
import { wantsBinary } from "./binary-extension";
import { fromOrtTensor, type TensorLimits, toOrtTensor, v2Datatype, v2Shape } from "./tensor";
import { ELEMENT_BYTES } from "./tensor-codec";
import type { InferenceRequest, InferenceResponse, MetadataTensor, ResponseOutput } from "./v2-types";

export interface OnnxModelOptions {
  name: string;
  version: string;
  /** Local path of the .onnx file (remote URIs are downloaded first, see model-source.ts). */
  path: string;
  limits: TensorLimits;
  /**
   * Threads one inference may use. Defaults to 1: a serving pod runs many small requests at
   * once, and intra-op threads fighting over the pod's few cores raise p99 more than they save.
   */
  intraOpThreads?: number;
}

function tensorMetadata(meta: InferenceSession.ValueMetadata): MetadataTensor {
  if (!meta.isTensor) return { name: meta.name, datatype: "BYTES", shape: [-1] };
  return { name: meta.name, datatype: v2Datatype(meta.type), shape: v2Shape(meta.shape) };
}

/** A model run in this process by onnxruntime (CPU). */
export class OnnxModel implements ModelBackend {
  readonly kind = "onnx" as const;
  /** The protocol's platform name for ONNX (inference_rest.md, "Platforms"); Triton says "onnxruntime_onnx", clients only display it. */
  readonly platform = "onnx_onnxv1";
  readonly inputs: MetadataTensor[];
  readonly outputs: MetadataTensor[];
  private readonly byName: Map<string, MetadataTensor>;

  private constructor(
    readonly name: string,
    readonly version: string,
    private readonly session: InferenceSession,
    private readonly limits: TensorLimits,
  ) {
    this.inputs = session.inputMetadata.map(tensorMetadata);
    this.outputs = session.outputMetadata.map(tensorMetadata);
    this.byName = new Map(this.inputs.map((t) => [t.name, t]));
  }

  /** Loads the file and runs one warm-up inference, so the first real request does not pay for lazy initialisation. */
  static async load(options: OnnxModelOptions): Promise<OnnxModel> {
    let session: InferenceSession;
    try {
      session = await InferenceSession.create(options.path, {
        executionProviders: ["cpu"],
        graphOptimizationLevel: "all",
        executionMode: "sequential",
        intraOpNumThreads: options.intraOpThreads ?? 1,
        interOpNumThreads: 1,
      });
    } catch (error) {
      const message = (error as Error).message;
      // ONNX element type 16 is bfloat16, which onnxruntime-node has no tensor type for.
      if (/Unsupported data type: 16\b/.test(message))
        throw new Error(
          `model ${options.name} ${options.version}: ${options.path} has a BF16 (bfloat16) tensor, which onnxruntime-node cannot run; serve it with --runtime triton (BF16 passes through the proxy as binary data) or export it as FP16/FP32`,
        );
      throw new Error(`model ${options.name} ${options.version}: ${options.path} is not a loadable ONNX model: ${message}`);
    }
    const model = new OnnxModel(options.name, options.version, session, options.limits);
    await model.warmUp();
    return model;
  }

  /** One inference on a batch of one zero-filled row (variable dimensions set to 1): zero bytes are a valid value of every datatype. */
  private async warmUp(): Promise<void> {
    const feeds: Record<string, Tensor> = {};
    for (const input of this.inputs) {
      const shape = input.shape.map((d) => (d < 0 ? 1 : d));
      const count = shape.reduce((n, d) => n * d, 1);
      const raw = new Uint8Array(input.datatype === "BYTES" ? 4 * count : count * (ELEMENT_BYTES[input.datatype] ?? 0));
      feeds[input.name] = toOrtTensor({ name: input.name, datatype: input.datatype, shape, raw }, input, {
        maxElements: Number.MAX_SAFE_INTEGER,
      });
    }
    await this.session.run(feeds);
  }

  async infer(request: InferenceRequest): Promise<InferenceResponse> {
    const feeds: Record<string, Tensor> = {};
    for (const input of request.inputs) {
      const expected = this.byName.get(input.name);
      if (!expected)
        throw new HttpError(
          400,
          `input "${input.name}" is not an input of model ${this.name}; its inputs are: ${this.inputs.map((i) => i.name).join(", ")}`,
        );
      if (feeds[input.name]) throw new HttpError(400, `input "${input.name}" is given twice`);
      feeds[input.name] = toOrtTensor(input, expected, this.limits);
    }
    const missing = this.inputs.filter((i) => !feeds[i.name]).map((i) => i.name);
    if (missing.length)
      throw new HttpError(
        400,
        `model ${this.name} needs input(s) ${missing.map((m) => `"${m}"`).join(", ")}, which the request does not give`,
      );

    const wanted = request.outputs?.map((o) => o.name) ?? this.outputs.map((o) => o.name);
    const unknown = wanted.filter((w) => !this.outputs.some((o) => o.name === w));
    if (unknown.length)
      throw new HttpError(
        400,
        `output(s) ${unknown.map((u) => `"${u}"`).join(", ")} are not outputs of model ${this.name}; its outputs are: ${this.outputs.map((o) => o.name).join(", ")}`,
      );

    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds, wanted);
    } catch (error) {
      // Shapes were checked above, so what remains is a value the graph rejects (e.g. a Gather index out of range).
      throw new HttpError(400, `model ${this.name} could not run on this input: ${(error as Error).message}`);
    }
    const outputs: ResponseOutput[] = wanted.map((name) => fromOrtTensor(name, results[name] as Tensor, wantsBinary(request, name)));
    return { model_name: this.name, model_version: this.version, id: request.id, outputs };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
