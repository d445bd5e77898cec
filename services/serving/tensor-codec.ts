import { Float16Array } from "@petamoriken/float16";
import { HttpError } from "../core";
import type { TensorValue } from "./v2-types";

/**
 * Tensor contents in their three wire forms, converted exactly: JSON `data` (flat or nested),
 * raw little-endian bytes (Triton's binary extension, gRPC raw_*_contents), and typed arrays
 * (onnxruntime). 64-bit integers are BigInt64Array/BigUint64Array and bigint in JSON, never a
 * lossy JS number; FP16 and BF16 are their 16-bit patterns in a Uint16Array and numbers in JSON.
 * Every value out of its type's range is a 400 naming the input and the element.
 */

/** Typed contents of one tensor. BYTES are strings (UTF-8 on the wire); BOOL is one byte per element. */
export type TypedValues =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array
  | string[];

/** Bytes per element; BYTES is variable (a 4-byte little-endian length before each element). */
export const ELEMENT_BYTES: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  BF16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/** Inclusive ranges of the integer types that fit a JS number exactly. */
const INT_RANGE: Record<string, [number, number]> = {
  UINT8: [0, 255],
  INT8: [-128, 127],
  UINT16: [0, 65535],
  INT16: [-32768, 32767],
  UINT32: [0, 4294967295],
  INT32: [-2147483648, 2147483647],
};
const BIG_RANGE: Record<string, [bigint, bigint]> = {
  INT64: [-(2n ** 63n), 2n ** 63n - 1n],
  UINT64: [0n, 2n ** 64n - 1n],
};
/** Largest finite FP16 and BF16 values: beyond them a number would silently become Infinity. */
const FP16_MAX = 65504;
const BF16_MAX = 3.3895313892515355e38;
/** Deepest nesting accepted before the shape is even looked at (a rank no model has). */
export const MAX_RANK = 32;

type NumericValues = Exclude<TypedValues, string[]>;
const TYPED: Record<
  string,
  { new (n: number): NumericValues; new (buffer: ArrayBufferLike, offset: number, length: number): NumericValues }
> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/**
 * The elements of `data` in row-major order. Flat data must hold exactly the shape's count;
 * nested data must follow the shape at every level (a ragged array whose total happens to match
 * is refused). Recursion is bounded by the rank, so deeply nested input cannot exhaust the stack.
 */
export function flattenData(data: unknown, shape: readonly number[], where: string): unknown[] {
  if (!Array.isArray(data)) throw new HttpError(400, `${where}: "data" must be an array`);
  if (shape.length > MAX_RANK) throw new HttpError(400, `${where}: shape has rank ${shape.length}; the limit is ${MAX_RANK}`);
  const count = elementCount(shape);
  if (data.length === 0 || !Array.isArray(data[0])) {
    if (data.length !== count) throw new HttpError(400, `${where} has ${data.length} data elements, but shape [${shape}] needs ${count}`);
    return data;
  }
  const out = new Array<unknown>(count);
  let k = 0;
  const walk = (node: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (Array.isArray(node))
        throw new HttpError(400, `${where}: data${path} is nested deeper than shape [${shape}] (rank ${shape.length}) allows`);
      out[k++] = node;
      return;
    }
    const want = shape[depth] as number;
    if (!Array.isArray(node) || node.length !== want)
      throw new HttpError(
        400,
        `${where}: data${path} has ${Array.isArray(node) ? `${node.length} items` : "a scalar"}, but shape [${shape}] needs ${want} there; nested data must follow the shape (or send it flat)`,
      );
    for (let i = 0; i < node.length; i++) walk(node[i], depth + 1, `${path}[${i}]`);
  };
  walk(data, 0, "");
  return out;
}

function bad(where: string, i: number, value: unknown, want: string): never {
  const shown = typeof value === "bigint" ? value.toString() : JSON.stringify(value);
  throw new HttpError(400, `${where}: data[${i}] is ${shown}, but ${want} is expected`);
}

/** JSON elements (already flat) as the datatype's typed array, each checked against the type's range. */
export function fromJsonValues(datatype: string, values: readonly unknown[], where: string): TypedValues {
  if (datatype === "BYTES") return values.map((v, i) => (typeof v === "string" ? v : bad(where, i, v, "a string")));
  const Typed = TYPED[datatype];
  if (!Typed) throw new HttpError(400, `${where}: datatype ${datatype} is not one of the protocol's tensor types`);
  const out = new Typed(values.length);
  if (datatype === "BOOL") {
    const bytes = out as Uint8Array;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "boolean") bad(where, i, v, "true or false");
      bytes[i] = v ? 1 : 0;
    }
    return bytes;
  }
  const big = BIG_RANGE[datatype];
  if (big) {
    const ints = out as BigInt64Array | BigUint64Array;
    const [lo, hi] = big;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      let n: bigint;
      if (typeof v === "bigint") n = v;
      // A number here came from a literal JSON.parse kept exactly (see v2-json.ts): only safe integers qualify.
      else if (typeof v === "number" && Number.isSafeInteger(v)) n = BigInt(v);
      else return bad(where, i, v, `an integer literal for ${datatype}`);
      if (n < lo || n > hi) bad(where, i, v, `an integer in ${datatype}'s range ${lo}..${hi}`);
      ints[i] = n;
    }
    return ints;
  }
  const range = INT_RANGE[datatype];
  // FP16/BF16 are staged as doubles, then rounded to their 16-bit patterns below.
  const half = datatype === "FP16" || datatype === "BF16";
  const nums = half ? new Float64Array(values.length) : (out as Float32Array);
  for (let i = 0; i < values.length; i++) {
    let v = values[i];
    if (typeof v === "bigint") v = Number(v);
    if (typeof v !== "number") bad(where, i, v, "a number");
    if (range) {
      if (!Number.isInteger(v) || (v as number) < range[0] || (v as number) > range[1])
        bad(where, i, v, `an integer in ${datatype}'s range ${range[0]}..${range[1]}`);
    } else if (datatype === "FP16" && Math.abs(v as number) > FP16_MAX && Number.isFinite(v)) {
      bad(where, i, v, `a number within FP16's range ±${FP16_MAX}`);
    } else if (datatype === "BF16" && Math.abs(v as number) > BF16_MAX && Number.isFinite(v)) {
      bad(where, i, v, "a number within BF16's range");
    }
    nums[i] = v as number;
  }
  if (datatype === "FP16") return new Uint16Array(Float16Array.from(nums).buffer);
  if (datatype === "BF16") return bf16Bits(nums);
  return nums;
}

/** FP32 -> BF16 bit patterns, rounding to nearest even as numpy/ml_dtypes and PyTorch do; NaN stays NaN. */
function bf16Bits(values: ArrayLike<number>): Uint16Array {
  const f32 = Float32Array.from(values);
  const u32 = new Uint32Array(f32.buffer);
  const out = new Uint16Array(u32.length);
  for (let i = 0; i < u32.length; i++) {
    const bits = u32[i] as number;
    if (Number.isNaN(f32[i])) out[i] = (bits >>> 16) | 0x40;
    else out[i] = (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** Typed contents as JSON elements: 64-bit integers as numbers when exact, else bigint; FP16/BF16 as their values. */
export function toJsonValues(datatype: string, values: TypedValues): TensorValue[] {
  if (Array.isArray(values)) return values;
  if (datatype === "BOOL") return Array.from(values as Uint8Array, (b) => b !== 0);
  if (datatype === "FP16") return Array.from(new Float16Array((values as Uint16Array).buffer, values.byteOffset, values.length));
  if (datatype === "BF16") {
    const u32 = Uint32Array.from(values as Uint16Array, (b) => b << 16);
    return Array.from(new Float32Array(u32.buffer));
  }
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    const out = new Array<TensorValue>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as bigint;
      const n = Number(v);
      out[i] = Number.isSafeInteger(n) ? n : v;
    }
    return out;
  }
  return Array.from(values as Float32Array);
}

/** Raw little-endian bytes of a tensor (binary extension, gRPC raw contents). */
export function toRaw(datatype: string, values: TypedValues): Uint8Array {
  if (datatype === "BYTES") {
    const parts = (values as string[]).map((s) => Buffer.from(s, "utf8"));
    const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + 4 + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, at);
      p.copy(out, at + 4);
      at += 4 + p.length;
    }
    return out;
  }
  const typed = values as Exclude<TypedValues, string[]>;
  return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
}

/** Raw bytes as typed contents; the size must be exactly what the shape and datatype need. */
export function fromRaw(datatype: string, raw: Uint8Array, shape: readonly number[], where: string): TypedValues {
  const count = elementCount(shape);
  if (datatype === "BYTES") {
    const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: string[] = [];
    let at = 0;
    while (at < buf.length) {
      if (at + 4 > buf.length) throw new HttpError(400, `${where}: BYTES element ${out.length} has a truncated 4-byte length prefix`);
      const n = buf.readUInt32LE(at);
      if (at + 4 + n > buf.length)
        throw new HttpError(400, `${where}: BYTES element ${out.length} says ${n} bytes, but only ${buf.length - at - 4} remain`);
      out.push(buf.toString("utf8", at + 4, at + 4 + n));
      at += 4 + n;
    }
    if (out.length !== count) throw new HttpError(400, `${where} has ${out.length} BYTES elements, but shape [${shape}] needs ${count}`);
    return out;
  }
  const size = ELEMENT_BYTES[datatype];
  const Typed = TYPED[datatype];
  if (!size || !Typed) throw new HttpError(400, `${where}: datatype ${datatype} is not one of the protocol's tensor types`);
  if (raw.byteLength !== count * size)
    throw new HttpError(
      400,
      `${where} has ${raw.byteLength} bytes of binary data, but shape [${shape}] of ${datatype} needs ${count * size} (${count} x ${size})`,
    );
  // A view on the bytes when they start on an element boundary (the body reader aligns the first
  // binary input): no copy of a large tensor. Otherwise copied, since a typed array must be aligned.
  let out: NumericValues;
  if (raw.byteOffset % size === 0) out = new Typed(raw.buffer, raw.byteOffset, count);
  else {
    out = new Typed(count);
    new Uint8Array(out.buffer).set(raw);
  }
  if (datatype === "BOOL")
    for (let i = 0; i < count; i++) {
      const b = (out as Uint8Array)[i] as number;
      if (b > 1) throw new HttpError(400, `${where}: BOOL element ${i} is byte ${b}; BOOL bytes must be 0 or 1`);
    }
  return out;
}
