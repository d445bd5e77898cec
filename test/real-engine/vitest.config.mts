import { defineConfig } from "vitest/config";

// `npm run real-engine:test`: the real Pulumi engine on the local stack. Not part of `npm test`
// (the default include is test/**/*.test.ts): it needs the binaries `npm run real-engine -- build`
// compiles from the Go module proxy, tens of minutes on 2 cores, which .ci/run's time budget has no
// room for. It fails, never skips, when they are missing.
export default defineConfig({
  test: {
    include: ["test/real-engine/*.real.ts"],
    pool: "forks",
    testTimeout: 1_800_000,
    reporters: ["default"],
  },
});
