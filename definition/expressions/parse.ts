import * as ohm from "ohm-js";

/**
 * The feature expression language (derived and on-demand features, aggregation filters): a small
 * SQL-like language, parsed with ohm-js (a kept PEG library) into the AST below. One AST feeds
 * the type checker (plan time), the evaluator (online) and the SQL compiler (training sets), so
 * the three cannot read an expression differently.
 *
 *   amount / card_txn:amount_mean_7d          arithmetic, references ("view:feature" or a name)
 *   amount > 100 and not is_weekend(ts)       comparisons, and / or / not
 *   case when x > 0 then 'pos' else 'neg' end  case, coalesce(a, b), least/greatest, abs, log
 *   bucket(amount, [0, 25, 35, 50, 100])      bucket index, 0 .. number of edges
 *   country || '_' || bucket(amount, [10])    string concatenation (crosses)
 */
const GRAMMAR = ohm.grammar(`
FeatureExpression {
  Exp = OrExp
  OrExp = OrExp kw_or AndExp  -- or
        | AndExp
  AndExp = AndExp kw_and NotExp  -- and
         | NotExp
  NotExp = kw_not NotExp  -- not
         | CmpExp
  CmpExp = AddExp cmpOp AddExp  -- cmp
         | AddExp
  AddExp = AddExp addOp MulExp  -- bin
         | MulExp
  MulExp = MulExp mulOp UnaryExp  -- bin
         | UnaryExp
  UnaryExp = "-" UnaryExp  -- neg
           | Primary
  Primary = "(" Exp ")"  -- paren
          | kw_case When+ Else? kw_end  -- case
          | ident "(" ListOf<Arg, ","> ")"  -- call
          | number
          | string
          | kw_true  -- true
          | kw_false  -- false
          | kw_null  -- null
          | ref
  When = kw_when Exp kw_then Exp
  Else = kw_else Exp
  Arg = "[" ListOf<signedNumber, ","> "]"  -- list
      | Exp
  cmpOp = "<=" | ">=" | "!=" | "<>" | "=" | "<" | ">"
  addOp = "||" | "+" | "-"
  mulOp = "*" | "/" | "%"
  ref = ident ":" ident  -- qualified
      | ~keyword ident  -- plain
  ident = (letter | "_") (alnum | "_")*
  number = digit+ ("." digit+)? exponent?
  exponent = ("e" | "E") ("+" | "-")? digit+
  signedNumber = "-"? number
  string = "'" (~"'" any | "''")* "'"
  keyword = (kw_case | kw_when | kw_then | kw_else | kw_end | kw_and | kw_or | kw_not | kw_true | kw_false | kw_null)
  kw_case = caseInsensitive<"case"> ~(alnum | "_")
  kw_when = caseInsensitive<"when"> ~(alnum | "_")
  kw_then = caseInsensitive<"then"> ~(alnum | "_")
  kw_else = caseInsensitive<"else"> ~(alnum | "_")
  kw_end = caseInsensitive<"end"> ~(alnum | "_")
  kw_and = caseInsensitive<"and"> ~(alnum | "_")
  kw_or = caseInsensitive<"or"> ~(alnum | "_")
  kw_not = caseInsensitive<"not"> ~(alnum | "_")
  kw_true = caseInsensitive<"true"> ~(alnum | "_")
  kw_false = caseInsensitive<"false"> ~(alnum | "_")
  kw_null = caseInsensitive<"null"> ~(alnum | "_")
}
`);

/** Where a node sits in the expression text (0-based offsets, end exclusive). */
export interface Span {
  start: number;
  end: number;
}

export type BinaryOp = "+" | "-" | "*" | "/" | "%" | "||" | "=" | "!=" | "<" | "<=" | ">" | ">=" | "and" | "or";

export type Expr =
  | { kind: "number"; value: number; integer: boolean; at: Span }
  | { kind: "string"; value: string; at: Span }
  | { kind: "bool"; value: boolean; at: Span }
  | { kind: "null"; at: Span }
  | { kind: "ref"; view?: string; name: string; at: Span }
  | { kind: "neg" | "not"; operand: Expr; at: Span }
  | { kind: "binary"; op: BinaryOp; left: Expr; right: Expr; at: Span }
  | { kind: "call"; fn: string; args: Expr[]; edges?: number[]; at: Span }
  | { kind: "case"; whens: [Expr, Expr][]; otherwise?: Expr; at: Span };

/** A parse or type error, with the offset in the expression text it points at. */
export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly at: Span,
  ) {
    super(message);
    this.name = "ExpressionError";
  }
}

const span = (node: ohm.Node): Span => ({ start: node.source.startIdx, end: node.source.endIdx });

const semantics = GRAMMAR.createSemantics().addOperation<Expr>("ast", {
  OrExp_or: (l, _op, r) => binary("or", l, r),
  AndExp_and: (l, _op, r) => binary("and", l, r),
  NotExp_not(_op, e) {
    return { kind: "not", operand: e.ast(), at: span(this) };
  },
  CmpExp_cmp: (l, op, r) => binary((op.sourceString === "<>" ? "!=" : op.sourceString) as BinaryOp, l, r),
  AddExp_bin: (l, op, r) => binary(op.sourceString as BinaryOp, l, r),
  MulExp_bin: (l, op, r) => binary(op.sourceString as BinaryOp, l, r),
  UnaryExp_neg(_minus, e) {
    return { kind: "neg", operand: e.ast(), at: span(this) };
  },
  Primary_paren: (_l, e, _r) => e.ast(),
  Primary_case(_case, whens, otherwise, _end) {
    const pairs = whens.children.map((w) => [w.children[1]?.ast(), w.children[3]?.ast()] as [Expr, Expr]);
    const other = otherwise.children[0]?.children[1]?.ast() as Expr | undefined;
    return { kind: "case", whens: pairs, ...(other ? { otherwise: other } : {}), at: span(this) };
  },
  Primary_call(name, _l, args, _r) {
    const items = args.asIteration().children;
    const exprs: Expr[] = [];
    let edges: number[] | undefined;
    for (const item of items) {
      if (item.ctorName === "Arg" && item.children[0]?.ctorName === "Arg_list") {
        edges = (item.children[0].children[1] as ohm.Node).asIteration().children.map((n) => Number(n.sourceString));
      } else exprs.push(item.ast());
    }
    return { kind: "call", fn: name.sourceString.toLowerCase(), args: exprs, ...(edges ? { edges } : {}), at: span(this) };
  },
  Primary_true(_t) {
    return { kind: "bool", value: true, at: span(this) };
  },
  Primary_false(_f) {
    return { kind: "bool", value: false, at: span(this) };
  },
  Primary_null(_n) {
    return { kind: "null", at: span(this) };
  },
  Arg_list(_l, _items, _r) {
    throw new ExpressionError("a [list] is only allowed as the edges of bucket(x, [..])", span(this));
  },
  number(_int, _dot, _frac, _exp) {
    const text = this.sourceString;
    return { kind: "number", value: Number(text), integer: /^\d+$/.test(text), at: span(this) };
  },
  string(_l, _chars, _r) {
    return { kind: "string", value: this.sourceString.slice(1, -1).replace(/''/g, "'"), at: span(this) };
  },
  ref_qualified(view, _colon, name) {
    return { kind: "ref", view: view.sourceString, name: name.sourceString, at: span(this) };
  },
  ref_plain(name) {
    return { kind: "ref", name: name.sourceString, at: span(this) };
  },
});

function binary(op: BinaryOp, l: ohm.Node, r: ohm.Node): Expr {
  const left = l.ast();
  const right = r.ast();
  return { kind: "binary", op, left, right, at: { start: left.at.start, end: right.at.end } };
}

/** Parses an expression; throws ExpressionError pointing at the first place it cannot read. */
export function parseExpression(text: string): Expr {
  const match = GRAMMAR.match(text);
  if (match.failed()) {
    const at = match.getRightmostFailurePosition();
    throw new ExpressionError(`cannot parse at column ${at + 1}: ${match.shortMessage?.replace(/^Line \d+, col \d+: /, "")}`, {
      start: at,
      end: at + 1,
    });
  }
  return semantics(match).ast();
}

/** The references ("view:feature" or plain names) an expression reads, in order of appearance. */
export function referencesOf(expr: Expr): { view?: string; name: string }[] {
  const out: { view?: string; name: string }[] = [];
  const walk = (e: Expr): void => {
    if (e.kind === "ref") out.push(e.view ? { view: e.view, name: e.name } : { name: e.name });
    else if (e.kind === "neg" || e.kind === "not") walk(e.operand);
    else if (e.kind === "binary") {
      walk(e.left);
      walk(e.right);
    } else if (e.kind === "call") e.args.forEach(walk);
    else if (e.kind === "case") {
      for (const [c, v] of e.whens) {
        walk(c);
        walk(v);
      }
      if (e.otherwise) walk(e.otherwise);
    }
  };
  walk(expr);
  return out;
}
