import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { basename, dirname } from "node:path";
import * as grpc from "@grpc/grpc-js";
// rxjs's main entry loads all of rxjs (some 400 modules, a fifth of a second of start-up on the critical path of
// every plugin launch); the package exports its internal modules, and these are the few the SDK uses.
import type { Observable } from "rxjs";
import { Subject } from "rxjs/internal/Subject";
import type { CollectionEvent, CompleteEvent, StatusCounters } from "../contract/events.js";
import { emptyStatus } from "../contract/events.js";
import { Code, TailkitError } from "../errors/index.js";
import { HEALTH_SERVICE, parseHandshake, type HandshakeAddress } from "../plugin/handshake.js";
import { countChunkRows, executionChunks } from "./chunks-on-disk.js";
import { abandonPlugin, describeExit, spawnPlugin, type LaunchOptions, type PluginExit, type SpawnedPlugin } from "./spawn.js";
import type { CollectOptions, PluginDescription } from "../contract/plugin.js";
import { eventFromWire, loadProtocol, toUnixMs } from "../protocol/index.js";
import type { DescribeResponse, GRPCControllerClient, PluginServiceClient, WireEvent } from "../protocol/index.js";

export type { LaunchOptions, PluginExit };

/** A collection the plugin took: its execution id, and the row schema of the rows it writes (when the plugin sent one). */
export interface CollectionStarted {
  executionId: string;
  rowSchema?: Record<string, unknown>;
}

/** A running plugin process and a gRPC client to it. */
export class PluginClient {
  private readonly child: ChildProcess;
  private readonly client: PluginServiceClient;
  private readonly controller: GRPCControllerClient;
  private readonly subject = new Subject<CollectionEvent>();
  private readonly stderrTail: string[];
  private readonly grace: number;
  private observer: grpc.ClientReadableStream<unknown> | undefined;
  private exitInfo: PluginExit | undefined;
  private readonly exited: Promise<PluginExit>;
  private readonly pending = new Map<string, (e: CompleteEvent) => void>();
  private readonly completed = new Map<string, CompleteEvent>();
  private readonly target: string;
  private closing = false;
  private readonly started = new Set<string>();
  /** What the events told of each execution, for the complete made up here should the plugin die. */
  private readonly seen = new Map<string, SeenExecution>();

  /** @internal use launchPlugin */
  constructor(child: ChildProcess, address: string, stderrTail: string[], exited: Promise<PluginExit>, grace: number, privateDir?: string) {
    this.child = child;
    this.stderrTail = stderrTail;
    this.grace = grace;
    this.exited = exited;
    this.target = address;
    const { plugin, controller } = loadProtocol();
    this.client = new plugin.tailkit.plugin.v1.PluginService(address, grpc.credentials.createInsecure());
    this.controller = new controller.plugin.GRPCController(address, grpc.credentials.createInsecure());
    void exited.then((info) => {
      this.exitInfo = info;
      // A plugin killed (SIGKILL) could not remove its socket folder; it is gone now, so nothing uses the folder.
      if (privateDir !== undefined) {
        try {
          rmSync(privateDir, { recursive: true, force: true });
        } catch {
          // Left for the system's temp cleaner: the host has nothing better to do with it.
        }
      }
      this.failPending(`plugin exited ${describeExit(info)}${this.stderrSuffix()}`);
    });
  }

  /** The gRPC target the plugin serves on, e.g. unix:///tmp/tailkit-plugin-x/plugin.sock. */
  get address(): string {
    return this.target;
  }

  /** The plugin's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Every event the plugin publishes, from the moment startObserving() ran. */
  get events(): Observable<CollectionEvent> {
    return this.subject.asObservable();
  }

  /**
   * Opens the AddObserver stream; called by launchPlugin, so events of any later Collect are seen. Should the stream
   * break while the plugin lives, it is opened again: the plugin replays how each known execution ended, so no
   * complete event is lost.
   */
  async startObserving(): Promise<void> {
    if (this.observer) return;
    await this.openObserver();
  }

  private openObserver(): Promise<void> {
    const stream = this.client.AddObserver({});
    this.observer = stream;
    stream.on("data", (msg: { event: WireEvent | null }) => {
      if (!msg.event) return;
      const e = eventFromWire(msg.event);
      if (!e) return;
      if (e.type === "started") {
        if (this.started.has(e.executionId)) return; // a replay after a reconnect
        this.started.add(e.executionId);
      }
      this.note(e);
      if (e.type === "complete") {
        if (this.completed.has(e.executionId)) return; // a replay after a reconnect
        this.seen.delete(e.executionId);

        this.completed.set(e.executionId, e);
        this.pending.get(e.executionId)?.(e);
        this.pending.delete(e.executionId);
      }
      this.subject.next(e);
    });
    let reopened = false;
    const reopen = () => {
      if (reopened || this.closing || this.exitInfo) return;
      reopened = true;
      setTimeout(() => {
        if (!this.closing && !this.exitInfo) void this.openObserver();
      }, 100).unref();
    };
    stream.on("error", reopen);
    stream.on("end", reopen);
    // Wait for the stream to be established so no event of a following Collect is missed.
    return new Promise<void>((resolve) => {
      stream.once("metadata", () => resolve());
      stream.once("error", () => resolve());
    });
  }

  /** The plugin's tables, sources and schemas. */
  async describe(): Promise<PluginDescription> {
    const res = await unary<DescribeResponse>((cb) => this.client.Describe({}, cb)).catch((err: unknown) => this.rethrow(err));
    return decodeDescribe(res);
  }

  /** Starts a collection; resolves with its execution id once the plugin validated the request. */
  async collect(opts: CollectOptions): Promise<string> {
    return (await this.startCollection(opts)).executionId;
  }

  /**
   * Starts a collection as `collect` does; resolves with its execution id and the row schema of the rows it writes
   * (for a custom table, defined by the table config and absent from Describe, the one its definition makes).
   */
  async startCollection(opts: CollectOptions): Promise<CollectionStarted> {
    const res = await unary<{ execution_id: string; row_schema_json?: string }>((cb) =>
      this.client.Collect(
        {
          table: opts.table,
          partition: opts.partition ?? "",
          source: { type: opts.source.type, config_json: opts.source.config ? JSON.stringify(opts.source.config) : "" },
          table_config_json: opts.tableConfig ? JSON.stringify(opts.tableConfig) : "",
          from_unix_ms: toUnixMs(opts.from),
          to_unix_ms: toUnixMs(opts.to),
          output_dir: opts.outputDir,
          execution_id: opts.executionId ?? "",
          rows_per_chunk: opts.rowsPerChunk ?? 0,
          state: opts.state ?? "",
          recollect: opts.recollect ?? false,
        },
        cb,
      ),
    ).catch((err: unknown) => this.rethrow(err));
    if (!this.completed.has(res.execution_id)) this.seenOf(res.execution_id).outputDir = opts.outputDir;
    let rowSchema: Record<string, unknown> | undefined;
    try {
      rowSchema = res.row_schema_json ? (JSON.parse(res.row_schema_json) as Record<string, unknown>) : undefined;
    } catch {
      // A plugin that sends a schema it cannot write is still collecting: the host infers the columns instead.
      rowSchema = undefined;
    }
    return { executionId: res.execution_id, ...(rowSchema ? { rowSchema } : {}) };
  }

  /** Resolves with the execution's complete event, or a failed one made up here if the plugin dies first. */
  waitForComplete(executionId: string): Promise<CompleteEvent> {
    const done = this.completed.get(executionId);
    if (done) return Promise.resolve(done);
    if (this.exitInfo) return Promise.resolve(this.diedComplete(executionId, `plugin exited ${describeExit(this.exitInfo)}${this.stderrSuffix()}`));
    return new Promise((resolve) => this.pending.set(executionId, resolve));
  }

  /** Asks the plugin to shut down, waits for it to exit, and kills it after the grace period. Idempotent. */
  async close(): Promise<PluginExit> {
    this.closing = true;
    if (!this.exitInfo) {
      this.controller.Shutdown({}, { deadline: Date.now() + 2000 }, () => undefined);
      const timer = setTimeout(() => this.child.kill("SIGKILL"), this.grace);
      await this.exited;
      clearTimeout(timer);
    }
    this.observer?.cancel();
    this.client.close();
    this.controller.close();
    this.subject.complete();
    return this.exitInfo ?? (await this.exited);
  }

  /** Kills the plugin at once (SIGKILL), not waiting for its executions; their complete events are made up here. */
  kill(): void {
    if (!this.exitInfo) this.child.kill("SIGKILL");
  }

  /** Last lines of the plugin's stderr. */
  stderr(): string[] {
    return [...this.stderrTail];
  }

  private stderrSuffix(): string {
    return this.stderrTail.length ? `; last stderr lines:\n${this.stderrTail.join("\n")}` : "";
  }

  private failPending(message: string): void {
    for (const [id, resolve] of this.pending) resolve(this.diedComplete(id, message));
    this.pending.clear();
  }

  private seenOf(executionId: string): SeenExecution {
    let s = this.seen.get(executionId);
    if (s === undefined) {
      s = { chunkRows: 0, sequences: new Set() };
      this.seen.set(executionId, s);
    }
    return s;
  }

  private note(e: CollectionEvent): void {
    if (e.type === "started") this.seenOf(e.executionId).outputDir = e.outputDir;
    else if (e.type === "status") this.seenOf(e.executionId).status = e.status;
    else if (e.type === "chunk_written") {
      const s = this.seenOf(e.executionId);
      if (!s.sequences.has(e.sequence)) {
        s.sequences.add(e.sequence);
        s.chunkRows += e.rows;
      }
    }
  }

  /**
   * The complete of an execution whose plugin died: its last counters, and as written what is on disk, the chunks
   * announced plus those the plugin made visible but could not announce (counted by their lines).
   */
  private diedComplete(executionId: string, error: string): CompleteEvent {
    const s = this.seen.get(executionId);
    const status: StatusCounters = { ...(s?.status ?? emptyStatus()) };
    let rows = s?.chunkRows ?? 0;
    let chunks = s?.sequences.size ?? 0;
    if (s?.outputDir !== undefined) {
      for (const c of executionChunks(s.outputDir, executionId)) {
        if (s.sequences.has(c.sequence)) continue;
        rows += countChunkRows(c.path);
        chunks++;
      }
    }
    status.rowsWritten = rows;
    status.chunksWritten = chunks;
    status.rowsEnriched = Math.max(status.rowsEnriched, rows);
    return { type: "complete", executionId, time: new Date(), rows, chunks, error, status };
  }

  private rethrow(err: unknown): never {
    const e = err as grpc.ServiceError;
    if (typeof e?.code === "number") {
      const field = e.metadata?.get("tailkit-field")?.[0];
      throw new TailkitError(e.code as number, e.details || e.message, field ? { field: String(field) } : {});
    }
    throw TailkitError.from(err);
  }
}

/** What the events of a running execution told so far. */
interface SeenExecution {
  outputDir?: string;
  status?: StatusCounters;
  chunkRows: number;
  sequences: Set<number>;
}

function unary<Res>(call: (cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    call((err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

function parseJson(text: string): Record<string, unknown> {
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

function decodeDescribe(res: DescribeResponse): PluginDescription {
  return {
    plugin: { name: res.plugin?.name ?? "", version: res.plugin?.version ?? "", sdkVersion: res.plugin?.sdk_version ?? "" },
    tables: res.tables.map((t) => ({
      name: t.name,
      description: t.description,
      sourceTypes: t.source_types,
      rowSchema: parseJson(t.row_schema_json),
      configSchema: parseJson(t.config_schema_json),
      sourceDefaults: Object.fromEntries(t.source_defaults.map((d) => [d.source_type, parseJson(d.config_json)])),
      dataSources: t.data_sources.map((r) => ({ namespace: r.namespace, id: r.id, version: r.version })),
    })),
    sources: res.sources.map((s) => ({ type: s.type, description: s.description, configSchema: parseJson(s.config_schema_json) })),
    dataSources: res.data_sources.map((d) => ({
      namespace: d.namespace,
      id: d.id,
      version: d.version,
      writeable: d.writeable,
      keys: d.keys.map((k) => ({ name: k.name, description: k.description, schema: parseJson(k.schema_json) })),
      valueSchema: parseJson(d.value_schema_json),
      entrySchema: parseJson(d.entry_schema_json),
    })),
  };
}

/**
 * Launches a plugin executable, reads its handshake line, connects, checks its health and opens the event stream.
 * A plugin that exits, prints a bad handshake or stays silent fails with a TailkitError quoting its stderr.
 */
export async function launchPlugin(command: string, options: LaunchOptions = {}): Promise<PluginClient> {
  return connectPlugin(spawnPlugin(command, options), options);
}

/**
 * Connects to a plugin started with spawnPlugin: waits for its handshake, checks its health and opens the observer
 * stream. A host that has work of its own to do at start-up (loading modules) spawns first and connects after, so the
 * plugin boots meanwhile.
 */
export async function connectPlugin(spawned: SpawnedPlugin, options: LaunchOptions = {}): Promise<PluginClient> {
  const { child, command, tail, exited, stderrText } = spawned;
  // Parse the protocol while the plugin starts, not after its handshake.
  loadProtocol();
  const line = await spawned.handshake;
  let hs;
  try {
    hs = parseHandshake(line);
  } catch (err) {
    abandonPlugin(child);
    throw new TailkitError(Code.FailedPrecondition, `plugin ${command}: ${(err as Error).message}${stderrText()}`);
  }
  const address = hs.network === "unix" ? `unix://${hs.address}` : hs.address;
  const client = new PluginClient(child, address, tail, exited, options.shutdownGraceMs ?? 5000, pluginPrivateDir(hs));
  try {
    // Both on the same connection, at once: the observer must be open before any Collect, not after the health check.
    await Promise.all([checkHealth(address), client.startObserving()]);
  } catch (err) {
    abandonPlugin(child);
    throw new TailkitError(Code.Unavailable, `plugin ${command} is not serving at ${hs.address}: ${(err as Error).message}${stderrText()}`);
  }
  return client;
}

/**
 * The folder of a tailkit plugin's socket, which the plugin made for itself alone (tailkit-plugin-* in a temp
 * folder): the host may remove it once the plugin is dead. Another plugin's socket folder is none of the host's.
 */
function pluginPrivateDir(hs: HandshakeAddress): string | undefined {
  if (hs.network !== "unix") return undefined;
  const dir = dirname(hs.address);
  return basename(dir).startsWith("tailkit-plugin-") && basename(hs.address) === "plugin.sock" ? dir : undefined;
}

/**
 * grpc.health.v1.Health/Check for the plugin's service. The two messages are small enough to encode by hand
 * (HealthCheckRequest: field 1, the service name; HealthCheckResponse: field 1, the status enum, 1 = SERVING), which
 * spares the host loading and parsing the health proto at every launch.
 */
async function checkHealth(address: string): Promise<void> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const service = Buffer.from(HEALTH_SERVICE, "utf8");
  const request = Buffer.concat([Buffer.from([0x0a, service.length]), service]);
  try {
    await new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest<Buffer, number>(
        "/grpc.health.v1.Health/Check",
        (b) => b,
        // Field 1 as a varint (tag 0x08); an absent field is 0, UNKNOWN.
        (b) => (b.length >= 2 && b[0] === 0x08 ? b[1]! : 0),
        request,
        { deadline: Date.now() + 10_000 },
        (err, status) => {
          if (err) reject(err);
          else if (status !== SERVING) reject(new Error(`health status ${HEALTH_STATUS[status ?? 0] ?? status}`));
          else resolve();
        },
      );
    });
  } finally {
    client.close();
  }
}

const SERVING = 1;
const HEALTH_STATUS = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
