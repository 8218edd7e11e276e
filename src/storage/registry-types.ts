import type { BackendContext, StorageBackend } from "./backend.js";

/** Which module asks for a backend: the sync one needs a backend whose `sync` is true. */
export type BackendMode = "sync" | "async";

/** How the registry creates one backend kind. */
export interface BackendDefinition {
  /** Checks backend-specific options; returns a message naming the bad option, or undefined. */
  validateOptions(options: Record<string, unknown>): string | undefined;
  /**
   * Names of this backend's own options. When given, open() refuses any other name (besides the options every
   * backend takes) with INITIALIZATION_FAILED naming it, so a misspelt option is never silently ignored.
   */
  optionNames?: readonly string[];
  /**
   * Creates an unopened backend for `mode`; undefined when this kind cannot serve that mode.
   * Must not allocate resources: open() does.
   */
  create(options: Record<string, unknown>, ctx: BackendContext, mode: BackendMode): StorageBackend | undefined;
}
