import { describe, expect, it } from "vitest";
import { asRecord, asStringRecord, get, splitFix, violation } from "../../policies/support";

describe("splitFix", () => {
  it("gives back the problem and the fix of a message made by violation()", () => {
    expect(splitFix(violation('S3 bucket "b"', "has no public-access block", "add one"))).toEqual({
      message: 'S3 bucket "b": has no public-access block.',
      fix: "add one",
    });
  });

  it("keeps a message without a fix whole, and splits one that is only a fix", () => {
    expect(splitFix("the engine's own message")).toEqual({ message: "the engine's own message", fix: "" });
    expect(splitFix(" Fix: set it")).toEqual({ message: "", fix: "set it" });
  });
});

describe("get, asRecord and asStringRecord", () => {
  it("get stops at a null or a scalar on the path instead of throwing", () => {
    expect(get({ spec: null }, "spec", "template")).toBeUndefined();
    expect(get({ spec: "x" }, "spec", "length")).toBeUndefined();
    expect(get({ spec: { containers: [{ name: "c" }] } }, "spec", "containers", 0, "name")).toBe("c");
  });

  it("asRecord takes plain objects only", () => {
    expect(asRecord(["a"])).toEqual({});
    expect(asRecord(null)).toEqual({});
    expect(asRecord({ a: 1 })).toEqual({ a: 1 });
  });

  it("asStringRecord keeps only the string values", () => {
    expect(asStringRecord({ team: "fraud", replicas: 2, on: true, tier: "gold" })).toStrictEqual({ team: "fraud", tier: "gold" });
  });
});
