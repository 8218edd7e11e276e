import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import type { LoaderOptions } from "../contract/loader.js";
import type { ArtifactInfo, ArtifactSource, SourceContext } from "../contract/source.js";
import { CollectionState, localHost, timeWindow, type CoveragePlan, type StateLocation } from "../state/index.js";
import type { TableDefinition } from "../contract/table.js";
import { createChunkWriter, encodedLines, isEncodedLines, type ChunkWriter } from "../writer/index.js";
import type { RowBatch } from "../writer/types.js";
import { ClaimKeeper } from "./claim-keeper.js";
import { problemReporters, rowErrorReporter } from "./reporting.js";
import { Completions } from "./completion.js";
import { emptyStatus, type CollectionEvent, type StatusCounters } from "../contract/events.js";
import { createExtractor } from "./extract.js";
import type { ExtractedBatch, Extractor, ExtractSpec } from "./types.js";
import { registryFor, type DataSourcesSetup } from "../datasources/setup.js";
import { lookahead } from "./lookahead.js";
import { Scheduler } from "./scheduler.js";
import { startingPoint } from "./starting-point.js";
import { processAlive, removeStaleTempFiles } from "./temp-files.js";

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
  /** Artifacts downloaded and extracted at once. Default: the source's `concurrency`, else 4. */
  artifactConcurrency?: number | undefined;
  /** How often a status event is sent, in ms. Default 1,000. */
  statusIntervalMs?: number | undefined;
  /** Row-level error events sent before further ones are only counted. Default 100. */
  maxRowErrorEvents?: number | undefined;
  loaderOptions?: LoaderOptions | undefined;
  /** Collection state: where, whose, and whether to ignore what it says was collected. */
  state: { location: StateLocation; plugin: string; recollect: boolean; leaseSeconds?: number | undefined };
  /** PluginDefinition.module and .name, so extraction can run off the main thread. */
  pluginModule?: string | undefined;
  pluginName?: string | undefined;
  signal: AbortSignal;
  emit: (event: CollectionEvent) => void;
  /** The execution's data sources: each thread that extracts makes its registry from this. Default none. */
  dataSources?: DataSourcesSetup | undefined;
  /** Where the execution's temp folder goes (a plugin executable's private folder, removed with it). Default: the system's. */
  tempRoot?: string | undefined;
}

/** Drops the positions below `skip` from a batch (they are in chunks of an earlier, interrupted run). */
function dropCommitted(out: ExtractedBatch, skip: number): ExtractedBatch | undefined {
  const b = out.batch;
  if (skip <= b.from) return out;
  if (b.to <= skip) return undefined;
  let i = 0;
  while (i < b.indexes.length && b.indexes[i]! < skip) i++;
  let lines: RowBatch["lines"];
  if (isEncodedLines(b.lines)) {
    // Rare (only the batch that straddles where the earlier run stopped), so a scan for the i-th newline is fine.
    const bytes = Buffer.from(b.lines.bytes.buffer, b.lines.bytes.byteOffset, b.lines.bytes.byteLength);
    let at = 0;
    for (let k = 0; k < i; k++) at = bytes.indexOf(10, at) + 1;
    lines = encodedLines(bytes.subarray(at), b.lines.length - i);
  } else {
    lines = b.lines.slice(i);
  }
  return {
    ...out,
    batch: { ...b, from: skip, lines, indexes: b.indexes.slice(i) },
    rowErrors: out.rowErrors.filter((e) => e.position >= skip),
  };
}

/** Artifacts discovery may list ahead of the one being considered. */
const DISCOVERY_LOOKAHEAD = 10_000;

/** What reading one artifact needs of its execution (see collectArtifact). */
interface ArtifactRun {
  opts: ExecutionOptions;
  status: StatusCounters;
  sourceContext: SourceContext;
  state: CollectionState;
  extractor: Extractor;
  writer: ChunkWriter;
  keeper: ClaimKeeper;
  completions: Completions;
  /** Aborted when the execution fails: no artifact reads on once its claim is released. */
  stopAll: AbortSignal;
  reportRowError(artifact: string, operation: string, message: string, rowIndex: number): void;
}

/**
 * Downloads an artifact and writes the rows of it `plan` keeps. It stops, with an ABORTED error, when this
 * collector's claim on it is found taken by another collector.
 */
async function collectArtifact(run: ArtifactRun, info: ArtifactInfo, plan: CoveragePlan, idSeed: string): Promise<void> {
  const { opts, status, state } = run;
  const { executionId, emit } = opts;
  const { skip, exclude } = plan;
  const lost = run.keeper.watch(info.name);
  try {
    const t0 = Date.now();
    let local;
    try {
      local = await opts.source.download(info, run.sourceContext);
    } catch (err) {
      throw TailkitError.from(err, Code.Unavailable, { artifact: info.name, operation: "download" });
    }
    local.idSeed = idSeed;
    try {
      if (local.readBytes !== undefined && local.readBytes < local.bytes) state.readUpTo(info.name, local.readBytes);
      status.artifactsDownloaded++;
      status.bytesDownloaded += local.bytes;
      emit({ type: "artifact_downloaded", executionId, time: new Date(), artifact: info, bytes: local.bytes, durationMs: Date.now() - t0 });
      let rows = 0;
      let errors = 0;
      let end = skip;
      const job = exclude.length > 0 ? { exclude } : undefined;
      for await (const raw of run.extractor.extract(local, AbortSignal.any([opts.signal, lost, run.stopAll]), job)) {
        end = Math.max(end, raw.batch.to);
        const out = dropCommitted(raw, skip);
        if (!out) {
          raw.release?.();
          continue;
        }
        status.rowsReceived += out.rowsReceived;
        for (const e of out.rowErrors) {
          errors++;
          // Events number rows as their messages do (from 1); positions stay internal.
          run.reportRowError(info.name, e.operation, e.message, e.row ?? e.position + 1);
        }
        status.rowsEnriched += out.batch.lines.length;
        rows += out.batch.lines.length;
        if (out.batch.to > out.batch.from) {
          try {
            await run.writer.write(out.batch);
          } catch (err) {
            throw new TailkitError(Code.Internal, `writing a chunk in ${opts.outputDir}: ${err instanceof Error ? err.message : String(err)}`, {
              operation: "write",
            });
          }
        }
        // The writer holds nothing of a batch once write() has resolved: its buffer can serve another batch.
        out.release?.();
      }
      run.completions.ended(info.name, end, rows);
      status.artifactsExtracted++;
      emit({ type: "artifact_extracted", executionId, time: new Date(), artifact: info, rows, rowErrors: errors });
    } finally {
      await local.release();
    }
  } catch (err) {
    if (!lost.aborted || opts.signal.aborted || run.stopAll.aborted) throw err;
    throw new TailkitError(
      Code.Aborted,
      `${info.name}: this collector was held up past its ${state.leaseSeconds} s claim and another collector took the artifact; it stopped reading it there`,
      { artifact: info.name, operation: "claim" },
    );
  } finally {
    run.keeper.unwatch(info.name);
  }
}

/** What sources see of the execution; what discovery cannot take is counted failed and reported. */
function sourceContext(opts: ExecutionOptions, status: StatusCounters, tempDir: string): SourceContext {
  return { signal: opts.signal, from: opts.from, to: opts.to, tempDir, ...problemReporters(opts, status, "discover") };
}

/** Runs one execution to its end. Never rejects: a failure becomes the complete event's error. */
export async function runExecution(opts: ExecutionOptions): Promise<void> {
  const started = Date.now();
  const status = emptyStatus();
  const { executionId, emit } = opts;
  const now = () => new Date();
  const snapshot = (): StatusCounters => ({ ...status, rowErrors: { ...status.rowErrors }, elapsedMs: Date.now() - started });

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

  let state: CollectionState | undefined;
  let keeper: ClaimKeeper | undefined;
  let completions: Completions | undefined;
  let scheduler: Scheduler | undefined;
  /**
   * Stops every artifact's extraction when the execution fails, so that none reads on once its claim is released;
   * they are waited for before the extractor closes, so that they end as part of that failure rather than each as an
   * artifact error ("the extractor is closed").
   */
  const stopAll = new AbortController();

  const writer = createChunkWriter({
    dir: opts.outputDir,
    executionId,
    rowsPerChunk: opts.rowsPerChunk ?? 10_000,
    beforeVisible: (chunk) => state!.intent(chunk.path, chunk.ranges),
    onChunk: async (chunk) => {
      await state!.commit(chunk.ranges);
      await completions!.visible(chunk.ranges);
      status.rowsWritten += chunk.rows;
      status.chunksWritten++;
      emit({ type: "chunk_written", executionId, time: now(), sequence: chunk.sequence, rows: chunk.rows, path: chunk.path });
    },
  });

  let tempDir: string | undefined;
  let extractor: Extractor | undefined;
  let fatal: TailkitError | undefined;
  try {
    // Workers start first: they load the plugin module while state opens and the source lists artifacts.
    const registry = opts.dataSources !== undefined ? await registryFor(opts.dataSources) : undefined;
    // What others wrote since this thread last read is seen by this execution.
    registry?.refresh();
    const spec: ExtractSpec = {
      dataSources: opts.dataSources,
      registry,
      table: opts.table,
      tableConfig: opts.tableConfig,
      partition: opts.partition,
      sourceType: opts.sourceType,
      sourceName: opts.sourceName,
      from: opts.from,
      to: opts.to,
      loaderOptions: opts.loaderOptions,
    };
    const active = createExtractor(spec, { pluginModule: opts.pluginModule, pluginName: opts.pluginName, prestart: true });
    extractor = active;
    state = await CollectionState.open({
      location: opts.state.location,
      plugin: opts.state.plugin,
      table: opts.table.name,
      partition: opts.partition,
      owner: executionId,
      window: timeWindow(opts.from, opts.to),
      ...(opts.state.leaseSeconds ? { leaseSeconds: opts.state.leaseSeconds } : {}),
      // A collector killed on this host cannot release its claims: the next one takes them at once, not after the lease.
      holderGone: (holder) => holder.host === localHost() && !processAlive(holder.pid),
    });
    const st = state;
    await removeStaleTempFiles(opts.outputDir);
    tempDir = await mkdtemp(join(opts.tempRoot ?? tmpdir(), `tailkit-${executionId}-`));
    const ctx = sourceContext(opts, status, tempDir);
    const held = (keeper = new ClaimKeeper(st.claims));
    const done = (completions = new Completions(st.progress, held));
    const run: ArtifactRun = {
      opts,
      status,
      sourceContext: ctx,
      state: st,
      extractor: active,
      writer,
      keeper: held,
      completions: done,
      stopAll: stopAll.signal,
      reportRowError: rowErrorReporter(opts, status),
    };
    // --recollect asks for artifacts again even when state says they are collected. A time range does not: state knows
    // which time windows of an artifact were collected, and a collection writes only the rows not yet written.
    const recollect = opts.state.recollect;
    const resume = { source: opts.source, sourceContext: ctx, sourceType: opts.sourceType, sourceName: opts.sourceName, heads: st.heads, recollect };
    scheduler = new Scheduler({
      state: st,
      keeper: held,
      recollect,
      concurrency: Math.max(1, opts.artifactConcurrency ?? opts.source.concurrency ?? 4),
      startingPoint: (info, current) => startingPoint(resume, info, current),
      collect: (info, plan, idSeed) => {
        status.artifactsDiscovered++;
        emit({ type: "artifact_discovered", executionId, time: now(), artifact: info });
        return collectArtifact(run, info, plan, idSeed).catch(async (err: unknown) => {
          if (opts.signal.aborted || stopAll.signal.aborted) return;
          const e = TailkitError.from(err);
          if (e.details.operation === "write" || e.details.operation === "state") {
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
          // Rows written before the failure stay committed; another run retries from there.
          await held.release(info.name).catch(() => undefined);
        });
      },
      flush: async () => {
        await writer.flush();
        await done.all();
      },
      stopped: () => opts.signal.aborted || fatal !== undefined,
      onSkip: () => status.artifactsSkipped++,
      // Said at once, and in every status until they are taken: the wait would otherwise look like a stall.
      onWaiting: (count) => {
        if (status.artifactsWaiting === count) return;
        status.artifactsWaiting = count;
        emit({ type: "status", executionId, time: now(), status: snapshot() });
      },
    });
    // Discovery runs ahead of collection, so that the total is known (and progress has an ETA) long before the end.
    await scheduler.run(
      lookahead(
        opts.source.discover(ctx),
        DISCOVERY_LOOKAHEAD,
        () => status.artifactsListed++,
        () => (status.discoveryDone = true),
      ),
    );
    if (opts.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
    if (fatal) throw fatal;
    const summary = await writer.close();
    await st.commit(summary.trailingRanges);
    await done.all();
  } catch (err) {
    fatal ??= TailkitError.from(err);
    // Artifacts still being read stop before their claims are given up below.
    stopAll.abort();
    await writer.abort().catch(() => undefined);
    await scheduler?.drain();
  } finally {
    clearInterval(timer);
    // Every way out gives up the claims still held (a failed or cancelled run's artifacts, whose committed rows stay).
    await keeper?.stop();
    status.artifactsWaiting = 0;
    // Falling back to the main thread is legitimate (no plugin module, TypeScript sources) but slow: say so in the log.
    const reason = extractor?.stats().fallbackReason;
    if (reason && opts.pluginModule) process.stderr.write(`${executionId}: extraction ran on the main thread: ${reason}\n`);
    await opts.source.close?.().catch(() => undefined);
    await extractor?.close().catch(() => undefined);
    await state?.close().catch(() => undefined);
    if (tempDir) await rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
  }
  const final = snapshot();
  emit({ type: "status", executionId, time: now(), status: final });
  if (fatal)
    emit({ type: "error", executionId, time: now(), message: fatal.message, ...(fatal.details.operation ? { operation: fatal.details.operation } : {}) });
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
