import Long from "long";
import protobuf from "protobufjs";
import type { Dtype, EntityValueType } from "../../definition/catalog";
import type { EntityKeyValue } from "./entity-key";
import { decodeScalarValue, decodeTimestampNanos, encodeScalarValue, encodeTimestampParts } from "./value-wire";
import { type EpochNanos, nanosFromParts, secondsOf, timestampParts, toEpochNanos } from "./timestamp";

/**
 * Feast's value model. Feature values cross three boundaries (offline rows, online-store bytes,
 * JSON) and must survive all of them unchanged, so one file owns the conversions:
 *   - `FeatureValue` is the in-process form (JSON-friendly; bytes as Uint8Array);
 *   - `encodeValue`/`decodeValue` speak `feast.types.Value` protobuf bytes, field numbers from
 *     Feast's protos/feast/types/Value.proto (the online-store format depends on them);
 *   - `coerceValue` checks and normalises a value for a dtype (push payloads, offline rows).
 */
export type ScalarValue = number | bigint | string | boolean | Uint8Array;
/** A Feast map (map_val / struct_val): string keys to nested values. */
export interface MapValue {
  [key: string]: FeatureValue;
}
export type FeatureValue = ScalarValue | FeatureValue[] | MapValue | null;

/**
 * A stored value this service cannot represent (a Value field Feast added after 0.67, a zoned
 * timestamp): answered with status INVALID instead of a silent null, so the client can tell.
 */
export class UndecodableValue {
  constructor(readonly field: string) {}
}

// Field numbers copied from Feast 0.67's protos/feast/types/Value.proto and google/protobuf/timestamp.proto.
const PROTO = `
syntax = "proto3";
package feast.types;
message BytesList { repeated bytes val = 1; }
message StringList { repeated string val = 1; }
message Int32List { repeated int32 val = 1; }
message Int64List { repeated int64 val = 1; }
message DoubleList { repeated double val = 1; }
message FloatList { repeated float val = 1; }
message BoolList { repeated bool val = 1; }
message Map { map<string, Value> val = 1; }
message MapList { repeated Map val = 1; }
message RepeatedValue { repeated Value val = 1; }
message MapKey {
  oneof key {
    int32 int32_key = 1; int64 int64_key = 2; float float_key = 3; double double_key = 4; bool bool_key = 5;
    int64 unix_timestamp_key = 6; bytes bytes_key = 7; string uuid_key = 8; string time_uuid_key = 9; string decimal_key = 10;
  }
}
message ScalarMapEntry { MapKey key = 1; Value value = 2; }
message ScalarMap { repeated ScalarMapEntry val = 1; }
message ZonedTimestamp { int64 unix_timestamp = 1; string zone = 2; }
enum Null { NULL = 0; }
message Value {
  oneof val {
    bytes bytes_val = 1;
    string string_val = 2;
    int32 int32_val = 3;
    int64 int64_val = 4;
    double double_val = 5;
    float float_val = 6;
    bool bool_val = 7;
    int64 unix_timestamp_val = 8;
    BytesList bytes_list_val = 11;
    StringList string_list_val = 12;
    Int32List int32_list_val = 13;
    Int64List int64_list_val = 14;
    DoubleList double_list_val = 15;
    FloatList float_list_val = 16;
    BoolList bool_list_val = 17;
    Int64List unix_timestamp_list_val = 18;
    Null null_val = 19;
    Map map_val = 20;
    MapList map_list_val = 21;
    BytesList bytes_set_val = 22;
    StringList string_set_val = 23;
    Int32List int32_set_val = 24;
    Int64List int64_set_val = 25;
    DoubleList double_set_val = 26;
    FloatList float_set_val = 27;
    BoolList bool_set_val = 28;
    Int64List unix_timestamp_set_val = 29;
    string json_val = 32;
    StringList json_list_val = 33;
    Map struct_val = 34;
    MapList struct_list_val = 35;
    string uuid_val = 36;
    string time_uuid_val = 37;
    StringList uuid_list_val = 38;
    StringList time_uuid_list_val = 39;
    StringList uuid_set_val = 40;
    StringList time_uuid_set_val = 41;
    RepeatedValue list_val = 42;
    RepeatedValue set_val = 43;
    string decimal_val = 44;
    StringList decimal_list_val = 45;
    StringList decimal_set_val = 46;
    ScalarMap scalar_map_val = 47;
    ZonedTimestamp zoned_timestamp_val = 48;
  }
}
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
`;

// int64 fields decode to Long (exact) rather than to a rounded JS number.
protobuf.util.Long = Long;
protobuf.configure();
const root = protobuf.parse(PROTO, { keepCase: true }).root;
const ValueMessage = root.lookupType("feast.types.Value");
const TimestampMessage = root.lookupType("feast.types.Timestamp");

/** The `feast.types.Value` oneof field that carries each dtype. */
const FIELD_OF: Record<Dtype, string> = {
  Int32: "int32_val",
  Int64: "int64_val",
  Float32: "float_val",
  Float64: "double_val",
  String: "string_val",
  Bytes: "bytes_val",
  Bool: "bool_val",
  UnixTimestamp: "unix_timestamp_val",
  "Array(Int32)": "int32_list_val",
  "Array(Int64)": "int64_list_val",
  "Array(Float32)": "float_list_val",
  "Array(Float64)": "double_list_val",
  "Array(String)": "string_list_val",
  "Array(Bytes)": "bytes_list_val",
  "Array(Bool)": "bool_list_val",
  "Array(UnixTimestamp)": "unix_timestamp_list_val",
};

export function isArrayDtype(dtype: Dtype): boolean {
  return dtype.startsWith("Array(");
}

export function elementDtype(dtype: Dtype): Dtype {
  return (isArrayDtype(dtype) ? dtype.slice(6, -1) : dtype) as Dtype;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The one in-process form of a 64-bit integer: a JS number when it is a safe integer, else a bigint.
 * Exact either way, and canonical, so equal values compare and serialise equally.
 */
export type Int64 = number | bigint;

function int64OfBigInt(value: bigint): Int64 {
  if (value < INT64_MIN || value > INT64_MAX) throw new TypeError(`${value} is outside the Int64 range`);
  return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value;
}

/** A 64-bit integer from a number, bigint, Long or decimal string; throws naming the value otherwise. */
export function toInt64(value: unknown): Int64 {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value)) return value;
    if (Number.isInteger(value))
      throw new TypeError(
        `${value} is beyond 2^53 as a JS number and may already have lost digits; send it as an exact JSON integer or a string`,
      );
    throw new TypeError(`${JSON.stringify(value)} is not an integer`);
  }
  if (typeof value === "bigint") return int64OfBigInt(value);
  if (typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value)) return int64OfBigInt(BigInt(value.trim()));
  if (value instanceof Long) return fromLong(value);
  throw new TypeError(`${JSON.stringify(String(value))} is not an integer`);
}

function fromLong(value: Long): Int64 {
  const n = value.toNumber();
  return Number.isSafeInteger(n) ? n : BigInt(value.toString());
}

/** protobufjs gives int64 as Long (or a number when it fits): exact as Int64. */
function int64OfWire(v: unknown): Int64 {
  if (typeof v === "number") return v;
  if (v instanceof Long) return fromLong(v);
  return toInt64(v);
}

/** protobufjs takes an int64 as a number or a decimal string (Long.fromValue): a bigint goes as its digits. */
function int64ToWire(v: unknown): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}

/** protobufjs hands out Buffers on Node; values compare and serialise the same everywhere as plain Uint8Array. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Serialises a value as `feast.types.Value` bytes; null becomes the empty Value, as Feast writes it. */
export function encodeValue(dtype: Dtype, value: FeatureValue): Uint8Array {
  if (value === null) return new Uint8Array(0);
  // Scalars (the bulk of materialization) are written directly; value-wire.test.ts holds the bytes equal.
  return encodeScalarValue(dtype, value) ?? encodeValueWithProtobufjs(dtype, value);
}

/** The protobufjs encoding of a non-null value (every dtype); the reference the fast path is tested against. */
export function encodeValueWithProtobufjs(dtype: Dtype, value: FeatureValue): Uint8Array {
  const field = FIELD_OF[dtype];
  const element = elementDtype(dtype);
  const wide = element === "Int64" || element === "UnixTimestamp";
  let payload: Record<string, unknown>;
  if (isArrayDtype(dtype)) payload = { [field]: { val: wide ? (value as unknown[]).map(int64ToWire) : value } };
  else payload = { [field]: wide ? int64ToWire(value) : value };
  return ValueMessage.encode(ValueMessage.fromObject(payload)).finish();
}

type DecodedMessage = protobuf.Message & Record<string, unknown>;

const INT64_FIELDS = new Set(["int64_val", "unix_timestamp_val"]);
const INT64_LIST_FIELDS = new Set(["int64_list_val", "unix_timestamp_list_val", "int64_set_val", "unix_timestamp_set_val"]);
const BYTES_LIST_FIELDS = new Set(["bytes_list_val", "bytes_set_val"]);

function mapOf(entries: Record<string, DecodedMessage> | undefined): MapValue | UndecodableValue {
  const out: MapValue = {};
  for (const [key, nested] of Object.entries(entries ?? {})) {
    const value = decodeMessage(nested);
    if (value instanceof UndecodableValue) return value;
    out[key] = value;
  }
  return out;
}

function decodeMessage(message: DecodedMessage): FeatureValue | UndecodableValue {
  const field = message.val as string | undefined;
  if (!field || field === "null_val") return null;
  const raw = message[field];
  if (INT64_FIELDS.has(field)) return int64OfWire(raw);
  if (field === "bytes_val") return plainBytes(raw as Uint8Array);
  if (field === "map_val" || field === "struct_val") return mapOf((raw as { val?: Record<string, DecodedMessage> }).val);
  if (field === "map_list_val" || field === "struct_list_val") {
    const maps: MapValue[] = [];
    for (const m of (raw as { val?: { val?: Record<string, DecodedMessage> }[] }).val ?? []) {
      const decoded = mapOf(m.val);
      if (decoded instanceof UndecodableValue) return decoded;
      maps.push(decoded);
    }
    return maps;
  }
  if (field === "list_val" || field === "set_val") {
    const items: FeatureValue[] = [];
    for (const nested of (raw as { val?: DecodedMessage[] }).val ?? []) {
      const decoded = decodeMessage(nested);
      if (decoded instanceof UndecodableValue) return decoded;
      items.push(decoded);
    }
    return items;
  }
  if (field === "scalar_map_val" || field === "zoned_timestamp_val") return new UndecodableValue(field);
  if (field.endsWith("_list_val") || field.endsWith("_set_val")) {
    const items = (raw as { val?: unknown[] }).val ?? [];
    if (INT64_LIST_FIELDS.has(field)) return items.map(int64OfWire);
    if (BYTES_LIST_FIELDS.has(field)) return items.map((b) => plainBytes(b as Uint8Array));
    return items as ScalarValue[];
  }
  // string_val, json_val (the JSON text, as Feast answers it), uuid_val, time_uuid_val, decimal_val, numbers, bools.
  return raw as ScalarValue;
}

/**
 * Parses `feast.types.Value` bytes, for every type Feast 0.67 writes: an unset oneof (Feast's null)
 * and null_val are null; json/uuid/decimal are their text; sets are lists; maps are objects.
 * A field this file does not know (newer Feast) or cannot answer in JSON is an UndecodableValue.
 */
export function decodeValue(bytes: Uint8Array): FeatureValue | UndecodableValue {
  if (bytes.length === 0) return null;
  // Scalars (every lookup cell of most views) are read directly; value-wire.test.ts holds them equal.
  return decodeScalarValue(bytes) ?? decodeValueWithProtobufjs(bytes);
}

/** The protobufjs decoding of non-empty Value bytes (every type); the reference the fast path is tested against. */
export function decodeValueWithProtobufjs(bytes: Uint8Array): FeatureValue | UndecodableValue {
  if (bytes.length === 0) return null;
  let message: DecodedMessage;
  try {
    message = ValueMessage.decode(bytes) as DecodedMessage;
  } catch {
    // Bytes that are not a Value at all (truncated, a wrong wire type, malformed UTF-8): the cell
    // answers INVALID, as a type this service cannot read does, never a 500 for the whole lookup.
    return new UndecodableValue("malformed");
  }
  // protobufjs skips unknown fields: non-empty bytes with no known field set are a newer Feast type.
  if (!message.val) return new UndecodableValue("unknown");
  return decodeMessage(message);
}

/** Serialises an event time as `google.protobuf.Timestamp`, seconds and nanos, as Feast (>= 0.59) writes `_ts`. */
export function encodeTimestamp(at: EpochNanos): Uint8Array {
  const { seconds, nanos } = timestampParts(at);
  return encodeTimestampParts(seconds, nanos);
}

/** The protobufjs encoding of an event time; the reference encodeTimestamp is tested against. */
export function encodeTimestampWithProtobufjs(at: EpochNanos): Uint8Array {
  const { seconds, nanos } = timestampParts(at);
  return TimestampMessage.encode(TimestampMessage.fromObject({ seconds: seconds.toString(), nanos })).finish();
}

/** An event time from `google.protobuf.Timestamp` bytes, nanos included (older Feast wrote none: 0). */
export function decodeTimestamp(bytes: Uint8Array): EpochNanos {
  return decodeTimestampNanos(bytes) ?? decodeTimestampWithProtobufjs(bytes);
}

/** The protobufjs decoding of an event time; the reference decodeTimestamp is tested against. */
export function decodeTimestampWithProtobufjs(bytes: Uint8Array): EpochNanos {
  const message = TimestampMessage.decode(bytes) as protobuf.Message & { seconds?: unknown; nanos?: number };
  return nanosFromParts(BigInt(int64OfWire(message.seconds ?? 0)), message.nanos ?? 0);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function coerceScalar(dtype: Dtype, value: unknown): ScalarValue {
  switch (dtype) {
    case "Int64":
      return toInt64(value);
    case "Int32": {
      const n = toInt64(value);
      if (typeof n !== "number" || n < INT32_MIN || n > INT32_MAX) throw new TypeError(`${n} is outside the Int32 range`);
      return n;
    }
    case "Float32":
    case "Float64": {
      const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || Number.isNaN(n)) throw new TypeError(`${JSON.stringify(value)} is not a number`);
      return dtype === "Float32" ? Math.fround(n) : n;
    }
    case "String":
      if (typeof value !== "string") throw new TypeError(`${JSON.stringify(value)} is not a string`);
      return value;
    case "Bytes":
      if (value instanceof Uint8Array) return value.constructor === Uint8Array ? value : new Uint8Array(value);
      // JSON carries bytes as base64, as protobuf's JSON mapping does.
      if (typeof value === "string") return new Uint8Array(Buffer.from(value, "base64"));
      throw new TypeError(`${JSON.stringify(value)} is not bytes (give base64 in JSON)`);
    case "Bool":
      if (typeof value === "boolean") return value;
      if (value === "true" || value === "false") return value === "true";
      throw new TypeError(`${JSON.stringify(value)} is not a boolean`);
    case "UnixTimestamp":
      return toEpochSeconds(value);
    default:
      throw new TypeError(`unsupported dtype ${dtype}`);
  }
}

/**
 * Checks and normalises a value for a dtype: Int64 exact (a number when safe, else a bigint),
 * Float32 rounded to float32 as the store keeps it, bytes as Uint8Array, timestamps epoch seconds. Throws a TypeError that
 * names the value when it cannot be that dtype.
 */
export function coerceValue(dtype: Dtype, value: unknown): FeatureValue {
  if (value === null || value === undefined) return null;
  if (!isArrayDtype(dtype)) return coerceScalar(dtype, value);
  if (!Array.isArray(value)) throw new TypeError(`${JSON.stringify(value)} is not a list`);
  const element = elementDtype(dtype);
  return value.map((v) => coerceScalar(element, v));
}

/** Epoch seconds (whole) from a Date, a number of seconds, a bigint of microseconds (DuckDB), or an ISO string (no zone: UTC, as Feast's make_tzaware reads it). */
export function toEpochSeconds(value: unknown): number {
  return secondsOf(toEpochNanos(value));
}

/** An entity join-key value as the request gives it, checked against the entity's value type. */
export function coerceEntityValue(type: EntityValueType, value: unknown): EntityKeyValue {
  switch (type) {
    case "INT64":
      return toInt64(value);
    case "INT32":
      return coerceScalar("Int32", value) as number;
    case "STRING":
      if (typeof value === "number" || typeof value === "bigint") return String(value);
      return coerceScalar("String", value) as string;
    case "BYTES":
      return coerceScalar("Bytes", value) as Uint8Array;
  }
}

function nonFinite(n: number): number | string {
  return Number.isFinite(n) ? n : Number.isNaN(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity";
}

/**
 * JSON form of a value as Feast's feature server prints it (feature_server_utils._value_to_native):
 * bytes base64, NaN and infinities as protobuf's JSON strings, maps as objects; 64-bit integers stay
 * exact (bigint, written as bare digits by services/core/json.ts).
 */
export function valueToJson(value: FeatureValue): unknown {
  if (value === null) return null;
  if (typeof value === "number") return Number.isFinite(value) ? value : nonFinite(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(valueToJson);
  if (typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, valueToJson(v)]));
  return value;
}
