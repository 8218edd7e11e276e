import { invalidArgument } from "../errors/index.js";
import { Fragment, type ByteBatch } from "../collection/byte-batch.js";
import { requiredFields } from "../collection/required.js";
import { MAX_TIME_MS, type RowTail } from "../collection/row-tail.js";
import { ENRICH_SLOTS, type EnrichSlot } from "../collection/tp-layout.js";
import { createLinesLoader } from "../loaders/lines.js";
import { exactNumber } from "../mappers/exact-numbers.js";
import type { Mapper } from "../contract/mapper.js";
import type { JSONSchema } from "../schema/index.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { TableDefinition, TableSource } from "../contract/table.js";
import type { EnrichContext, Row, TableEnrichment } from "../contract/row.js";
import type { DataSourceLookup } from "../contract/data-source.js";
import { LineOutcome, withLineFormat, type LineFormat, type LineReader } from "../collection/line-format.js";

/**
 * Where a delimited table's tp_* fields come from: field names of the row (after renaming), no code. Being declared,
 * they can be written as bytes by the table's line format, and derived as an `enrich` function for the reference path.
 * Each optional tp_* field of TP_FIELDS is filled from the key that is its name without tp_ in camel case
 * (tp_source_ip: sourceIp), a field for a single value and a list of fields for a list.
 */
export interface DelimitedEnrichSpec {
  /** The field holding the event time, a number of seconds ("s") or milliseconds ("ms") since the epoch. */
  timestamp: { field: string; unit: "s" | "ms" };
  /**
   * tp_index: the value of `field`; when the row has none (null, or no such field), the artifact property named
   * `property` (e.g. the account from the file layout); else "default".
   */
  index?: { field?: string; property?: string };
  /** tp_source_ip: the value of this field, or null. */
  sourceIp?: string;
  /** tp_destination_ip: the value of this field, or null. */
  destinationIp?: string;
  /** tp_ips and the like: the distinct non-empty values of these fields, in this order. */
  ips?: string[];
  usernames?: string[];
  akas?: string[];
  domains?: string[];
  emails?: string[];
  tags?: string[];
  /**
   * tp_domains also gets, after the `domains` fields' values, the domains a DNS data source (default tailkit/dns)
   * knows for the addresses in these fields at the row's time (e.g. a flow's destination). The table then declares
   * that data source, so a Collect without it fails before any row is read.
   */
  domainsOf?: { fields: readonly string[]; dataSource?: { namespace: string; id: string; version: number } };
}

/** tailkit/dns, version 1: what domainsOf reads unless it names another. */
const DNS_SOURCE = { namespace: "tailkit", id: "dns", version: 1 } as const;

/** A data source that tells the domains an address was resolved from at an event time (tailkit/dns). */
interface DomainLookup {
  domainsAt(ip: string, atMs: number): readonly string[];
  /** The same for an IPv4 address as its number, when the source offers it: no string per row. */
  domainsAtV4?(addr: number, atMs: number): readonly string[];
}

function domainLookupOf(dataSources: DataSourceLookup, ref: { namespace: string; id: string }): DomainLookup | undefined {
  const ds = dataSources.getDataSource(ref.namespace, ref.id) as Partial<DomainLookup> | undefined;
  if (ds === undefined) return undefined;
  if (typeof ds.domainsAt !== "function") throw new Error(`data source ${ref.namespace}/${ref.id} cannot look up domains by address (it has no domainsAt)`);
  return ds as DomainLookup;
}

/** Options of defineDelimitedTable. */
export interface DelimitedTableOptions {
  name: string;
  description: string;
  rowSchema: JSONSchema;
  /** Source types the table accepts (each reads the files' lines), with the defaults of each. */
  sources: Record<string, Pick<TableSource, "defaults">>;
  /** Column names as files write them, in order, for files without a header line. */
  columns: readonly string[];
  /**
   * Columns (as files name them) whose values are numbers; the rest are strings. Names not in `columns` may appear in
   * headers. An integer beyond 2^53 is kept exactly: a bigint in the row enrich sees, its digits in the output.
   */
  numbers?: readonly string[];
  /** The column separator: one ASCII character. Default " ". */
  separator?: string;
  /** The text that stands for no value (becomes null). Default "-". */
  nullValue?: string;
  /**
   * A line whose first field is one of these names is a header: its fields name the columns of the lines after it
   * (custom formats). Default: the first column's name.
   */
  headerFirstFields?: readonly string[];
  /** How a column name becomes the row's field name. Default: "-" becomes "_" (account-id → account_id). */
  fieldName?: (column: string) => string;
  /** The tp_* fields. */
  enrich: DelimitedEnrichSpec;
  /** The name row errors carry ("<mapper>: expected 14 fields ..."). Default: the table's name. */
  mapperName?: string;
}

/** A field name that JSON.stringify writes as is and an object keeps in insertion order. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);
const frag = (s: string): Fragment => new Fragment(utf8(s));
const NULL = frag("null");
/** "null" as a little-endian word. */
const NULL_WORD = 0x6c6c756e;
const QUOTE = 0x22;

// Words of four bytes, tested all at once (little-endian: the line's first byte is the lowest).
const HI = 0x80808080 | 0;
const ONES = 0x01010101;
/** Bytes of a word kept when only the first r (0-3) belong to the field. */
const KEEP = Int32Array.of(0, 0xff, 0xffff, 0xffffff);

/** A file's column layout (the default one, or a header's), with the JSON keys made once. */
interface Layout {
  columns: readonly string[];
  names: string[];
  numeric: boolean[];
  /** False when rows cannot be written as bytes in column order: duplicate, non-plain or tp_ names, or no time field. */
  fast: boolean;
  /**
   * Each column's key, `{"name":` for the first and `,"name":` for the rest, with the opening quote of a string value:
   * as words (keyWords from keyAt[i], keyLength[i] bytes).
   */
  keyWords: Int32Array;
  keyAt: Int32Array;
  keyLength: Int32Array;
  keysBytes: number;
  /** 1 for a number column. */
  numericFlags: Uint8Array;
  /** 1 for a column the row schema requires: a null there is the reference path's error to report. */
  requiredFlags: Uint8Array;
  /** Column of each spec field, or -1. */
  ts: number;
  index: number;
  /**
   * The optional tp_* fields the spec fills, in TP_FIELDS order: the key (`,"tp_source_ip":`, or `,"tp_ips":[` for a
   * list) and the columns (-1 for a field this layout lacks).
   */
  optionals: { key: Fragment; list: boolean; cols: number[]; lookupCols: number[] }[];
}

/** An optional tp_* field, and the key of DelimitedEnrichSpec that fills it. */
interface SpecField {
  slot: EnrichSlot;
  spec: string;
}

/** Every optional tp_* field with its spec key: tp_source_ip from sourceIp, tp_ips from ips. */
const SPEC_FIELDS: readonly SpecField[] = ENRICH_SLOTS.map((slot) => ({
  slot,
  spec: slot.name.slice(3).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
}));

/** The spec's value for a field: a field name, a list of them, or undefined when the spec does not fill it. */
function specValue(e: DelimitedEnrichSpec, f: SpecField): string | readonly string[] | undefined {
  const v = (e as unknown as Readonly<Record<string, string | readonly string[] | undefined>>)[f.spec];
  return v === undefined && f.spec === "domains" && e.domainsOf !== undefined ? [] : v;
}

/** Most domains' JSON texts a format keeps as bytes. */
const DOMAIN_FRAGMENTS = 10_000;

/**
 * A table whose files hold one row per line of delimited fields (VPC flow logs, ELB and S3 access logs, Zeek TSV):
 * columns, their types and where the tp_* fields come from are declared, and the SDK does the rest. It makes the
 * loader (lines), the mapper, the enrich function, and a compiled line format that writes rows as bytes: about five
 * times less work a row than strings and objects. Lines the format cannot write exactly (escapes, non-ASCII text,
 * numbers not written canonically, errors) go the reference way and give the same output. The row schema's `required`
 * fields are enforced on both ways: a row without one, or with null, is a "validate" row error.
 */
export function defineDelimitedTable(options: DelimitedTableOptions): TableDefinition {
  const o = validateDelimitedTableOptions(options);
  const format = new DelimitedFormat(o);
  const sources: Record<string, TableSource> = {};
  for (const [type, entry] of Object.entries(o.sources)) {
    sources[type] = withLineFormat(
      { ...(entry.defaults ? { defaults: entry.defaults } : {}), loader: () => createLinesLoader(), mappers: () => [format.mapper()] },
      format,
    );
  }
  const lookups = o.enrich.domainsOf;
  return {
    name: o.name,
    description: o.description,
    rowSchema: o.rowSchema,
    sources,
    ...(lookups !== undefined ? { dataSources: [lookups.dataSource ?? DNS_SOURCE] } : {}),
    enrich: (row, ctx) => format.enrich(row, ctx),
  };
}

type Checked = Required<Omit<DelimitedTableOptions, "numbers">> & { numbers: Set<string> };

function validateDelimitedTableOptions(options: DelimitedTableOptions): Checked {
  const { columns, enrich } = options;
  if (!Array.isArray(columns) || columns.length === 0) throw invalidArgument("columns", "must name at least one column");
  const separator = options.separator ?? " ";
  if (separator.length !== 1 || separator.charCodeAt(0) > 0x7f || separator === "\n" || separator === "\r") {
    throw invalidArgument("separator", `must be one ASCII character other than a line end, got ${JSON.stringify(separator)}`);
  }
  const nullValue = options.nullValue ?? "-";
  if (nullValue.includes(separator)) throw invalidArgument("nullValue", `must not contain the separator ${JSON.stringify(separator)}`);
  const fieldName = options.fieldName ?? ((c: string) => c.replace(/-/g, "_"));
  const numbers = new Set(options.numbers ?? []);
  const fields = new Map(columns.map((c: string) => [fieldName(c), numbers.has(c)]));
  const known = (what: string, field: string | undefined, numeric: boolean): void => {
    if (field === undefined) return;
    if (!fields.has(field)) throw invalidArgument(`enrich.${what}`, `names ${JSON.stringify(field)}, which is not a field of the default columns`);
    if (fields.get(field) !== numeric)
      throw invalidArgument(`enrich.${what}`, `field ${JSON.stringify(field)} must be a ${numeric ? "number" : "string"} column`);
  };
  if (enrich?.timestamp === undefined) throw invalidArgument("enrich.timestamp", "is required");
  if (enrich.timestamp.unit !== "s" && enrich.timestamp.unit !== "ms")
    throw invalidArgument("enrich.timestamp.unit", `must be "s" or "ms", got ${JSON.stringify(enrich.timestamp.unit)}`);
  known("timestamp.field", enrich.timestamp.field, true);
  known("index.field", enrich.index?.field, false);
  for (const f of SPEC_FIELDS) {
    const v = specValue(enrich, f);
    if (v === undefined) continue;
    if (f.slot.list ? !Array.isArray(v) || v.some((x) => typeof x !== "string") : typeof v !== "string") {
      throw invalidArgument(`enrich.${f.spec}`, `must be ${f.slot.list ? "a list of field names" : "a field name"}, got ${JSON.stringify(v)}`);
    }
    for (const field of f.slot.list ? (v as readonly string[]) : [v as string]) known(f.spec, field, false);
  }
  if (enrich.domainsOf !== undefined) {
    const d = enrich.domainsOf;
    if (!Array.isArray(d.fields) || d.fields.length === 0) throw invalidArgument("enrich.domainsOf.fields", "must name at least one field");
    for (const field of d.fields as readonly string[]) known("domainsOf.fields", field, false);
    const ref = d.dataSource;
    if (ref !== undefined && (typeof ref.namespace !== "string" || typeof ref.id !== "string" || !Number.isInteger(ref.version))) {
      throw invalidArgument("enrich.domainsOf.dataSource", "must be {namespace, id, version}");
    }
  }
  return {
    ...options,
    separator,
    nullValue,
    fieldName,
    numbers,
    headerFirstFields: options.headerFirstFields ?? [columns[0]!],
    mapperName: options.mapperName ?? options.name,
  };
}

class DelimitedFormat implements LineFormat {
  readonly defaultLayout: Layout;
  /** headerFirstFields as bytes, for the line format's header check. */
  readonly headerFirst: Uint8Array[];

  constructor(readonly o: Checked) {
    this.defaultLayout = this.layout(o.columns);
    this.headerFirst = o.headerFirstFields.map(utf8);
  }

  /** Domains as JSON text bytes, made once per thread and domain (the line format writes them a word at a time). */
  private readonly domainFragments = new Map<string, Fragment>();

  open(_artifact: ArtifactInfo, dataSources?: DataSourceLookup): LineReader {
    const d = this.o.enrich.domainsOf;
    return new DelimitedReader(this, d !== undefined && dataSources !== undefined ? domainLookupOf(dataSources, d.dataSource ?? DNS_SOURCE) : undefined);
  }

  domainFragment(domain: string): Fragment {
    let f = this.domainFragments.get(domain);
    if (f === undefined) {
      if (this.domainFragments.size >= DOMAIN_FRAGMENTS) this.domainFragments.clear();
      f = frag(JSON.stringify(domain));
      this.domainFragments.set(domain, f);
    }
    return f;
  }

  mapper(): Mapper<string, Row> {
    const reader = new DelimitedReader(this);
    return { name: this.o.mapperName, map: (line) => reader.map(line) };
  }

  indexFallback(artifact: ArtifactInfo): string {
    const p = this.o.enrich.index?.property;
    return (p !== undefined ? artifact.properties[p] : undefined) ?? "default";
  }

  /** The reference enrich, from the spec; the line format writes the same values. */
  enrich(row: Row, ctx: EnrichContext): TableEnrichment {
    const e = this.o.enrich;
    const f = row[e.timestamp.field];
    // A bigint time is far beyond what a Date holds; as a number it is reported as such.
    const t = typeof f === "bigint" ? Number(f) : f;
    const out: TableEnrichment = {
      tp_timestamp: typeof t === "number" ? (e.timestamp.unit === "s" ? t * 1000 : t) : Number.NaN,
    };
    if (e.index !== undefined) {
      const v = e.index.field !== undefined ? (row[e.index.field] as string | null | undefined) : undefined;
      out.tp_index = v ?? this.indexFallback(ctx.artifact);
    }
    const fields = out as unknown as Record<string, unknown>;
    for (const f of SPEC_FIELDS) {
      const v = specValue(e, f);
      if (v === undefined) continue;
      if (!f.slot.list) {
        fields[f.slot.name] = row[v as string] ?? null;
        continue;
      }
      const values: string[] = [];
      for (const c of v as readonly string[]) {
        const x = row[c];
        if (typeof x === "string" && x !== "" && !values.includes(x)) values.push(x);
      }
      if (f.spec === "domains" && e.domainsOf !== undefined) {
        const lookup = domainLookupOf(ctx, e.domainsOf.dataSource ?? DNS_SOURCE);
        const at = out.tp_timestamp as number;
        for (const c of lookup !== undefined && Number.isFinite(at) ? e.domainsOf.fields : []) {
          const ip = row[c];
          if (typeof ip !== "string" || ip === "") continue;
          for (const dom of lookup!.domainsAt(ip, at)) if (!values.includes(dom)) values.push(dom);
        }
      }
      fields[f.slot.name] = values;
    }
    return out;
  }

  layout(columns: readonly string[]): Layout {
    const { fieldName, numbers, enrich: e } = this.o;
    const names = columns.map(fieldName);
    const plain = new Set(names).size === names.length && names.every((n) => PLAIN_KEY.test(n) && n !== "__proto__" && !n.startsWith("tp_"));
    const at = (f: string | undefined): number => (f === undefined ? -1 : names.indexOf(f));
    const numeric = columns.map((c) => numbers.has(c));
    const keys = names.map((n, i) => new Fragment(utf8(`${i === 0 ? "{" : ","}${JSON.stringify(n)}:${numeric[i] ? "" : '"'}`)));
    const keyAt = new Int32Array(keys.length);
    for (let i = 1; i < keys.length; i++) keyAt[i] = keyAt[i - 1]! + keys[i - 1]!.words.length;
    const keyWords = new Int32Array(keys.reduce((n, k) => n + k.words.length, 0));
    keys.forEach((k, i) => keyWords.set(k.words, keyAt[i]));
    const ts = at(e.timestamp.field);
    const typed = (i: number, wantNumber: boolean): boolean => i === -1 || numeric[i] === wantNumber;
    const optionals = SPEC_FIELDS.flatMap((f) => {
      const v = specValue(e, f);
      if (v === undefined) return [];
      return [
        {
          key: f.slot.list ? frag(`${f.slot.key}[`) : f.slot.keyBytes,
          list: f.slot.list,
          cols: (f.slot.list ? (v as readonly string[]) : [v as string]).map(at),
          lookupCols: f.spec === "domains" && e.domainsOf !== undefined ? e.domainsOf.fields.map(at) : [],
        },
      ];
    });
    // A row that lacks a required field is the reference path's error: a layout without one of them writes no row as
    // bytes, and a required column's null is declined where it is read. A required tp_* field is required of the
    // column that fills it, or of no column when the spec does not fill it.
    const required = requiredFields(this.o.rowSchema);
    const requiredFlags = new Uint8Array(names.length);
    let hasRequired = true;
    for (const name of required.columns) {
      if (at(name) === -1) hasRequired = false;
      else requiredFlags[at(name)] = 1;
    }
    for (const name of required.enriched) {
      const f = SPEC_FIELDS.find((s) => s.slot.name === name)!;
      const v = specValue(e, f);
      if (v === undefined || (!f.slot.list && at(v as string) === -1)) hasRequired = false;
      else if (!f.slot.list) requiredFlags[at(v as string)] = 1;
    }
    const l: Layout = {
      columns,
      names,
      numeric,
      keyWords,
      keyAt,
      keyLength: Int32Array.from(keys, (k) => k.length),
      keysBytes: keys.reduce((n, k) => n + k.length, 0),
      numericFlags: Uint8Array.from(numeric, (x) => (x ? 1 : 0)),
      requiredFlags,
      ts,
      index: at(e.index?.field),
      optionals,
      fast: false,
    };
    // A header may give a spec field another type than the default columns do: the reference path copes, bytes do not.
    l.fast =
      plain &&
      hasRequired &&
      ts !== -1 &&
      numeric[ts] === true &&
      typed(l.index, false) &&
      l.optionals.every((o) => o.cols.every((c) => typed(c, false)) && o.lookupCols.every((c) => typed(c, false)));
    return l;
  }
}

/** Line state of one artifact: the layout in force (a header changes it for the lines after it). */
class DelimitedReader implements LineReader {
  private l!: Layout;
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);
  readonly mapperName: string;
  private readonly sep: number;
  /** The separator in each byte of a word. */
  private readonly sepWord: number;
  /** Seconds or milliseconds to milliseconds. */
  private readonly msPerUnit: number;
  private readonly nullBytes: Uint8Array;
  /** The buffer of the lines being written, and a view of it, for reading a word at a time. */
  private input: Uint8Array = new Uint8Array(0);
  private inputView: DataView = new DataView(new ArrayBuffer(0));
  /** A line near its buffer's end is copied here, so that every word read stays inside a buffer. */
  private scratch: Uint8Array = Buffer.alloc(0);
  private readonly nullText: string;
  /** "space-separated" and the like, for errors. */
  private readonly separatorName: string;

  constructor(
    private readonly f: DelimitedFormat,
    /** Where domainsOf looks addresses up; undefined without domainsOf (or without the data source: no lookups). */
    private readonly domains?: DomainLookup,
  ) {
    this.mapperName = f.o.mapperName;
    this.sep = f.o.separator.charCodeAt(0);
    this.sepWord = Math.imul(this.sep, ONES);
    this.msPerUnit = f.o.enrich.timestamp.unit === "s" ? 1000 : 1;
    this.nullBytes = utf8(f.o.nullValue);
    this.nullText = f.o.nullValue;
    const sep = f.o.separator;
    this.separatorName = sep === " " ? "space-separated" : sep === "\t" ? "tab-separated" : `${JSON.stringify(sep)}-separated`;
    this.setLayout(f.defaultLayout);
  }

  private setLayout(l: Layout): void {
    this.l = l;
    this.starts = new Int32Array(l.columns.length);
    this.ends = new Int32Array(l.columns.length);
  }

  private isHeader(parts: readonly string[]): boolean {
    return this.f.o.headerFirstFields.includes(parts[0]!);
  }

  map(line: string): Row | undefined {
    if (line.length === 0) return undefined;
    const parts = line.split(this.f.o.separator);
    if (this.isHeader(parts)) {
      this.setLayout(this.f.layout(parts));
      return undefined;
    }
    const l = this.l;
    if (parts.length !== l.names.length) {
      throw new Error(`expected ${l.names.length} ${this.separatorName} fields, found ${parts.length}`);
    }
    const row: Row = {};
    for (let i = 0; i < parts.length; i++) {
      const v = parts[i]!;
      if (v === this.nullText) row[l.names[i]!] = null;
      else if (l.numeric[i]) {
        const n = Number(v);
        if (Number.isNaN(n)) throw new Error(`field ${l.names[i]} is not a number: ${JSON.stringify(v)}`);
        // An integer beyond 2^53 becomes a bigint, written with its digits as the line format writes them.
        row[l.names[i]!] = exactNumber(v, n);
      } else row[l.names[i]!] = v;
    }
    return row;
  }

  /** True when the line's first field is a header name. */
  private headerAt(b: Uint8Array, s: number, e: number): boolean {
    for (const h of this.f.headerFirst) {
      const n = h.length;
      if (s + n > e || (s + n < e && b[s + n] !== this.sep)) continue;
      let k = 0;
      while (k < n && b[s + k] === h[k]) k++;
      if (k === n) return true;
    }
    return false;
  }

  private isNull(b: Uint8Array, s: number, e: number): boolean {
    const nb = this.nullBytes;
    if (e - s !== nb.length) return false;
    for (let k = 0; k < nb.length; k++) if (b[s + k] !== nb[k]) return false;
    return true;
  }

  write(b0: Uint8Array, s0: number, e0: number, position: number, out: ByteBatch, tail: RowTail): LineOutcome {
    if (s0 === e0) return LineOutcome.Skip;
    if (this.headerAt(b0, s0, e0)) {
      this.map(Buffer.from(b0.buffer, b0.byteOffset, b0.byteLength).toString("utf8", s0, e0));
      return LineOutcome.Skip;
    }
    const l = this.l;
    if (!l.fast) return LineOutcome.Decline;
    // The line is read a word at a time, up to 4 bytes past its end (into the line end and the next line, ignored).
    let b = b0;
    let s = s0;
    let e = e0;
    if (e0 + 4 > b0.length) {
      if (this.scratch.length < e0 - s0 + 4) this.scratch = Buffer.allocUnsafe(2 * (e0 - s0) + 64);
      this.scratch.set(b0.subarray(s0, e0));
      b = this.scratch;
      s = 0;
      e = e0 - s0;
    }
    if (b !== this.input) {
      this.input = b;
      this.inputView = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    const iv = this.inputView;
    const n = l.columns.length;
    out.ensure(e - s + l.keysBytes + 8 * n + tail.room + 64);
    const ov = out.view;
    const rowStart = out.pos;
    let p = rowStart;
    const { keyWords, keyAt, keyLength, numericFlags, requiredFlags } = l;
    const starts = this.starts;
    const ends = this.ends;
    const sepWord = this.sepWord;
    const nb = this.nullBytes;
    const nullLen = nb.length;
    let j = s;
    // Each column: its key, then its value copied a word at a time while the word is searched for the separator and
    // checked (printable ASCII that JSON writes as is, or digits); a value that is not is the reference path's.
    for (let i = 0; i < n; i++) {
      const ka = keyAt[i]!;
      const kl = keyLength[i]!;
      for (let k = 0, words = (kl + 3) >> 2; k < words; k++) ov.setInt32(p + 4 * k, keyWords[ka + k]!, true);
      p += kl;
      const numeric = numericFlags[i] === 1;
      const fs = j;
      const vs = p;
      let bad = 0;
      for (;;) {
        const w = iv.getInt32(j, true);
        const x = w ^ sepWord;
        const z = (x - ONES) & ~x & HI;
        // Bytes before the first separator in the word (the lowest flagged byte is exact), or before the line's end.
        let r = z === 0 ? 4 : (31 - Math.clz32(z & (-z | 0))) >> 3;
        if (j + r > e) r = e - j;
        ov.setInt32(p, w, true);
        if (numeric) {
          // Bytes past the value count as "0".
          const v = r === 4 ? w : (w & KEEP[r]!) | (0x30303030 & ~KEEP[r]!);
          bad |= ((v - 0x30303030) & ~v) | (v + 0x46464646) | v;
        } else {
          // Bytes past the value count as "A". Flags a byte < 0x20, ≥ 0x7f, '"' or '\\'.
          const v = r === 4 ? w : (w & KEEP[r]!) | (0x41414141 & ~KEEP[r]!);
          const q = v ^ 0x22222222;
          const bs = v ^ 0x5c5c5c5c;
          bad |= ((v - 0x20202020) & ~v) | (v + ONES) | v | ((q - ONES) & ~q) | ((bs - ONES) & ~bs);
        }
        j += r;
        p += r;
        if (r < 4) break;
      }
      starts[i] = fs;
      ends[i] = j;
      const len = j - fs;
      if (len === nullLen && (nullLen === 0 || (b[fs] === nb[0] && (nullLen === 1 || this.isNull(b, fs, j))))) {
        if (requiredFlags[i] === 1) return LineOutcome.Decline;
        // The key's opening quote, if any, goes too.
        p = numeric ? vs : vs - 1;
        ov.setInt32(p, NULL_WORD, true);
        p += 4;
      } else if (numeric) {
        // A plain decimal integer, no sign or leading zero, is written as the reference writes it: with its digits, of
        // any length (beyond 2^53 the reference holds it as a bigint, and writes the same).
        if ((bad & HI) !== 0 || len === 0 || (b[fs] === 0x30 && len > 1)) return LineOutcome.Decline;
      } else {
        if ((bad & HI) !== 0) return LineOutcome.Decline;
        out.buf[p++] = QUOTE;
      }
      // A wrong count is the reference path's error to report.
      if (j < e) {
        if (i === n - 1) return LineOutcome.Decline;
        j++;
      } else if (i < n - 1) return LineOutcome.Decline;
    }

    // A row without a time, or with one a Date cannot hold, is the reference path's error.
    const ts = l.ts;
    const t = this.isNull(b, starts[ts]!, ends[ts]!) ? -1 : canonicalInt(b, starts[ts]!, ends[ts]!);
    if (t < 0) return LineOutcome.Decline;
    const ms = t * this.msPerUnit;
    if (ms > MAX_TIME_MS) return LineOutcome.Decline;
    // Filtered only once the row is known to be good, as the reference path would have failed it first.
    if (!tail.inRange(ms, position)) return LineOutcome.Filtered;
    out.pos = p;
    tail.head(out, position, ms);
    const ix = l.index;
    if (ix !== -1 && !this.isNull(b, starts[ix]!, ends[ix]!)) this.quoted(out, iv, starts[ix]!, ends[ix]!);
    else out.frag(tail.indexFallback);
    tail.afterIndex(out);
    const optionals = l.optionals;
    for (let m = 0; m < optionals.length; m++) {
      const o = optionals[m]!;
      if (!o.list) {
        this.optional(out, o.key, iv, b, o.cols[0]!);
        continue;
      }
      out.frag(o.key);
      const first = out.pos;
      for (let k = 0; k < o.cols.length; k++) {
        const c = o.cols[k]!;
        if (c === -1) continue;
        const fs = starts[c]!;
        const fe = ends[c]!;
        if (fs === fe || this.isNull(b, fs, fe) || this.seenBefore(b, fs, fe, o.cols, k)) continue;
        if (out.pos !== first) out.byte(0x2c);
        this.quoted(out, iv, fs, fe);
      }
      if (o.lookupCols.length > 0 && this.domains !== undefined) this.lookedUp(out, b, o, ms, first);
      out.byte(0x5d);
    }
    out.byte(0x7d);
    out.byte(0x0a);
    return LineOutcome.Row;
  }

  /**
   * Appends to a tp_domains list the domains the lookup knows for the addresses in o.lookupCols at `ms`, each once
   * (neither a column's value nor an earlier domain again), as the reference enrich lists them.
   */
  private lookedUp(out: ByteBatch, b: Uint8Array, o: Layout["optionals"][number], ms: number, first: number): void {
    let written: string[] | undefined;
    for (let k = 0; k < o.lookupCols.length; k++) {
      const c = o.lookupCols[k]!;
      if (c === -1) continue;
      const fs = this.starts[c]!;
      const fe = this.ends[c]!;
      if (fs === fe || this.isNull(b, fs, fe)) continue;
      const lookup = this.domains!;
      const v4 = lookup.domainsAtV4 !== undefined ? ipv4At(b, fs, fe) : -1;
      // Else checked printable ASCII: latin1 is the text.
      const found = v4 !== -1 ? lookup.domainsAtV4!(v4, ms) : lookup.domainsAt(asciiText(b, fs, fe), ms);
      for (let m = 0; m < found.length; m++) {
        const d = found[m]!;
        written ??= o.cols.length > 0 ? this.columnValues(b, o) : [];
        if (written.includes(d)) continue;
        written.push(d);
        const fr = this.f.domainFragment(d);
        out.ensure(fr.length + 1);
        if (out.pos !== first) out.byte(0x2c);
        out.frag(fr);
      }
    }
  }

  /** The distinct values o.cols wrote into the list, as text. */
  private columnValues(b: Uint8Array, o: Layout["optionals"][number]): string[] {
    const values: string[] = [];
    for (const c of o.cols) {
      if (c === -1) continue;
      const fs = this.starts[c]!;
      const fe = this.ends[c]!;
      if (fs === fe || this.isNull(b, fs, fe)) continue;
      const v = asciiText(b, fs, fe);
      if (!values.includes(v)) values.push(v);
    }
    return values;
  }

  /** Writes "value" of a checked string column, a word at a time (the line can be read 4 bytes past its end). */
  private quoted(out: ByteBatch, iv: DataView, s: number, e: number): void {
    const ov = out.view;
    let p = out.pos;
    out.buf[p++] = QUOTE;
    for (let j = s; j < e; j += 4) ov.setInt32(p + j - s, iv.getInt32(j, true), true);
    p += e - s;
    out.buf[p++] = QUOTE;
    out.pos = p;
  }

  private optional(out: ByteBatch, key: Fragment, iv: DataView, b: Uint8Array, c: number): void {
    out.frag(key);
    if (c === -1 || this.isNull(b, this.starts[c]!, this.ends[c]!)) out.frag(NULL);
    else this.quoted(out, iv, this.starts[c]!, this.ends[c]!);
  }

  /** True when an earlier listed column (k' < k) holds the same non-empty, non-null value. */
  private seenBefore(b: Uint8Array, s: number, e: number, cols: number[], k: number): boolean {
    for (let j = 0; j < k; j++) {
      const c = cols[j]!;
      if (c === -1) continue;
      const s2 = this.starts[c]!;
      if (this.ends[c]! - s2 !== e - s || this.isNull(b, s2, this.ends[c]!)) continue;
      let m = 0;
      while (m < e - s && b[s + m] === b[s2 + m]) m++;
      if (m === e - s) return true;
    }
    return false;
  }
}

/**
 * The number of the IPv4 address b[s, e) when it is written canonically (four decimal octets up to 255, no leading
 * zeros: the text that parseIpv4 and the reference path's string agree on); else -1.
 */
function ipv4At(b: Uint8Array, s: number, e: number): number {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
      continue;
    }
    const d = c - 0x30;
    if (d < 0 || d > 9 || (digits > 0 && octet === 0)) return -1;
    octet = octet * 10 + d;
    if (++digits > 3 || octet > 255) return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return n * 256 + octet;
}

/** b[s, e) as text, for bytes checked to be printable ASCII. */
function asciiText(b: Uint8Array, s: number, e: number): string {
  if (Buffer.isBuffer(b)) return b.toString("latin1", s, e);
  let t = "";
  for (let i = s; i < e; i++) t += String.fromCharCode(b[i]!);
  return t;
}

/**
 * The value of b[s, e) when it is a plain decimal integer that JSON.stringify(Number(text)) writes back unchanged (no
 * sign, no leading zero, at most 15 digits); else -1.
 */
function canonicalInt(b: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0 || n > 15) return -1;
  const c0 = b[s]!;
  if (c0 === 0x30) return n === 1 ? 0 : -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
