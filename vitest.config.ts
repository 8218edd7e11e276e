import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

export default defineConfig({
  // plugins/ import the package by its name, as any plugin does; in tests that is the source, so that a test and the
  // plugin it runs share one copy of each module. (Built code resolves the name to dist/ through package.json.)
  resolve: {
    alias: [
      { find: /^tailkit$/, replacement: src("index.ts") },
      { find: /^tailkit\/(plugin|host|storage|testing)$/, replacement: src("$1/index.ts") },
    ],
  },
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
