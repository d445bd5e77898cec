/**
 * Which test a feature gets when the catalog does not say, following Evidently's
 * `get_stattest` defaults, and each method's default threshold and direction.
 *
 * | reference rows | feature                           | method                 | drifted when |
 * |----------------|-----------------------------------|------------------------|--------------|
 * | <= 1000        | numeric, > 5 unique values        | two-sample KS          | p < 0.05     |
 * | <= 1000        | categorical or <= 5 unique values | chi-square (> 2 values)| p < 0.05     |
 * | <= 1000        | exactly 1-2 unique values         | two-proportion Z-test  | p < 0.05     |
 * | > 1000         | numeric, > 5 unique values        | Wasserstein (normed)   | >= 0.1       |
 * | > 1000         | categorical or <= 5 unique values | Jensen-Shannon         | >= 0.1       |
 *
 * Unique values are counted over reference and current together, as Evidently does.
 */
import type { DriftMethod } from "../../definition";
import type { FeatureType } from "./table";

/** Evidently's switch from tests (small reference) to distances (large reference). */
export const SMALL_REFERENCE_ROWS = 1000;
/** At most this many unique values makes a numeric feature "few-valued" (treated as categories). */
export const FEW_VALUES = 5;

export const DEFAULT_THRESHOLDS: Readonly<Record<DriftMethod, number>> = {
  ks: 0.05,
  chisquare: 0.05,
  ztest: 0.05,
  psi: 0.1,
  wasserstein: 0.1,
  jensenshannon: 0.1,
};

/** Tests report a p-value (drift when below the threshold); the others a distance (drift when at or above). */
export function isPValueMethod(method: DriftMethod): boolean {
  return method === "ks" || method === "chisquare" || method === "ztest";
}

export const METHOD_NAMES: Readonly<Record<DriftMethod, string>> = {
  ks: "Kolmogorov-Smirnov (two-sample)",
  chisquare: "chi-square test of homogeneity",
  ztest: "two-proportion Z-test",
  psi: "Population Stability Index",
  wasserstein: "Wasserstein-1 distance (normed by reference std)",
  jensenshannon: "Jensen-Shannon distance (natural log)",
};

export interface MethodChoice {
  method: DriftMethod;
  /** A sentence for the report: why this method. */
  reason: string;
}

export function chooseMethod(type: FeatureType, referenceRows: number, uniqueValues: number): MethodChoice {
  const small = referenceRows <= SMALL_REFERENCE_ROWS;
  const size = `reference of ${referenceRows} rows (${small ? "at most" : "over"} ${SMALL_REFERENCE_ROWS})`;
  const few = type === "categorical" || uniqueValues <= FEW_VALUES;
  const kind =
    type === "categorical"
      ? `categorical with ${uniqueValues} categories`
      : `numeric with ${uniqueValues > FEW_VALUES ? `more than ${FEW_VALUES}` : uniqueValues} unique values`;
  if (small) {
    if (!few) return { method: "ks", reason: `${kind}, ${size}: two-sample KS test` };
    if (uniqueValues > 2) return { method: "chisquare", reason: `${kind}, ${size}: chi-square test` };
    return { method: "ztest", reason: `${kind} (binary), ${size}: Z-test for two proportions` };
  }
  if (!few) return { method: "wasserstein", reason: `${kind}, ${size}: normed Wasserstein distance` };
  return { method: "jensenshannon", reason: `${kind}, ${size}: Jensen-Shannon distance` };
}
