import { parseRowJson, rowJson } from "../mappers/exact-numbers.js";
import { isCovered } from "../state/coverage.js";
import { isRawRow, type RawRow } from "../mappers/raw-row.js";
import type { EnrichContext, Row, TableEnrichment } from "../contract/row.js";
import { artifactIdPrefix } from "./artifact-id.js";
import { giveBack, takeBuffer } from "./batch-buffers.js";
import { ByteBatch, Fragment } from "./byte-batch.js";
import { missingFields, missingMessage, requiredFields } from "./required.js";
import type { RowTail } from "./row-tail.js";
import { around, ENRICH_SLOTS, fill, sdkFieldsTemplate, setTpFields, Slot, type EnrichSlot, type Template } from "./tp-layout.js";
import { NO_DATA_SOURCES, type ArtifactEnrichContext, type LineSink } from "./types.js";

// Where execution.ts finds them since they moved to a leaf module (no import cycles).

/** A row that enrichment rejected. */
export interface EnrichFailure {
  position: number;
  operation: "enrich" | "validate";
  message: string;
}

/**
 * Result of enriching one batch: the rows as UTF-8 JSON lines, each ended by "\n", in one buffer, and the positions
 * they came from. Encoded here, on the extracting thread, so that the writer only moves bytes.
 */
export interface EnrichedBatch {
  /** Every row's JSON followed by "\n"; empty when no row passed. */
  bytes: Buffer;
  /** Rows in bytes, which is also the length of indexes. */
  count: number;
  indexes: number[];
  failures: EnrichFailure[];
  /** Rows outside [from, to). */
  filtered: number;
}

/**
 * One batch being enriched piece by piece: rows are added as they are mapped, so that each piece's row objects die
 * young (before the next scavenge) instead of living until the whole batch is serialized.
 */
export interface BatchEnricher {
  add(rows: readonly unknown[], positions: readonly number[]): void;
  /**
   * Enriches one row into the batch's sink and says what became of it: WRITTEN, FILTERED (outside [from, to)), or the
   * failure. Unlike add(), it records nothing in the batch: the caller keeps its own positions.
   */
  addOne(item: unknown, position: number): typeof WRITTEN | typeof FILTERED | EnrichFailure;
  /** Roughly the bytes of the lines added so far (text not yet encoded counts a byte a character). */
  size(): number;
  finish(): EnrichedBatch;
}

/** addOne outcomes. */
export const WRITTEN = 0;
export const FILTERED = 1;

/** Enriches a batch of rows at once; `begin()` starts a batch that is filled piece by piece. */
export interface Enricher {
  (rows: unknown[], positions: number[]): EnrichedBatch;
  /**
   * Starts a batch. With a sink, lines go there (and finish() returns no bytes); `ingest` sets the batch's
   * tp_ingest_timestamp (default: now). With a ByteBatch sink and the artifact's RowTail, a row that carries its bytes
   * (RawRow) is written as bytes: the row's, then the tp_* fields from the tail's fragments, as the text would be.
   */
  begin(sink?: LineSink, ingest?: string, tail?: RowTail): BatchEnricher;
}

/** Characters of text gathered before they are encoded: small enough to stay out of V8's large-object space. */
const ENCODE_CHARS = 64 * 1024;

const NO_BYTES = Buffer.alloc(0);

/**
 * Encodes lines into one buffer a piece at a time. Building one string per batch and encoding it costs several times
 * more, because flattening a multi-megabyte string (a rope of thousands of lines) is slow and feeds the old generation.
 * The buffer is sized from the previous batch, so in the steady state each byte is encoded once and never copied.
 * Buffers come from the thread's pool (batch-buffers.ts): one that the writer is done with is reused.
 */
class LineEncoder implements LineSink {
  private text = "";
  private buf: Buffer;
  private used = 0;
  /** Bytes of the last batch finished on this thread, by any encoder: the next one is likely alike. */
  private static lastSize = 0;

  constructor() {
    this.buf = takeBuffer(LineEncoder.initialSize());
  }

  get size(): number {
    return this.used + this.text.length;
  }

  private static initialSize(): number {
    // Room for a batch like the last plus the worst case of the last flush (3 bytes a character), so that the buffer
    // is not grown, and its contents copied, at the very end of each batch.
    return Math.ceil(LineEncoder.lastSize * 1.1) + ENCODE_CHARS * 3;
  }

  push(line: string): void {
    this.text += line;
    if (this.text.length >= ENCODE_CHARS) this.flush();
  }

  /**
   * The batch's bytes; the encoder starts afresh and takes a buffer when more lines come (an encoder usually makes one
   * batch, and a buffer taken for nothing would be lost to the pool).
   */
  finish(): Buffer {
    this.flush();
    const out = this.buf.subarray(0, this.used);
    LineEncoder.lastSize = this.used;
    this.buf = NO_BYTES;
    this.used = 0;
    return out;
  }

  private flush(): void {
    const text = this.text;
    if (text.length === 0) return;
    this.text = "";
    // A UTF-16 unit never takes more than 3 bytes of UTF-8.
    const need = this.used + text.length * 3;
    if (need > this.buf.length) {
      const bigger = takeBuffer(Math.max(need, this.buf === NO_BYTES ? LineEncoder.initialSize() : this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      // None of the old buffer's bytes were handed out (finish() leaves NO_BYTES), so it can serve another batch.
      if (this.buf !== NO_BYTES) giveBack(this.buf.buffer as ArrayBuffer);
      this.buf = bigger;
    }
    this.used += this.buf.write(text, this.used, "utf8");
  }
}

/** Text that starts every tp_* key in JSON; a row whose JSON holds it takes the slow path. */
const SDK_FIELDS = '"tp_';

/**
 * Milliseconds since the epoch of a tp_timestamp, or NaN; a Date, a number or a non-empty string, as `new Date` reads
 * them, except that a date the calendar does not have (2024-02-30, 2023-02-29) is NaN, not the days after it.
 */
export function toMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === "string") {
    // Most logs write UTC ISO times (CloudTrail's eventTime): read by hand, about ten times cheaper than the Date parser.
    const ms = isoUtcMs(value);
    if (!Number.isNaN(ms)) return ms;
    // new Date takes any day up to 31 (February 30 is March 1): a time on a day that does not exist is no time.
    if (value.length === 0 || !isoDateExists(value)) return Number.NaN;
    return new Date(value).getTime();
  }
  if (typeof value === "number") return new Date(value).getTime();
  return Number.NaN;
}

/** Days of a month (1-12) of a proleptic Gregorian year: February has 29 in years divisible by 4, except centuries not divisible by 400. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * "YYYY-MM-DDTHH:MM:SSZ" or "YYYY-MM-DDTHH:MM:SS.sssZ" (year 1000 on, hour below 24, a day its month has) as
 * `new Date` reads it, or NaN for any other text, which toMs then looks at again.
 */
function isoUtcMs(s: string): number {
  const n = s.length;
  if ((n !== 20 && n !== 24) || s.charCodeAt(n - 1) !== 0x5a /* Z */) return Number.NaN;
  if (s.charCodeAt(4) !== 0x2d || s.charCodeAt(7) !== 0x2d || s.charCodeAt(10) !== 0x54 || s.charCodeAt(13) !== 0x3a || s.charCodeAt(16) !== 0x3a)
    return Number.NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 2);
  const day = digits(s, 8, 2);
  const hour = digits(s, 11, 2);
  const minute = digits(s, 14, 2);
  const second = digits(s, 17, 2);
  let milli = 0;
  if (n === 24) {
    if (s.charCodeAt(19) !== 0x2e /* . */) return Number.NaN;
    milli = digits(s, 20, 3);
  }
  if (year < 1000 || month < 1 || month > 12 || day < 1 || (day > 28 && day > daysInMonth(year, month))) return Number.NaN;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || milli < 0) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, milli);
}

/**
 * False when s starts with an ISO date ("YYYY-MM-DD" or "±YYYYYY-MM-DD") whose month or day does not exist; true for
 * any other text (new Date says what it makes of it).
 */
function isoDateExists(s: string): boolean {
  const c = s.charCodeAt(0);
  const at = c === 0x2b /* + */ || c === 0x2d /* - */ ? 7 : 4;
  if (s.length < at + 6 || s.charCodeAt(at) !== 0x2d || s.charCodeAt(at + 3) !== 0x2d) return true;
  const year = digits(s, at - 4, 4);
  const century = at === 7 ? digits(s, 1, 2) : 0;
  const month = digits(s, at + 1, 2);
  const day = digits(s, at + 4, 2);
  if (year < 0 || century < 0 || month < 0 || day < 0) return true;
  const y = (c === 0x2d ? -1 : 1) * (century * 10000 + year);
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(y, month);
}

/** The decimal number of s[at, at + count), or -1 when a character is not a digit. */
function digits(s: string, at: number, count: number): number {
  let v = 0;
  for (let i = at; i < at + count; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Text JSON.stringify would escape in a string: quote, backslash, control characters, surrogates. */
function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}

/** JSON of a string, as JSON.stringify gives it, without calling it for the common plain string. */
function jsonString(s: string): string {
  return needsEscape(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * JSON of an optional field after its key (`,"tp_x":`, the slot's), or "" when the value is absent or not
 * representable (as JSON.stringify drops such keys).
 */
function optionalField(key: string, value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return key + jsonString(value);
  if (value === null) return `${key}null`;
  if (Array.isArray(value)) {
    // The common string array (tp_ips, tp_akas, ...), as JSON.stringify writes it.
    let out = "";
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v !== "string") return jsonField(key, value);
      out += (i === 0 ? "" : ",") + jsonString(v);
    }
    return `${key}[${out}]`;
  }
  return jsonField(key, value);
}

/** The optional tp_* fields a table's enrich gave, in TP_FIELDS order, and the line's end. */
function optionalFields(extra: TableEnrichment): string {
  const values = extra as unknown as Readonly<Record<string, unknown>>;
  let out = "";
  for (let k = 0; k < ENRICH_SLOTS.length; k++) {
    const slot = ENRICH_SLOTS[k]!;
    const v = values[slot.name];
    if (v !== undefined) out += optionalField(slot.key, v);
  }
  return out + "}\n";
}

/**
 * Writes what optionalFields gives as text straight into a batch's bytes: the same bytes, without building a string
 * and encoding it. A string of printable ASCII is copied; any other string, and any other value, goes through the
 * text path.
 */
function writeOptionalFields(out: ByteBatch, extra: TableEnrichment): void {
  const values = extra as unknown as Readonly<Record<string, unknown>>;
  // The first eight slots are read at a site each, so that each site's inline cache sees one name: one site asked
  // for all of them costs a CloudTrail row some 200 ns more (measured). Slots past them take the loop.
  const s = ENRICH_SLOTS;
  const n = s.length;
  if (n > 0) writeOptionalField(out, s[0]!, values[s[0]!.name]);
  if (n > 1) writeOptionalField(out, s[1]!, values[s[1]!.name]);
  if (n > 2) writeOptionalField(out, s[2]!, values[s[2]!.name]);
  if (n > 3) writeOptionalField(out, s[3]!, values[s[3]!.name]);
  if (n > 4) writeOptionalField(out, s[4]!, values[s[4]!.name]);
  if (n > 5) writeOptionalField(out, s[5]!, values[s[5]!.name]);
  if (n > 6) writeOptionalField(out, s[6]!, values[s[6]!.name]);
  if (n > 7) writeOptionalField(out, s[7]!, values[s[7]!.name]);
  for (let k = 8; k < n; k++) writeOptionalField(out, s[k]!, values[s[k]!.name]);
  out.ensure(2);
  out.buf[out.pos++] = 0x7d; // }
  out.buf[out.pos++] = 0x0a; // \n
}

function writeOptionalField(out: ByteBatch, slot: EnrichSlot, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== "string" && value !== null && !isStringArray(value)) {
    out.push(optionalField(slot.key, value));
    return;
  }
  const key = slot.keyBytes;
  out.ensure(key.length + 4);
  out.frag(key);
  if (value === null) {
    out.view.setInt32(out.pos, 0x6c6c756e, true); // null
    out.pos += 4;
  } else if (typeof value === "string") {
    writeString(out, value);
  } else {
    out.byte(0x5b); // [
    for (let i = 0; i < value.length; i++) {
      if (i > 0) {
        out.ensure(1);
        out.byte(0x2c); // ,
      }
      writeString(out, value[i]!);
    }
    out.ensure(1);
    out.byte(0x5d); // ]
  }
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== "string") return false;
  return true;
}

/** A JSON string: printable ASCII copied between quotes, anything else as jsonString writes it. */
function writeString(out: ByteBatch, s: string): void {
  out.ensure(s.length + 2);
  const buf = out.buf;
  let p = out.pos;
  buf[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      // Nothing written counts until pos moves: the text path writes this one from the start.
      out.push(jsonString(s));
      return;
    }
    buf[p++] = c;
  }
  buf[p++] = 0x22;
  out.pos = p;
}

function jsonField(key: string, value: unknown): string {
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? "" : key + json;
}

/**
 * Builds the per-artifact enrich function: table fields, then the common tp_* fields, then one JSON line per row.
 * Synchronous and allocation-light, since it runs once per row.
 *
 * The tp_* fields are not set on the row object: the row is serialized as is and the fields are appended to its JSON
 * text, most of them as fragments made once per artifact. This gives the same line as setting them and serializing,
 * because new keys go last in both. A row whose JSON already holds `"tp_` (a field of that name, or such text in a
 * value) is enriched the plain way, so that an existing field keeps its place and is overwritten, never doubled.
 */
export function createEnricher(ctx: ArtifactEnrichContext): Enricher {
  const prefix = ctx.idSeed ?? artifactIdPrefix(ctx.sourceType, ctx.sourceName, ctx.artifact.name);
  const lookup = ctx.dataSources ?? NO_DATA_SOURCES;
  const enrichCtx: EnrichContext = {
    artifact: ctx.artifact,
    table: ctx.table.name,
    partition: ctx.partition,
    sourceType: ctx.sourceType,
    getDataSource: (namespace, id) => lookup.getDataSource(namespace, id),
  };
  const fromMs = ctx.from?.getTime() ?? -Infinity;
  const toMs_ = ctx.to?.getTime() ?? Infinity;
  const exclude = ctx.exclude !== undefined && ctx.exclude.length > 0 ? ctx.exclude : undefined;
  const table = ctx.table;
  // The SDK's fields of the artifact's rows as text, their values open (tp-layout.ts).
  const template = sdkFieldsTemplate(ctx, "text");
  const required = requiredFields(table.rowSchema);
  // Rows of this artifact found without each required field, for the messages.
  const missingCounts = new Map<string, number>();
  // tp_index is nearly always the same few values (an account id); remember the last one's JSON.
  let lastIndex: unknown = undefined;
  let lastIndexJson = "";
  // Rows of one file often share their time (flow logs: the same start second).
  let lastMs = Number.NaN;
  let lastTs = "";

  // The ISO text of a time, made only for rows written as text (the bytes path writes it from its digits).
  const isoText = (ms: number): string => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastTs = new Date(ms).toISOString();
    }
    return lastTs;
  };
  // tp_index as bytes, for the last value.
  let lastIndexFrag: Fragment | undefined;
  let lastIndexFragOf: unknown = undefined;

  const missing = (position: number, names: readonly string[]): EnrichFailure => {
    const counted = names.map((n) => {
      const c = (missingCounts.get(n) ?? 0) + 1;
      missingCounts.set(n, c);
      return c;
    });
    return { position, operation: "validate", message: missingMessage(names, counted) };
  };
  // The required fields a row lacks, or undefined; out of addOne, whose inlining budget the fast paths need.
  const lacking = (row: Row, raw: string | undefined): string[] | undefined => {
    const absent = missingFields(row, required.columns);
    if (absent === undefined || raw === undefined) return absent;
    // A raw row's fields may be only what enrich reads: its text says what the row holds.
    const parsed = parseRawRow(raw);
    return parsed === undefined ? absent : missingFields(parsed, required.columns);
  };
  // The required tp_* fields enrich left out, unless the row has its own (the slow path keeps it).
  const lackingEnriched = (row: Row, extra: TableEnrichment): string[] | undefined => {
    const absent = missingFields(extra as unknown as Row, required.enriched)?.filter((n) => row[n] === undefined || row[n] === null);
    return absent !== undefined && absent.length > 0 ? absent : undefined;
  };

  const begin = (sink?: LineSink, ingestTime?: string, rowTail?: RowTail): BatchEnricher => {
    const ingest = ingestTime ?? new Date().toISOString();
    const bytesOut = rowTail !== undefined && sink instanceof ByteBatch ? sink : undefined;
    rowTail?.startBatch(ingest);
    const batchTemplate = fill(template, { [Slot.Ingest]: ingest });
    // The batch's template with tp_index and tp_date filled, remade when either changes; then with the time too, which
    // leaves the text before the row's id digits and after them: two flat strings, so that each line is a short rope.
    let dayTemplate: Template = batchTemplate;
    let dayIndex: string | undefined;
    let dayDate = "";
    let beforeId = "";
    let afterId = "";
    let rowTs = "";
    const encoder = sink === undefined ? new LineEncoder() : undefined;
    const out: LineSink = sink ?? encoder!;
    const indexes: number[] = [];
    const failures: EnrichFailure[] = [];
    let filtered = 0;
    const add = (rows: readonly unknown[], positions: readonly number[]): void => {
      for (let i = 0; i < rows.length; i++) {
        const position = positions[i]!;
        const r = addOne(rows[i], position);
        if (r === WRITTEN) indexes.push(position);
        else if (r === FILTERED) filtered++;
        else failures.push(r);
      }
    };
    const addOne = (item: unknown, position: number): typeof WRITTEN | typeof FILTERED | EnrichFailure => {
      let row: Row;
      // A pre-serialized row (rawRow): its text is the row, its fields are what enrich reads.
      let raw: string | undefined;
      let noTpKeys = false;
      if (isRawRow(item)) {
        row = item.fields;
        raw = item.json;
        noTpKeys = item.noTpKeys;
      } else if (item === null || typeof item !== "object" || Array.isArray(item)) {
        return { position, operation: "validate", message: "the row is not an object" };
      } else {
        row = item as Row;
      }
      if (required.columns.length > 0) {
        const absent = lacking(row, raw);
        if (absent !== undefined) return missing(position, absent);
      }
      let extra;
      try {
        extra = table.enrich(row, enrichCtx);
      } catch (err) {
        return { position, operation: "enrich", message: err instanceof Error ? err.message : String(err) };
      }
      const ms = toMs(extra.tp_timestamp);
      if (Number.isNaN(ms)) {
        return { position, operation: "validate", message: `tp_timestamp is missing or not a valid time (${JSON.stringify(extra.tp_timestamp)})` };
      }
      if (required.enriched.length > 0) {
        const absent = lackingEnriched(row, extra);
        if (absent !== undefined) return missing(position, absent);
      }
      if (ms < fromMs || ms >= toMs_ || (exclude !== undefined && isCovered(exclude, position, ms))) return FILTERED;
      const tpIndex = extra.tp_index ?? "default";
      if (tpIndex !== lastIndex) {
        lastIndex = tpIndex;
        lastIndexJson = JSON.stringify(tpIndex);
      }
      // rowJson: a bigint (an integer beyond 2^53) is written with its digits.
      const json = raw ?? rowJson(row);
      if (
        json === undefined ||
        (!noTpKeys && json.includes(SDK_FIELDS)) ||
        json.charCodeAt(json.length - 1) !== 0x7d /* } */ ||
        (raw !== undefined && raw.charCodeAt(0) !== 0x7b) /* { */
      ) {
        let obj = row;
        if (raw !== undefined) {
          const parsed = parseRawRow(raw);
          if (parsed === undefined) {
            return { position, operation: "validate", message: "the pre-serialized row is not a JSON object" };
          }
          obj = parsed;
        }
        out.push(enrichSlow(obj, extra, `${prefix}${position.toString(36)}`, isoText(ms), ingest, ctx) + "\n");
      } else if (bytesOut !== undefined && raw !== undefined && !isEmptyObject(json) && hasBytes(item as RawRow)) {
        // The row's bytes but its closing brace, then the tp_* fields as the text path below writes them.
        const r = item as RawRow;
        const n = r.end - 1 - r.start;
        if (lastIndexFrag === undefined || tpIndex !== lastIndexFragOf) {
          lastIndexFragOf = tpIndex;
          lastIndexFrag = new Fragment(Buffer.from(JSON.stringify(tpIndex), "utf8"));
        }
        bytesOut.ensure(n + rowTail!.room + lastIndexFrag.length);
        bytesOut.buf.set(r.bytes!.subarray(r.start, r.end - 1), bytesOut.pos);
        bytesOut.pos += n;
        rowTail!.head(bytesOut, position, ms);
        bytesOut.frag(lastIndexFrag);
        rowTail!.afterIndex(bytesOut);
        writeOptionalFields(bytesOut, extra);
      } else {
        const ts = isoText(ms);
        if (dayIndex !== lastIndexJson || !ts.startsWith(dayDate)) {
          dayIndex = lastIndexJson;
          dayDate = ts.slice(0, 10);
          dayTemplate = fill(batchTemplate, { [Slot.Index]: lastIndexJson, [Slot.Date]: dayDate });
          rowTs = "";
        }
        if (ts !== rowTs) {
          rowTs = ts;
          [beforeId, afterId] = around(fill(dayTemplate, { [Slot.Time]: ts }), Slot.Id);
          flat(beforeId);
          flat(afterId);
        }
        // The fields start with a comma, which follows a row's last field but not an empty row's brace.
        const head = isEmptyObject(json) ? "{" + beforeId.slice(1) : json.slice(0, -1) + beforeId;
        out.push(head + position.toString(36) + afterId + optionalFields(extra));
      }
      return WRITTEN;
    };
    return {
      add,
      addOne,
      size: () => encoder?.size ?? 0,
      finish: () => ({ bytes: encoder?.finish() ?? Buffer.alloc(0), count: indexes.length, indexes, failures, filtered }),
    };
  };
  const enrich = ((rows: unknown[], positions: number[]): EnrichedBatch => {
    const b = begin();
    b.add(rows, positions);
    return b.finish();
  }) as Enricher;
  enrich.begin = begin;
  return enrich;
}

/** True when a raw row carries its bytes, and they end as its text does, with the closing brace. */
function hasBytes(r: RawRow): boolean {
  const b = r.bytes;
  return b !== undefined && r.end > r.start && r.end <= b.length && b[r.end - 1] === 0x7d;
}

/** The same text as one flat string, so that every line that reuses it copies it rather than walking a rope. */
function flat(s: string): string {
  // Number() of a non-numeric string makes V8 flatten it in place.
  void Number(s);
  return s;
}

/** True for "{}" (a row with no fields), allowing whitespace inside a pre-serialized one; json starts with { and ends with }. */
function isEmptyObject(json: string): boolean {
  if (json.length === 2) return true;
  for (let i = json.length - 2; i > 0; i--) {
    const c = json.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/** A pre-serialized row's text as an object, or undefined when it is not a JSON object. */
function parseRawRow(json: string): Row | undefined {
  try {
    // Big integer literals stay bigints, so the row is written back with the digits it had.
    const v = parseRowJson(json);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Row) : undefined;
  } catch {
    return undefined;
  }
}

/** Sets the tp_* fields on the row and serializes it: the reference behaviour, for rows the fast path cannot take. */
function enrichSlow(row: Row, extra: TableEnrichment, id: string, ts: string, ingest: string, ctx: ArtifactEnrichContext): string {
  setTpFields(row, { id, timestamp: ts, ingest, index: extra.tp_index ?? "default" }, ctx, extra as unknown as Readonly<Record<string, unknown>>);
  return rowJson(row)!;
}
