import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "../../definition";

describe("durations", () => {
  it("parse units and combinations into seconds", () => {
    expect(parseDuration("90s")).toBe(90);
    expect(parseDuration("15m")).toBe(900);
    expect(parseDuration("1h30m")).toBe(5400);
    expect(parseDuration("2d")).toBe(172800);
    expect(parseDuration("0")).toBe(0);
  });

  it("refuse what is not a duration", () => {
    for (const bad of ["", "h", "10", "1x", "1h 30m", "-5s", "1.5.2h"]) expect(parseDuration(bad)).toBeUndefined();
  });

  it("format and parse round-trip for any whole number of seconds", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (s) => parseDuration(formatDuration(s)) === s));
  });
});
