import { Tensor } from "onnxruntime-node";
import { HttpError } from "../core";
import type { MetadataTensor, RequestInput, ResponseOutput, TensorData } from "./v2-types";

/** onnxruntime element types <-> V2 datatypes. FP16 has no JSON form in the protocol without the binary extension. */
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

function elementCount(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** The protocol allows nested (natural) or flat row-major data; the runtime wants it flat. */
export function flatten(data: TensorData): Array<number | string | boolean> {
  const items = data as unknown[];
  return (items.length > 0 && Array.isArray(items[0]) ? items.flat(Number.POSITIVE_INFINITY) : items) as Array<number | string | boolean>;
}

/**
 * Turns one V2 request input into an onnxruntime tensor, checking it against the model's input
 * metadata: datatype, fixed dimensions, element count and element types. Each failure is a 400
 * naming the input and what to change; an oversized tensor is a 413.
 */
export function toOrtTensor(input: RequestInput, expected: MetadataTensor, limits: TensorLimits): Tensor {
  const where = `input "${input.name}"`;
  if (input.datatype !== expected.datatype) {
    throw new HttpError(400, `${where} has datatype ${input.datatype}, but the model expects ${expected.datatype}`);
  }
  if (input.shape.length !== expected.shape.length) {
    throw new HttpError(
      400,
      `${where} has shape [${input.shape}] (rank ${input.shape.length}), but the model expects rank ${expected.shape.length}: [${expected.shape}] (-1 = any size)`,
    );
  }
  input.shape.forEach((d, i) => {
    const want = expected.shape[i] as number;
    if (want >= 0 && d !== want)
      throw new HttpError(
        400,
        `${where} has shape [${input.shape}], but dimension ${i} must be ${want}: the model expects [${expected.shape}]`,
      );
  });
  const count = elementCount(input.shape);
  if (count > limits.maxElements) {
    throw new HttpError(413, `${where} has ${count} elements; the limit is ${limits.maxElements}; send smaller batches`);
  }
  const values = flatten(input.data);
  if (values.length !== count) {
    throw new HttpError(400, `${where} has ${values.length} data elements, but shape [${input.shape}] needs ${count}`);
  }
  const ortType = V2_TO_ORT[input.datatype];
  if (!ortType || ortType === "float16")
    throw new HttpError(400, `${where}: datatype ${input.datatype} is not supported in JSON; use FP32`);
  return new Tensor(ortType, typedData(ortType, values, where), input.shape);
}

function typedData(type: Tensor.Type, values: Array<number | string | boolean>, where: string): Tensor.DataType {
  const bad = (i: number, want: string): never => {
    throw new HttpError(400, `${where}: data[${i}] is ${JSON.stringify(values[i])}, but ${want} is expected`);
  };
  if (type === "string") return values.map((v, i) => (typeof v === "string" ? v : bad(i, "a string")));
  if (type === "bool") return Uint8Array.from(values, (v, i) => (typeof v === "boolean" ? Number(v) : bad(i, "true or false")));
  if (type === "int64" || type === "uint64") {
    const out = type === "int64" ? new BigInt64Array(values.length) : new BigUint64Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "number" || !Number.isInteger(v)) bad(i, "an integer");
      out[i] = BigInt(v as number);
    }
    return out;
  }
  const Typed = {
    float32: Float32Array,
    float64: Float64Array,
    int8: Int8Array,
    int16: Int16Array,
    int32: Int32Array,
    uint8: Uint8Array,
    uint16: Uint16Array,
    uint32: Uint32Array,
  }[type as "float32"];
  if (!Typed) throw new HttpError(400, `${where}: element type ${type} is not supported`);
  const out = new Typed(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "number") bad(i, "a number");
    out[i] = v as number;
  }
  return out;
}

/** An onnxruntime output tensor as a V2 response output (flat row-major data, as Triton answers). */
export function fromOrtTensor(name: string, tensor: Tensor): ResponseOutput {
  const data = tensor.data;
  let values: TensorData;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) values = Array.from(data, Number);
  else if (tensor.type === "bool") values = Array.from(data as Uint8Array, Boolean);
  else if (Array.isArray(data)) values = data as string[];
  else values = Array.from(data as Float32Array);
  return { name, datatype: v2Datatype(tensor.type), shape: tensor.dims.map(Number), data: values };
}
