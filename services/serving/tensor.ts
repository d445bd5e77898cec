import { Tensor } from "onnxruntime-node";
import { HttpError } from "../core";
import { elementCount, flattenData, fromJsonValues, fromRaw, MAX_RANK, type TypedValues, toJsonValues, toRaw } from "./tensor-codec";
import type { MetadataTensor, RequestInput, ResponseOutput, TensorData, TensorValue } from "./v2-types";

/** onnxruntime element types <-> V2 datatypes. onnxruntime-node has no bfloat16 tensors, so BF16 runs only in an external runtime. */
const ORT_TO_V2: Record<string, string> = {
  float32: "FP32",
  float64: "FP64",
  int8: "INT8",
  int16: "INT16",
  int32: "INT32",
  int64: "INT64",
  uint8: "UINT8",
  uint16: "UINT16",
  uint32: "UINT32",
  uint64: "UINT64",
  bool: "BOOL",
  string: "BYTES",
  float16: "FP16",
};
const V2_TO_ORT = Object.fromEntries(Object.entries(ORT_TO_V2).map(([ort, v2]) => [v2, ort])) as Record<string, Tensor.Type>;

export function v2Datatype(ortType: string): string {
  return ORT_TO_V2[ortType] ?? ortType.toUpperCase();
}

/** Symbolic dimensions ("N", "batch") are variable: the protocol writes them as -1. */
export function v2Shape(shape: ReadonlyArray<number | string>): number[] {
  return shape.map((d) => (typeof d === "number" && d >= 0 ? d : -1));
}

/** Limits that keep one request from taking the process down. */
export interface TensorLimits {
  /** Maximum elements in one input tensor. */
  maxElements: number;
}

/** Checks an input's shape against the limits (and the model's metadata when known): 400 naming what to change, 413 when too large. */
export function checkShape(
  input: Pick<RequestInput, "name" | "shape" | "datatype">,
  expected: MetadataTensor | undefined,
  limits: TensorLimits,
): void {
  const where = `input "${input.name}"`;
  if (input.shape.length > MAX_RANK) throw new HttpError(400, `${where} has rank ${input.shape.length}; the limit is ${MAX_RANK}`);
  if (expected) {
    if (input.datatype !== expected.datatype)
      throw new HttpError(400, `${where} has datatype ${input.datatype}, but the model expects ${expected.datatype}`);
    if (input.shape.length !== expected.shape.length)
      throw new HttpError(
        400,
        `${where} has shape [${input.shape}] (rank ${input.shape.length}), but the model expects rank ${expected.shape.length}: [${expected.shape}] (-1 = any size)`,
      );
    input.shape.forEach((d, i) => {
      const want = expected.shape[i] as number;
      if (want >= 0 && d !== want)
        throw new HttpError(
          400,
          `${where} has shape [${input.shape}], but dimension ${i} must be ${want}: the model expects [${expected.shape}]`,
        );
    });
  }
  const count = elementCount(input.shape);
  if (count > limits.maxElements)
    throw new HttpError(413, `${where} has ${count} elements; the limit is ${limits.maxElements}; send smaller batches`);
}

/** The typed contents of a request input, from its raw bytes or its JSON data. */
export function inputValues(input: RequestInput): TypedValues {
  const where = `input "${input.name}"`;
  if (input.raw) return fromRaw(input.datatype, input.raw, input.shape, where);
  if (input.data === undefined) throw new HttpError(400, `${where} has neither "data" nor binary data (parameters.binary_data_size)`);
  return fromJsonValues(input.datatype, flattenData(input.data, input.shape, where), where);
}

/**
 * Turns one V2 request input into an onnxruntime tensor, checking it against the model's input
 * metadata: datatype, fixed dimensions, element count and element values. Each failure is a 400
 * naming the input and what to change; an oversized tensor is a 413.
 */
export function toOrtTensor(input: RequestInput, expected: MetadataTensor, limits: TensorLimits): Tensor {
  checkShape(input, expected, limits);
  const ortType = V2_TO_ORT[input.datatype];
  if (!ortType) throw new HttpError(400, `input "${input.name}": datatype ${input.datatype} cannot run in onnxruntime here`);
  return new Tensor(ortType, inputValues(input) as Tensor.DataType, input.shape);
}

/** An onnxruntime output tensor as a V2 response output: flat row-major JSON data (as Triton answers), or raw bytes when `binary`. */
export function fromOrtTensor(name: string, tensor: Tensor, binary: boolean): ResponseOutput {
  const datatype = v2Datatype(tensor.type);
  const shape = tensor.dims.map(Number);
  const values = tensor.data as TypedValues;
  return binary ? { name, datatype, shape, raw: toRaw(datatype, values) } : { name, datatype, shape, data: toJsonValues(datatype, values) };
}

/** A tensor's elements as JSON values, whichever form it came in (for prediction logs and entity-keyed answers). */
export function plainValues(tensor: {
  name: string;
  datatype: string;
  shape: number[];
  data?: TensorData;
  raw?: Uint8Array;
}): TensorValue[] {
  const where = `tensor "${tensor.name}"`;
  if (tensor.raw) return toJsonValues(tensor.datatype, fromRaw(tensor.datatype, tensor.raw, tensor.shape, where));
  const data = tensor.data ?? [];
  return (data.length > 0 && Array.isArray(data[0]) ? flattenData(data, tensor.shape, where) : data) as TensorValue[];
}
