// Entry of an extraction worker thread: loads the plugin's table once, then runs extractArtifact for each job the
// pool sends and posts the batches back, encoded, with their buffers transferred.
import { parentPort, workerData } from "node:worker_threads";
import { Code, TailkitError } from "../errors/index.js";
import { EXTRACTION_WORKER_GLOBAL, type ExtractionWorkerHook } from "../plugin/handshake.js";
import type { LocalArtifact } from "../contract/source.js";
import type { PluginDefinition } from "../contract/plugin.js";
import type { TableDefinition } from "../contract/table.js";
import { isEncodedLines } from "../writer/types.js";
import { giveBack } from "./batch-buffers.js";
import { extractArtifact } from "./extract-artifact.js";
import type { ExtractJob, ExtractSpec } from "./types.js";
import { moduleRefusal } from "./worker-pool.js";
import { registryFor } from "../datasources/setup.js";
import type { FromWorker, ModuleCheck, ToWorker, WireExtractSpec, WorkerSetup } from "./worker-protocol.js";

/** Buffers this large never come from Buffer's shared pool, so transferring them detaches nothing else. */
const TRANSFER_MIN_BYTES = Buffer.poolSize >>> 1;

interface JobState {
  controller: AbortController;
  credits: number;
  /** Set while the job waits for a credit. */
  wake: (() => void) | undefined;
}

const port = parentPort!;
const setup = workerData as WorkerSetup;
const jobs = new Map<number, JobState>();

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

/** The export of the plugin module that is a plugin definition of the given name, if any. */
function findDefinition(mod: Record<string, unknown>, pluginName: string): Pick<PluginDefinition, "tables" | "customTables"> | undefined {
  for (const value of Object.values(mod)) {
    const def = value as { name?: unknown; tables?: unknown } | null;
    if (def !== null && typeof def === "object" && def.name === pluginName && Array.isArray(def.tables)) return def as PluginDefinition;
  }
  return undefined;
}

/** Finds the table in the plugin module: the export that is a plugin definition of the given name. */
function findSpec(mod: Record<string, unknown>, s: WorkerSetup, wire: WireExtractSpec): ExtractSpec {
  const def = findDefinition(mod, s.pluginName);
  if (def === undefined) throw new Error(`${s.pluginModule} exports no plugin definition named ${s.pluginName}`);
  // A custom table is made again from the same config, as the runtime made it.
  const table =
    (def.tables.find((t) => t.name === wire.tableName) as TableDefinition<unknown> | undefined) ??
    def.customTables?.create(wire.tableName, wire.tableConfig as Record<string, unknown>);
  if (!table) throw new Error(`plugin ${s.pluginName} in ${s.pluginModule} has no table ${wire.tableName}`);
  const { tableName: _, ...rest } = wire;
  return { ...rest, table };
}

async function runJob(id: number, spec: ExtractSpec, artifact: LocalArtifact, job: ExtractJob, state: JobState): Promise<void> {
  try {
    for await (const out of extractArtifact(artifact, spec, state.controller.signal, job)) {
      const lines = out.batch.lines;
      // extractArtifact always encodes; the check keeps the types honest.
      const bytes = isEncodedLines(lines) ? lines.bytes : Buffer.from(lines.length ? lines.join("\n") + "\n" : "", "utf8");
      // A large batch goes with its whole buffer, which comes back once written. A small one goes as a copy of its
      // bytes (a view would be cloned with the whole buffer under it), and the buffer is reused here at once.
      const transferred = bytes.byteLength >= TRANSFER_MIN_BYTES;
      post(
        {
          type: "batch",
          id,
          from: out.batch.from,
          to: out.batch.to,
          bytes: transferred ? bytes : new Uint8Array(bytes),
          transferred,
          count: lines.length,
          indexes: out.batch.indexes as number[],
          rowErrors: out.rowErrors,
          rowsReceived: out.rowsReceived,
        },
        transferred ? [bytes.buffer as ArrayBuffer] : undefined,
      );
      if (!transferred) out.release?.();
      state.credits--;
      if (state.credits <= 0) {
        post({ type: "stalled", id });
        while (state.credits <= 0 && !state.controller.signal.aborted) await new Promise<void>((r) => (state.wake = r));
        state.wake = undefined;
      }
      state.controller.signal.throwIfAborted();
    }
    post({ type: "done", id });
  } catch (err) {
    const e = state.controller.signal.aborted
      ? new TailkitError(Code.Canceled, `${artifact.info.name}: loading was canceled`, { artifact: artifact.info.name, operation: "load" })
      : TailkitError.from(err, Code.DataLoss, { artifact: artifact.info.name, operation: "load" });
    post({ type: "error", id, error: { code: e.code, message: e.message, details: { ...e.details } } });
  } finally {
    jobs.delete(id);
  }
}

// serve() called while the module loads (a module that serves when imported) reports here instead of serving: the pool
// refuses such a module rather than let every worker start another plugin server.
const serveCalls: string[] = [];
const hook: ExtractionWorkerHook = { serveCalled: (_name, caller) => void serveCalls.push(caller ?? "") };
(globalThis as Record<symbol, unknown>)[Symbol.for(EXTRACTION_WORKER_GLOBAL)] = hook;

// The module is imported at once, with or without a spec: a warm worker has it loaded when its collection comes.
const loaded: Promise<Record<string, unknown>> = import(setup.pluginModule) as Promise<Record<string, unknown>>;
const checked: Promise<ModuleCheck> = loaded.then(
  (mod) => ({ servedFrom: serveCalls[0], tables: findDefinition(mod, setup.pluginName)?.tables.map((t) => t.name) }),
  (err: unknown) => ({ importError: err instanceof Error ? err.message : String(err), servedFrom: serveCalls[0] }),
);
void checked.then((check) => post({ type: "module_checked", check }));
let spec: ExtractSpec;

async function configure(wire: WireExtractSpec): Promise<void> {
  try {
    const refusal = moduleRefusal(await checked, setup.pluginModule, setup.pluginName);
    if (refusal !== undefined) throw new Error(refusal);
    const found = findSpec(await loaded, setup, wire);
    // This worker's own registry: its own store handles and caches, refreshed for each execution.
    const registry = wire.dataSources !== undefined ? await registryFor(wire.dataSources) : undefined;
    registry?.refresh();
    spec = { ...found, registry };
    post({ type: "ready" });
  } catch (err) {
    post({ type: "setup_failed", message: err instanceof Error ? err.message : String(err) });
    port.close();
  }
}

if (setup.spec !== undefined) await configure(setup.spec);

port.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "setup":
      void configure(msg.spec);
      break;
    case "job": {
      const state: JobState = { controller: new AbortController(), credits: msg.credits, wake: undefined };
      jobs.set(msg.id, state);
      const artifact: LocalArtifact = { ...msg.artifact, release: async () => undefined };
      void runJob(msg.id, spec, artifact, msg.job, state);
      break;
    }
    case "credit": {
      const state = jobs.get(msg.id);
      if (state) {
        state.credits++;
        state.wake?.();
      }
      break;
    }
    case "cancel": {
      const state = jobs.get(msg.id);
      if (state) {
        state.controller.abort();
        state.wake?.();
      }
      break;
    }
    case "buffer":
      giveBack(msg.buffer);
      break;
  }
});
