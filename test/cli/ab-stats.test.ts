import { peerPython } from "../support/peers";
import { spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { main as abMain } from "../../cli/ab";
import { abReport, type Arm, probabilityBBeatsA, sampleSizePerArm, twoProportionZTest } from "../../cli/lifecycle/ab-stats";

/** Runs a Python snippet with SciPy (venv-scipy, from scripts/test-env.sh) and returns its JSON output. */
function scipy(code: string, input: unknown): unknown {
  const r = spawnSync(peerPython("scipy"), ["-c", code], { input: JSON.stringify(input), encoding: "utf8" });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const CASES: [Arm, Arm][] = [
  [
    { version: "a", successes: 120, trials: 1000 },
    { version: "b", successes: 150, trials: 1000 },
  ],
  [
    { version: "a", successes: 5, trials: 40 },
    { version: "b", successes: 9, trials: 38 },
  ],
  [
    { version: "a", successes: 4812, trials: 50000 },
    { version: "b", successes: 5003, trials: 50210 },
  ],
  [
    { version: "a", successes: 300, trials: 1000 },
    { version: "b", successes: 200, trials: 1000 },
  ],
  [
    { version: "a", successes: 1, trials: 2000 },
    { version: "b", successes: 30, trials: 2000 },
  ],
];

describe("A/B significance against SciPy", () => {
  it("the z statistic and two-sided p-value match SciPy's normal distribution to 1e-9", () => {
    const expected = scipy(
      `import json,sys,math
from scipy.stats import norm
out=[]
for a,b in json.load(sys.stdin):
    p1=a['successes']/a['trials']; p2=b['successes']/b['trials']
    p=(a['successes']+b['successes'])/(a['trials']+b['trials'])
    z=(p2-p1)/math.sqrt(p*(1-p)*(1/a['trials']+1/b['trials']))
    out.append([z, 2*norm.sf(abs(z))])
print(json.dumps(out))`,
      CASES,
    ) as [number, number][];
    CASES.forEach(([a, b], i) => {
      const r = twoProportionZTest(a, b);
      const [z, p] = expected[i] as [number, number];
      expect(Math.abs(r.z - z)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(z)));
      expect(Math.abs(r.pValue - p)).toBeLessThanOrEqual(1e-9 * Math.max(p, 1e-300) + 1e-15);
    });
  });

  it("P(B beats A) matches numerical integration of the Beta posteriors with SciPy", () => {
    const expected = scipy(
      `import json,sys
from scipy import integrate
from scipy.stats import beta
out=[]
for a,b in json.load(sys.stdin):
    A=beta(1+a['successes'],1+a['trials']-a['successes']); B=beta(1+b['successes'],1+b['trials']-b['successes'])
    lo=min(A.ppf(1e-12),B.ppf(1e-12)); hi=max(A.isf(1e-12),B.isf(1e-12))
    v,_=integrate.quad(lambda x: A.pdf(x)*B.sf(x), lo, hi, limit=500, epsabs=1e-13, epsrel=1e-11)
    out.append(v)
print(json.dumps(out))`,
      CASES,
    ) as number[];
    CASES.forEach(([a, b], i) => expect(probabilityBBeatsA(a, b)).toBeCloseTo(expected[i] as number, 6));
  });

  it("the sample size matches the normal-approximation formula evaluated with SciPy", () => {
    const inputs = [
      [0.1, 0.01],
      [0.05, 0.005],
      [0.3, -0.02],
      [0.5, 0.1],
    ];
    const expected = scipy(
      `import json,sys,math
from scipy.stats import norm
out=[]
for p1,mde in json.load(sys.stdin):
    p2=p1+mde; pb=(p1+p2)/2
    n=(norm.ppf(0.975)*math.sqrt(2*pb*(1-pb))+norm.ppf(0.8)*math.sqrt(p1*(1-p1)+p2*(1-p2)))**2/mde**2
    out.append(math.ceil(n))
print(json.dumps(out))`,
      inputs,
    ) as number[];
    inputs.forEach(([p, mde], i) => expect(sampleSizePerArm(p as number, mde as number)).toBe(expected[i]));
  });
});

describe("A/B properties", () => {
  const arm = (version: string) =>
    fc
      .integer({ min: 1, max: 5000 })
      .chain((trials) => fc.integer({ min: 0, max: trials }).map((successes) => ({ version, successes, trials })));

  it("swapping A and B flips z and keeps the p-value", () => {
    fc.assert(
      fc.property(arm("a"), arm("b"), (a, b) => {
        const ab = twoProportionZTest(a, b);
        const ba = twoProportionZTest(b, a);
        return Math.abs(ab.z + ba.z) < 1e-9 && Math.abs(ab.pValue - ba.pValue) < 1e-12 && ab.pValue >= 0 && ab.pValue <= 1;
      }),
    );
  });

  it("P(B beats A) and P(A beats B) sum to one", () => {
    fc.assert(
      fc.property(arm("a"), arm("b"), (a, b) => Math.abs(probabilityBBeatsA(a, b) + probabilityBBeatsA(b, a) - 1) < 1e-7),
      { numRuns: 60 },
    );
  });

  it("a clear winner is reported, and an underpowered test asks for more data", () => {
    expect(abReport({ version: "a", successes: 100, trials: 1000 }, { version: "b", successes: 160, trials: 1000 }).verdict).toBe(
      "B is better",
    );
    const small = abReport({ version: "a", successes: 10, trials: 100 }, { version: "b", successes: 11, trials: 100 });
    expect(small.verdict).toBe("keep collecting");
    expect(small.stillNeeded).toBe(small.requiredPerArm - 100);
  });
});

describe("npm run ab", () => {
  it("joins prediction logs with outcomes by request id and reports per version", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ab-"));
    const logDir = join(dir, "logs", "fraud-scorer", "2026-11-23", "18");
    mkdirSync(logDir, { recursive: true });
    const records: string[] = [];
    const outcomes = ["request_id,outcome"];
    for (let i = 0; i < 400; i++) {
      const version = i % 2 === 0 ? "v1" : "v2";
      records.push(
        JSON.stringify({
          timestamp: "2026-11-23T18:00:00Z",
          model: "fraud-scorer",
          version,
          request_id: `r${i}`,
          entities: {},
          features: {},
          outputs: { probability: 0.1 },
        }),
      );
      // v2 converts twice as often as v1.
      outcomes.push(`r${i},${version === "v1" ? Number(i % 20 === 0) : Number(i % 5 === 1)}`);
    }
    writeFileSync(join(logDir, "v1-1-0.jsonl"), `${records.join("\n")}\n`);
    writeFileSync(join(dir, "outcomes.csv"), `${outcomes.join("\n")}\n`);
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => printed.push(line);
    try {
      expect(await abMain(["fraud-scorer", "--logs", join(dir, "logs"), "--outcomes", join(dir, "outcomes.csv"), "--json"])).toBe(0);
    } finally {
      console.log = log;
    }
    const report = JSON.parse(printed.join("\n"));
    expect(report.a).toEqual({ version: "v1", successes: 20, trials: 200 });
    expect(report.b).toEqual({ version: "v2", successes: 40, trials: 200 });
    expect(report.test.pValue).toBeLessThan(0.01);
    expect(report.verdict).toBe("B is better");
  });
});
