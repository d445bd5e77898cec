import type { Dtype } from "../catalog";
import { type Expr, ExpressionError } from "./parse";

/**
 * Types of the expression language. Int and Float are both "numeric"; Int is exact (whole numbers
 * up to 2^53), Float is a double. Timestamp is an instant (UTC). Null is the type of `null` and
 * fits anywhere.
 */
export type ExprType = "Int" | "Float" | "Bool" | "String" | "Timestamp" | "Null";

/** The expression type of a catalog dtype; undefined for bytes and lists, which expressions cannot read. */
export function exprTypeOf(dtype: Dtype): ExprType | undefined {
  switch (dtype) {
    case "Int32":
    case "Int64":
      return "Int";
    case "Float32":
    case "Float64":
      return "Float";
    case "Bool":
      return "Bool";
    case "String":
      return "String";
    case "UnixTimestamp":
      return "Timestamp";
    default:
      return undefined;
  }
}

/** Whether a value of expression type `type` can be stored as `dtype`. */
export function fitsDtype(type: ExprType, dtype: Dtype): boolean {
  if (type === "Null") return true;
  const target = exprTypeOf(dtype);
  if (target === type) return true;
  return type === "Int" && target === "Float";
}

/** What a name in an expression resolves to: its type, or a reason it cannot be read. */
export type Resolve = (ref: { view?: string; name: string }) => { type: ExprType } | { error: string };

const numeric = (t: ExprType) => t === "Int" || t === "Float" || t === "Null";

/** The result type of numeric operands: Int when every one is Int (or null), else Float. */
function widen(types: ExprType[]): ExprType {
  if (types.every((t) => t === "Null")) return "Null";
  return types.every((t) => t === "Int" || t === "Null") ? "Int" : "Float";
}

/** The common type of branches (case, coalesce, least/greatest); undefined when they do not mix. */
function unify(types: ExprType[]): ExprType | undefined {
  const known = types.filter((t) => t !== "Null");
  if (known.length === 0) return "Null";
  if (known.every((t) => t === "Int" || t === "Float")) return widen(known);
  return known.every((t) => t === known[0]) ? known[0] : undefined;
}

/** Functions of the language: argument count and result type from argument types. */
const FUNCTIONS: Record<string, { args: [number, number]; result: (types: ExprType[], e: Expr & { kind: "call" }) => ExprType }> = {
  coalesce: { args: [1, 32], result: (t, e) => need(unify(t), e, "coalesce needs arguments of one type") },
  least: { args: [2, 32], result: (t, e) => orderable(t, e) },
  greatest: { args: [2, 32], result: (t, e) => orderable(t, e) },
  abs: { args: [1, 1], result: (t, e) => numericArg(t[0], e) },
  log: {
    args: [1, 1],
    result: (t, e) => {
      numericArg(t[0], e);
      return "Float";
    },
  },
  bucket: {
    args: [1, 1],
    result: (t, e) => {
      numericArg(t[0], e);
      const edges = e.edges;
      if (!edges || edges.length === 0) throw new ExpressionError("bucket(x, [e1, e2, ...]) needs a list of edges", e.at);
      if (edges.some((v, i) => i > 0 && v <= (edges[i - 1] as number)))
        throw new ExpressionError(`bucket edges [${edges.join(", ")}] must rise strictly`, e.at);
      return "Int";
    },
  },
  day_of_week: { args: [1, 1], result: (t, e) => timestampArg(t[0], e, "Int") },
  hour_of_day: { args: [1, 1], result: (t, e) => timestampArg(t[0], e, "Int") },
  is_weekend: { args: [1, 1], result: (t, e) => timestampArg(t[0], e, "Bool") },
};

export const FUNCTION_NAMES = Object.keys(FUNCTIONS);

function need<T>(value: T | undefined, e: Expr, message: string): T {
  if (value === undefined) throw new ExpressionError(message, e.at);
  return value;
}

function orderable(types: ExprType[], e: Expr & { kind: "call" }): ExprType {
  const t = need(unify(types), e, `${e.fn} needs arguments of one type`);
  if (t === "Bool") throw new ExpressionError(`${e.fn} compares numbers, strings or timestamps, not Bool`, e.at);
  return t;
}

function numericArg(t: ExprType | undefined, e: Expr & { kind: "call" }): ExprType {
  if (!t || !numeric(t)) throw new ExpressionError(`${e.fn} needs a number, not ${t}`, e.args[0]?.at ?? e.at);
  return t === "Null" ? "Null" : t;
}

function timestampArg(t: ExprType | undefined, e: Expr & { kind: "call" }, result: ExprType): ExprType {
  if (t !== "Timestamp" && t !== "Null")
    throw new ExpressionError(`${e.fn} needs a timestamp (UnixTimestamp), not ${t}`, e.args[0]?.at ?? e.at);
  return result;
}

/**
 * Type-checks an expression and returns its type; throws ExpressionError at the offending node
 * (unknown names and functions, type mismatches such as dividing a string).
 */
export function checkExpression(expr: Expr, resolve: Resolve): ExprType {
  const type = (e: Expr): ExprType => {
    switch (e.kind) {
      case "number":
        return e.integer ? "Int" : "Float";
      case "string":
        return "String";
      case "bool":
        return "Bool";
      case "null":
        return "Null";
      case "ref": {
        const found = resolve(e);
        if ("error" in found) throw new ExpressionError(found.error, e.at);
        return found.type;
      }
      case "neg": {
        const t = type(e.operand);
        if (!numeric(t)) throw new ExpressionError(`cannot negate ${t}`, e.at);
        return t;
      }
      case "not": {
        const t = type(e.operand);
        if (t !== "Bool" && t !== "Null") throw new ExpressionError(`not needs Bool, not ${t}`, e.operand.at);
        return "Bool";
      }
      case "binary":
        return binaryType(e, type(e.left), type(e.right));
      case "call": {
        const spec = FUNCTIONS[e.fn];
        if (!spec) throw new ExpressionError(`unknown function "${e.fn}"; known: ${FUNCTION_NAMES.join(", ")}`, e.at);
        if (e.edges && e.fn !== "bucket") throw new ExpressionError("a [list] is only allowed as the edges of bucket(x, [..])", e.at);
        const [min, max] = spec.args;
        if (e.args.length < min || e.args.length > max)
          throw new ExpressionError(`${e.fn} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${e.args.length}`, e.at);
        return spec.result(e.args.map(type), e);
      }
      case "case": {
        for (const [condition] of e.whens) {
          const t = type(condition);
          if (t !== "Bool" && t !== "Null") throw new ExpressionError(`a when condition must be Bool, not ${t}`, condition.at);
        }
        const branches = [...e.whens.map(([, v]) => type(v)), ...(e.otherwise ? [type(e.otherwise)] : [])];
        return need(unify(branches), e, `case branches have different types (${branches.join(", ")})`);
      }
    }
  };
  return type(expr);
}

function binaryType(e: Expr & { kind: "binary" }, l: ExprType, r: ExprType): ExprType {
  const mismatch = () =>
    new ExpressionError(
      `${l} ${e.op} ${r} is not defined${e.op === "/" && (l === "String" || r === "String") ? " (a string cannot be divided)" : ""}`,
      e.at,
    );
  switch (e.op) {
    case "+":
    case "-":
    case "*":
      if (!numeric(l) || !numeric(r)) throw mismatch();
      return widen([l, r]);
    case "/":
      if (!numeric(l) || !numeric(r)) throw mismatch();
      return "Float";
    case "%":
      if ((l !== "Int" && l !== "Null") || (r !== "Int" && r !== "Null")) throw mismatch();
      return "Int";
    case "||":
      // Floats are not concatenated: engines print them differently (1.0 vs 1), which would be skew.
      if (![l, r].every((t) => t === "String" || t === "Int" || t === "Null")) throw mismatch();
      return "String";
    case "and":
    case "or":
      if (![l, r].every((t) => t === "Bool" || t === "Null")) throw mismatch();
      return "Bool";
    default: {
      if (unify([l, r]) === undefined) throw mismatch();
      if ((l === "Bool" || r === "Bool") && !["=", "!="].includes(e.op)) throw mismatch();
      return "Bool";
    }
  }
}
