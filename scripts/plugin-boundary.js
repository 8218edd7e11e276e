// @ts-check
// The bundled plugins are written as any third-party plugin is: with nothing but the package's entry points. A path
// into src/ or dist/, or a deep import of the package, would build here and fail in a copy outside this repository.
const message = "plugins/ use only the package's entry points: tailkit, tailkit/plugin, tailkit/host, tailkit/storage, tailkit/testing";

/** ESLint flat config entry applying that rule to plugins/. */
export const pluginBoundary = {
  files: ["plugins/**/*.ts"],
  rules: {
    "no-restricted-imports": [
      "error",
      {
        patterns: [
          { group: ["../../*", "**/src/*", "**/dist/*"], message },
          { group: ["tailkit/*", "!tailkit/plugin", "!tailkit/host", "!tailkit/storage", "!tailkit/testing"], message },
        ],
      },
    ],
  },
};
