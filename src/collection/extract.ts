import { availableParallelism } from "node:os";
import { invalidArgument } from "../errors/index.js";
import { extractArtifact } from "./extract-artifact.js";
import type { Extractor, ExtractSpec } from "./types.js";
import { checkModuleInWorker, createWorkerExtractor, prewarmWorkers } from "./worker-pool.js";

/** Options for createExtractor. Defaults are written beside each field. */
export interface ExtractorOptions {
  /** URL of the module exporting the plugin definition (PluginDefinition.module), for extractors that run elsewhere. */
  pluginModule?: string | undefined;
  pluginName?: string | undefined;
  /**
   * Worker threads. Default: the TAILKIT_EXTRACT_WORKERS environment variable, else os.availableParallelism(). 0 extracts inline on the calling thread, as does a missing
   * pluginModule or pluginName, or a plugin module (or this SDK) loaded from TypeScript sources, which a worker cannot
   * import without a loader (vitest, ts-node).
   */
  workers?: number | undefined;
  /** Batches a worker may have sent and not had taken before it waits, per artifact. Default 2. */
  maxBatchesInFlight?: number | undefined;
  /**
   * V8 young generation of each worker, in MB. Default 24: extraction allocates fast and short-lived, and a young
   * generation larger than Node's default lets most of it die there instead of being copied to the old generation.
   * Larger still saves CPU but costs resident memory per worker (docs/PERFORMANCE.md). Default from the environment:
   * TAILKIT_WORKER_YOUNG_GENERATION_MB.
   */
  workerYoungGenerationMb?: number | undefined;
  /**
   * Start every worker now rather than at the first artifact, so that they load the plugin module while the caller
   * opens its state and lists artifacts. Default false.
   */
  prestart?: boolean | undefined;
}

/** Checks ExtractorOptions; throws INVALID_ARGUMENT naming the bad option. */
export function validateExtractorOptions(options: ExtractorOptions): void {
  const { workers, maxBatchesInFlight, workerYoungGenerationMb } = options;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 0)) {
    throw invalidArgument("workers", `must be a non-negative integer, got ${workers}`);
  }
  if (maxBatchesInFlight !== undefined && (!Number.isInteger(maxBatchesInFlight) || maxBatchesInFlight < 1)) {
    throw invalidArgument("maxBatchesInFlight", `must be a positive integer, got ${maxBatchesInFlight}`);
  }
  if (workerYoungGenerationMb !== undefined && !(workerYoungGenerationMb > 0)) {
    throw invalidArgument("workerYoungGenerationMb", `must be a positive number, got ${workerYoungGenerationMb}`);
  }
}

/** Default young generation of an extraction worker, in MB. */
export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 24;

/** A numeric environment variable, so that an operator (or the bench) can tune a plugin process it does not start. */
function numberFromEnv(name: string, valid: (n: number) => boolean): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!valid(n)) throw invalidArgument(name, `must be a ${name.endsWith("_MB") ? "positive number" : "non-negative integer"}, got ${JSON.stringify(v)}`);
  return n;
}

/** Why extraction cannot use workers with these options, or undefined when it can. */
function inlineReason(options: ExtractorOptions, workers: number): string | undefined {
  if (workers === 0) return "workers is 0";
  if (!options.pluginModule || !options.pluginName) return "the plugin definition has no module";
  if (import.meta.url.endsWith(".ts")) return "the SDK runs from TypeScript sources";
  if (/\.[cm]?tsx?$/.test(new URL(options.pluginModule, "file:///").pathname)) return "the plugin module is TypeScript";
  return undefined;
}

/** Worker count and young generation from the options, then the environment, then the defaults. */
function resolveWorkerOptions(options: ExtractorOptions): { workers: number; youngGenerationMb: number } {
  return {
    workers: options.workers ?? numberFromEnv("TAILKIT_EXTRACT_WORKERS", (n) => Number.isInteger(n) && n >= 0) ?? availableParallelism(),
    youngGenerationMb:
      options.workerYoungGenerationMb ?? numberFromEnv("TAILKIT_WORKER_YOUNG_GENERATION_MB", (n) => n > 0) ?? DEFAULT_WORKER_YOUNG_GENERATION_MB,
  };
}

/** The extractor an execution uses: a pool of worker threads when the plugin module can be loaded in one, else inline. */
export function createExtractor(spec: ExtractSpec, options: ExtractorOptions = {}): Extractor {
  validateExtractorOptions(options);
  const { workers, youngGenerationMb } = resolveWorkerOptions(options);
  const reason = inlineReason(options, workers);
  if (reason !== undefined) return createInlineExtractor(spec, reason);
  return createWorkerExtractor(spec, {
    pluginModule: options.pluginModule!,
    pluginName: options.pluginName!,
    workers,
    maxBatchesInFlight: options.maxBatchesInFlight ?? 2,
    youngGenerationMb,
    prestart: options.prestart === true,
  });
}

/**
 * Starts the workers a later createExtractor with these options will use, before any collection: they load the plugin
 * module meanwhile. Does nothing when extraction would run inline. Returns how many were started.
 */
export function prewarmExtractor(options: ExtractorOptions): number {
  validateExtractorOptions(options);
  const { workers, youngGenerationMb } = resolveWorkerOptions(options);
  if (inlineReason(options, workers) !== undefined) return 0;
  prewarmWorkers(options.pluginModule!, options.pluginName!, workers, youngGenerationMb);
  return workers;
}

/**
 * Imports the plugin module in a worker thread, as extraction workers will, and resolves to what it found (a warm
 * worker's answer when prewarmExtractor started some). Undefined when extraction would run inline: no worker imports it.
 */
export function checkPluginModule(options: ExtractorOptions): ReturnType<typeof checkModuleInWorker> | undefined {
  const { workers, youngGenerationMb } = resolveWorkerOptions(options);
  if (inlineReason(options, workers) !== undefined) return undefined;
  return checkModuleInWorker(options.pluginModule!, options.pluginName!, youngGenerationMb);
}

/** Extraction on the calling thread. */
export function createInlineExtractor(spec: ExtractSpec, reason?: string): Extractor {
  let jobs = 0;
  return {
    extract: (local, signal, job) => {
      jobs++;
      return extractArtifact(local, spec, signal, job);
    },
    close: async () => undefined,
    stats: () => ({
      mode: "inline",
      ...(reason !== undefined ? { fallbackReason: reason } : {}),
      workers: 0,
      workersStarted: 0,
      jobs,
      batchesQueued: 0,
      maxBatchesQueued: 0,
      bytesQueued: 0,
      maxBytesQueued: 0,
      stalls: 0,
      warmWorkersUsed: 0,
      buffersReturned: 0,
    }),
  };
}
