import murmur from "murmurhash3js-revisited";
import type { EntityValueType } from "../../definition/catalog";

/**
 * Feast's entity-key serialization (sdk/python/feast/infra/key_encoding_utils.py), version 3:
 *   u32 LE number of join keys,
 *   per join key (sorted): u32 LE ValueType.STRING (2), u32 LE byte length, utf-8 name,
 *   per value (same order): u32 LE ValueType, u32 LE byte length, value bytes
 *     (INT64: 8 bytes LE signed, INT32: 4 bytes LE signed, STRING: utf-8, BYTES: as is).
 * Version 2 (`entity_key_serialization_version: 2`, still in older Feast repos) has no count and no
 * name lengths: per join key u32 LE ValueType.STRING then the utf-8 name; values as in v3.
 * Written by hand because no library implements it; docs/online-store-format.md restates it.
 */
const VALUE_TYPE: Record<EntityValueType, number> = { BYTES: 1, STRING: 2, INT32: 3, INT64: 4 };

/** Feast's `entity_key_serialization_version`: 3 (Feast's default since 0.38) or 2. */
export type EntityKeyVersion = 2 | 3;

/** A join-key value: INT64 exact (a number when safe, else a bigint), INT32 a number, STRING, BYTES. */
export type EntityKeyValue = number | bigint | string | Uint8Array;

/** One join key of a feature view with the value type of its entity. */
export interface JoinKey {
  name: string;
  type: EntityValueType;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** The fixed part of a key (count and sorted, typed join key names) and the value order, per join-key list. */
interface KeyLayout {
  prefix: Buffer;
  order: number[];
}
const layouts = new Map<string, KeyLayout>();

function layoutOf(joinKeys: JoinKey[], version: EntityKeyVersion): KeyLayout {
  const id = `${version}|${joinKeys.map((k) => `${k.name}:${k.type}`).join(",")}`;
  let layout = layouts.get(id);
  if (!layout) {
    const order = joinKeys.map((_, i) => i).sort((a, b) => compareNames((joinKeys[a] as JoinKey).name, (joinKeys[b] as JoinKey).name));
    const parts: Buffer[] = version === 3 ? [u32(joinKeys.length)] : [];
    for (const i of order) {
      const name = Buffer.from((joinKeys[i] as JoinKey).name, "utf8");
      parts.push(u32(VALUE_TYPE.STRING), ...(version === 3 ? [u32(name.length)] : []), name);
    }
    layout = { prefix: Buffer.concat(parts), order };
    if (layouts.size < 10_000) layouts.set(id, layout);
  }
  return layout;
}

function valueLength(type: EntityValueType, value: EntityKeyValue): number {
  switch (type) {
    case "INT64":
      return 8;
    case "INT32":
      return 4;
    case "STRING":
      return Buffer.byteLength(value as string, "utf8");
    case "BYTES":
      return (value as Uint8Array).length;
  }
}

const TWO_32 = 2 ** 32;

/**
 * An INT64 as 8 bytes little-endian two's complement. A safe integer (the common key) is split in
 * 32-bit halves with exact double arithmetic: no bigint made per key; a bigint is written as is.
 */
function writeInt64(out: Buffer, at: number, value: number | bigint): void {
  if (typeof value === "number" && Number.isSafeInteger(value)) {
    const high = Math.floor(value / TWO_32);
    out.writeUInt32LE(value - high * TWO_32, at);
    out.writeInt32LE(high, at + 4);
    return;
  }
  // A bigint, or a number that is no safe integer (BigInt() refuses a fraction, as before).
  out.writeBigInt64LE(typeof value === "bigint" ? value : BigInt(value), at);
}

function writeValue(out: Buffer, at: number, type: EntityValueType, value: EntityKeyValue): void {
  switch (type) {
    case "INT64":
      writeInt64(out, at, value as number | bigint);
      return;
    case "INT32":
      out.writeInt32LE(value as number, at);
      return;
    case "STRING":
      out.write(value as string, at, "utf8");
      return;
    case "BYTES":
      out.set(value as Uint8Array, at);
  }
}

/**
 * Serialises an entity key; `joinKeys` and `values` are aligned and may come in any order (they are
 * sorted here). `suffix` is appended in the same allocation (the Redis key's project name): this
 * runs once per key per request, so it writes one buffer instead of concatenating pieces.
 */
export function serializeEntityKey(joinKeys: JoinKey[], values: EntityKeyValue[], suffix?: Buffer, version: EntityKeyVersion = 3): Buffer {
  const { prefix, order } = layoutOf(joinKeys, version);
  let size = prefix.length + (suffix?.length ?? 0);
  for (const i of order) size += 8 + valueLength((joinKeys[i] as JoinKey).type, values[i] as EntityKeyValue);
  const out = Buffer.allocUnsafe(size);
  prefix.copy(out, 0);
  let at = prefix.length;
  for (const i of order) {
    const type = (joinKeys[i] as JoinKey).type;
    const value = values[i] as EntityKeyValue;
    const length = valueLength(type, value);
    out.writeUInt32LE(VALUE_TYPE[type], at);
    out.writeUInt32LE(length, at + 4);
    writeValue(out, at + 8, type, value);
    at += 8 + length;
  }
  if (suffix) suffix.copy(out, at);
  return out;
}

/**
 * Python's sorted() on str compares code points. JS's `<` compares UTF-16 units, which puts a name
 * above U+FFFF (a surrogate pair, 0xD800-0xDFFF) before one in U+E000-U+FFFF; UTF-8 bytes sort in
 * code point order, so they are compared instead. Runs once per join-key list (layoutOf caches it).
 */
function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

const projectBytes = new Map<string, Buffer>();

function projectSuffix(project: string): Buffer {
  let suffix = projectBytes.get(project);
  if (!suffix) {
    suffix = Buffer.from(project, "utf8");
    projectBytes.set(project, suffix);
  }
  return suffix;
}

/** The Redis key of an entity row: serialized entity key followed by the project name (Feast's `_redis_key`). */
export function redisKey(project: string, joinKeys: JoinKey[], values: EntityKeyValue[], version: EntityKeyVersion = 3): Buffer {
  return serializeEntityKey(joinKeys, values, projectSuffix(project), version);
}

/**
 * `redisKey` for many rows of one view: the layout and project bytes are looked up once, and a
 * single INT64 join key (the common entity) is written at fixed offsets. Same bytes as redisKey.
 */
export function redisKeyEncoder(project: string, joinKeys: JoinKey[], version: EntityKeyVersion = 3): (values: EntityKeyValue[]) => Buffer {
  const suffix = projectSuffix(project);
  if (joinKeys.length !== 1 || joinKeys[0]?.type !== "INT64") return (values) => serializeEntityKey(joinKeys, values, suffix, version);
  const { prefix } = layoutOf(joinKeys, version);
  const at = prefix.length;
  const size = at + 16 + suffix.length;
  return (values) => {
    const out = Buffer.allocUnsafe(size);
    prefix.copy(out, 0);
    out.writeUInt32LE(VALUE_TYPE.INT64, at);
    out.writeUInt32LE(8, at + 4);
    writeInt64(out, at + 8, values[0] as number | bigint);
    suffix.copy(out, at + 16);
    return out;
  };
}

/**
 * The DynamoDB `entity_id` of an entity key: Feast's `mmh3.hash_bytes(serialized key).hex()`, the
 * Murmur3 x64 128-bit hash as Python's mmh3 lays out its bytes (each 64-bit half little-endian);
 * murmurhash3js prints each half big-endian, so each 8-byte half is reversed here.
 */
export function dynamoEntityId(serializedKey: Buffer): string {
  const bigEndian = murmur.x64.hash128(serializedKey);
  const half = (hex: string) => (hex.match(/../g) as string[]).reverse().join("");
  return half(bigEndian.slice(0, 16)) + half(bigEndian.slice(16));
}

/** Murmur3 x86 32-bit (seed 0) of a string's utf-8 bytes, as 4 little-endian bytes (Feast's `_mmh3`). */
export function mmh3LittleEndian(text: string): Buffer {
  return u32(murmur.x86.hash32(Buffer.from(text, "utf8")));
}

const fieldCache = new Map<string, Buffer>();

/** The Redis hash field of a feature: mmh3("<feature_view>:<feature>"), memoised (the hot path asks for the same few). */
export function featureField(featureView: string, feature: string): Buffer {
  const ref = `${featureView}:${feature}`;
  let field = fieldCache.get(ref);
  if (!field) {
    field = mmh3LittleEndian(ref);
    if (fieldCache.size < 100_000) fieldCache.set(ref, field);
  }
  return field;
}

/** The Redis hash field of a feature view's event time. */
export function timestampField(featureView: string): string {
  return `_ts:${featureView}`;
}
