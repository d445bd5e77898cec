import { defineConfig } from "vitest/config";

// The tests Stryker runs against each mutant of policies/: the policy tests only (the whole suite
// per mutant would take hours on this machine). Used by `npm run mutate -- policies`, which first
// runs them once with the same settings to fill the platform cache.
export default defineConfig({
  test: {
    include: ["test/policies/*.test.ts"],
    // A mutant of policies/ cannot change what the components build: the real platforms come from
    // the cache of test/policies/fixtures/platform-cache.ts, so a mutant's run loads no provider.
    env: { MUTATE_PLATFORM_CACHE: "1" },
    pool: "forks",
    // One fork per mutant run for all its test files: with the platforms cached no file touches the
    // Pulumi runtime, and importing the pack once instead of once per file is most of a run's cost.
    // (Stryker activates mutants at run time, so the shared modules need no reload between files.)
    isolate: process.env.MUTATE_ISOLATE === "1",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
