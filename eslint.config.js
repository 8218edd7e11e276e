// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { pluginBoundary } from "./scripts/plugin-boundary.js";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "src/protocol/generated/**", "bench/data/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ["**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      // An async function without await is how this code returns a promise that rejects rather than a function that
      // throws (interfaces that return promises, stubs of them); wrapping those in Promise.resolve would say less.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // Tests: vitest's asymmetric matchers (expect.any, expect.stringContaining) are typed any, and a test reads
    // JSON.parse output as it comes.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  pluginBoundary,
  {
    // The PostgreSQL backend is written as a backend from another package would be: of tailkit, it uses only tailkit/storage.
    files: ["src/storage-postgres/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(\\.\\./|tailkit$|tailkit/(?!storage$))", message: "src/storage-postgres imports tailkit only through tailkit/storage" }] },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js", "**/*.d.mts"],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: {
      globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", Buffer: "readonly" },
    },
  },
);
