import { peerPython } from "../../support/peers";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { chiSquareHomogeneity } from "../../../services/drift/methods/chisquare";
import { jensenShannonDistance } from "../../../services/drift/methods/jensen-shannon";
import { ksTest, sortedCopy } from "../../../services/drift/methods/ks";
import { wassersteinDistance } from "../../../services/drift/methods/wasserstein";
import { generator } from "./generate";

type Case =
  | { kind: "ks"; label: string; a: number[]; b: number[] }
  | { kind: "chisquare"; label: string; reference: number[]; current: number[] }
  | { kind: "wasserstein"; label: string; a: number[]; b: number[] }
  | { kind: "jensenshannon"; label: string; p: number[]; q: number[]; base: number };
interface Answer {
  statistic: number;
  p_value?: number;
  dof?: number;
}

const g = generator(20261123);
const cases: Case[] = [];
const samples: [string, number[], number[]][] = [];
for (const [n1, n2] of [
  [5, 5],
  [5, 7],
  [8, 13],
  [20, 20],
  [30, 50],
  [50, 47],
  [1000, 800],
  [3000, 3000],
  [10000, 9999],
] as [number, number][]) {
  samples.push([`normal vs shifted n=${n1},${n2}`, g.normal(n1), g.normal(n2, 0.4)]);
  samples.push([`heavy tails n=${n1},${n2}`, g.heavy(n1), g.heavy(n2, 0.1)]);
  samples.push([`ties n=${n1},${n2}`, g.ties(n1), g.ties(n2, 0.3)]);
}
// Large samples take scipy's asymptotic branch (max(n1, n2) > 10000), including its small-n Kolmogorov regime.
samples.push(["normal vs slightly shifted n=100k", g.normal(100_000), g.normal(100_000, 0.01)]);
samples.push(["identical distributions n=100k", g.normal(100_000), g.normal(100_000)]);
samples.push(["heavy tails n=100k", g.heavy(100_000), g.heavy(100_000, 0.02)]);
samples.push(["ties n=100k vs 60k", g.ties(100_000), g.ties(60_000, 0.01)]);
samples.push(["asymptotic with a small sample n=20000,40", g.normal(20_000), g.normal(40, 0.3)]);
samples.push(["asymptotic with a mid sample n=15000,800", g.normal(15_000), g.normal(800, 0.05)]);
for (const [label, a, b] of samples) {
  cases.push({ kind: "ks", label, a, b });
  cases.push({ kind: "wasserstein", label, a, b });
}
for (const [n1, n2, tilt] of [
  [200, 150, 0],
  [1000, 1000, 0.02],
  [100_000, 100_000, 0.002],
  [30, 25, 0.1],
] as [number, number, number][]) {
  const reference = g.categories(n1, 0);
  const current = g.categories(n2, tilt);
  const keep = reference.map((r, i) => r + current[i]! > 0);
  const label = `categories with a rare level n=${n1},${n2}`;
  cases.push({ kind: "chisquare", label, reference: reference.filter((_, i) => keep[i]), current: current.filter((_, i) => keep[i]) });
  cases.push({ kind: "jensenshannon", label, p: reference, q: current, base: 2 });
  cases.push({ kind: "jensenshannon", label: `${label} (base e)`, p: reference, q: current, base: Math.E });
}
cases.push({ kind: "chisquare", label: "2x2 table (Yates correction)", reference: [40, 60], current: [55, 45] });
cases.push({ kind: "chisquare", label: "2x2 table with a small cell", reference: [3, 97], current: [0, 100] });
cases.push({ kind: "jensenshannon", label: "disjoint supports", p: [10, 0, 5], q: [0, 7, 0], base: 2 });

let answers: Answer[] = [];
beforeAll(() => {
  const output = execFileSync(peerPython("scipy"), [join(__dirname, "scipy_reference.py")], {
    input: JSON.stringify(cases),
    maxBuffer: 1 << 30,
    timeout: 120_000,
  });
  answers = JSON.parse(output.toString()) as Answer[];
}, 180_000);

/** 1e-9 relative on statistics (absolute near zero). */
function expectStatistic(ours: number, theirs: number) {
  expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(1e-9 * Math.max(Math.abs(theirs), 1e-3));
}
/** 1e-6 on p-values, absolute: tail p-values far below 1e-6 need not agree in relative terms to decide anything. */
function expectPValue(ours: number, theirs: number) {
  expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(1e-6);
}

describe("agreement with SciPy", () => {
  cases.forEach((c, i) => {
    if (c.kind === "ks") {
      it(`KS statistic and p-value match scipy.stats.ks_2samp: ${c.label}`, () => {
        const ours = ksTest(sortedCopy(c.a), sortedCopy(c.b));
        expectStatistic(ours.statistic, answers[i]!.statistic);
        expectPValue(ours.pValue, answers[i]!.p_value!);
        // scipy's auto rule; like scipy, an exact answer outside [0, 1] (heavy ties, tiny n) falls back to asymp.
        if (Math.max(c.a.length, c.b.length) > 10000) expect(ours.mode).toBe("asymp");
      });
    } else if (c.kind === "wasserstein") {
      it(`Wasserstein matches scipy.stats.wasserstein_distance: ${c.label}`, () => {
        expectStatistic(wassersteinDistance(sortedCopy(c.a), sortedCopy(c.b)), answers[i]!.statistic);
      });
    } else if (c.kind === "chisquare") {
      it(`chi-square matches scipy.stats.chi2_contingency: ${c.label}`, () => {
        const ours = chiSquareHomogeneity(c.reference, c.current);
        expectStatistic(ours.statistic, answers[i]!.statistic);
        expectPValue(ours.pValue, answers[i]!.p_value!);
        expect(ours.dof).toBe(answers[i]!.dof);
      });
    } else {
      it(`Jensen-Shannon matches scipy.spatial.distance.jensenshannon: ${c.label}`, () => {
        expectStatistic(jensenShannonDistance(c.p, c.q, c.base), answers[i]!.statistic);
      });
    }
  });
});
