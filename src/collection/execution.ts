import { readFileSync } from "node:fs";
import { readdir, mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, TailkitError } from "../errors/index.js";
import type { LoaderOptions } from "../contract/loader.js";
import type { ArtifactInfo, ArtifactSource, SourceContext } from "../contract/source.js";
import { CollectionState, HEAD_PRINT_BYTES, localHost, timeWindow, type ArtifactState, type CoveredWindow, type HeadPrint, type StateLocation } from "../state/index.js";
import type { TableDefinition } from "../contract/table.js";
import { createChunkWriter, encodedLines, isEncodedLines } from "../writer/index.js";
import type { ChunkRange, RowBatch } from "../writer/types.js";
import { emptyStatus, type CollectionEvent, type StatusCounters } from "../contract/events.js";
import { artifactIdPrefix, artifactIdSeed } from "./enrich.js";
import { createExtractor, type ExtractedBatch, type Extractor, type ExtractSpec } from "./extract.js";

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
  /** Collection state: where, whose, and whether to ignore what it says was collected. */
  state: { location: StateLocation; plugin: string; recollect: boolean; leaseSeconds?: number | undefined };
  /** PluginDefinition.module and .name, so extraction can run off the main thread. */
  pluginModule?: string | undefined;
  pluginName?: string | undefined;
  signal: AbortSignal;
  emit(event: CollectionEvent): void;
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

/** Removes temp chunk files that dead processes left in the output folder (their pid is in the name). */
async function removeStaleTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^\..+\.(\d+)\.jsonl\.tmp$/.exec(name);
    if (!m) continue;
    if (!processAlive(Number(m[1]))) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * True when the process may still write: it exists and is not a zombie. A killed process whose parent has not reaped
 * it yet still answers signal 0; on Linux its /proc state ("Z") tells it apart. Elsewhere signal 0 decides.
 */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true;
  }
  // "pid (comm) S ...": the state follows the last ")", as comm may hold parentheses and spaces.
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state !== "Z" && state !== "X";
}

/** Artifacts discovery may list ahead of the one being considered. */
const DISCOVERY_LOOKAHEAD = 10_000;

/**
 * Pulls `source` ahead of its consumer, up to `max` items, calling onItem for each item it gets and onEnd once the
 * source is exhausted. A failure of the source reaches the consumer after the items before it; a consumer that stops
 * early ends the source.
 */
export async function* lookahead<T>(source: AsyncIterable<T>, max: number, onItem: () => void, onEnd: () => void): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  const queue: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakePump: (() => void) | undefined;
  let stopped = false;
  const pump = (async () => {
    try {
      while (!stopped) {
        if (queue.length >= max) {
          await new Promise<void>((r) => (wakePump = r));
          continue;
        }
        const next = await it.next();
        if (next.done) break;
        queue.push(next.value);
        onItem();
        wakeConsumer?.();
      }
      if (!stopped) onEnd();
    } catch (error) {
      failure = { error };
    } finally {
      ended = true;
      wakeConsumer?.();
    }
  })();
  try {
    for (;;) {
      if (queue.length > 0) {
        const item = queue.shift()!;
        wakePump?.();
        yield item;
        continue;
      }
      if (ended) {
        if (failure) throw failure.error;
        return;
      }
      await new Promise<void>((r) => (wakeConsumer = r));
      wakeConsumer = undefined;
    }
  } finally {
    stopped = true;
    wakePump?.();
    if (!ended) await it.return?.().catch(() => undefined);
    await pump;
  }
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

  // Artifacts fully extracted in this execution: where their positions end, and how many rows they gave.
  const ended = new Map<string, { end: number; rows: number }>();
  const completed = new Set<string>();
  let state: CollectionState | undefined;
  const held = new Set<string>();
  /** Aborts an artifact's extraction when its claim is found taken by another collector. */
  const lostClaims = new Map<string, AbortController>();
  let renewTimer: NodeJS.Timeout | undefined;
  /** Renewals under way: they settle before the claims are released at the end, lest one take a claim back. */
  const renewing = new Set<Promise<void>>();
  /**
   * Stops every artifact's extraction when the execution fails, so that none reads on once its claim is released;
   * they are waited for before the extractor closes, so that they end as part of that failure rather than each as an
   * artifact error ("the extractor is closed").
   */
  const stopAll = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const release = async (name: string) => {
    held.delete(name);
    await state!.release(name);
  };

  const completeIfDone = async (ranges: readonly ChunkRange[]) => {
    for (const r of ranges) {
      const e = ended.get(r.artifact);
      if (e && !completed.has(r.artifact) && r.to >= e.end) {
        completed.add(r.artifact);
        await state!.complete(r.artifact, e.end, e.rows);
        await release(r.artifact);
      }
    }
  };

  // Once every row written so far is in visible chunks, artifacts fully extracted are complete: what no chunk holds
  // (artifacts without rows, row errors after the last row) needs no file.
  const completeEnded = async () => {
    for (const [name, e] of ended) {
      if (completed.has(name)) continue;
      completed.add(name);
      await state!.complete(name, e.end, e.rows);
      await release(name);
    }
  };

  const writer = createChunkWriter({
    dir: opts.outputDir,
    executionId,
    rowsPerChunk: opts.rowsPerChunk ?? 10_000,
    beforeVisible: (chunk) => state!.intent(chunk.path, chunk.ranges),
    onChunk: async (chunk) => {
      await state!.commit(chunk.ranges);
      await completeIfDone(chunk.ranges);
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
    const ctx: SourceContext = {
      signal: opts.signal,
      from: opts.from,
      to: opts.to,
      tempDir,
      // An entry discovery could not take fails alone (counted, reported) and the walk goes on past it.
      report: (problem) => {
        status.artifactsFailed++;
        const { artifact, operation } = problem.details;
        emit({ type: "error", executionId, time: now(), ...(artifact ? { artifact } : {}), operation: operation ?? "discover", message: problem.message });
      },
      notice: (message) => emit({ type: "error", executionId, time: now(), operation: "discover", message }),
    };
    // --recollect asks for artifacts again even when state says they are collected. A time range does not: state knows
    // which time windows of an artifact were collected, and a collection writes only the rows not yet written.
    const override = opts.state.recollect;
    const leaseMs = st.leaseSeconds * 1000;

    // Claims are held until an artifact is complete (its rows may wait in the writer long after extraction), so one
    // timer renews them all.
    renewTimer = setInterval(() => {
      for (const name of held) {
        const p: Promise<void> = st
          .renew(name)
          .then(async (holds) => {
            if (holds && !held.has(name)) {
              // Released while the renewal ran, which then took the claim anew: give it up again.
              await st.release(name);
            } else if (!holds && held.has(name)) {
              // This collector stalled past its lease and another one took the artifact: it stops reading it, so that
              // the rows both would write stay few (those of the last renewal period, at most).
              held.delete(name);
              lostClaims.get(name)?.abort();
            }
          })
          .catch(() => undefined)
          .finally(() => renewing.delete(p));
        renewing.add(p);
      }
    }, Math.max(200, leaseMs / 3));
    renewTimer.unref();

    const processArtifact = async (info: ArtifactInfo, skip: number, exclude: readonly CoveredWindow[], idSeed: string): Promise<void> => {
      const claim = new AbortController();
      lostClaims.set(info.name, claim);
      try {
        const t0 = Date.now();
        let local;
        try {
          local = await opts.source.download(info, ctx);
        } catch (err) {
          throw TailkitError.from(err, Code.Unavailable, { artifact: info.name, operation: "download" });
        }
        local.idSeed = idSeed;
        try {
          if (local.readBytes !== undefined && local.readBytes < local.bytes) st.readUpTo(info.name, local.readBytes);
          status.artifactsDownloaded++;
          status.bytesDownloaded += local.bytes;
          emit({ type: "artifact_downloaded", executionId, time: now(), artifact: info, bytes: local.bytes, durationMs: Date.now() - t0 });
          let rows = 0;
          let errors = 0;
          let end = skip;
          const job = exclude.length > 0 ? { exclude } : undefined;
          for await (const raw of active.extract(local, AbortSignal.any([opts.signal, claim.signal, stopAll.signal]), job)) {
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
              reportRowError(info.name, e.operation, e.message, e.row ?? e.position + 1);
            }
            status.rowsEnriched += out.batch.lines.length;
            rows += out.batch.lines.length;
            if (out.batch.to > out.batch.from) {
              try {
                await writer.write(out.batch);
              } catch (err) {
                throw new TailkitError(Code.Internal, `writing a chunk in ${opts.outputDir}: ${err instanceof Error ? err.message : String(err)}`, { operation: "write" });
              }
            }
            // The writer holds nothing of a batch once write() has resolved: its buffer can serve another batch.
            out.release?.();
          }
          ended.set(info.name, { end, rows });
          status.artifactsExtracted++;
          emit({ type: "artifact_extracted", executionId, time: now(), artifact: info, rows, rowErrors: errors });
        } finally {
          await local.release();
        }
      } catch (err) {
        if (!claim.signal.aborted || opts.signal.aborted || stopAll.signal.aborted) throw err;
        throw new TailkitError(
          Code.Aborted,
          `${info.name}: this collector was held up past its ${st.leaseSeconds} s claim and another collector took the artifact; it stopped reading it there`,
          { artifact: info.name, operation: "claim" },
        );
      } finally {
        lostClaims.delete(info.name);
      }
    };

    const concurrency = Math.max(1, opts.artifactConcurrency ?? 4);
    const start = (info: ArtifactInfo, skip: number, exclude: readonly CoveredWindow[], idSeed: string) => {
      status.artifactsDiscovered++;
      emit({ type: "artifact_discovered", executionId, time: now(), artifact: info });
      const p: Promise<void> = processArtifact(info, skip, exclude, idSeed)
        .catch(async (err: unknown) => {
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
          await release(info.name).catch(() => undefined);
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    /** Decides what to do with one artifact: skip (done), defer (another collector holds it), or collect. */
    const consider = async (info: ArtifactInfo): Promise<"skip" | "defer" | "start"> => {
      const prev = await st.artifact(info.name);
      if (!override && CollectionState.isDone(prev, info, st.window)) return "skip";
      if (!(await st.claim(info.name))) return "defer";
      held.add(info.name);
      // The claim was taken after the read: read again so progress a previous holder committed meanwhile counts.
      const current = await st.artifact(info.name);
      if (!override && CollectionState.isDone(current, info, st.window)) {
        await release(info.name);
        return "skip";
      }
      const from = await startingPoint(info, current);
      const plan = st.begin(info, from);
      if (from.head !== undefined) await st.indexHead(info.name, from.head);
      start(info, plan.skip, plan.exclude, from.idSeed);
      return "start";
    };
    /**
     * Where an artifact's collection starts when it is not where its state says: a file that replaced the one collected
     * under its name (a rotated or truncated log) starts over, and a file collected under another name (the rotated
     * log) goes on from there. Both are told by the artifact's first bytes, where the source offers them.
     */
    const startingPoint = async (
      info: ArtifactInfo,
      current: ArtifactState | undefined,
    ): Promise<{ head?: HeadPrint | undefined; restartAt?: number | undefined; restartWindows?: CoveredWindow[] | undefined; idSeed: string }> => {
      let head: Uint8Array | undefined;
      if (opts.source.head !== undefined) {
        try {
          head = await opts.source.head(info, HEAD_PRINT_BYTES, ctx);
        } catch {
          // An artifact that cannot be read fails in download, with the source's own message.
          head = undefined;
        }
      }
      const print = head === undefined ? undefined : CollectionState.headPrint(head);
      const replaced = current !== undefined && CollectionState.replaced(current, info, head);
      // The tp_id prefix: the one its rows were given so far while the file goes on (state older than seeds gave the
      // name's), else a new one from its location and content, never the one of the file it replaced.
      const goingOn = (prev: ArtifactState) => prev.idSeed ?? artifactIdPrefix(opts.sourceType, opts.sourceName, info.name);
      const newSeed = () => {
        const seed = artifactIdSeed(opts.sourceType, opts.sourceName, info.location, print);
        const old = replaced ? goingOn(current!) : undefined;
        return seed === old ? artifactIdSeed(opts.sourceType, opts.sourceName, info.location, print, old) : seed;
      };
      if (override) return { head: print, restartAt: 0, idSeed: current !== undefined && !replaced ? goingOn(current) : newSeed() };
      if (current !== undefined && !replaced) return { head: print, idSeed: goingOn(current) };
      // What was collected under this name is kept for the name it moved to.
      if (replaced) await st.moved(current!);
      const earlier = head === undefined || print === undefined ? undefined : await st.findByHead(head, info.name);
      // A renamed file keeps its ids; its new rows continue its positions.
      return { head: print, restartAt: earlier?.committed ?? 0, restartWindows: earlier?.windows, idSeed: earlier?.idSeed ?? newSeed() };
    };

    const deferred: ArtifactInfo[] = [];
    // Discovery runs ahead of collection, so that the total is known (and progress has an ETA) long before the end.
    const listed = lookahead(opts.source.discover(ctx), DISCOVERY_LOOKAHEAD, () => status.artifactsListed++, () => (status.discoveryDone = true));
    for await (const info of listed) {
      if (opts.signal.aborted || fatal) break;
      const what = await consider(info);
      if (what === "skip") status.artifactsSkipped++;
      else if (what === "defer") deferred.push(info);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
    // Artifacts other collectors hold: wait until they finish them, or their claims lapse and this one takes over.
    // First make this collector's own rows durable, so the artifacts it holds complete and others stop waiting on it.
    const settle = async () => {
      await Promise.all(inFlight);
      await writer.flush();
      await completeEnded();
    };
    // Said at once, and in every status until they are taken: the wait would otherwise look like a stall.
    const waiting = () => {
      if (status.artifactsWaiting === deferred.length) return;
      status.artifactsWaiting = deferred.length;
      emit({ type: "status", executionId, time: now(), status: snapshot() });
    };
    waiting();
    if (deferred.length) await settle();
    while (deferred.length && !opts.signal.aborted && !fatal) {
      for (let i = deferred.length - 1; i >= 0; i--) {
        const what = await consider(deferred[i]!);
        if (what !== "defer") {
          if (what === "skip") status.artifactsSkipped++;
          deferred.splice(i, 1);
        }
        if (inFlight.size >= concurrency) await Promise.race(inFlight);
      }
      waiting();
      if (deferred.length) {
        await settle();
        await sleep(Math.min(1000, leaseMs / 4));
      }
    }
    await Promise.all(inFlight);
    if (opts.signal.aborted) throw new TailkitError(Code.Canceled, "collection was cancelled");
    if (fatal) throw fatal;
    const summary = await writer.close();
    await st.commit(summary.trailingRanges);
    await completeEnded();
  } catch (err) {
    fatal ??= TailkitError.from(err);
    // Artifacts still being read stop before their claims are given up below.
    stopAll.abort();
    await writer.abort().catch(() => undefined);
    await Promise.allSettled(inFlight);
  } finally {
    clearInterval(timer);
    clearInterval(renewTimer);
    // Every way out gives up the claims still held (a failed or cancelled run's artifacts, whose committed rows stay):
    // otherwise the next run would wait out their lease. A renewal under way could take a released claim back.
    await Promise.allSettled(renewing);
    for (const name of held) await state?.release(name).catch(() => undefined);
    held.clear();
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
