import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Dtype } from "../../../definition/catalog";
import {
  decodeValue,
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
