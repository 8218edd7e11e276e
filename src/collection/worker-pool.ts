import { isMainThread, Worker } from "node:worker_threads";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../contract/source.js";
import { encodedLines, isEncodedLines } from "../writer/types.js";
import { extractArtifact } from "./extract-artifact.js";
import type { ExtractedBatch, ExtractJob, Extractor, ExtractorStats, ExtractSpec } from "./types.js";
import type { FromWorker, ModuleCheck, ToWorker, WorkerSetup } from "./worker-protocol.js";

/** Options of createWorkerExtractor; defaults are resolved by createExtractor. */
export interface WorkerExtractorOptions {
  pluginModule: string;
  pluginName: string;
  workers: number;
  maxBatchesInFlight: number;
  /** V8 young generation of each worker, in MB; undefined keeps Node's default. */
  youngGenerationMb: number | undefined;
  /** Start all workers at once instead of at the first artifacts. */
  prestart?: boolean;
}

/** Where the worker entry is, next to this module once compiled. */
const WORKER_URL = new URL("./worker-extract.js", import.meta.url);

interface Job {
  id: number;
  onMessage(msg: FromWorker): void;
  /** The worker died under the job. */
  onExit(reason: string): void;
}

interface PooledWorker {
  worker: Worker;
  ready: Promise<void>;
  busy: boolean;
  dead: boolean;
  job: Job | undefined;
}

/**
 * Extraction on a pool of worker threads, one artifact per worker at a time. Each worker loads the table from the
 * plugin module once; the main thread only moves encoded batches to the writer. When a worker cannot load the table,
 * the extractor falls back to inline extraction for the rest of its life and says why in stats().
 */
export function createWorkerExtractor(spec: ExtractSpec, options: WorkerExtractorOptions): Extractor {
  return new WorkerPoolExtractor(spec, options);
}

class WorkerPoolExtractor implements Extractor {
  private readonly setup: WorkerSetup;
  private readonly workers: PooledWorker[] = [];
  private readonly waiting: ((w: PooledWorker | undefined) => void)[] = [];
  private nextJobId = 1;
  private fallbackReason: string | undefined;
  private closed = false;
  private readonly counters = {
    jobs: 0,
    batchesQueued: 0,
    maxBatchesQueued: 0,
    bytesQueued: 0,
    maxBytesQueued: 0,
    stalls: 0,
    workersStarted: 0,
    warmWorkersUsed: 0,
    buffersReturned: 0,
  };

  constructor(
    private readonly spec: ExtractSpec,
    private readonly options: WorkerExtractorOptions,
  ) {
    // The registry stays: each worker makes its own from spec.dataSources.
    const { table, loaderOptions, registry: _registry, ...rest } = spec;
    const { signal: _, ...wireLoaderOptions } = loaderOptions ?? {};
    this.setup = {
      pluginModule: options.pluginModule,
      pluginName: options.pluginName,
      spec: { ...rest, tableName: table.name, loaderOptions: wireLoaderOptions },
    };
    if (options.prestart) for (let i = 0; i < options.workers; i++) this.spawn();
  }

  extract(local: LocalArtifact, signal?: AbortSignal, job: ExtractJob = {}): AsyncIterable<ExtractedBatch> {
    return this.run(local, signal, job);
  }

  stats(): ExtractorStats {
    return {
      mode: this.fallbackReason === undefined ? "worker" : "inline",
      ...(this.fallbackReason !== undefined ? { fallbackReason: this.fallbackReason } : {}),
      workers: this.workers.filter((w) => !w.dead).length,
      ...this.counters,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const resolve of this.waiting.splice(0)) resolve(undefined);
    await Promise.all(this.workers.splice(0).map((w) => w.worker.terminate().catch(() => 0)));
  }

  private async *run(local: LocalArtifact, signal: AbortSignal | undefined, job: ExtractJob): AsyncGenerator<ExtractedBatch> {
    const name = local.info.name;
    const canceled = () => new TailkitError(Code.Canceled, `${name}: loading was canceled`, { artifact: name, operation: "load" });
    if (signal?.aborted) throw canceled();
    const w = await this.acquire(signal);
    if (w === undefined) {
      if (this.closed) throw new TailkitError(Code.FailedPrecondition, `${name}: the extractor is closed`, { artifact: name, operation: "load" });
      if (signal?.aborted) throw canceled();
      yield* extractArtifact(local, this.spec, signal, job);
      return;
    }

    const id = this.nextJobId++;
    const queue: ExtractedBatch[] = [];
    let ended = false;
    let failure: TailkitError | undefined;
    let settledInWorker = false;
    let wake: (() => void) | undefined;
    const notify = () => {
      const f = wake;
      wake = undefined;
      f?.();
    };
    const counters = this.counters;
    // The worker takes its next artifact as soon as it has sent this one's last batch, while the consumer may still
    // be writing the batches queued here: those stay bounded by the credits of each job in flight.
    const settled = () => {
      if (settledInWorker) return;
      settledInWorker = true;
      this.release(w);
    };
    w.job = {
      id,
      onMessage: (msg) => {
        switch (msg.type) {
          case "batch": {
            const bytes = Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength);
            queue.push({
              batch: { artifact: name, from: msg.from, to: msg.to, lines: encodedLines(bytes, msg.count), indexes: msg.indexes },
              rowErrors: msg.rowErrors,
              rowsReceived: msg.rowsReceived,
              ...(msg.transferred ? { release: this.returner(w, msg.bytes.buffer as ArrayBuffer) } : {}),
            });
            counters.batchesQueued++;
            counters.bytesQueued += bytes.length;
            counters.maxBatchesQueued = Math.max(counters.maxBatchesQueued, counters.batchesQueued);
            counters.maxBytesQueued = Math.max(counters.maxBytesQueued, counters.bytesQueued);
            break;
          }
          case "stalled":
            counters.stalls++;
            return;
          case "done":
            ended = true;
            settled();
            break;
          case "error":
            failure = new TailkitError(msg.error.code, msg.error.message, msg.error.details);
            settled();
            break;
          default:
            return;
        }
        notify();
      },
      onExit: (reason) => {
        failure ??= new TailkitError(Code.Internal, `${name}: extraction worker stopped: ${reason}`, { artifact: name, operation: "load" });
        settled();
        notify();
      },
    };
    const send = (msg: ToWorker) => {
      if (!w.dead && !settledInWorker) w.worker.postMessage(msg);
    };
    const onAbort = () => {
      send({ type: "cancel", id });
      notify();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    counters.jobs++;
    send({
      type: "job",
      id,
      artifact: { info: local.info, path: local.path, bytes: local.bytes, readBytes: local.readBytes, idSeed: local.idSeed },
      job,
      credits: this.options.maxBatchesInFlight,
    });
    try {
      for (;;) {
        const next = queue.shift();
        if (next !== undefined) {
          counters.batchesQueued--;
          counters.bytesQueued -= byteSize(next);
          send({ type: "credit", id });
          yield next;
          continue;
        }
        if (failure) throw failure;
        if (ended) return;
        if (signal?.aborted) throw canceled();
        await new Promise<void>((r) => (wake = r));
      }
    } finally {
      signal?.removeEventListener("abort", onAbort);
      for (const b of queue.splice(0)) {
        counters.batchesQueued--;
        counters.bytesQueued -= byteSize(b);
        // Never handed out, so nothing reads them.
        b.release?.();
      }
      // Abandoned early (a consumer that stopped, a cancel): the worker is released once it has wound the job down.
      send({ type: "cancel", id });
    }
  }

  /**
   * A batch's release(): sends its buffer back to the worker that made it, transferred, the first time it is called. A
   * worker that has died or been terminated does without: the buffer is left to the garbage collector.
   */
  private returner(w: PooledWorker, buffer: ArrayBuffer): () => void {
    let held: ArrayBuffer | undefined = buffer;
    return () => {
      const ab = held;
      held = undefined;
      // A detached buffer (byteLength 0) has already gone elsewhere.
      if (ab === undefined || ab.byteLength === 0 || w.dead || this.closed) return;
      w.worker.postMessage({ type: "buffer", buffer: ab } satisfies ToWorker, [ab]);
      this.counters.buffersReturned++;
    };
  }

  /** An idle ready worker, or undefined for inline extraction (no worker can load the table, or the pool closed). */
  private async acquire(signal?: AbortSignal): Promise<PooledWorker | undefined> {
    for (;;) {
      if (this.closed || this.fallbackReason !== undefined || signal?.aborted) return undefined;
      let w = this.workers.find((x) => !x.busy && !x.dead);
      if (w === undefined && this.workers.filter((x) => !x.dead).length < this.options.workers) w = this.spawn();
      if (w === undefined) {
        w = await new Promise<PooledWorker | undefined>((resolve) => {
          const onAbort = () => {
            const i = this.waiting.indexOf(handoff);
            if (i !== -1) this.waiting.splice(i, 1);
            resolve(undefined);
          };
          const handoff = (x: PooledWorker | undefined) => {
            signal?.removeEventListener("abort", onAbort);
            resolve(x);
          };
          signal?.addEventListener("abort", onAbort, { once: true });
          this.waiting.push(handoff);
        });
        if (w === undefined) continue;
      }
      w.busy = true;
      w.worker.ref();
      try {
        await w.ready;
      } catch (err) {
        this.fallbackReason ??= err instanceof Error ? err.message : String(err);
        this.release(w);
        continue;
      }
      if (w.dead) continue;
      return w;
    }
  }

  /** Frees a worker whose job is settled, handing it straight to a waiting extract() if there is one. */
  private release(w: PooledWorker): void {
    w.job = undefined;
    if (this.waiting.length > 0 && this.fallbackReason === undefined && !this.closed) {
      // Stays busy through the handoff, so that no other acquire() takes it meanwhile.
      const next = w.dead ? this.spawn() : w;
      next.busy = true;
      this.waiting.shift()!(next);
      return;
    }
    w.busy = false;
    if (!w.dead) w.worker.unref();
    for (const resolve of this.waiting.splice(0)) resolve(undefined);
  }

  private spawn(): PooledWorker {
    const youngMb = this.options.youngGenerationMb;
    // A warm worker (started with the plugin, module already loaded) only needs the spec.
    const warmWorker = takeWarmWorker(this.setup.pluginModule, this.setup.pluginName, youngMb);
    const worker =
      warmWorker ??
      new Worker(WORKER_URL, {
        workerData: this.setup,
        ...(youngMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: youngMb } } : {}),
      });
    if (warmWorker !== undefined) {
      worker.postMessage({ type: "setup", spec: this.setup.spec! } satisfies ToWorker);
      this.counters.warmWorkersUsed++;
    }
    this.counters.workersStarted++;
    const pw: PooledWorker = { worker, ready: Promise.resolve(), busy: false, dead: false, job: undefined };
    pw.ready = new Promise<void>((resolve, reject) => {
      const die = (reason: string) => {
        if (pw.dead) return;
        pw.dead = true;
        const i = this.workers.indexOf(pw);
        if (i !== -1) this.workers.splice(i, 1);
        reject(new Error(`extraction worker could not start: ${reason}`));
        pw.job?.onExit(reason);
      };
      worker.on("message", (msg: FromWorker) => {
        if (msg.type === "ready") resolve();
        // A module that serves when imported comes back as setup_failed; the check itself is for serve() at start.
        else if (msg.type === "module_checked") return;
        else if (msg.type === "setup_failed") {
          reject(new Error(msg.message));
          die(msg.message);
          void worker.terminate();
        } else pw.job?.onMessage(msg);
      });
      worker.on("error", (err) => die(err.message));
      worker.on("exit", (code) => die(`exited with code ${code}`));
    });
    // A rejection nobody awaits yet (the worker died idle) is not an unhandled one.
    pw.ready.catch(() => undefined);
    worker.unref();
    this.workers.push(pw);
    return pw;
  }
}

function byteSize(out: ExtractedBatch): number {
  const lines = out.batch.lines;
  return isEncodedLines(lines) ? lines.bytes.length : 0;
}

interface WarmWorker {
  worker: Worker;
  youngMb: number | undefined;
  dead: boolean;
  /** Its own exit and error listener, removed when a pool takes it. */
  drop: (reason?: unknown) => void;
}

/** The warm workers of one plugin module and name, and the first answer any of them gave about the module. */
interface WarmSet {
  workers: WarmWorker[];
  check: Promise<ModuleCheck>;
  answered: boolean;
  answer: (check: ModuleCheck) => void;
}

/** Workers started ahead of any collection, per plugin module and name, waiting for a spec. */
const warmWorkers = new Map<string, WarmSet>();

function warmSet(pluginModule: string, pluginName: string): WarmSet {
  const key = `${pluginModule}\0${pluginName}`;
  let set = warmWorkers.get(key);
  if (set === undefined) {
    let resolve!: (check: ModuleCheck) => void;
    const check = new Promise<ModuleCheck>((r) => (resolve = r));
    const made: WarmSet = {
      workers: [],
      check,
      answered: false,
      answer: (c) => {
        made.answered = true;
        resolve(c);
      },
    };
    set = made;
    warmWorkers.set(key, set);
  }
  return set;
}

/**
 * Starts extraction workers that import the plugin module now, before any collection asks for them: a plugin
 * executable calls it once it serves, so that the first collection finds its workers loaded instead of waiting for
 * them (thread start and module import take a few hundred milliseconds). They hold no spec until taken, and do not
 * keep the process alive. Off the main thread it starts none: an extraction worker never needs workers of its own, and
 * a plugin module imported by one must not multiply them.
 */
export function prewarmWorkers(pluginModule: string, pluginName: string, count: number, youngMb: number | undefined): void {
  if (!isMainThread) return;
  const set = warmSet(pluginModule, pluginName);
  const list = set.workers;
  for (let i = list.length; i < count; i++) {
    const setup: WorkerSetup = { pluginModule, pluginName };
    const worker = new Worker(WORKER_URL, {
      workerData: setup,
      ...(youngMb !== undefined ? { resourceLimits: { maxYoungGenerationSizeMb: youngMb } } : {}),
    });
    const w: WarmWorker = { worker, youngMb, dead: false, drop: () => undefined };
    const onMessage = (msg: FromWorker) => {
      if (msg.type !== "module_checked") return;
      worker.off("message", onMessage);
      set.answer(msg.check);
    };
    w.drop = (reason?: unknown) => {
      w.dead = true;
      const at = list.indexOf(w);
      if (at !== -1) list.splice(at, 1);
      // Died before it could say (a module that exits the thread, say): that is the answer, unless another said first.
      set.answer({ importError: `the worker stopped while importing it: ${reason instanceof Error ? reason.message : `exit code ${String(reason)}`}` });
    };
    worker.on("message", onMessage);
    worker.once("exit", w.drop);
    worker.once("error", w.drop);
    worker.unref();
    list.push(w);
  }
}

/**
 * What a worker thread found on importing the plugin module: the first answer of a warm worker, starting one (which
 * stays warm for the first collection) when none has answered and none is running.
 */
export function checkModuleInWorker(pluginModule: string, pluginName: string, youngMb: number | undefined): Promise<ModuleCheck> {
  const set = warmSet(pluginModule, pluginName);
  if (!set.answered) prewarmWorkers(pluginModule, pluginName, Math.max(1, set.workers.length), youngMb);
  return set.check;
}

/**
 * Why a plugin module cannot be the one extraction workers load the plugin from, or undefined when it can: one that
 * calls serve() when imported (each worker would start another plugin server), one that does not import or exports no
 * definition of the plugin's name, or (given `tables`) whose definition lacks some of those tables.
 */
export function moduleRefusal(check: ModuleCheck, pluginModule: string, pluginName: string, tables?: readonly string[]): string | undefined {
  if (check.servedFrom !== undefined) {
    const from = check.servedFrom ? ` (from ${check.servedFrom})` : "";
    return (
      `plugin ${pluginName}: refusing module ${pluginModule}: importing it calls serve()${from}. Extraction worker threads ` +
      `import the definition's module to load its tables, and each would start another plugin server. Export the plugin ` +
      `definition from a module that does not call serve() (with module: import.meta.url there), and call serve() from the ` +
      `executable's entry.`
    );
  }
  if (check.importError !== undefined) {
    return `plugin ${pluginName}: module ${pluginModule} (the definition's module) could not be imported in a worker thread: ${check.importError}`;
  }
  if (check.tables === undefined) {
    return (
      `plugin ${pluginName}: ${pluginModule} exports no plugin definition named ${pluginName}, and extraction worker threads ` +
      `load the tables from the definition's module. Set module: import.meta.url in the module that exports the definition ` +
      `(one that does not call serve()).`
    );
  }
  const missing = (tables ?? []).filter((t) => !check.tables!.includes(t));
  if (missing.length > 0) {
    return `plugin ${pluginName}: the definition ${pluginModule} exports has no table ${missing.join(", ")}: it must be this plugin's definition.`;
  }
  return undefined;
}

/** A warm worker for this plugin with the same young generation, taken out of the set; or undefined. */
function takeWarmWorker(pluginModule: string, pluginName: string, youngMb: number | undefined): Worker | undefined {
  const list = warmWorkers.get(`${pluginModule}\0${pluginName}`)?.workers;
  if (list === undefined) return undefined;
  const at = list.findIndex((w) => !w.dead && w.youngMb === youngMb);
  if (at === -1) return undefined;
  const [w] = list.splice(at, 1);
  w!.worker.off("exit", w!.drop);
  w!.worker.off("error", w!.drop);
  return w!.worker;
}
