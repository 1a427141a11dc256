import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Test tiers by folder: unit (no network, no store), integration (embedded DynamoDB started by the test),
// e2e (the built CLI on whole archives), infra (offline SST synth). `npm test` runs them all.
export default defineConfig({
  test: {
    // A file per core. Vitest's default is one fewer than the cores, which on a 2-core machine (CI's, and ours)
    // runs the files one at a time; most of them wait on child processes and the embedded store, so two side by
    // side took 383 s of wall time against 523 s one at a time (Node 20, 725 tests, `npx vitest run` both ways).
    maxWorkers: Math.max(2, availableParallelism()),
    projects: [
      // Child processes, not threads: test/unit/time.test.ts sets TZ, which a worker thread would ignore.
      { test: { name: "unit", include: ["test/unit/**/*.test.ts"], pool: "forks" } },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000 },
      },
      {
        test: {
          name: "infra",
          include: ["test/infra/**/*.test.ts"],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
