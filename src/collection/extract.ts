import { Code, TailkitError } from "../errors/index.js";
import type { LoaderOptions } from "../loaders/types.js";
import { MapperChain } from "../mappers/index.js";
import type { LocalArtifact } from "../sources/types.js";
import type { TableDefinition } from "../tables/types.js";
import type { RowBatch } from "../writer/types.js";
import { createEnricher } from "./enrich.js";

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

/** A row-level failure inside an artifact. */
export interface RowErrorReport {
  position: number;
  operation: string;
  message: string;
}

/** One batch out of extraction: JSON lines ready for the writer, and what went wrong on the way. */
export interface ExtractedBatch {
  batch: RowBatch;
  rowErrors: RowErrorReport[];
  /** Rows out of the mapper chain. */
  rowsReceived: number;
}

/**
 * Turns one local artifact into batches of JSON lines: load → map → enrich → serialize. This is the CPU-heavy part
 * of a collection, kept free of I/O to the output so that it can run on any thread.
 * Throws a TailkitError naming the artifact when the artifact itself is unreadable; batches yielded before stay valid.
 */
export async function* extractArtifact(local: LocalArtifact, spec: ExtractSpec, signal?: AbortSignal): AsyncGenerator<ExtractedBatch> {
  const info = local.info;
  const chain = new MapperChain(spec.table.mappers(spec.tableConfig), info);
  const enrich = createEnricher({
    table: spec.table,
    partition: spec.partition,
    sourceType: spec.sourceType,
    sourceName: spec.sourceName,
    artifact: info,
    from: spec.from,
    to: spec.to,
  });
  const loader = spec.table.loader(spec.tableConfig);
  try {
    for await (const items of loader.load(local, { ...spec.loaderOptions, ...(signal ? { signal } : {}) })) {
      const mapped = chain.map(items);
      const rowErrors: RowErrorReport[] = mapped.errors.map((e) => ({
        position: e.position,
        operation: e.operation,
        message: `record ${e.itemIndex + 1}: ${e.message}`,
      }));
      const enriched = enrich(mapped.rows, mapped.positions);
      for (const f of enriched.failures) rowErrors.push(f);
      yield {
        batch: { artifact: info.name, from: mapped.from, to: mapped.to, lines: enriched.lines, indexes: enriched.indexes },
        rowErrors,
        rowsReceived: mapped.rows.length,
      };
    }
  } catch (err) {
    throw TailkitError.from(err, Code.DataLoss, { artifact: info.name, operation: "load" });
  }
}

/** Runs extraction for an execution; the inline one runs on the calling thread, others may use worker threads. */
export interface Extractor {
  extract(local: LocalArtifact, signal?: AbortSignal): AsyncIterable<ExtractedBatch>;
  /** Frees threads or other resources; the extractor is unusable afterwards. */
  close(): Promise<void>;
}

/** Options for createExtractor. */
export interface ExtractorOptions {
  /** URL of the module exporting the plugin definition (PluginDefinition.module), for extractors that run elsewhere. */
  pluginModule?: string | undefined;
  pluginName?: string | undefined;
}

/** The extractor an execution uses. */
export function createExtractor(spec: ExtractSpec, _options: ExtractorOptions = {}): Extractor {
  return {
    extract: (local, signal) => extractArtifact(local, spec, signal),
    close: async () => undefined,
  };
}
