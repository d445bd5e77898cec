import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJson, stringifyJson } from "../../../services/core/json";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

describe("exact JSON for 64-bit integers", () => {
  it("keeps 2^53 + 1 as the integer it is (JSON.parse answers 2^53)", () => {
    expect(JSON.parse("[9007199254740993]")).toEqual([9007199254740992]);
    expect(parseJson("[9007199254740993]")).toEqual([9007199254740993n]);
  });

  it("parses and writes back every int64 unchanged, as a bare JSON number (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: INT64_MIN, max: INT64_MAX }), (n) => {
        const text = `{"entities":{"card_id":[${n}]}}`;
        const parsed = parseJson(text) as { entities: { card_id: (number | bigint)[] } };
        const value = parsed.entities.card_id[0] as number | bigint;
        expect(BigInt(value)).toBe(n);
        // Safe integers stay plain numbers, so the rest of the code keeps its fast path.
        expect(typeof value).toBe(n >= -(2n ** 53n - 1n) && n <= 2n ** 53n - 1n ? "number" : "bigint");
        expect(stringifyJson(parsed)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it("writes int64 max and min with all their digits", () => {
    expect(stringifyJson({ values: [INT64_MAX, INT64_MIN, 1.5, "x"] })).toBe(
      '{"values":[9223372036854775807,-9223372036854775808,1.5,"x"]}',
    );
  });

  it("keeps floats, strings holding long digit runs and repeated keys as JSON.parse does", () => {
    const text = '{"a":0.30000000000000004,"b":"12345678901234567890","c":1e21,"a":2.5}';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });
});
