import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Files run in parallel; each uses its own SQLite file or PostgreSQL schema.
    pool: "forks",
    // Most files wait on argon2's threads, databases and child processes rather than on this
    // process: two at a time keeps the suite near 15 minutes on a 2-core machine.
    maxWorkers: 2,
  },
});
