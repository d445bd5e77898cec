import { describe, expect, it } from "vitest";
import { fromRaw } from "../../../services/serving/tensor-codec";

describe("raw tensor bytes as typed arrays", () => {
  it("are a view on the body when they start on an element boundary, and a copy with the same values when not", () => {
    const values = new Float32Array([1.5, -2, 3.25]);
    const store = new Uint8Array(17);
    store.set(new Uint8Array(values.buffer), 4);
    const aligned = fromRaw("FP32", store.subarray(4, 16), [3], "input x") as Float32Array;
    expect(Array.from(aligned)).toEqual([1.5, -2, 3.25]);
    expect(aligned.buffer).toBe(store.buffer);
    store.copyWithin(5, 4, 16);
    const misaligned = fromRaw("FP32", store.subarray(5, 17), [3], "input x") as Float32Array;
    expect(Array.from(misaligned)).toEqual([1.5, -2, 3.25]);
    expect(misaligned.buffer).not.toBe(store.buffer);
  });
});
