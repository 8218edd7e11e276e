import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import type { LoaderOptions } from "../loaders/types.js";
import type { ArtifactInfo, ArtifactSource, SourceContext } from "../sources/types.js";
import type { TableDefinition } from "../tables/types.js";
import { createChunkWriter } from "../writer/index.js";
import { createExtractor, type Extractor, type ExtractSpec } from "./extract.js";
import { emptyStatus, type CollectionEvent, type StatusCounters } from "./events.js";

/** Everything one execution needs; built by the plugin runtime from a validated Collect request. */
export interface ExecutionOptions {
  executionId: string;
  table: TableDefinition<unknown>;
  tableConfig: unknown;
  partition: string;
  sourceType: string;
  /** tp_source_name of every row. */
  sourceName: string;
  source: ArtifactSource;
  from?: Date | undefined;
  to?: Date | undefined;
  outputDir: string;
  /** Default 10,000. */
  rowsPerChunk?: number | undefined;
  /** Artifacts downloaded and extracted at once. Default 4. */
  artifactConcurrency?: number | undefined;
  /** How often a status event is sent, in ms. Default 1,000. */
  statusIntervalMs?: number | undefined;
  /** Row-level error events sent before further ones are only counted. Default 100. */
  maxRowErrorEvents?: number | undefined;
  loaderOptions?: LoaderOptions | undefined;
  /** PluginDefinition.module and .name, so extraction can run off the main thread. */
  pluginModule?: string | undefined;
  pluginName?: string | undefined;
  signal: AbortSignal;
  emit(event: CollectionEvent): void;
}

/** Runs one execution to its end. Never rejects: a failure becomes the complete event's error. */
export async function runExecution(opts: ExecutionOptions): Promise<void> {
  const started = Date.now();
  const status = emptyStatus();
  const { executionId, emit } = opts;
  const now = () => new Date();
  const snapshot = (): StatusCounters => ({ ...status, rowErrors: { ...status.rowErrors }, elapsedMs: Date.now() - started });
  const maxRowErrorEvents = opts.maxRowErrorEvents ?? 100;
  let rowErrorEvents = 0;

  const reportRowError = (artifact: string, operation: string, message: string, rowIndex: number) => {
    status.rowErrors[operation] = (status.rowErrors[operation] ?? 0) + 1;
    if (rowErrorEvents < maxRowErrorEvents) {
      rowErrorEvents++;
      emit({ type: "error", executionId, time: now(), artifact, operation, rowIndex, message: `${artifact}: ${message}` });
      if (rowErrorEvents === maxRowErrorEvents) {
        emit({
          type: "error",
          executionId,
          time: now(),
          operation,
          message: `${maxRowErrorEvents} row errors reported; further row errors are counted in status only`,
        });
      }
    }
  };

  emit({
    type: "started",
    executionId,
    time: now(),
    table: opts.table.name,
    partition: opts.partition,
    sourceType: opts.sourceType,
    outputDir: opts.outputDir,
  });
  const timer = setInterval(() => emit({ type: "status", executionId, time: now(), status: snapshot() }), opts.statusIntervalMs ?? 1000);
  timer.unref();

  const writer = createChunkWriter({
    dir: opts.outputDir,
    executionId,
    rowsPerChunk: opts.rowsPerChunk ?? 10_000,
    onChunk: (chunk) => {
      status.rowsWritten += chunk.rows;
      status.chunksWritten++;
      emit({ type: "chunk_written", executionId, time: now(), sequence: chunk.sequence, rows: chunk.rows, path: chunk.path });
    },
  });

  let tempDir: string | undefined;
  let extractor: Extractor | undefined;
  let fatal: TailkitError | undefined;
  try {
    tempDir = await mkdtemp(join(tmpdir(), `tailkit-${executionId}-`));
    const ctx: SourceContext = { signal: opts.signal, from: opts.from, to: opts.to, tempDir };
    const spec: ExtractSpec = {
      table: opts.table,
      tableConfig: opts.tableConfig,
      partition: opts.partition,
      sourceType: opts.sourceType,
      sourceName: opts.sourceName,
      from: opts.from,
      to: opts.to,
      loaderOptions: opts.loaderOptions,
    };
    const active = createExtractor(spec, { pluginModule: opts.pluginModule, pluginName: opts.pluginName });
    extractor = active;

    const processArtifact = async (info: ArtifactInfo): Promise<void> => {
      const t0 = Date.now();
      let local;
      try {
        local = await opts.source.download(info, ctx);
      } catch (err) {
        throw TailkitError.from(err, Code.Unavailable, { artifact: info.name, operation: "download" });
      }
      try {
        status.artifactsDownloaded++;
        status.bytesDownloaded += local.bytes;
        emit({ type: "artifact_downloaded", executionId, time: now(), artifact: info, bytes: local.bytes, durationMs: Date.now() - t0 });
        let rows = 0;
        let errors = 0;
        for await (const out of active.extract(local, opts.signal)) {
          status.rowsReceived += out.rowsReceived;
          for (const e of out.rowErrors) {
            errors++;
            reportRowError(info.name, e.operation, e.message, e.position);
          }
          status.rowsEnriched += out.batch.lines.length;
          rows += out.batch.lines.length;
          if (out.batch.to > out.batch.from) {
            try {
              await writer.write(out.batch);
            } catch (err) {
              throw new TailkitError(Code.Internal, `writing chunk: ${err instanceof Error ? err.message : String(err)}`, { operation: "write" });
            }
          }
        }
        status.artifactsExtracted++;
        emit({ type: "artifact_extracted", executionId, time: now(), artifact: info, rows, rowErrors: errors });
      } finally {
        await local.release();
      }
    };

    const concurrency = Math.max(1, opts.artifactConcurrency ?? 4);
    const inFlight = new Set<Promise<void>>();
    for await (const info of opts.source.discover(ctx)) {
      if (opts.signal.aborted) break;
      status.artifactsDiscovered++;
      emit({ type: "artifact_discovered", executionId, time: now(), artifact: info });
      const p: Promise<void> = processArtifact(info)
        .catch((err: unknown) => {
          if (opts.signal.aborted) return;
          const e = TailkitError.from(err);
          if (e.details.operation === "write") {
            fatal ??= e;
            return;
          }
          status.artifactsFailed++;
          emit({
            type: "error",
            executionId,
            time: now(),
            artifact: info.name,
            operation: e.details.operation ?? "load",
            message: e.message.includes(info.name) ? e.message : `${info.name}: ${e.message}`,
          });
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (fatal) break;
    }
    await Promise.all(inFlight);
    if (opts.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
    if (fatal) throw fatal;
    await writer.close();
  } catch (err) {
    fatal ??= TailkitError.from(err);
    await writer.abort().catch(() => undefined);
  } finally {
    clearInterval(timer);
    await opts.source.close?.().catch(() => undefined);
    await extractor?.close().catch(() => undefined);
    if (tempDir) await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const final = snapshot();
  emit({ type: "status", executionId, time: now(), status: final });
  if (fatal) emit({ type: "error", executionId, time: now(), message: fatal.message, ...(fatal.details.operation ? { operation: fatal.details.operation } : {}) });
  emit({
    type: "complete",
    executionId,
    time: now(),
    rows: final.rowsWritten,
    chunks: final.chunksWritten,
    ...(fatal ? { error: fatal.message } : {}),
    status: final,
  });
}
