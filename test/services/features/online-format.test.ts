import { nanosFromSeconds } from "../../../services/features/timestamp";
import fc from "fast-check";
import Redis from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  dynamoEntityId,
  featureField,
  mmh3LittleEndian,
  redisKey,
  redisKeyEncoder,
  serializeEntityKey,
} from "../../../services/features/entity-key";
import { formatPythonDatetime, nanosFromIso } from "../../../services/features/timestamp";
import { openOnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { decodeTimestamp, decodeValue, encodeTimestamp, encodeValue, UndecodableValue } from "../../../services/features/values";
import { type RedisServer, startRedis } from "../../support/redis";
import { fixtureCatalog } from "./support";

/**
 * Golden bytes written out by hand from Feast's docs/specs/online_store_format.md,
 * sdk/python/feast/infra/key_encoding_utils.py (entity key serialization v3) and the protobuf wire
 * format of protos/feast/types/Value.proto: not produced by our own writer.
 */
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("entity key serialization v3", () => {
  it("serializes one INT64 join key as count, typed name, typed value (Feast's driver_id=1001)", () => {
    const expected = hex(`
      01000000
      02000000 09000000 ${Buffer.from("driver_id").toString("hex")}
      04000000 08000000 e903000000000000`);
    expect(serializeEntityKey([{ name: "driver_id", type: "INT64" }], [1001])).toEqual(expected);
  });

  it("sorts join keys by name and keeps each value with its key", () => {
    const expected = hex(`
      02000000
      02000000 04000000 ${Buffer.from("hour").toString("hex")}
      02000000 04000000 ${Buffer.from("zone").toString("hex")}
      03000000 04000000 0d000000
      03000000 04000000 07000000`);
    const keys = [
      { name: "zone", type: "INT32" as const },
      { name: "hour", type: "INT32" as const },
    ];
    expect(serializeEntityKey(keys, [7, 13])).toEqual(expected);
  });

  it("sorts join key names by code point as Python does, not by UTF-16 unit (a name above U+FFFF after U+FF01)", () => {
    // Printed by Feast 0.67's serialize_entity_key(EntityKey(join_keys=["\U0001F600", "\uFF01"], values 1, 2), 3).
    const feast = hex(
      "020000000200000003000000efbc810200000004000000f09f98800400000008000000020000000000000004000000080000000100000000000000",
    );
    const keys = [
      { name: "\u{1F600}", type: "INT64" as const },
      { name: "\uFF01", type: "INT64" as const },
    ];
    expect(serializeEntityKey(keys, [1, 2])).toEqual(feast);
  });

  it("encodes STRING values as utf-8 and BYTES as is, with negative INT64 as two's complement", () => {
    expect(serializeEntityKey([{ name: "c", type: "STRING" }], ["é"])).toEqual(hex("01000000 02000000 01000000 63 02000000 02000000 c3a9"));
    expect(serializeEntityKey([{ name: "c", type: "BYTES" }], [new Uint8Array([0, 255])])).toEqual(
      hex("01000000 02000000 01000000 63 01000000 02000000 00ff"),
    );
    expect(serializeEntityKey([{ name: "c", type: "INT64" }], [-1])).toEqual(
      hex("01000000 02000000 01000000 63 04000000 08000000 ffffffffffffffff"),
    );
  });

  it("appends the project name to form the Redis key", () => {
    const key = redisKey("feature_repo", [{ name: "driver_id", type: "INT64" }], [1001]);
    expect(key.subarray(-12).toString()).toBe("feature_repo");
    expect(key.subarray(0, -12)).toEqual(serializeEntityKey([{ name: "driver_id", type: "INT64" }], [1001]));
  });

  it("does not depend on the order join keys are given in (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z_]{1,8}$/), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer(), { minLength: 4, maxLength: 4 }),
        (names, values) => {
          const keys = names.map((name) => ({ name, type: "INT64" as const }));
          const vals = names.map((_, i) => values[i] as number);
          const reversed = serializeEntityKey([...keys].reverse(), [...vals].reverse());
          const forward = serializeEntityKey(keys, vals);
          expect(reversed).toEqual(forward);
          // count + per key (type, len, name) + per value (type, len, 8 bytes)
          expect(forward.length).toBe(4 + names.reduce((n, name) => n + 8 + name.length + 16, 0));
        },
      ),
    );
  });

  it("writes every INT64 as 8 bytes of two's complement, a safe number exactly as the same bigint (property)", () => {
    const key = [{ name: "driver_id", type: "INT64" as const }];
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.maxSafeInteger(), (big, safe) => {
        const expected = (v: bigint) => {
          const bytes = Buffer.alloc(8);
          bytes.writeBigInt64LE(v);
          return bytes;
        };
        expect(serializeEntityKey(key, [big]).subarray(-8)).toEqual(expected(big));
        expect(serializeEntityKey(key, [safe]).subarray(-8)).toEqual(expected(BigInt(safe)));
        expect(serializeEntityKey(key, [safe])).toEqual(serializeEntityKey(key, [BigInt(safe)]));
      }),
      { numRuns: 2000 },
    );
    expect(() => serializeEntityKey(key, [1.5])).toThrow();
  });

  it("gives the same Redis keys through the per-view encoder as through redisKey, for every key type and both versions (property)", () => {
    const keyValue = fc.oneof(
      fc.record({
        type: fc.constant("INT64" as const),
        value: fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      }),
      fc.record({ type: fc.constant("INT32" as const), value: fc.integer() }),
      fc.record({ type: fc.constant("STRING" as const), value: fc.string() }),
      fc.record({ type: fc.constant("BYTES" as const), value: fc.uint8Array() }),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z_]{1,8}$/), { minLength: 1, maxLength: 3 }),
        fc.array(keyValue, { minLength: 3, maxLength: 3 }),
        fc.constantFrom(2 as const, 3 as const),
        (names, typed, version) => {
          const joinKeys = names.map((name, i) => ({ name, type: (typed[i] as { type: "INT64" }).type }));
          const values = names.map((_, i) => (typed[i] as { value: number }).value);
          expect(redisKeyEncoder("bench", joinKeys, version)(values)).toEqual(redisKey("bench", joinKeys, values, version));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("Redis hash fields", () => {
  it("hash with Murmur3 x86 32-bit and store it little-endian (reference vectors)", () => {
    // MurmurHash3_x86_32 reference values: "" -> 0, "hello" -> 0x248bfa47, the quick brown fox -> 0x2e4ff723.
    expect(mmh3LittleEndian("")).toEqual(hex("00000000"));
    expect(mmh3LittleEndian("hello")).toEqual(hex("47fa8b24"));
    expect(mmh3LittleEndian("The quick brown fox jumps over the lazy dog")).toEqual(hex("23f74f2e"));
  });

  it("name a feature's field after '<feature_view>:<feature>'", () => {
    expect(featureField("driver_hourly_stats", "conv_rate")).toEqual(mmh3LittleEndian("driver_hourly_stats:conv_rate"));
  });
});

describe("feast.types.Value bytes", () => {
  const cases: [string, Parameters<typeof encodeValue>[0], Parameters<typeof encodeValue>[1], string][] = [
    ["double_val = 5", "Float64", 0.5, "29 000000000000e03f"],
    ["float_val = 6", "Float32", 1.5, "35 0000c03f"],
    ["int64_val = 4", "Int64", 300, "20 ac02"],
    ["int32_val = 3 (negative: 10-byte varint)", "Int32", -1, "18 ffffffffffffffffff01"],
    ["string_val = 2", "String", "hi", "12 02 6869"],
    ["bool_val = 7", "Bool", true, "38 01"],
    ["bytes_val = 1", "Bytes", new Uint8Array([1, 2]), "0a 02 0102"],
    ["unix_timestamp_val = 8", "UnixTimestamp", 1700000000, "40 80e2cfaa06"],
    ["int32_list_val = 13 (packed)", "Array(Int32)", [1, 2, 3], "6a 05 0a03010203"],
    ["string_list_val = 12", "Array(String)", ["a", "b"], "62 06 0a0161 0a0162"],
    ["null is the empty Value", "Float64", null, ""],
  ];
  it.each(cases)("%s", (_field, dtype, value, bytes) => {
    expect(Buffer.from(encodeValue(dtype, value))).toEqual(hex(bytes));
    expect(decodeValue(hex(bytes))).toEqual(value);
  });

  it("reads unpacked repeated fields too (older Feast writers)", () => {
    expect(decodeValue(hex("6a 06 0801 0802 0803"))).toEqual([1, 2, 3]);
  });

  it("stores the event time as google.protobuf.Timestamp seconds and nanos, as Feast 0.59+ writes _ts", () => {
    expect(Buffer.from(encodeTimestamp(1_700_000_000_500_000_000n))).toEqual(hex(`08 80e2cfaa06 10 ${"80cab5ee01"}`));
    expect(Buffer.from(encodeTimestamp(1_700_000_000_000_000_000n))).toEqual(hex("08 80e2cfaa06"));
    expect(decodeTimestamp(hex("08 80e2cfaa06 10 01"))).toBe(1_700_000_000_000_000_001n);
    // Feast before 0.59 wrote seconds only: no nanos field reads as .000000000.
    expect(decodeTimestamp(hex("08 80e2cfaa06"))).toBe(1_700_000_000_000_000_000n);
  });

  it("round-trips any Float64, Int64-safe integer and string, zero values included (property)", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.maxSafeInteger(), fc.string(), (d, i, s) => {
        expect(decodeValue(encodeValue("Float64", d))).toBe(d);
        expect(decodeValue(encodeValue("Int64", i))).toBe(i);
        expect(decodeValue(encodeValue("String", s))).toBe(s);
      }),
    );
  });
});

describe("Redis layout written by the Redis adapter", () => {
  let redis: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });

  it("is one hash per entity key with mmh3 fields, Value bytes and a _ts field, readable without our reader", async () => {
    const catalog = fixtureCatalog();
    const store = await openOnlineStore(redis.url);
    await store.writeFeatures(onlineViewOf(catalog, "driver_hourly_stats"), [
      { key: [1001], eventTimestamp: nanosFromSeconds(1700000000), values: { acc_rate: 0.5, avg_daily_trips: 300 } },
    ]);
    await store.close();
    const key = Buffer.concat([
      hex(`01000000 02000000 09000000 ${Buffer.from("driver_id").toString("hex")} 04000000 08000000 e903000000000000`),
      Buffer.from("rides_project"),
    ]);
    const hash = await raw.hgetallBuffer(key);
    expect(Object.keys(hash)).toHaveLength(3);
    expect(await raw.hgetBuffer(key, "_ts:driver_hourly_stats")).toEqual(hex("08 80e2cfaa06"));
    expect(await raw.hgetBuffer(key, mmh3LittleEndian("driver_hourly_stats:acc_rate"))).toEqual(hex("29 000000000000e03f"));
    expect(await raw.hgetBuffer(key, mmh3LittleEndian("driver_hourly_stats:avg_daily_trips"))).toEqual(hex("20 ac02"));
  });

  it("serves rows that a Feast writer put there (hand-built hash), with statuses per field", async () => {
    const catalog = fixtureCatalog();
    const key = Buffer.concat([
      hex(`01000000 02000000 09000000 ${Buffer.from("driver_id").toString("hex")} 04000000 08000000 ea03000000000000`),
      Buffer.from("rides_project"),
    ]);
    await raw.hset(
      key,
      "_ts:driver_hourly_stats",
      hex("08 80e2cfaa06"),
      mmh3LittleEndian("driver_hourly_stats:conv_rate"),
      hex("35 0000c03f"),
      mmh3LittleEndian("driver_hourly_stats:acc_rate"),
      hex(""),
    );
    const store = await openOnlineStore(redis.url);
    const [row] = await store.readFeatures(
      onlineViewOf(catalog, "driver_hourly_stats"),
      [[1002]],
      ["conv_rate", "acc_rate", "avg_daily_trips"],
    );
    await store.close();
    expect(row).toEqual({ eventTimestamp: nanosFromSeconds(1700000000), values: { conv_rate: 1.5, acc_rate: null } });
  });
});

describe("Feast's DynamoDB layout and entity key v2", () => {
  // Expected values printed by Feast 0.67's own code (venv-feast):
  // helpers.compute_entity_id(EntityKey(join_keys=["driver_id"], entity_values=[Value(int64_val=1001)]), v)
  // and str(utils.make_tzaware(datetime(2024, 5, 1, 12, 0, 0, 500000))).
  const driver = [{ name: "driver_id", type: "INT64" as const }];

  it("hashes entity_id with mmh3.hash_bytes byte order (each 64-bit half little-endian)", () => {
    expect(dynamoEntityId(serializeEntityKey(driver, [1001]))).toBe("f3cfd4a822f245b63975464763babaec");
    expect(dynamoEntityId(serializeEntityKey(driver, [1001], undefined, 2))).toBe("5b483ef27f6503dc22e8faf55eb4df4b");
  });

  it("serializes entity key v2 without the key count and name lengths", () => {
    expect(serializeEntityKey(driver, [1001], undefined, 2)).toEqual(
      hex(`02000000 ${Buffer.from("driver_id").toString("hex")} 04000000 08000000 e903000000000000`),
    );
  });

  it("writes event_ts as Python's str() of the UTC datetime, which fromisoformat reads back", () => {
    expect(formatPythonDatetime(1_714_564_800_500_000_000n)).toBe("2024-05-01 12:00:00.500000+00:00");
    expect(formatPythonDatetime(1_714_564_800_000_000_000n)).toBe("2024-05-01 12:00:00+00:00");
    expect(nanosFromIso("2024-05-01 12:00:00.500000+00:00")).toBe(1_714_564_800_500_000_000n);
  });
});

describe("every Value type Feast 0.67 writes is read, never a silent null", () => {
  // Bytes printed by Feast 0.67's own protos (venv-feast): Value(json_val=...).SerializeToString().hex() etc.
  const uuid = "6f1b3c1e-8d2a-4c55-9a0b-2f1e3d4c5b6a";
  const cases: [string, string, unknown][] = [
    ["json_val = 32 (the JSON text, as Feast's server answers it)", "82020d7b2261223a205b312c20325d7d", '{"a": [1, 2]}'],
    ["json_list_val = 33", "8a02090a027b7d0a035b315d", ["{}", "[1]"]],
    ["uuid_val = 36", `a20224${Buffer.from(uuid).toString("hex")}`, uuid],
    ["uuid_list_val = 38", `b202260a24${Buffer.from(uuid).toString("hex")}`, [uuid]],
    ["string_set_val = 23", "ba01060a01780a0179", ["x", "y"]],
    ["int64_set_val = 25, exact above 2^53", "ca010a0a088180808080808010", [9007199254740993n]],
    ["map_val = 20, nested values", "a2011a0a080a017312031201760a0e0a016b1209208180808080808010", { s: "v", k: 9007199254740993n }],
    ["null_val = 19", "980100", null],
  ];
  it.each(cases)("%s", (_field, bytes, value) => {
    expect(decodeValue(hex(bytes))).toEqual(value);
  });

  it("answers a type it cannot represent (zoned_timestamp_val, or a field newer than 0.67) as undecodable, not null", () => {
    expect(decodeValue(hex("8203140880e2cfaa06120c4575726f70652f5061726973"))).toBeInstanceOf(UndecodableValue);
    // Field 99 (a future Feast type), length-delimited.
    expect(decodeValue(hex("9a0603616263"))).toBeInstanceOf(UndecodableValue);
  });

  it("answers bytes that are not a Value at all (truncated, wrong wire type) as undecodable instead of throwing", () => {
    // string_val (field 2) announcing 5 bytes and holding 1; double_val (field 1) sent as length-delimited.
    for (const bytes of ["1205 61", "0a02 61"]) expect(decodeValue(hex(bytes))).toEqual(new UndecodableValue("malformed"));
  });
});
