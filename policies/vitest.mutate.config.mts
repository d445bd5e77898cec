import { defineConfig } from "vitest/config";

// The tests Stryker runs against each mutant of policies/: the policy tests only (the whole suite
// per mutant would take hours on this machine). Used by `npm run mutate -- policies`.
export default defineConfig({
  test: {
    include: ["test/policies/*.test.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
