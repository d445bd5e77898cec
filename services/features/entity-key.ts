import murmur from "murmurhash3js-revisited";
import type { EntityValueType } from "../../components/spec/catalog";

/**
 * Feast's entity-key serialization, version 3 (sdk/python/feast/infra/key_encoding_utils.py):
 *   u32 LE number of join keys,
 *   per join key (sorted): u32 LE ValueType.STRING (2), u32 LE byte length, utf-8 name,
 *   per value (same order): u32 LE ValueType, u32 LE byte length, value bytes
 *     (INT64: 8 bytes LE signed, INT32: 4 bytes LE signed, STRING: utf-8, BYTES: as is).
 * Written by hand because no library implements it; docs/online-store-format.md restates it.
 */
const VALUE_TYPE: Record<EntityValueType, number> = { BYTES: 1, STRING: 2, INT32: 3, INT64: 4 };

export type EntityKeyValue = number | string | Uint8Array;

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

function valueBytes(type: EntityValueType, value: EntityKeyValue): Buffer {
  switch (type) {
    case "INT64": {
      const b = Buffer.allocUnsafe(8);
      b.writeBigInt64LE(BigInt(value as number), 0);
      return b;
    }
    case "INT32": {
      const b = Buffer.allocUnsafe(4);
      b.writeInt32LE(value as number, 0);
      return b;
    }
    case "STRING":
      return Buffer.from(value as string, "utf8");
    case "BYTES":
      return Buffer.from(value as Uint8Array);
  }
}

/** Serialises an entity key; `joinKeys` and `values` are aligned and may come in any order (they are sorted here). */
export function serializeEntityKey(joinKeys: JoinKey[], values: EntityKeyValue[]): Buffer {
  const order = joinKeys.map((_, i) => i).sort((a, b) => compareNames((joinKeys[a] as JoinKey).name, (joinKeys[b] as JoinKey).name));
  const parts: Buffer[] = [u32(joinKeys.length)];
  for (const i of order) {
    const name = Buffer.from((joinKeys[i] as JoinKey).name, "utf8");
    parts.push(u32(VALUE_TYPE.STRING), u32(name.length), name);
  }
  for (const i of order) {
    const key = joinKeys[i] as JoinKey;
    const bytes = valueBytes(key.type, values[i] as EntityKeyValue);
    parts.push(u32(VALUE_TYPE[key.type]), u32(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

/** Python's sorted() on str compares code points; so does this (localeCompare would not). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The Redis key of an entity row: serialized entity key followed by the project name (Feast's `_redis_key`). */
export function redisKey(project: string, joinKeys: JoinKey[], values: EntityKeyValue[]): Buffer {
  return Buffer.concat([serializeEntityKey(joinKeys, values), Buffer.from(project, "utf8")]);
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
