import { availableParallelism } from "node:os";
import { Code, TailkitError, invalidArgument } from "../errors/index.js";
import { DEFAULT_BATCH_SIZE } from "../loaders/lines.js";
import type { LoaderOptions } from "../contract/loader.js";
import { MapperChain } from "../mappers/index.js";
import type { LocalArtifact } from "../contract/source.js";
import type { CoveredWindow } from "../state/coverage.js";
import type { TableDefinition } from "../contract/table.js";
import { encodedLines, type RowBatch } from "../writer/types.js";
import { giveBack } from "./batch-buffers.js";
import { ByteBatch } from "./byte-batch.js";
import { createEnricher, type ArtifactEnrichContext } from "./enrich.js";
import { extractLines } from "./fast-lines.js";
import { RowTail } from "./row-tail.js";
import { resolveTableSource } from "../tables/table-source.js";
import { checkModuleInWorker, createWorkerExtractor, prewarmWorkers } from "./worker-pool.js";

/** What extraction needs to know besides the artifact: the same for every artifact of an execution. */
export interface ExtractSpec {
  table: TableDefinition<unknown>;
  tableConfig: unknown;
  partition: string;
  sourceType: string;
  sourceName: string;
  from?: Date | undefined;
  to?: Date | undefined;
  loaderOptions?: LoaderOptions | undefined;
}

/** What extraction needs to know of one artifact besides its bytes: decided by collection state, per artifact. */
export interface ExtractJob {
  /** Rows already written by earlier collections of other time windows: dropped as they are read (coverage.ts). */
  exclude?: readonly CoveredWindow[] | undefined;
}

/** A row-level failure inside an artifact. */
export interface RowErrorReport {
  /** Its 0-based position among the artifact's rows and row errors (what tp_id and state count). */
  position: number;
  operation: string;
  /** Starts with what `row` counts: "line N: " or "record N: ". */
  message: string;
  /**
   * The number people are shown, from 1: the line of the file for line loaders (every line counted), else the
   * record's place in the artifact (position + 1). Missing means position + 1.
   */
  row?: number;
}

/** One batch out of extraction: JSON lines, encoded, ready for the writer, and what went wrong on the way. */
export interface ExtractedBatch {
  batch: RowBatch;
  rowErrors: RowErrorReport[];
  /** Rows out of the mapper chain. */
  rowsReceived: number;
  /**
   * Gives the batch's buffer back for reuse by the thread that made it. The consumer calls it once nothing reads the
   * bytes any more (the writer's write() has resolved, or the batch is dropped); calls after the first do nothing.
   * Optional to call: a buffer that is not given back is garbage collected.
   */
  release?(): void;
}

/** A batch is yielded once its lines reach about this size, even short of the batch size in positions. */
const BATCH_BYTES = 1024 * 1024;
/** Loaded items mapped and enriched at a time; their rows are short-lived garbage once enriched. */
const PIECE_ITEMS = 256;
/**
 * Turns one local artifact into batches of JSON lines: load → map → enrich → serialize. This is the CPU-heavy part
 * of a collection, kept free of I/O to the output so that it can run on any thread.
 * Throws a TailkitError naming the artifact when the artifact itself is unreadable; batches yielded before stay valid.
 */
export async function* extractArtifact(local: LocalArtifact, spec: ExtractSpec, signal?: AbortSignal, job: ExtractJob = {}): AsyncGenerator<ExtractedBatch> {
  const source = resolveTableSource(spec.table, spec.sourceType, spec.tableConfig);
  if (source.lineFormat !== undefined) {
    yield* extractLines(local, spec, source.lineFormat, signal, job);
    return;
  }
  const info = local.info;
  const chain = new MapperChain(source.mappers, info);
  const ctx: ArtifactEnrichContext = {
    table: spec.table,
    partition: spec.partition,
    sourceType: spec.sourceType,
    sourceName: spec.sourceName,
    artifact: info,
    from: spec.from,
    to: spec.to,
    exclude: job.exclude,
    idSeed: local.idSeed,
  };
  const enrich = createEnricher(ctx);
  // Rows go straight into a batch buffer; those that carry their bytes get their tp_* fields from fragments.
  const tail = new RowTail(ctx, "default");
  const out = new ByteBatch();
  const loader = source.loader;
  if (loader === undefined) throw new TailkitError(Code.Internal, `table ${spec.table.name}: source ${spec.sourceType} has no loader`);
  // Row errors are numbered one way per loader, from 1: by the line of the file, or by the record's place.
  const byLine = loader.numbering === "line";
  const unit = byLine ? "line" : "record";
  const numbered = (position: number, operation: string, message: string, item?: number): RowErrorReport => {
    const row = byLine ? (item ?? chain.itemOf(position)) + 1 : position + 1;
    return { position, operation, message: `${unit} ${row}: ${message}`, row };
  };
  // A batch gathers the rows of several loaded pieces (a split document comes in pieces of 100 records, so that few
  // parsed records are alive at once) up to the batch size, so that batches stay few and large.
  const batchPositions = spec.loaderOptions?.batchSize ?? DEFAULT_BATCH_SIZE;
  let from = chain.position;
  let rowErrors: RowErrorReport[] = [];
  let rowsReceived = 0;
  let batch = enrich.begin(out, undefined, tail);
  const finish = (): ExtractedBatch => {
    const enriched = batch.finish();
    for (const f of enriched.failures) rowErrors.push(numbered(f.position, f.operation, f.message));
    chain.forgetBefore(chain.position);
    const bytes = out.take();
    let buffer: ArrayBuffer | undefined = bytes.length > 0 ? (bytes.buffer as ArrayBuffer) : undefined;
    const extracted: ExtractedBatch = {
      batch: { artifact: info.name, from, to: chain.position, lines: encodedLines(bytes, enriched.count), indexes: enriched.indexes },
      rowErrors,
      rowsReceived,
      release: () => {
        if (buffer !== undefined) giveBack(buffer);
        buffer = undefined;
      },
    };
    from = chain.position;
    rowErrors = [];
    rowsReceived = 0;
    batch = enrich.begin(out, undefined, tail);
    return extracted;
  };
  try {
    for await (let items of loader.load(local, { ...spec.loaderOptions, ...(signal ? { signal } : {}) })) {
      // Map and enrich a few items at a time into the batch, so that the row objects of each piece are garbage before
      // the next piece is made: they die in the young generation instead of being copied out of it.
      for (let k = 0; k < items.length; k += PIECE_ITEMS) {
        let piece = items.length <= PIECE_ITEMS ? items : items.slice(k, k + PIECE_ITEMS);
        // Once mapped, a lone item (a parsed document) is dropped here: its rows hold what enrich still needs.
        if (piece === items) items = [];
        const mapped = chain.map(piece);
        piece = [];
        for (const e of mapped.errors) rowErrors.push(numbered(e.position, e.operation, e.message, e.itemIndex));
        rowsReceived += mapped.rows.length;
        batch.add(mapped.rows, mapped.positions);
      }
      if (chain.position - from >= batchPositions || out.pos >= BATCH_BYTES) yield finish();
    }
  } catch (err) {
    // Rows made before the fault are good; deliver them, then report it.
    if (chain.position > from) yield finish();
    out.dispose();
    throw TailkitError.from(err, Code.DataLoss, { artifact: info.name, operation: "load" });
  }
  if (chain.position > from) yield finish();
  out.dispose();
}

/** What an extractor has done so far, for status and for tests of its bounds. */
export interface ExtractorStats {
  /** Where extraction runs now: "worker" threads, or "inline" on the calling thread. */
  mode: "worker" | "inline";
  /** Why a worker extractor runs inline (the plugin module could not be loaded in a worker, say). */
  fallbackReason?: string;
  /** Live worker threads. */
  workers: number;
  workersStarted: number;
  /** Artifacts handed to workers. */
  jobs: number;
  /** Batches received from workers and not yet taken by the consumer, now and at most. */
  batchesQueued: number;
  maxBatchesQueued: number;
  /** Bytes of those batches, now and at most. */
  bytesQueued: number;
  maxBytesQueued: number;
  /** Times a worker ran out of credits and waited for the consumer: backpressure at work. */
  stalls: number;
  /** Workers that were started warm (by prewarmWorkers) and taken by this extractor. */
  warmWorkersUsed: number;
  /** Batch buffers sent back to the worker that made them, for reuse (0 inline, where they go back to the pool directly). */
  buffersReturned: number;
}

/** Runs extraction for an execution; the inline one runs on the calling thread, others may use worker threads. */
export interface Extractor {
  extract(local: LocalArtifact, signal?: AbortSignal, job?: ExtractJob): AsyncIterable<ExtractedBatch>;
  /** Frees threads or other resources; the extractor is unusable afterwards. */
  close(): Promise<void>;
  stats(): ExtractorStats;
}

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
