import { Code, TailkitError } from "../errors/index.js";
import { DataNotFound, KeyNotSupported, type DataSource, type DataSourceKeyKind } from "../contract/data-source.js";
import type { CompleteEvent, StartedEvent } from "../contract/events.js";
import type { JSONSchema } from "../contract/schema.js";
import { ReturnCode, type SyncHandle } from "../storage/index.js";
import { BoundedCache } from "./cache.js";

// tailkit/artifacts and tailkit/executions: what collection state and the runtime know of what was collected, read
// through the storage's synchronous module like tailkit/dns, with a small cache (state changes while collecting, so
// entries live in the cache for one execution: refresh() empties it when the next starts).

const CACHE_ENTRIES = 10_000;

/** Reads one key space of a store by string key, caching what it found (and what it did not). */
abstract class StoredSourceBase<K, V> implements DataSource<K, V> {
  private store: SyncHandle<string, unknown> | undefined;
  private readonly cache = new BoundedCache<string, { v: V | undefined }>(CACHE_ENTRIES);

  constructor(private readonly open: () => SyncHandle<string, unknown>) {}

  namespace(): string {
    return "tailkit";
  }
  abstract id(): string;
  version(): number {
    return 1;
  }
  abstract keys(): readonly DataSourceKeyKind[];
  abstract schema(): JSONSchema;
  /** The store key of a checked key. */
  protected abstract storeKey(key: K): string;
  /** The value get gives, from what the store holds. */
  protected abstract toValue(key: K, stored: unknown, storeKey: string): V;

  get(key: K): V {
    const v = this.lookup(key);
    if (v === undefined) throw new DataNotFound(`tailkit/${this.id()}`, key);
    return v;
  }

  lookup(key: K): V | undefined {
    const k = this.storeKey(key);
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit.v;
    const res = this.handle().get(k);
    let v: V | undefined;
    if (res.code === ReturnCode.SUCCESS) v = this.toValue(key, res.value, k);
    else if (res.code !== ReturnCode.KEY_NOT_FOUND) throw new TailkitError(Code.Unavailable, `tailkit/${this.id()}: reading ${k}: ${res.error ?? res.code}`);
    this.cache.set(k, { v });
    return v;
  }

  refresh(): void {
    this.cache.clear();
  }

  close(): void {
    this.store?.close();
    this.store = undefined;
  }

  protected handle(): SyncHandle<string, unknown> {
    return (this.store ??= this.open());
  }

  protected refuse(key: unknown, why: string, field = "key"): never {
    throw new KeyNotSupported(`tailkit/${this.id()}`, key, why, field);
  }
}

/**
 * A key of tailkit/artifacts: the artifact's name (as state knows it) or its location (tp_source_location: a path,
 * s3://bucket/key) in a table's partition.
 */
export type ArtifactKey = { table: string; /** Default "default". */ partition?: string } & ({ name: string } | { location: string });

/** What tailkit/artifacts knows of an artifact. */
export interface ArtifactRecord {
  table: string;
  partition: string;
  name: string;
  location: string | null;
  size: number | null;
  etag: string | null;
  mtimeMs: number | null;
  /** When it was last read to its end (ms since the epoch), or null while it never was. */
  collectedAtMs: number | null;
  /** The execution that last collected it. */
  execution: string;
  rows: number;
  complete: boolean;
}

const nullable = (type: string): JSONSchema => ({ type: [type, "null"] });

/** tailkit/artifacts: an artifact of one (plugin, table, partition), read from collection state. */
export class ArtifactsDataSource extends StoredSourceBase<ArtifactKey, ArtifactRecord> {
  constructor(
    open: () => SyncHandle<string, unknown>,
    private readonly plugin: string,
  ) {
    super(open);
  }

  id(): string {
    return "artifacts";
  }
  keys(): readonly DataSourceKeyKind[] {
    const kind = (by: "name" | "location", description: string): DataSourceKeyKind => ({
      name: by,
      description,
      schema: {
        type: "object",
        required: ["table", by],
        properties: { table: { type: "string" }, partition: { type: "string" }, [by]: { type: "string" } },
        additionalProperties: false,
      },
    });
    return [
      kind("name", "an artifact by its name within a table's partition (partition default: default)"),
      kind("location", "an artifact by where it was last collected from (its tp_source_location)"),
    ];
  }
  schema(): JSONSchema {
    return {
      type: "object",
      required: ["table", "partition", "name", "location", "size", "etag", "mtimeMs", "collectedAtMs", "execution", "rows", "complete"],
      properties: {
        table: { type: "string" },
        partition: { type: "string" },
        name: { type: "string" },
        location: nullable("string"),
        size: nullable("integer"),
        etag: nullable("string"),
        mtimeMs: nullable("number"),
        collectedAtMs: nullable("number"),
        execution: { type: "string" },
        rows: { type: "integer" },
        complete: { type: "boolean" },
      },
      additionalProperties: false,
    };
  }

  protected storeKey(key: ArtifactKey): string {
    if (key === null || typeof key !== "object") this.refuse(key, "a key is an object {table, partition?, name} or {table, partition?, location}");
    const by = "name" in key ? "name" : "location" in key ? "location" : undefined;
    if (by === undefined || ("name" in key && "location" in key)) this.refuse(key, "give one of name or location");
    const k = key as Record<string, unknown>;
    for (const p of ["table", by]) if (typeof k[p] !== "string" || k[p] === "") this.refuse(key, `${p} must be a non-empty string`, `key.${p}`);
    if (k["partition"] !== undefined && typeof k["partition"] !== "string") this.refuse(key, "partition must be a string", "key.partition");
    for (const p of Object.keys(k)) if (!["table", "partition", by].includes(p)) this.refuse(key, `unknown property ${p}`, `key.${p}`);
    const prefix = `${this.plugin}/${String(k["table"])}/${key.partition ?? "default"}`;
    if (by === "name") return `${prefix}/artifact/${String(k["name"])}`;
    // The entry collection state indexes each location under (Progress.complete), holding the artifact's name.
    const res = this.handle().get(`${prefix}/location/${String(k["location"])}`);
    if (res.code !== ReturnCode.SUCCESS || typeof res.value !== "string") return `${prefix}/artifact-at/${String(k["location"])}`;
    return `${prefix}/artifact/${res.value}`;
  }

  protected toValue(key: ArtifactKey, stored: unknown, storeKey: string): ArtifactRecord {
    const s = stored as Record<string, unknown>;
    const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
    const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
    return {
      table: key.table,
      partition: key.partition ?? "default",
      name: "name" in key ? key.name : storeKey.slice(storeKey.indexOf("/artifact/") + "/artifact/".length),
      location: str(s["location"]),
      size: num(s["size"]),
      etag: str(s["etag"]),
      mtimeMs: num(s["mtimeMs"]),
      collectedAtMs: num(s["collectedAtMs"]),
      execution: str(s["execution"]) ?? "",
      rows: num(s["rows"]) ?? 0,
      complete: s["complete"] === true,
    };
  }
}

/** What tailkit/executions knows of an execution. */
export interface ExecutionRecord {
  id: string;
  table: string;
  partition: string;
  sourceType: string;
  status: "running" | "succeeded" | "partial" | "failed";
  rows: number;
  chunks: number;
  /** Row errors by operation. */
  rowErrors: Record<string, number>;
  artifactsFailed: number;
  error: string | null;
  startedAtMs: number;
  endedAtMs: number | null;
  durationMs: number | null;
}

/** tailkit/executions: the executions of this plugin by id, recorded by the runtime as they start and end. */
export class ExecutionsDataSource extends StoredSourceBase<{ id: string }, ExecutionRecord> {
  id(): string {
    return "executions";
  }
  keys(): readonly DataSourceKeyKind[] {
    return [
      {
        name: "id",
        description: "an execution by its id",
        schema: { type: "object", required: ["id"], properties: { id: { type: "string" } }, additionalProperties: false },
      },
    ];
  }
  schema(): JSONSchema {
    return {
      type: "object",
      required: [
        "id",
        "table",
        "partition",
        "sourceType",
        "status",
        "rows",
        "chunks",
        "rowErrors",
        "artifactsFailed",
        "error",
        "startedAtMs",
        "endedAtMs",
        "durationMs",
      ],
      properties: {
        id: { type: "string" },
        table: { type: "string" },
        partition: { type: "string" },
        sourceType: { type: "string" },
        status: { enum: ["running", "succeeded", "partial", "failed"] },
        rows: { type: "integer" },
        chunks: { type: "integer" },
        rowErrors: { type: "object", additionalProperties: { type: "integer" } },
        artifactsFailed: { type: "integer" },
        error: nullable("string"),
        startedAtMs: { type: "number" },
        endedAtMs: nullable("number"),
        durationMs: nullable("number"),
      },
      additionalProperties: false,
    };
  }

  /** Records an execution as it starts. */
  started(e: StartedEvent): void {
    const rec: ExecutionRecord = {
      id: e.executionId,
      table: e.table,
      partition: e.partition,
      sourceType: e.sourceType,
      status: "running",
      rows: 0,
      chunks: 0,
      rowErrors: {},
      artifactsFailed: 0,
      error: null,
      startedAtMs: e.time.getTime(),
      endedAtMs: null,
      durationMs: null,
    };
    this.save(rec);
  }

  /** Records how an execution ended; one whose start was not recorded is recorded from its complete event alone. */
  completed(e: CompleteEvent, started?: StartedEvent): void {
    const before = this.lookup({ id: e.executionId });
    const ended = e.time.getTime();
    const errors = Object.values(e.status.rowErrors).reduce((n, x) => n + x, 0) + e.status.artifactsFailed;
    const rec: ExecutionRecord = {
      id: e.executionId,
      table: before?.table ?? started?.table ?? "",
      partition: before?.partition ?? started?.partition ?? "",
      sourceType: before?.sourceType ?? started?.sourceType ?? "",
      status: e.error !== undefined ? "failed" : errors > 0 ? "partial" : "succeeded",
      rows: e.rows,
      chunks: e.chunks,
      rowErrors: { ...e.status.rowErrors },
      artifactsFailed: e.status.artifactsFailed,
      error: e.error ?? null,
      startedAtMs: before?.startedAtMs ?? ended - e.status.elapsedMs,
      endedAtMs: ended,
      durationMs: e.status.elapsedMs,
    };
    this.save(rec);
  }

  protected storeKey(key: { id: string }): string {
    if (key === null || typeof key !== "object" || typeof key.id !== "string" || key.id === "") this.refuse(key, "a key is an object {id}", "key.id");
    for (const p of Object.keys(key)) if (p !== "id") this.refuse(key, `unknown property ${p}`, `key.${p}`);
    return `execution/${key.id}`;
  }

  protected toValue(_key: { id: string }, stored: unknown): ExecutionRecord {
    return stored as ExecutionRecord;
  }

  private save(rec: ExecutionRecord): void {
    const key = this.storeKey({ id: rec.id });
    const res = this.handle().put({ key, value: rec });
    if (res.code !== ReturnCode.SUCCESS) throw new TailkitError(Code.Unavailable, `tailkit/executions: saving ${key}: ${res.error ?? res.code}`);
    this.refresh();
  }
}
