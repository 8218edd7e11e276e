import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync, writeSync } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { Code, TailkitError } from "../errors/index.js";
import type { JSONSchema } from "../schema/index.js";
import { ConversionLog, REJECTED_DIR, TAILKIT_DIR, type LiveFile } from "./conversion-log.js";
import { fileSize, moveDurable, removeTree, unlinkDurable, walkFiles } from "./durable.js";
import { conversionCompression, openDuckDB, PARQUET_ROW_GROUP_ROWS, parquetCompression, type DuckDB, type DuckDBLimits } from "./duckdb.js";
import {
  columnsFromSchema,
  PARTITION_COLUMNS,
  sqlIdent,
  sqlString,
  storedInferredType,
  strictRead,
  validateRow,
  zonedType,
  type ColumnSpec,
  type ValueKind,
} from "./schema.js";

/** A row a chunk held that its table's schema refused; the rest of the chunk is converted. */
export interface ConvertRowError {
  /** The chunk file name. */
  chunk: string;
  /** 1-based line of the chunk. */
  line: number;
  column: string;
  message: string;
  /** The row's tp_source_location, when it has one. */
  artifact?: string;
  tpId?: string;
}

/** What conversion did, so far or in all. */
export interface ConversionSummary {
  chunks: number;
  rows: number;
  files: number;
  /** Rows refused, by column. */
  rowErrors: Record<string, number>;
  /** The first 100 refused rows. */
  errors: ConvertRowError[];
  /** Files under the data folder's rejected/ that hold every refused row, with its error (relative paths). */
  rejected: string[];
  /** Chunks that could not be converted (left on disk for a later run), with the reason. */
  failed: { chunks: string[]; message: string }[];
  /** Chunks converted per execution id. */
  byExecution: Record<string, number>;
}

/** Options of createConverter. */
export interface ConverterOptions extends DuckDBLimits {
  /** The data folder: chunks are read from it and Parquet lands under it. */
  dir: string;
  /** Row schemas by table (from Describe); saved in the log for later runs. */
  schemas?: Record<string, JSONSchema>;
  /** Chunks converted together into one set of files, at most. Default 8. */
  chunksPerUnit?: number;
  /** Called for each refused row as it is found. */
  onRowError?: (e: ConvertRowError) => void;
  /** Called after each unit is converted. */
  onProgress?: (s: ConversionSummary) => void;
}

/** Turns chunk files into Parquet under the data folder, exactly once across crashes. */
export interface Converter {
  /** The data folder. */
  readonly dir: string;
  /**
   * Sets (and keeps in the log) a table's row schema, for chunks converted from now on: a custom table's, which
   * Collect gives and Describe does not.
   */
  setSchema(table: string, schema: JSONSchema): void;
  /** Queues a chunk file (by path) for conversion. */
  add(chunk: string): void;
  /** Queues every chunk in the folder that has no conversion record (left by --no-convert or a killed run). */
  addLeftovers(): number;
  /** Resolves when every queued chunk is converted (or failed). */
  drain(): Promise<ConversionSummary>;
  summary(): ConversionSummary;
  close(): Promise<void>;
}

const CHUNK_NAME = /^(.+)-(\d+)\.jsonl$/;
/** A column read_json reads: one the schema declares, or one inferred. */
interface ReadColumn {
  spec: ColumnSpec;
  declared: boolean;
}
/** The error strictRead raises for an undeclared column's value that does not fit its inferred type. */
const UNDECLARED_MISFIT = /tailkit: undeclared column (.+) holds a value of another type/;
/** The JSON kind each type inferred for an undeclared column takes (see storedInferredType). */
const INFERRED_KIND: Record<string, ValueKind> = { BIGINT: "integer", DOUBLE: "number", BOOLEAN: "boolean", VARCHAR: "string" };
const MAX_REPORTED = 100;
/** Rows of each file DuckDB samples to guess the types of columns the schema does not declare. */
const INFER_SAMPLE_ROWS = 4096;

/** The staging folder of a data folder: DuckDB writes here, and files are renamed into place from here. */
export function stagingDir(dir: string): string {
  return join(dir, TAILKIT_DIR, "staging");
}

/**
 * Brings a data folder to a state where every file on disk is accounted for: staging and temp files are removed, a
 * Parquet file the log does not list (renamed into place but not recorded before a crash) is removed, and so is a
 * rejected-rows file of a unit the log does not record; a chunk the log lists as converted (recorded but not yet
 * deleted) is deleted. Returns what it removed.
 */
export function recoverDataDir(dir: string, log: ConversionLog): { parquet: number; rejected: number; chunks: number } {
  removeTree(stagingDir(dir));
  const live = new Set(log.files().map((f) => f.path));
  const orphans: string[] = [];
  for (const top of readdirSync(dir)) {
    if (!top.startsWith("tp_table=")) continue;
    for (const f of walkFiles(join(dir, top))) {
      const rel = relative(dir, f).split(sep).join("/");
      if (!live.has(rel)) orphans.push(f);
    }
  }
  // A unit's rejected rows are moved into place just before its record: without the record they are redone.
  const units = log.units();
  const staleRejected = walkFiles(join(dir, REJECTED_DIR)).filter((f) => !units.has(basename(f, ".jsonl")));
  const converted = log.convertedChunks();
  const done = readdirSync(dir)
    .filter((n) => CHUNK_NAME.test(n) && converted.has(n))
    .map((n) => join(dir, n));
  unlinkDurable(orphans);
  unlinkDurable(staleRejected);
  unlinkDurable(done);
  return { parquet: orphans.length, rejected: staleRejected.length, chunks: done.length };
}

/** The chunk a unit's rejected rows go back into for another try: `retry_<unit>-1.jsonl`. */
function retryChunkName(unit: string): string {
  return `retry_${unit.replace(/[^A-Za-z0-9_.]/g, "_")}-1.jsonl`;
}

/**
 * Puts the rows kept in `rejected/` back into chunks, for a conversion with the table's current schema (after a
 * plugin's schema or the data's producer was fixed): each `rejected/<unit>.jsonl` becomes the chunk
 * `retry_<unit>-1.jsonl` (written to a temp file, fsynced, renamed), then the rejected file is deleted. A crash in
 * between leaves both: the next call finds the chunk (or the log's record of it) and only deletes the rejected file,
 * so each row is tried once. Rows refused again land in `rejected/` under the retry's unit. Returns the chunks made.
 */
export function requeueRejected(dataDir: string): string[] {
  const dir = resolve(dataDir);
  const log = ConversionLog.open(dir);
  try {
    recoverDataDir(dir, log);
    const converted = log.convertedChunks();
    const made: string[] = [];
    for (const file of walkFiles(join(dir, REJECTED_DIR))
      .filter((f) => f.endsWith(".jsonl"))
      .sort()) {
      const chunk = join(dir, retryChunkName(basename(file, ".jsonl")));
      if (!converted.has(basename(chunk)) && !existsSync(chunk)) {
        const lines: string[] = [];
        for (const line of readFileSync(file, "utf8").split("\n")) {
          if (line === "") continue;
          const kept = JSON.parse(line) as { row?: unknown; text?: string };
          // A row goes back as it was in its chunk; a line that was not JSON goes back as its text, refused again.
          lines.push(kept.row !== undefined ? JSON.stringify(kept.row) : (kept.text ?? ""));
        }
        const tmp = join(stagingDir(dir), `${basename(chunk)}.tmp`);
        mkdirSync(stagingDir(dir), { recursive: true });
        writeFileSync(tmp, lines.length ? `${lines.join("\n")}\n` : "");
        moveDurable(dir, tmp, chunk);
        made.push(chunk);
      }
      unlinkDurable([file]);
    }
    return made;
  } finally {
    log.close();
  }
}

function firstLine(path: string): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(64 * 1024);
    let text = "";
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return text;
      text += buf.toString("utf8", 0, n);
      const nl = text.indexOf("\n");
      if (nl >= 0) return text.slice(0, nl);
    }
  } finally {
    closeSync(fd);
  }
}

function tableOf(path: string): string | undefined {
  try {
    const t = (JSON.parse(firstLine(path)) as Record<string, unknown>)["tp_table"];
    return typeof t === "string" ? t : undefined;
  } catch {
    return undefined;
  }
}

function emptySummary(): ConversionSummary {
  return { chunks: 0, rows: 0, files: 0, rowErrors: {}, errors: [], rejected: [], failed: [], byExecution: {} };
}

/** Creates a converter for a data folder; it recovers the folder first (see recoverDataDir). */
export async function createConverter(options: ConverterOptions): Promise<Converter> {
  const dir = resolve(options.dir);
  // A bad codec fails here, naming the variable, not at each unit.
  parquetCompression();
  const log = ConversionLog.open(dir);
  const schemas = new Map(Object.entries(options.schemas ?? {}));
  for (const [t, s] of schemas) log.saveSchema(t, s);
  recoverDataDir(dir, log);
  const perUnit = options.chunksPerUnit ?? 8;
  const summary = emptySummary();
  const queue: string[] = [];
  const queued = new Set<string>();
  // Converted by this converter: a chunk_written event that arrives after the leftover scan took its chunk is ignored.
  const done = new Set<string>();
  const columnsByTable = new Map<string, ColumnSpec[]>();
  let db: DuckDB | undefined;
  let running: Promise<void> | undefined;

  const columnsFor = (table: string): ColumnSpec[] => {
    let c = columnsByTable.get(table);
    if (!c) {
      c = columnsFromSchema(schemas.get(table) ?? log.schema(table));
      columnsByTable.set(table, c);
    }
    return c;
  };

  const reportRowError = (e: ConvertRowError) => {
    summary.rowErrors[e.column] = (summary.rowErrors[e.column] ?? 0) + 1;
    if (summary.errors.length < MAX_REPORTED) summary.errors.push(e);
    options.onRowError?.(e);
  };

  const inferred = new Map<string, Map<string, string>>();

  /**
   * The columns read_json reads: the schema's columns as declared, the others as DuckDB infers them. Inference costs
   * about five times the conversion per row it samples, so it runs once per table and process, on a sample of the
   * first unit's files, and later units reuse it (nested values are JSON, so only top-level keys and scalar types
   * are guessed); the careful path types the undeclared columns of its unit as JSON.
   */
  async function readColumns(files: readonly string[], declared: readonly ColumnSpec[], table: string, inferExtra: boolean): Promise<ReadColumn[]> {
    const cols = new Map<string, ReadColumn>(declared.map((c) => [c.name, { spec: c, declared: true }]));
    const undeclared = (name: string, type: string): ReadColumn => {
      const t = inferExtra ? type : "JSON";
      return { spec: { name, type: t, kind: INFERRED_KIND[t] ?? "json", nullable: true, required: false }, declared: false };
    };
    let extra = inferred.get(table);
    if (!extra) {
      extra = new Map();
      const list = `[${files.map(sqlString).join(", ")}]`;
      const described = await db!.connection.runAndReadAll(
        `DESCRIBE SELECT * FROM read_json(${list}, format = 'newline_delimited', union_by_name = true, sample_size = ${INFER_SAMPLE_ROWS}, maximum_depth = 2)`,
      );
      for (const [name, type] of described.getRows() as [string, string][]) extra.set(name, storedInferredType(type));
      inferred.set(table, extra);
    }
    for (const [name, type] of extra) if (!cols.has(name)) cols.set(name, undeclared(name, type));
    // read_json with a column map drops the keys it does not name: a key the sample did not show would be lost. Every
    // unit's top-level keys are listed (one pass of DuckDB's JSON reader), and those not mapped yet are inferred from
    // this unit and kept for the later ones.
    const list = `[${files.map(sqlString).join(", ")}]`;
    const keys = await db!.connection.runAndReadAll(`SELECT DISTINCT unnest(json_keys(json)) FROM read_json_objects(${list}, format = 'newline_delimited')`);
    const unknown = (keys.getRows() as [string][]).map((r) => r[0]).filter((k) => !cols.has(k));
    if (unknown.length > 0) {
      const described = await db!.connection.runAndReadAll(
        `DESCRIBE SELECT ${unknown.map(sqlIdent).join(", ")} FROM read_json(${list}, format = 'newline_delimited', union_by_name = true, sample_size = -1, maximum_depth = 2)`,
      );
      for (const [name, type] of described.getRows() as [string, string][]) {
        const stored = storedInferredType(type);
        extra.set(name, stored);
        cols.set(name, undeclared(name, stored));
      }
    }
    return [...cols.values()];
  }

  /**
   * COPY the files into staging as hive partitions; returns the rows written. A value of another JSON type than its
   * column's stops the COPY instead of being cast (see strictRead), except where the mode says the rows were checked:
   * `fast` checks every column; `checked` (rows validateRow accepted) reads the declared columns as they are and checks
   * the undeclared ones against their inferred types; `untyped` also reads the undeclared columns as JSON.
   */
  async function copyToStaging(
    files: readonly string[],
    columns: readonly ColumnSpec[],
    table: string,
    unit: string,
    mode: "fast" | "checked" | "untyped",
  ): Promise<number> {
    const read = await readColumns(files, columns, table, mode !== "untyped");
    const types: string[] = [];
    const select: string[] = [];
    for (const { spec, declared } of read) {
      const strict = (declared ? mode === "fast" : mode !== "untyped") ? strictRead(spec, declared ? "column" : "undeclared column") : undefined;
      // Read as they are, timestamps still go through TIMESTAMPTZ, so that an offset is applied, not dropped.
      const zoned = strict === undefined && spec.type.includes("TIMESTAMP") ? zonedType(spec.type) : undefined;
      types.push(`${sqlString(spec.name)}: ${sqlString(strict?.read ?? zoned ?? spec.type)}`);
      select.push(strict?.select ?? (zoned ? `CAST(${sqlIdent(spec.name)} AS ${spec.type}) AS ${sqlIdent(spec.name)}` : sqlIdent(spec.name)));
    }
    const list = `[${files.map(sqlString).join(", ")}]`;
    const required = columns.filter((c) => c.required).map((c) => `${sqlIdent(c.name)} IS NULL`);
    // A required column read as NULL stops the COPY; the careful path then finds the row and reports it by column.
    const guard = required.length ? `WHERE CASE WHEN ${required.join(" OR ")} THEN error('tailkit: a required column is missing') ELSE true END` : "";
    const out = join(stagingDir(dir), unit);
    const res = await db!.connection.runAndReadAll(
      `COPY (SELECT ${select.join(", ")} FROM read_json(${list}, format = 'newline_delimited', columns = {${types.join(", ")}}) ${guard}) TO ${sqlString(out)} ` +
        `(FORMAT parquet, PARTITION_BY (${PARTITION_COLUMNS.join(", ")}), FILENAME_PATTERN ${sqlString(`${unit}_{i}`)}, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP_ROWS}, ${conversionCompression()}, OVERWRITE_OR_IGNORE true)`,
    );
    return Number((res.getRows()[0] as unknown[] | undefined)?.[0] ?? 0);
  }

  /**
   * Splits the chunks' lines into good ones (written to one staging file, a chunk at a time) and refused rows
   * (reported, and written with their errors to a staging file of rejected rows); returns both files, each undefined
   * when it holds no row.
   */
  function sortOut(
    chunks: readonly string[],
    columns: readonly ColumnSpec[],
    unit: string,
  ): { file: string | undefined; rejected: string | undefined; errors: Map<string, number> } {
    const errors = new Map<string, number>();
    mkdirSync(stagingDir(dir), { recursive: true });
    const file = join(stagingDir(dir), `${unit}.accepted.jsonl`);
    const rejectedFile = join(stagingDir(dir), `${unit}.rejected.jsonl`);
    const fd = openSync(file, "w");
    const rfd = openSync(rejectedFile, "w");
    let good = 0;
    let refused = 0;
    // The refused row as it was in the chunk, after where and why: {"chunk", "line", "column", "message", "row"}.
    const reject = (e: ConvertRowError, text: string, parsed: boolean) => {
      reportRowError(e);
      const head = JSON.stringify({ chunk: e.chunk, line: e.line, column: e.column, message: e.message });
      writeSync(rfd, `${head.slice(0, -1)},${parsed ? `"row":${text}` : `"text":${JSON.stringify(text)}`}}\n`);
      refused++;
    };
    try {
      for (const path of chunks) {
        const name = basename(path);
        const lines = readFileSync(path, "utf8").split("\n");
        const kept: string[] = [];
        for (let i = 0; i < lines.length; i++) {
          const text = lines[i]!;
          if (text.length === 0) continue;
          let row: Record<string, unknown>;
          try {
            row = JSON.parse(text) as Record<string, unknown>;
          } catch (err) {
            errors.set(name, (errors.get(name) ?? 0) + 1);
            reject({ chunk: name, line: i + 1, column: "(row)", message: `not a JSON object: ${(err as Error).message}` }, text, false);
            continue;
          }
          const bad = validateRow(row, columns);
          if (!bad) {
            kept.push(text);
            continue;
          }
          errors.set(name, (errors.get(name) ?? 0) + 1);
          const artifact = row["tp_source_location"];
          const tpId = row["tp_id"];
          reject(
            {
              chunk: name,
              line: i + 1,
              column: bad.column,
              message: bad.message,
              ...(typeof artifact === "string" ? { artifact } : {}),
              ...(typeof tpId === "string" ? { tpId } : {}),
            },
            text,
            true,
          );
        }
        if (kept.length > 0) writeSync(fd, `${kept.join("\n")}\n`);
        good += kept.length;
      }
    } finally {
      closeSync(fd);
      closeSync(rfd);
    }
    return { file: good > 0 ? file : undefined, rejected: refused > 0 ? rejectedFile : undefined, errors };
  }

  async function convertUnit(chunks: readonly string[], table: string): Promise<void> {
    db ??= await openDuckDB(options);
    const columns = columnsFor(table);
    const unit = basename(chunks[0]!, ".jsonl");
    const out = join(stagingDir(dir), unit);
    removeTree(out);
    mkdirSync(stagingDir(dir), { recursive: true });
    let errors = new Map<string, number>();
    let rejected: string | undefined;
    let rows: number;
    const refusedValue = (err: unknown) => /Invalid Input Error|Conversion Error|tailkit: /.test((err as Error).message);
    // A COPY that stopped at an undeclared column whose value does not fit the type inferred for it: that column is
    // JSON from now on (in this unit and the later ones), and the COPY runs again. Other columns keep their types.
    const copy = async (files: readonly string[], mode: "fast" | "checked"): Promise<number> => {
      for (;;) {
        try {
          return await copyToStaging(files, columns, table, unit, mode);
        } catch (err) {
          removeTree(out);
          const name = UNDECLARED_MISFIT.exec((err as Error).message)?.[1];
          const extra = inferred.get(table);
          if (name === undefined || extra?.get(name) === undefined || extra.get(name) === "JSON") throw err;
          extra.set(name, "JSON");
        }
      }
    };
    try {
      rows = await copy(chunks, "fast");
    } catch (fast) {
      // A value did not fit its declared column (or a required column was missing): check row by row, report the rows
      // the schema refuses, and convert the rest as they are.
      if (!refusedValue(fast)) throw fast;
      if (process.env["TAILKIT_DEBUG_CONVERT"]) process.stderr.write(`fast path: ${(fast as Error).message}\n`);
      const sorted = sortOut(chunks, columns, unit);
      errors = sorted.errors;
      rejected = sorted.rejected;
      if (sorted.file === undefined) rows = 0;
      else {
        try {
          rows = await copy([sorted.file], "checked");
        } catch (checked) {
          // DuckDB refused a value validateRow accepted, where the error names no column: the undeclared columns of
          // this unit go as JSON, which takes any value.
          removeTree(out);
          if (!refusedValue(checked)) throw checked;
          rows = await copyToStaging([sorted.file], columns, table, unit, "untyped");
        }
      }
    }
    const staged = walkFiles(out).filter((f) => f.endsWith(".parquet"));
    const files: LiveFile[] = [];
    if (staged.length > 0) {
      const counts = await db.connection.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${staged.map(sqlString).join(", ")}])`);
      const rowsOf = new Map((counts.getRows() as [string, bigint][]).map(([f, n]) => [f, Number(n)]));
      for (const f of staged) {
        const rel = relative(out, f).split(sep).join("/");
        files.push({ path: rel, table, rows: rowsOf.get(f) ?? 0, bytes: fileSize(f) });
        moveDurable(dir, f, join(dir, rel));
      }
    }
    // Refused rows are kept before their chunks can go: moved into place before the record, removed by recovery
    // without it.
    const rejectedPath = `${REJECTED_DIR}/${unit}.jsonl`;
    if (rejected) moveDurable(dir, rejected, join(dir, rejectedPath));
    log.recordConversion(
      unit,
      chunks.map((c) => ({ name: basename(c), errors: errors.get(basename(c)) ?? 0 })),
      files,
    );
    for (const c of chunks) done.add(c);
    unlinkDurable(chunks);
    removeTree(out);
    removeTree(join(stagingDir(dir), `${unit}.accepted.jsonl`));
    removeTree(join(stagingDir(dir), `${unit}.rejected.jsonl`));
    if (rejected) summary.rejected.push(rejectedPath);
    summary.chunks += chunks.length;
    summary.rows += rows;
    summary.files += files.length;
    for (const c of chunks) {
      const exec = CHUNK_NAME.exec(basename(c))?.[1] ?? "";
      summary.byExecution[exec] = (summary.byExecution[exec] ?? 0) + 1;
    }
    options.onProgress?.(summary);
  }

  async function run(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0, perUnit);
      const byTable = new Map<string, string[]>();
      for (const c of batch) {
        const t = tableOf(c) ?? "";
        byTable.set(t, [...(byTable.get(t) ?? []), c]);
      }
      for (const [table, chunks] of byTable) {
        try {
          if (table === "")
            throw new TailkitError(Code.DataLoss, "the chunk's first row names no tp_table", { operation: "convert", artifact: basename(chunks[0]!) });
          await convertUnit(chunks, table);
        } catch (err) {
          if (chunks.length > 1 && /Out of Memory/.test((err as Error).message)) {
            // Within memory_limit one chunk at a time: the unit's staging files were never recorded, so this is a redo.
            for (const c of chunks) {
              try {
                await convertUnit([c], table);
              } catch (one) {
                summary.failed.push({ chunks: [basename(c)], message: (one as Error).message });
              }
            }
          } else summary.failed.push({ chunks: chunks.map((c) => basename(c)), message: (err as Error).message });
        } finally {
          for (const c of chunks) queued.delete(c);
        }
      }
    }
  }

  // Started on the next turn, so that chunks added together are converted together.
  const kick = () => {
    running ??= new Promise<void>((r) => setImmediate(r)).then(run).finally(() => {
      running = undefined;
      if (queue.length > 0) kick();
    });
  };

  const converter: Converter = {
    dir,
    setSchema(table, schema) {
      schemas.set(table, schema);
      log.saveSchema(table, schema);
      columnsByTable.delete(table);
    },
    add(chunk) {
      const path = resolve(chunk);
      if (queued.has(path) || done.has(path)) return;
      queued.add(path);
      queue.push(path);
      kick();
    },
    addLeftovers() {
      const converted = log.convertedChunks();
      let n = 0;
      for (const name of readdirSync(dir).sort()) {
        if (!CHUNK_NAME.test(name) || converted.has(name) || queued.has(join(dir, name))) continue;
        converter.add(join(dir, name));
        n++;
      }
      return n;
    },
    async drain() {
      while (running) await running;
      return summary;
    },
    summary: () => summary,
    async close() {
      while (running) await running;
      db?.close();
      log.close();
    },
  };
  return converter;
}
