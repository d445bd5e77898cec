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
  coverageAnalysis: "perTest",
  concurrency: Number(process.env.MUTATE_CONCURRENCY ?? 1),
  timeoutMS: 60_000,
  // The first, unmutated run of the policy tests builds five real platforms; on a loaded machine it
  // takes longer than Stryker's default 5 minutes.
  dryRunTimeoutMinutes: 30,
  ignoreStatic: true,
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/policies.json" },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
