import { featuresOf, isAggregated, rawColumnDtype, resolveAggregations } from "./aggregations";
import type { FeatureView } from "./catalog";
import type { SpecIssue } from "./errors";
import { checkExpression, type ExprType, exprTypeOf, fitsDtype, type Resolve } from "./expressions/check";
import { ExpressionError, parseExpression } from "./expressions/parse";
import type { Catalog, Origin } from "./registry";

type At = (origin: Origin, field: string, message: string, fix: string) => void;

const NUMERIC_FUNCTIONS = new Set(["sum", "mean", "stddev", "variance"]);

/**
 * Plan-time checks of aggregations, derived features and on-demand features: every expression is
 * parsed and type-checked against the catalog, so a typo or a type mismatch fails the plan with
 * the file, line and field instead of failing a training job or a request.
 */
export function checkFeatureEngineering(catalog: Catalog, at: At): void {
  for (const view of Object.values(catalog.featureViews)) {
    if (isAggregated(view)) checkAggregatedView(catalog, view, at);
    else {
      if (view.fields.length === 0)
        at(view.origin, "fields", "is empty", "list the view's features under fields:, or compute features with aggregations:");
      if (view.derived?.length)
        at(
          view.origin,
          "derived",
          "is set on a view without aggregations",
          "derived features are computed from a view's aggregations; add aggregations:, or use an on-demand feature view",
        );
    }
  }
  for (const odfv of Object.values(catalog.onDemandFeatureViews ?? {})) checkOnDemandView(catalog, odfv, at);
}

function checkAggregatedView(catalog: Catalog, view: FeatureView & { origin: Origin }, at: At): void {
  const joinKeys = new Set(view.entities.flatMap((e) => catalog.entities[e]?.joinKeys ?? []));
  const reserved = new Set([...joinKeys, view.source.timestampField]);
  const rawColumns = new Map<string, ExprType | undefined>(view.fields.map((f) => [f.name, exprTypeOf(f.dtype)]));
  for (const a of view.aggregations ?? []) if (a.column && !rawColumns.has(a.column)) rawColumns.set(a.column, "Float");
  const rawResolve: Resolve = (ref) => {
    if (ref.view) return { error: `"${ref.view}:${ref.name}": a where filter reads the raw event's columns, not other views` };
    if (!rawColumns.has(ref.name))
      return { error: `unknown column "${ref.name}"; known: ${[...rawColumns.keys()].join(", ") || "(none)"}` };
    const type = rawColumns.get(ref.name);
    return type ? { type } : { error: `column "${ref.name}" is a list or bytes, which expressions cannot read` };
  };
  const names = new Map<string, string>();
  const claim = (name: string, field: string) => {
    const other = names.get(name);
    if (other) at(view.origin, field, `makes a feature named "${name}", as ${other} does`, "give one of them another name with name:");
    else names.set(name, field);
  };
  resolveAggregations(view).forEach((a, i) => {
    const field = `aggregations[${i}]`;
    claim(a.name, `${field}.name`);
    if (!a.column && a.function !== "count")
      at(view.origin, `${field}.column`, `is missing: ${a.function} needs the column it aggregates`, "add column: <raw event column>");
    if (a.column && reserved.has(a.column))
      at(
        view.origin,
        `${field}.column`,
        `"${a.column}" is the view's ${joinKeys.has(a.column) ? "join key" : "timestamp field"}`,
        "aggregate a raw event column; count events with function: count and no column",
      );
    const dtype = a.column ? rawColumnDtype(view, a.column) : undefined;
    if (dtype && NUMERIC_FUNCTIONS.has(a.function) && !["Int", "Float"].includes(exprTypeOf(dtype) ?? ""))
      at(
        view.origin,
        `${field}.function`,
        `${a.function} needs a numeric column, but "${a.column}" is ${dtype}`,
        "use count, count_distinct, last or last_n",
      );
    if (dtype && (a.function === "min" || a.function === "max") && !["Int", "Float", "Timestamp"].includes(exprTypeOf(dtype) ?? ""))
      at(
        view.origin,
        `${field}.function`,
        `${a.function} needs a number or timestamp column, but "${a.column}" is ${dtype}`,
        "use last or count_distinct",
      );
    const declared = view.aggregations?.[i];
    if (a.function === "last_n" && declared?.n === undefined)
      at(view.origin, `${field}.n`, "is missing for last_n", "say how many values to keep, e.g. n: 5");
    if (a.function !== "last_n" && declared?.n !== undefined)
      at(view.origin, `${field}.n`, `is set for ${a.function}`, "n is only for last_n; remove it");
    if (a.windowSeconds % a.tileSeconds !== 0 || a.tileSeconds > a.windowSeconds)
      at(
        view.origin,
        `${field}.window`,
        `${declared?.window} is not a whole number of tiles of ${a.tileSeconds} s`,
        "choose a window that is a multiple of the tile, or set tile: on the aggregation",
      );
    if (a.where) {
      checkText(view.origin, `${field}.where`, a.where, at, (expr) => {
        const type = checkExpression(expr, rawResolve);
        if (type !== "Bool" && type !== "Null") throw new ExpressionError(`is ${type}, but a where filter must be true or false`, expr.at);
      });
    }
  });
  const aggregated = new Map(resolveAggregations(view).map((a) => [a.name, a]));
  const derivedResolve: Resolve = (ref) => {
    if (ref.view && ref.view !== view.name)
      return { error: `"${ref.view}:${ref.name}": a derived feature reads its own view's aggregates; use an on-demand feature view` };
    const a = aggregated.get(ref.name);
    if (!a) return { error: `unknown aggregate "${ref.name}"; the view has ${[...aggregated.keys()].join(", ")}` };
    const type = exprTypeOf(a.dtype);
    return type ? { type } : { error: `"${ref.name}" is a ${a.dtype}, which expressions cannot read` };
  };
  (view.derived ?? []).forEach((d, j) => {
    claim(d.name, `derived[${j}].name`);
    checkText(view.origin, `derived[${j}].expression`, d.expression, at, (expr) => {
      const type = checkExpression(expr, derivedResolve);
      if (!fitsDtype(type, d.dtype)) throw new ExpressionError(`is ${type}, which does not fit dtype ${d.dtype}`, expr.at);
    });
  });
  view.fields.forEach((f, i) => {
    if (names.has(f.name))
      at(
        view.origin,
        `fields[${i}].name`,
        `"${f.name}" is both a raw column and a feature of the view`,
        "rename the aggregation with name:",
      );
  });
}

function checkOnDemandView(catalog: Catalog, odfv: NonNullable<Catalog["onDemandFeatureViews"]>[string], at: At): void {
  if (catalog.featureViews[odfv.name])
    at(odfv.origin, "name", `"${odfv.name}" is also a feature view`, "feature references must be unambiguous; rename one");
  const request = new Map(odfv.request.map((f) => [f.name, f.dtype]));
  odfv.request.forEach((f, i) => {
    if (odfv.request.findIndex((g) => g.name === f.name) !== i)
      at(odfv.origin, `request[${i}].name`, `"${f.name}" is listed twice`, "list each request field once");
  });
  const resolve: Resolve = (ref) => {
    if (!ref.view) {
      const dtype = request.get(ref.name);
      if (!dtype)
        return { error: `unknown request field "${ref.name}"; declare it under request:, or write "<view>:${ref.name}" for a feature` };
      const type = exprTypeOf(dtype);
      return type ? { type } : { error: `request field "${ref.name}" is ${dtype}, which expressions cannot read` };
    }
    const view = catalog.featureViews[ref.view];
    if (!view) return { error: `"${ref.view}" is not a feature view` };
    const feature = featuresOf(view).find((f) => f.name === ref.name);
    if (!feature) return { error: `feature view "${ref.view}" has no feature "${ref.name}"` };
    const type = exprTypeOf(feature.dtype);
    return type ? { type } : { error: `"${ref.view}:${ref.name}" is ${feature.dtype}, which expressions cannot read` };
  };
  odfv.features.forEach((f, i) => {
    if (odfv.features.findIndex((g) => g.name === f.name) !== i)
      at(odfv.origin, `features[${i}].name`, `"${f.name}" is declared twice`, "rename one");
    checkText(odfv.origin, `features[${i}].expression`, f.expression, at, (expr) => {
      const type = checkExpression(expr, resolve);
      if (!fitsDtype(type, f.dtype)) throw new ExpressionError(`is ${type}, which does not fit dtype ${f.dtype}`, expr.at);
    });
  });
}

/** Parses and checks one expression field, turning an ExpressionError into an issue that quotes the text and column. */
function checkText(origin: Origin, field: string, text: string, at: At, check: (expr: ReturnType<typeof parseExpression>) => void): void {
  try {
    check(parseExpression(text));
  } catch (error) {
    if (!(error instanceof ExpressionError)) throw error;
    const column = error.at.start + 1;
    const message = error.message.startsWith("cannot parse") ? error.message : `column ${column}: ${error.message}`;
    at(origin, field, `"${text}": ${message}`, "fix the expression (the language is described in docs/feature-engineering.md)");
  }
}

/** Issues as SpecIssues, for callers that collect them directly. */
export function featureEngineeringIssues(catalog: Catalog): SpecIssue[] {
  const issues: SpecIssue[] = [];
  checkFeatureEngineering(catalog, (origin, field, message, fix) =>
    issues.push({ file: origin.file, path: [origin.path, field].filter(Boolean).join("."), message, fix }),
  );
  return issues;
}
