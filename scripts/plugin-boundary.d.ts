import type { Linter } from "eslint";

/** ESLint flat config entry that keeps plugins/ to the package's entry points. */
export declare const pluginBoundary: Linter.Config;
