import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Dtype } from "../../../definition/catalog";
import {
  decodeTimestamp,
  decodeTimestampWithProtobufjs,
  decodeValue,
  decodeValueWithProtobufjs,
  encodeTimestamp,
  encodeTimestampWithProtobufjs,
  encodeValue,
  encodeValueWithProtobufjs,
} from "../../../services/features/values";

/**
 * The hand-written encoder of scalar Values and Timestamps (value-wire.ts) must write exactly the
 * bytes protobufjs writes: the online-store format is Feast's, and these bytes are it.
 */
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const int64 = fc.oneof(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), fc.maxSafeInteger(), fc.constantFrom(0, -1, 1, 127, 128, -128));
const scalars: [Dtype, fc.Arbitrary<unknown>][] = [
  ["Float64", fc.oneof(fc.double(), fc.constantFrom(0, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.MIN_VALUE))],
  ["Float32", fc.float().map((f) => Math.fround(f))],
  ["Int64", int64],
  ["UnixTimestamp", int64],
  ["Int32", fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })],
  ["Bool", fc.boolean()],
  ["String", fc.string({ unit: "binary" })],
  ["Bytes", fc.uint8Array({ maxLength: 300 })],
];

describe("scalar Value wire encoding", () => {
  it.each(scalars)("writes %s values byte for byte as protobufjs does", (dtype, values) => {
    fc.assert(
      fc.property(values, (value) => {
        const encoded = encodeValue(dtype, value as never);
        // A Buffer, as protobufjs gives: ioredis would send a plain Uint8Array as "1,2,3".
        expect(Buffer.isBuffer(encoded)).toBe(true);
        const fast = Buffer.from(encoded);
        expect(fast.toString("hex")).toBe(Buffer.from(encodeValueWithProtobufjs(dtype, value as never)).toString("hex"));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads back what it writes, at the Int64 edges", () => {
    expect(decodeValue(encodeValue("Int64", INT64_MIN))).toBe(INT64_MIN);
    expect(decodeValue(encodeValue("Int64", INT64_MAX))).toBe(INT64_MAX);
    expect(decodeValue(encodeValue("Int64", -1))).toBe(-1);
  });

  it("writes event times byte for byte as protobufjs does, nanoseconds and pre-1970 included", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), (nanos) => {
        expect(Buffer.from(encodeTimestamp(nanos)).toString("hex")).toBe(Buffer.from(encodeTimestampWithProtobufjs(nanos)).toString("hex"));
      }),
      { numRuns: 2000 },
    );
  });
});

/** What a decoder gives for some bytes: its value, or that it threw. */
function outcome(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): unknown {
  try {
    return { value: decode(bytes) };
  } catch {
    return "throws";
  }
}

/** Bytes that start like a scalar Value or Timestamp (a known tag), then anything: truncated, repeated, trailing, over-long varints. */
const tagged = (tags: number[]) =>
  fc.tuple(fc.constantFrom(...tags), fc.uint8Array({ maxLength: 14 }), fc.boolean()).map(([tag, rest, plain]) => {
    const bytes = Buffer.from([tag, ...rest]);
    // A plain Uint8Array too, as the DynamoDB client hands out.
    return plain ? new Uint8Array(bytes) : bytes;
  });

/**
 * The read path decodes scalar Values and Timestamps by hand (value-wire.ts); it must give exactly
 * what protobufjs gives, for every value and for bytes it does not handle (which go to protobufjs).
 */
describe("scalar Value wire decoding", () => {
  it.each(scalars)("reads %s values exactly as protobufjs does", (dtype, values) => {
    fc.assert(
      fc.property(values, fc.boolean(), (value, plain) => {
        const bytes = Buffer.from(encodeValueWithProtobufjs(dtype, value as never));
        const input = plain ? new Uint8Array(bytes) : bytes;
        expect(decodeValue(input)).toEqual(decodeValueWithProtobufjs(input));
      }),
      { numRuns: 2000 },
    );
  });

  it("reads any bytes that start with a scalar tag as protobufjs does, or leaves them to it", () => {
    fc.assert(
      fc.property(tagged([0x0a, 0x12, 0x18, 0x20, 0x29, 0x35, 0x38, 0x40]), (bytes) => {
        expect(outcome(decodeValue, bytes)).toEqual(outcome(decodeValueWithProtobufjs, bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it("reads Int64 and Int32 edges as exact integers, a number when safe and a bigint beyond", () => {
    for (const v of [INT64_MIN, INT64_MAX, 2n ** 53n, -(2n ** 53n), 2n ** 53n - 1n, -(2n ** 49n), 2n ** 49n]) {
      const safe = v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n;
      expect(decodeValue(encodeValue("Int64", v))).toBe(safe ? Number(v) : v);
    }
    for (const v of [-(2 ** 31), 2 ** 31 - 1, -1, 0]) expect(decodeValue(encodeValue("Int32", v))).toBe(v);
  });

  it("reads event times exactly as protobufjs does, nanoseconds and pre-1970 included", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 19n), max: 10n ** 19n }), (nanos) => {
        const bytes = Buffer.from(encodeTimestampWithProtobufjs(nanos));
        expect(decodeTimestamp(bytes)).toBe(nanos);
        expect(decodeTimestamp(bytes)).toBe(decodeTimestampWithProtobufjs(bytes));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(tagged([0x08, 0x10]), (bytes) => {
        expect(outcome(decodeTimestamp, bytes)).toEqual(outcome(decodeTimestampWithProtobufjs, bytes));
      }),
      { numRuns: 5000 },
    );
  });
});
