import type { Expr } from "./parse";

/**
 * A value in an expression: numbers (Int and Float), strings, booleans, null. A Timestamp is a
 * number of epoch microseconds (UTC), so request times keep their precision.
 */
export type ExprValue = number | string | boolean | null;

const US_PER_HOUR = 3_600_000_000;
const US_PER_DAY = 86_400_000_000;

/** Floor modulo (the result has the divisor's sign), for days and hours before 1970. */
const mod = (a: number, b: number) => ((a % b) + b) % b;

/** 0 = Monday .. 6 = Sunday, as pandas' dayofweek; 1970-01-01 was a Thursday (3). */
export function dayOfWeek(us: number): number {
  return mod(Math.floor(us / US_PER_DAY) + 3, 7);
}

export function hourOfDay(us: number): number {
  return mod(Math.floor(us / US_PER_HOUR), 24);
}

/**
 * Evaluates a type-checked expression. Null semantics, the same in every path (docs/features.md):
 * any null operand gives null (SQL's rule), except `and`/`or` (three-valued logic), `coalesce`
 * and `case`; division or modulo by zero and log of a number <= 0 give null.
 */
export function evaluate(expr: Expr, lookup: (ref: { view?: string; name: string }) => ExprValue): ExprValue {
  const ev = (e: Expr): ExprValue => {
    switch (e.kind) {
      case "number":
      case "string":
      case "bool":
        return e.value;
      case "null":
        return null;
      case "ref":
        return lookup(e);
      case "neg": {
        const v = ev(e.operand);
        return v === null ? null : -(v as number);
      }
      case "not": {
        const v = ev(e.operand);
        return v === null ? null : !v;
      }
      case "binary":
        return binary(e.op, e.left, e.right, ev);
      case "call":
        return call(e, e.args.map(ev));
      case "case": {
        for (const [condition, value] of e.whens) if (ev(condition) === true) return ev(value);
        return e.otherwise ? ev(e.otherwise) : null;
      }
    }
  };
  return ev(expr);
}

function binary(op: string, left: Expr, right: Expr, ev: (e: Expr) => ExprValue): ExprValue {
  if (op === "and" || op === "or") {
    const l = ev(left);
    const r = ev(right);
    const decisive = op === "or";
    if (l === decisive || r === decisive) return decisive;
    return l === null || r === null ? null : !decisive;
  }
  const l = ev(left);
  const r = ev(right);
  if (l === null || r === null) return null;
  switch (op) {
    case "+":
      return (l as number) + (r as number);
    case "-":
      return (l as number) - (r as number);
    case "*":
      return (l as number) * (r as number);
    case "/":
      return r === 0 ? null : (l as number) / (r as number);
    case "%":
      return r === 0 ? null : (l as number) % (r as number);
    case "||":
      return String(l) + String(r);
    case "=":
      return l === r;
    case "!=":
      return l !== r;
    case "<":
      return l < r;
    case "<=":
      return l <= r;
    case ">":
      return l > r;
    default:
      return l >= r;
  }
}

function call(e: Expr & { kind: "call" }, args: ExprValue[]): ExprValue {
  if (e.fn === "coalesce") return args.find((a) => a !== null) ?? null;
  if (args.some((a) => a === null)) return null;
  const x = args[0] as number;
  switch (e.fn) {
    // least/greatest order strings and timestamps too (check.ts orderable): Math.min/max would coerce them.
    case "least":
      // biome-ignore lint/complexity/useMathMinMax: the arguments may be strings (see above)
      return args.reduce((a, b) => ((b as number) < (a as number) ? b : a));
    case "greatest":
      // biome-ignore lint/complexity/useMathMinMax: the arguments may be strings (see above)
      return args.reduce((a, b) => ((b as number) > (a as number) ? b : a));
    case "abs":
      return Math.abs(x);
    case "log":
      return x > 0 ? Math.log(x) : null;
    case "bucket":
      return (e.edges ?? []).filter((edge) => edge <= x).length;
    case "day_of_week":
      return dayOfWeek(x);
    case "hour_of_day":
      return hourOfDay(x);
    case "is_weekend":
      return dayOfWeek(x) >= 5;
    default:
      throw new Error(`unknown function "${e.fn}"`);
  }
}
