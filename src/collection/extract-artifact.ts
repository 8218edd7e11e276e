import { Code, TailkitError } from "../errors/index.js";
import { DEFAULT_BATCH_SIZE } from "../loaders/lines.js";
import { MapperChain } from "../mappers/index.js";
import type { LocalArtifact } from "../contract/source.js";
import { encodedLines } from "../writer/types.js";
import { giveBack } from "./batch-buffers.js";
import { ByteBatch } from "./byte-batch.js";
import { createEnricher } from "./enrich.js";
import { extractLines } from "./fast-lines.js";
import { RowTail } from "./row-tail.js";
import { resolveTableSource } from "../tables/table-source.js";
import { NO_DATA_SOURCES, type ArtifactEnrichContext, type ExtractedBatch, type ExtractJob, type ExtractSpec, type RowErrorReport } from "./types.js";

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
  const dataSources = spec.registry ?? NO_DATA_SOURCES;
  const source = resolveTableSource(spec.table, spec.sourceType, spec.tableConfig, dataSources);
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
    dataSources,
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
