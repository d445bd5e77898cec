// Mutation testing of the policy pack (`npm run mutate -- policies [file ...]`, not in CI): Stryker
// mutates each condition of the policies and runs the policy tests; a mutant that no test notices
// is a sub-condition no test pins down. The report lands in reports/mutation/.
const files = (process.env.MUTATE_FILES ?? "").split(",").filter(Boolean);
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "policies/vitest.mutate.config.mts", related: false },
  mutate: files.length
    ? files
    : [
        "policies/*.ts",
        "!policies/index.ts",
        "!policies/write-config.ts",
        "!policies/harness.ts",
        "!policies/links.ts",
        "!policies/*.mjs",
        "!policies/*.mts",
      ],
  // Each mutant runs only the tests that reached it (and stops at the first that fails).
  coverageAnalysis: "perTest",
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  // On top of the unmutated run's time (x1.5): a loaded shared machine stretches runs by seconds,
  // and a mutant that loops is marked timed out (detected) this much later.
  timeoutMS: 20_000,
  dryRunTimeoutMinutes: 30,
  // Mutants reached only while a module loads (constant tables) would need a reload per mutant.
  ignoreStatic: true,
  // Reruns test only the mutants whose code or tests changed; the file stays between runs.
  incremental: true,
  incrementalFile: "reports/mutation/stryker-incremental.json",
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/policies.json" },
  // Vitest does not type-check; left on, Stryker would prepend // @ts-nocheck to the sandbox's test
  // files, which changes the platform cache's key (test/policies/fixtures is an input of a build).
  disableTypeChecks: false,
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
