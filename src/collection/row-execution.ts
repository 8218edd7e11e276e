import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { emptyStatus, type CollectionEvent, type StatusCounters } from "../contract/events.js";
import type { ArtifactInfo, RowPage, RowSource, RowSourceContext } from "../contract/source.js";
import type { TableDefinition } from "../contract/table.js";
import { Code, TailkitError } from "../errors/index.js";
import { MapperChain } from "../mappers/chain.js";
import { CollectionState, localHost, timeWindow, type StateLocation } from "../state/index.js";
import { resolveTableSource } from "../tables/table-source.js";
import { createChunkWriter, encodedLines } from "../writer/index.js";
import type { ChunkRange } from "../writer/types.js";
import { createEnricher, type Enricher } from "./enrich.js";
import { registryFor, type DataSourcesSetup } from "../datasources/setup.js";
import { DataSourceRegistry } from "../datasources/registry.js";
import { NO_DATA_SOURCES } from "./types.js";
import { problemReporters, rowErrorReporter } from "./reporting.js";
import { processAlive, removeStaleTempFiles } from "./temp-files.js";

/** Everything one execution of a row source needs; built by the plugin runtime from a validated Collect request. */
export interface RowExecutionOptions {
  executionId: string;
  table: TableDefinition<unknown>;
  tableConfig: unknown;
  partition: string;
  sourceType: string;
  /** tp_source_name of every row, and the name the source's cursor is saved under. */
  sourceName: string;
  source: RowSource;
  from?: Date | undefined;
  to?: Date | undefined;
  outputDir: string;
  rowsPerChunk?: number | undefined;
  statusIntervalMs?: number | undefined;
  maxRowErrorEvents?: number | undefined;
  state: { location: StateLocation; plugin: string; recollect: boolean; leaseSeconds?: number | undefined };
  signal: AbortSignal;
  /** Aborted to ask a push source to stop (it then ends its read() and the collection completes); see RowSource.push. */
  stop?: AbortSignal | undefined;
  /** A push source's rows wait at most this long for a chunk, in ms, while it waits for more. Default 1,000. */
  pushFlushMs?: number | undefined;
  emit: (event: CollectionEvent) => void;
  /** The execution's data sources (made into this thread's registry); default none. */
  dataSources?: DataSourcesSetup | undefined;
}

/**
 * What state keeps of a row source between collections: the cursor to read from, and how many positions each stream
 * had used when the source was there, so that pages read again from it get the positions (and tp_ids) they had.
 */
interface SavedCursor {
  cursor: unknown;
  positions: Record<string, number>;
}

/** A page whose rows are on their way to chunks: once every stream is committed up to its positions, it is durable. */
interface PendingPage {
  positions: Record<string, number>;
  hasCursor: boolean;
  cursor: unknown;
  durable: (() => void) | undefined;
}

/** A name as one path segment: what is not a letter, a digit, "_" or "-" (so "." and "/" too) is escaped as %XX. */
function pathSegment(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`) || "%";
}

/** The folder of a row source's own that outlives collections (RowSourceContext.stateDir). */
export function rowSourceStateDir(outputDir: string, sourceType: string, sourceName: string): string {
  return join(outputDir, ".tailkit", "sources", pathSegment(sourceType), pathSegment(sourceName));
}

function savedCursor(value: unknown): SavedCursor | undefined {
  const v = value as Partial<SavedCursor> | null | undefined;
  if (v === null || typeof v !== "object" || typeof v.positions !== "object" || v.positions === null) return undefined;
  return { cursor: v.cursor, positions: { ...v.positions } };
}

/**
 * Runs one execution of a row source to its end. Never rejects: a failure becomes the complete event's error.
 *
 * Exactly once: each stream's rows have positions, counted on across collections; chunks commit positions in state as
 * artifact rows do. The source's cursor is saved only once every row read before it is committed, together with the
 * positions each stream had reached there. A collection that stops midway (killed, or the source failed) leaves the
 * last such cursor; the next one reads again from it and drops the rows whose positions are committed already.
 */
export async function runRowExecution(opts: RowExecutionOptions): Promise<void> {
  const started = Date.now();
  const status = emptyStatus();
  status.discoveryDone = true;
  const { executionId, emit } = opts;
  const now = () => new Date();
  const snapshot = (): StatusCounters => ({ ...status, rowErrors: { ...status.rowErrors }, elapsedMs: Date.now() - started });
  const reportRowError = rowErrorReporter(opts, status);

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

  const key = opts.source.cursorKey === undefined ? "" : `:${opts.source.cursorKey}`;
  const claimName = `rows:${opts.sourceType}:${opts.sourceName}${key}`;
  const cursorName = `${opts.sourceType}:${opts.sourceName}${key}`;
  let state: CollectionState | undefined;
  let claimed = false;
  let renewTimer: NodeJS.Timeout | undefined;
  let fatal: TailkitError | undefined;
  /** Per stream: the next position to give, and the positions state has committed. */
  const next = new Map<string, number>();
  const committed = new Map<string, number>();
  /** Per stream: positions below this were written by an earlier collection, and are dropped when read again. */
  const skipBelow = new Map<string, number>();
  const enrichers = new Map<string, Enricher>();
  const pending: PendingPage[] = [];
  /** Positions the saved cursor had: kept for streams this collection reads nothing of. */
  let startAt: Record<string, number> = {};

  const writer = createChunkWriter({
    dir: opts.outputDir,
    executionId,
    rowsPerChunk: opts.rowsPerChunk ?? 10_000,
    beforeVisible: (chunk) => state!.intent(chunk.path, chunk.ranges),
    onChunk: async (chunk) => {
      await commit(chunk.ranges);
      status.rowsWritten += chunk.rows;
      status.chunksWritten++;
      emit({ type: "chunk_written", executionId, time: now(), sequence: chunk.sequence, rows: chunk.rows, path: chunk.path });
    },
  });

  const commit = async (ranges: readonly ChunkRange[]) => {
    await state!.commit(ranges);
    for (const r of ranges) committed.set(r.artifact, Math.max(committed.get(r.artifact) ?? 0, r.to));
    // Pages are durable in the order they were read: the cursor never moves past a row that is not committed.
    let last: PendingPage | undefined;
    const done: PendingPage[] = [];
    while (pending.length > 0 && Object.entries(pending[0]!.positions).every(([s, p]) => (committed.get(s) ?? 0) >= p)) {
      const page = pending.shift()!;
      done.push(page);
      if (page.hasCursor) last = page;
    }
    // A stream with nothing new gives no page; its positions must survive, or its next rows would reuse them.
    if (last !== undefined) await state!.saveCursor(cursorName, { cursor: last.cursor, positions: { ...startAt, ...last.positions } } satisfies SavedCursor);
    // After the save: a source may then let go of what it kept of these pages (a spool), never needed again.
    for (const page of done) page.durable?.();
  };

  try {
    const registry = opts.dataSources !== undefined ? await registryFor(opts.dataSources) : NO_DATA_SOURCES;
    if (registry instanceof DataSourceRegistry) registry.refresh();
    const mappers = resolveTableSource(opts.table, opts.sourceType, opts.tableConfig, registry).mappers;
    state = await CollectionState.open({
      location: opts.state.location,
      plugin: opts.state.plugin,
      table: opts.table.name,
      partition: opts.partition,
      owner: executionId,
      window: timeWindow(opts.from, opts.to),
      ...(opts.state.leaseSeconds ? { leaseSeconds: opts.state.leaseSeconds } : {}),
      // As for artifacts: a collector killed on this host cannot release its claim; the next one takes it at once.
      holderGone: (holder) => holder.host === localHost() && !processAlive(holder.pid),
    });
    const st = state;
    await removeStaleTempFiles(opts.outputDir);
    // One collector reads a row source at a time: two would each write the rows after the same cursor.
    if (!(await st.claim(claimName))) {
      const holder = await st.claimHolder(claimName);
      throw new TailkitError(
        Code.FailedPrecondition,
        `source ${opts.sourceName}: another collector is reading it${holder ? ` (execution ${holder.execution}, pid ${holder.pid}${holder.host === localHost() ? "" : ` on ${holder.host}`})` : ""}; try again once it is done`,
        { field: "source", operation: "claim" },
      );
    }
    claimed = true;
    renewTimer = setInterval(() => void st.renew(claimName).catch(() => undefined), Math.max(200, (st.leaseSeconds * 1000) / 3));
    renewTimer.unref();

    const saved = opts.state.recollect ? undefined : savedCursor(await st.cursor(cursorName));
    startAt = saved?.positions ?? {};
    const stateDir = rowSourceStateDir(opts.outputDir, opts.sourceType, opts.sourceName);
    mkdirSync(stateDir, { recursive: true });
    const ctx: RowSourceContext = {
      signal: opts.signal,
      from: opts.from,
      to: opts.to,
      stateDir,
      stop: opts.stop,
      ...problemReporters(opts, status, "read"),
    };

    /** The first page of a stream in this collection: where its positions go on, and which of them are written. */
    const open = async (stream: ArtifactInfo): Promise<Enricher> => {
      const prev = await st.artifact(stream.name);
      st.begin(stream);
      const done = opts.state.recollect ? 0 : (prev?.committed ?? 0);
      // Positions go on from those the saved cursor was saved with; read from the start (no cursor yet, or --recollect),
      // they start at 0, so that each row gets the position, and the tp_id, it had the first time.
      next.set(stream.name, startAt[stream.name] ?? 0);
      committed.set(stream.name, done);
      skipBelow.set(stream.name, opts.state.recollect ? 0 : done);
      status.artifactsDiscovered++;
      emit({ type: "artifact_discovered", executionId, time: now(), artifact: stream });
      const enrich = createEnricher({
        dataSources: registry,
        table: opts.table,
        partition: opts.partition,
        sourceType: opts.sourceType,
        sourceName: opts.sourceName,
        artifact: stream,
        from: opts.from,
        to: opts.to,
      });
      enrichers.set(stream.name, enrich);
      return enrich;
    };

    const take = async (page: RowPage) => {
      const name = page.stream.name;
      const enrich = enrichers.get(name) ?? (await open(page.stream));
      const base = next.get(name)!;
      const mapped = new MapperChain(mappers, page.stream).map(page.items);
      const skip = skipBelow.get(name)!;
      const from = Math.max(base, skip);
      const to = Math.max(base + mapped.to, from);
      next.set(name, base + mapped.to);
      const rows: unknown[] = [];
      const positions: number[] = [];
      for (let i = 0; i < mapped.rows.length; i++) {
        const position = base + mapped.positions[i]!;
        if (position >= skip) {
          rows.push(mapped.rows[i]);
          positions.push(position);
        }
      }
      status.rowsReceived += rows.length;
      for (const e of mapped.errors)
        if (base + e.position >= skip) reportRowError(name, e.operation, `record ${base + e.position + 1}: ${e.message}`, base + e.position + 1);
      const enriched = enrich(rows, positions);
      for (const f of enriched.failures) reportRowError(name, f.operation, `record ${f.position + 1}: ${f.message}`, f.position + 1);
      status.rowsEnriched += enriched.count;
      pending.push({ positions: Object.fromEntries(next), hasCursor: "cursor" in page, cursor: page.cursor, durable: page.durable?.bind(page) });
      if (to > from) {
        try {
          await writer.write({ artifact: name, from, to, lines: encodedLines(enriched.bytes, enriched.count), indexes: enriched.indexes });
        } catch (err) {
          throw new TailkitError(Code.Internal, `writing a chunk in ${opts.outputDir}: ${err instanceof Error ? err.message : String(err)}`, {
            operation: "write",
          });
        }
      } else if (pending.length === 1) {
        // Nothing of it to write (an empty page, or rows all written before): durable as soon as what came before is.
        await commit([]);
      }
    };

    try {
      const pages = opts.source.read(saved?.cursor, ctx);
      if (opts.source.push) await readPushed(pages, take, () => writer.flush(), opts.signal, opts.pushFlushMs ?? 1000);
      else
        for await (const page of pages) {
          if (opts.signal.aborted) break;
          await take(page);
        }
    } catch (err) {
      if (!opts.signal.aborted) throw TailkitError.from(err, Code.Unavailable, { operation: "read" });
    }
    if (opts.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
    const summary = await writer.close();
    await commit(summary.trailingRanges);
    for (const [name, end] of next) {
      await st.complete(name, end, 0);
      status.artifactsExtracted++;
    }
  } catch (err) {
    // Rows in visible chunks stay committed, with the cursor of the last page that was wholly durable.
    fatal = TailkitError.from(err);
    await writer.abort().catch(() => undefined);
  } finally {
    clearInterval(timer);
    clearInterval(renewTimer);
    if (claimed) await state?.release(claimName).catch(() => undefined);
    await opts.source.close?.().catch(() => undefined);
    await state?.close().catch(() => undefined);
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

/**
 * Takes the pages of a push source as they come and, while it waits for more, writes what it took to a chunk: the
 * rows given since the last chunk wait at most `flushMs` (a chunk that fills sooner is written sooner). The rows are
 * safe in the source meanwhile (a webhook's spool); this only bounds how long they take to appear.
 */
async function readPushed(
  pages: AsyncIterable<RowPage>,
  take: (page: RowPage) => Promise<void>,
  flush: () => Promise<void>,
  signal: AbortSignal,
  flushMs: number,
): Promise<void> {
  const it = pages[Symbol.asyncIterator]();
  let unflushedSince: number | undefined;
  try {
    for (;;) {
      const next = it.next();
      let result: IteratorResult<RowPage> | undefined;
      if (unflushedSince !== undefined) {
        const wait = unflushedSince + flushMs - Date.now();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, wait))));
        // Settled either way: a rejection of next is awaited below, not left unhandled while the chunk is written.
        next.catch(() => undefined);
        result = await Promise.race([next, timeout]);
        clearTimeout(timer);
        if (result === undefined) {
          await flush();
          unflushedSince = undefined;
        }
      }
      result ??= await next;
      if (result.done || signal.aborted) return;
      if (result.value.items.length > 0) unflushedSince ??= Date.now();
      await take(result.value);
    }
  } finally {
    await it.return?.();
  }
}
