import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup/private-tmpdir.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Two cores: e2e tests spawn plugin processes of their own, so keep the runner's parallelism small.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
