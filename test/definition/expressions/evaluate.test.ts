import { describe, expect, it } from "vitest";
import { checkExpression, type ExprValue, evaluate, parseExpression, type Resolve } from "../../../definition/expressions";

const types: Record<string, "Int" | "Float" | "String" | "Bool" | "Timestamp"> = {
  x: "Float",
  n: "Int",
  s: "String",
  b: "Bool",
  ts: "Timestamp",
};
const resolve: Resolve = (ref) => (types[ref.name] ? { type: types[ref.name] as "Int" } : { error: `unknown "${ref.name}"` });

function run(text: string, values: Record<string, ExprValue> = {}): ExprValue {
  const expr = parseExpression(text);
  checkExpression(expr, resolve);
  return evaluate(expr, (ref) => values[ref.name] ?? null);
}

/** 2024-06-01 was a Saturday; 13:45 UTC. */
const SATURDAY_US = Date.UTC(2024, 5, 1, 13, 45) * 1000;

describe("expressions", () => {
  it("give null for division and modulo by zero, log of non-positive numbers and any null operand", () => {
    expect(run("x / n", { x: 1, n: 0 })).toBeNull();
    expect(run("n % 0", { n: 5 })).toBeNull();
    expect(run("log(x)", { x: 0 })).toBeNull();
    expect(run("log(x)", { x: -1 })).toBeNull();
    expect(run("x + 1", { x: null })).toBeNull();
    expect(run("x > 1", { x: null })).toBeNull();
    expect(run("greatest(x, 2)", { x: null })).toBeNull();
    expect(run("x / n", { x: 1, n: 4 })).toBe(0.25);
  });

  it("use three-valued logic for and/or, and coalesce/case to replace nulls", () => {
    expect(run("b and false", { b: null })).toBe(false);
    expect(run("b or true", { b: null })).toBe(true);
    expect(run("b and true", { b: null })).toBeNull();
    expect(run("not b", { b: null })).toBeNull();
    expect(run("coalesce(x, n, 7)", { x: null, n: null })).toBe(7);
    expect(run("case when x > 10 then 'big' when x > 1 then 'mid' else 'small' end", { x: 5 })).toBe("mid");
    expect(run("case when x > 10 then 'big' end", { x: null })).toBeNull();
  });

  it("bucket a value by the number of edges at or below it", () => {
    const b = (x: number) => run("bucket(x, [0, 25, 35, 50, 100])", { x });
    expect([b(-1), b(0), b(24.99), b(25), b(50), b(100), b(1e9)]).toEqual([0, 1, 1, 2, 4, 5, 5]);
  });

  it("read calendar parts in UTC: day_of_week 0 = Monday, hour_of_day, is_weekend", () => {
    expect(run("day_of_week(ts)", { ts: SATURDAY_US })).toBe(5);
    expect(run("hour_of_day(ts)", { ts: SATURDAY_US })).toBe(13);
    expect(run("is_weekend(ts)", { ts: SATURDAY_US })).toBe(true);
    expect(run("is_weekend(ts)", { ts: SATURDAY_US - 2 * 86_400_000_000 })).toBe(false);
    expect(run("day_of_week(ts)", { ts: -1 })).toBe(2); // 1969-12-31, a Wednesday
  });

  it("concatenate strings and integers for crosses", () => {
    expect(run("s || '_' || bucket(x, [10, 20])", { s: "FR", x: 15 })).toBe("FR_1");
  });

  it("refuse type errors when checked, pointing at the column", () => {
    const fails = (text: string) => {
      try {
        checkExpression(parseExpression(text), resolve);
      } catch (error) {
        return `${(error as Error).message} @${(error as { at: { start: number } }).at.start}`;
      }
      return "accepted";
    };
    expect(fails("s / 2")).toMatch(/String \/ Int is not defined \(a string cannot be divided\) @0/);
    expect(fails("x || 'a'")).toMatch(/Float \|\| String is not defined/);
    expect(fails("x and b")).toMatch(/Float and Bool/);
    expect(fails("1 + y")).toMatch(/unknown "y" @4/);
    expect(fails("bucket(x, [3, 1])")).toMatch(/must rise strictly/);
    expect(fails("hour_of_day(x)")).toMatch(/needs a timestamp/);
    expect(fails("case when x then 1 end")).toMatch(/when condition must be Bool/);
    expect(fails("coalesce(x, 'a')")).toMatch(/one type/);
  });
});
