import type { Dtype } from "../../definition/catalog";

/**
 * Hand-written protobuf wire encoding of scalar `feast.types.Value`s and `google.protobuf.Timestamp`,
 * byte for byte what protobufjs writes for them in values.ts (a property test holds the two equal).
 * Materialization encodes ten values a row, millions of rows a run: protobufjs's generic
 * fromObject + encode costs several times more than writing the few bytes directly.
 * Lists and maps still go through protobufjs. Values are Buffers, as protobufjs hands out on Node:
 * ioredis sends a Buffer as bytes but a plain Uint8Array as its text.
 *
 * Wire format (protobuf encoding spec): a tag is (field << 3 | wire type); varints are 7 bits a
 * byte, low first; negative int32/int64 are sign-extended to 64 bits (10 bytes); double and float
 * are little-endian IEEE 754; strings and bytes are length-delimited.
 */

// Tags of the scalar oneof members (field numbers from Feast 0.67's Value.proto).
const TAG = {
  bytes: 0x0a, // 1, length-delimited
  string: 0x12, // 2, length-delimited
  int32: 0x18, // 3, varint
  int64: 0x20, // 4, varint
  double: 0x29, // 5, 64-bit
  float: 0x35, // 6, 32-bit
  bool: 0x38, // 7, varint
  unixTimestamp: 0x40, // 8, varint
} as const;

const TWO_64 = 1n << 64n;

/** Bytes of the varint of a 64-bit value (negative: two's complement). */
function varintLength(value: bigint): number {
  let v = value < 0n ? value + TWO_64 : value;
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, at: number, value: bigint): number {
  let v = value < 0n ? value + TWO_64 : value;
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

/** A varint for a small non-negative integer (lengths, safe numbers): no bigint. */
function smallVarint(value: number): number[] {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return bytes;
}

function varintField(tag: number, value: number | bigint): Uint8Array {
  if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER) return Buffer.from([tag, ...smallVarint(value)]);
  const big = BigInt(value);
  const out = Buffer.alloc(1 + varintLength(big));
  out[0] = tag;
  writeVarint(out, 1, big);
  return out;
}

function delimited(tag: number, payload: Uint8Array): Uint8Array {
  const length = smallVarint(payload.length);
  const out = Buffer.alloc(1 + length.length + payload.length);
  out[0] = tag;
  out.set(length, 1);
  out.set(payload, 1 + length.length);
  return out;
}

/**
 * The Value bytes of a non-null scalar of a scalar dtype, or undefined where this file does not
 * handle the dtype (lists) or the value's form (the caller falls back to protobufjs).
 */
export function encodeScalarValue(dtype: Dtype, value: unknown): Uint8Array | undefined {
  switch (dtype) {
    case "Float64": {
      if (typeof value !== "number") return undefined;
      const out = Buffer.allocUnsafe(9);
      out[0] = TAG.double;
      out.writeDoubleLE(value, 1);
      return out;
    }
    case "Float32": {
      if (typeof value !== "number") return undefined;
      const out = Buffer.allocUnsafe(5);
      out[0] = TAG.float;
      out.writeFloatLE(value, 1);
      return out;
    }
    case "Int64":
    case "UnixTimestamp":
      if (typeof value !== "number" && typeof value !== "bigint") return undefined;
      if (typeof value === "number" && !Number.isSafeInteger(value)) return undefined;
      return varintField(dtype === "Int64" ? TAG.int64 : TAG.unixTimestamp, value);
    case "Int32":
      if (typeof value !== "number" || !Number.isInteger(value)) return undefined;
      return varintField(TAG.int32, value);
    case "Bool":
      if (typeof value !== "boolean") return undefined;
      return Buffer.from([TAG.bool, value ? 1 : 0]);
    case "String":
      if (typeof value !== "string") return undefined;
      return delimited(TAG.string, Buffer.from(value, "utf8"));
    case "Bytes":
      if (!(value instanceof Uint8Array)) return undefined;
      return delimited(TAG.bytes, value);
    default:
      return undefined;
  }
}

/** `google.protobuf.Timestamp` bytes; proto3 leaves a zero field out (the epoch itself is zero bytes), as protobufjs does. */
export function encodeTimestampParts(seconds: bigint, nanos: number): Uint8Array {
  const out = Buffer.alloc((seconds !== 0n ? 1 + varintLength(seconds) : 0) + (nanos !== 0 ? 1 + varintLength(BigInt(nanos)) : 0));
  let at = 0;
  if (seconds !== 0n) {
    out[at++] = 0x08; // field 1 (seconds), varint
    at = writeVarint(out, at, seconds);
  }
  if (nanos !== 0) {
    out[at++] = 0x10; // field 2 (nanos), varint
    writeVarint(out, at, BigInt(nanos));
  }
  return out;
}
