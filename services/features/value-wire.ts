import { isUtf8 } from "node:buffer";
import type { Dtype } from "../../definition/catalog";

/**
 * Hand-written protobuf wire encoding of scalar `feast.types.Value`s and `google.protobuf.Timestamp`,
 * byte for byte what protobufjs writes for them in values.ts (a property test holds the two equal),
 * and their decoding, value for value what protobufjs reads (below).
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

// ---- decoding: the read path answers every lookup cell through here ----
//
// protobufjs decodes a Value by building a message object and setting its oneof, whose setter
// deletes each of Value's 45 other members from the object (dictionary mode, garbage): a third of
// a 100-entity lookup's CPU. A scalar Value is one tag and its payload, so it is read directly;
// anything else (lists, maps, newer fields, repeated or unknown fields, non-canonical varints)
// returns undefined and the caller decodes it with protobufjs, the reference a property test
// holds these equal to.

const TWO_63 = 1n << 63n;
/** Where the last readVarint stopped (module scratch, so reading a value allocates nothing). */
let varintEnd = 0;

/**
 * A varint at `at` as an unsigned 64-bit value: a number below 2^49 (no bigint on the common
 * path), else a bigint; undefined when it runs past `end`, is longer than 10 bytes, or sets bits
 * above 64 (protobufjs would drop them; such bytes go to protobufjs).
 */
function readVarint(buf: Uint8Array, at: number, end: number): number | bigint | undefined {
  let value = 0;
  let scale = 1;
  let i = at;
  for (let n = 0; n < 7; n++) {
    if (i >= end) return undefined;
    const byte = buf[i++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = i;
      return value;
    }
    scale *= 0x80;
  }
  let big = BigInt(value);
  for (let shift = 49n; shift <= 63n; shift += 7n) {
    if (i >= end) return undefined;
    const byte = buf[i++] as number;
    if (shift === 63n && byte > 1) return undefined;
    big |= BigInt(byte & 0x7f) << shift;
    if (byte < 0x80) {
      varintEnd = i;
      return big;
    }
  }
  return undefined;
}

/** An unsigned 64-bit varint value as a signed Int64, canonical: a number when safe, else a bigint. */
function signed64(value: number | bigint): number | bigint {
  if (typeof value === "number") return value;
  const v = value >= TWO_63 ? value - TWO_64 : value;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** An int32 as protobufjs reads it: the low 32 bits, signed (a negative int32 is sign-extended to 10 bytes). */
function int32Of(value: number | bigint): number {
  // ToInt32 of an exact integer is its value modulo 2^32.
  return typeof value === "number" ? value | 0 : Number(BigInt.asIntN(32, value));
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The value of a Value's bytes when they are exactly one scalar member (double, float, int64,
 * int32, bool, string, bytes, unix_timestamp), as values.ts's protobufjs decode would give it;
 * undefined for anything else. Empty bytes (Feast's null) are the caller's.
 */
export function decodeScalarValue(bytes: Uint8Array): number | bigint | string | boolean | Uint8Array | undefined {
  const end = bytes.length;
  if (end < 2) return undefined;
  switch (bytes[0]) {
    case TAG.double:
      return end === 9 ? bufferOf(bytes).readDoubleLE(1) : undefined;
    case TAG.float:
      return end === 5 ? bufferOf(bytes).readFloatLE(1) : undefined;
    case TAG.int64:
    case TAG.unixTimestamp: {
      const v = readVarint(bytes, 1, end);
      return v === undefined || varintEnd !== end ? undefined : signed64(v);
    }
    case TAG.int32: {
      const v = readVarint(bytes, 1, end);
      if (v === undefined || varintEnd !== end) return undefined;
      return int32Of(v);
    }
    case TAG.bool:
      return end === 2 && (bytes[1] === 0 || bytes[1] === 1) ? bytes[1] === 1 : undefined;
    case TAG.string:
    case TAG.bytes: {
      const length = readVarint(bytes, 1, end);
      if (typeof length !== "number" || varintEnd + length !== end) return undefined;
      const payload = bytes.subarray(varintEnd, end);
      if (bytes[0] === TAG.bytes) return new Uint8Array(payload);
      // protobufjs refuses malformed UTF-8 in a proto3 string (it throws): leave those to it.
      return isUtf8(payload) ? bufferOf(payload).toString("utf8") : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Epoch nanoseconds of `google.protobuf.Timestamp` bytes (fields seconds = 1 and nanos = 2, in any
 * order, a repeated one's last value winning, as protobuf reads them); undefined for anything
 * else (the caller decodes with protobufjs).
 */
export function decodeTimestampNanos(bytes: Uint8Array): bigint | undefined {
  let seconds: number | bigint = 0;
  let nanos = 0;
  let at = 0;
  const end = bytes.length;
  while (at < end) {
    const tag = bytes[at];
    if (tag !== 0x08 && tag !== 0x10) return undefined;
    const v = readVarint(bytes, at + 1, end);
    if (v === undefined) return undefined;
    at = varintEnd;
    if (tag === 0x08) seconds = signed64(v);
    else nanos = int32Of(v);
  }
  return BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
}
