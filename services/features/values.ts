import protobuf from "protobufjs";
import type { Dtype, EntityValueType } from "../../definition/catalog";

/**
 * Feast's value model. Feature values cross three boundaries (offline rows, online-store bytes,
 * JSON) and must survive all of them unchanged, so one file owns the conversions:
 *   - `FeatureValue` is the in-process form (JSON-friendly; bytes as Uint8Array);
 *   - `encodeValue`/`decodeValue` speak `feast.types.Value` protobuf bytes, field numbers from
 *     Feast's protos/feast/types/Value.proto (the online-store format depends on them);
 *   - `coerceValue` checks and normalises a value for a dtype (push payloads, offline rows).
 */
export type ScalarValue = number | string | boolean | Uint8Array;
export type FeatureValue = ScalarValue | ScalarValue[] | null;

// Field numbers copied from Feast's Value.proto and google/protobuf/timestamp.proto.
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
  }
}
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
`;

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

/** protobufjs returns int64 as Long when the `long` package is installed; values here are JS numbers. */
function toNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "object" && v !== null && "toNumber" in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

/** protobufjs hands out Buffers on Node; values compare and serialise the same everywhere as plain Uint8Array. */
function plainBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** Serialises a value as `feast.types.Value` bytes; null becomes the empty Value, as Feast writes it. */
export function encodeValue(dtype: Dtype, value: FeatureValue): Uint8Array {
  if (value === null) return new Uint8Array(0);
  const field = FIELD_OF[dtype];
  const payload = isArrayDtype(dtype) ? { [field]: { val: value } } : { [field]: value };
  return ValueMessage.encode(ValueMessage.fromObject(payload)).finish();
}

/** Parses `feast.types.Value` bytes; an unset oneof (Feast's null) is null. Any Feast-written type is accepted. */
export function decodeValue(bytes: Uint8Array): FeatureValue {
  if (bytes.length === 0) return null;
  const message = ValueMessage.decode(bytes) as protobuf.Message & Record<string, unknown>;
  const field = message.val as string | undefined;
  if (!field) return null;
  const raw = message[field];
  if (field.endsWith("_list_val")) {
    const items = (raw as { val?: unknown[] }).val ?? [];
    if (field === "int64_list_val" || field === "unix_timestamp_list_val") return items.map(toNumber);
    return field === "bytes_list_val" ? items.map((b) => plainBytes(b as Uint8Array)) : (items as ScalarValue[]);
  }
  if (field === "int64_val" || field === "unix_timestamp_val") return toNumber(raw);
  if (field === "bytes_val") return plainBytes(raw as Uint8Array);
  return raw as ScalarValue;
}

/** Serialises an event time (epoch seconds) as `google.protobuf.Timestamp`; Feast writes whole seconds. */
export function encodeTimestamp(seconds: number): Uint8Array {
  return TimestampMessage.encode(TimestampMessage.fromObject({ seconds: Math.floor(seconds) })).finish();
}

export function decodeTimestamp(bytes: Uint8Array): number {
  const message = TimestampMessage.decode(bytes) as protobuf.Message & { seconds?: unknown };
  return toNumber(message.seconds ?? 0);
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function coerceScalar(dtype: Dtype, value: unknown): ScalarValue {
  switch (dtype) {
    case "Int32":
    case "Int64": {
      const n = typeof value === "bigint" ? Number(value) : typeof value === "string" && value.trim() !== "" ? Number(value) : value;
      if (typeof n !== "number" || !Number.isInteger(n)) throw new TypeError(`${JSON.stringify(String(value))} is not an integer`);
      if (dtype === "Int32" && (n < INT32_MIN || n > INT32_MAX)) throw new TypeError(`${n} is outside the Int32 range`);
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
 * Checks and normalises a value for a dtype: numbers stay numbers (Float32 rounded to float32, as
 * the store keeps it), bytes become Uint8Array, timestamps epoch seconds. Throws a TypeError that
 * names the value when it cannot be that dtype.
 */
export function coerceValue(dtype: Dtype, value: unknown): FeatureValue {
  if (value === null || value === undefined) return null;
  if (!isArrayDtype(dtype)) return coerceScalar(dtype, value);
  if (!Array.isArray(value)) throw new TypeError(`${JSON.stringify(value)} is not a list`);
  const element = elementDtype(dtype);
  return value.map((v) => coerceScalar(element, v));
}

/** Epoch seconds (whole) from a Date, a number of seconds, a bigint of microseconds (DuckDB), or an ISO string. */
export function toEpochSeconds(value: unknown): number {
  if (value instanceof Date) return Math.floor(value.getTime() / 1000);
  if (typeof value === "number") return Math.floor(value);
  if (typeof value === "bigint") return Number(value / 1_000_000n);
  if (typeof value === "string") {
    const trimmed = value.trim();
    // Feast's push examples send "2022-05-13 10:59:42" (no zone): read as UTC, as Feast's make_tzaware does.
    const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(trimmed) ? trimmed : `${trimmed.replace(" ", "T")}Z`;
    const ms = Date.parse(iso);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  throw new TypeError(`${JSON.stringify(String(value))} is not a timestamp`);
}

/** An entity join-key value as the request gives it, checked against the entity's value type. */
export function coerceEntityValue(type: EntityValueType, value: unknown): number | string | Uint8Array {
  switch (type) {
    case "INT64":
    case "INT32":
      return coerceScalar(type === "INT64" ? "Int64" : "Int32", value) as number;
    case "STRING":
      if (typeof value === "number") return String(value);
      return coerceScalar("String", value) as string;
    case "BYTES":
      return coerceScalar("Bytes", value) as Uint8Array;
  }
}

/** JSON form of a value, as Feast's feature server prints it (bytes base64, like protobuf's JSON mapping). */
export function valueToJson(value: FeatureValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v));
  return value;
}
