import { isCovered, type CoveredWindow } from "../state/coverage.js";
import { Fragment, type ByteBatch } from "./byte-batch.js";
import { fill, sdkFieldsTemplate, Slot, SLOT_MAX_BYTES, splitAt, type Template } from "./tp-layout.js";
import type { ArtifactEnrichContext } from "./types.js";

/** Largest time a Date holds, in ms either side of the epoch; beyond it toISOString throws and the enricher says NaN. */
export const MAX_TIME_MS = 8.64e15;

const encoder = new TextEncoder();

/** A row value RowTail writes from its digits. */
const ID = 1;
const TIME_OF_DAY = 2;

/**
 * A part of the template with only a row's values open, as RowTail writes it: a fragment, then each value followed
 * by a fragment (empty where two values meet), so that a row costs a fragment and a value at a time.
 */
class Pieces {
  readonly lead: Fragment;
  readonly values: Uint8Array;
  readonly trails: Fragment[];
  /** The values are the id then the time of day (TP_FIELDS as it is before tp_index): head() writes them straight. */
  readonly idThenTime: boolean;

  constructor(t: Template) {
    const frag = (p: string | Slot | undefined) => new Fragment(encoder.encode(typeof p === "string" ? p : ""));
    let i = typeof t[0] === "string" ? 1 : 0;
    this.lead = frag(i === 1 ? t[0] : "");
    const values: number[] = [];
    this.trails = [];
    for (; i < t.length; i++) {
      const p = t[i]!;
      if (p !== Slot.Id && p !== Slot.TimeOfDay) throw new Error(`RowTail: slot ${p} is open (is startBatch called first?)`);
      values.push(p === Slot.Id ? ID : TIME_OF_DAY);
      // Texts and slots alternate, texts merged: the next one, if any, is this value's trail.
      const next = t[i + 1];
      this.trails.push(frag(next));
      if (typeof next === "string") i++;
    }
    this.values = Uint8Array.from(values);
    this.idThenTime = values.length === 2 && values[0] === ID && values[1] === TIME_OF_DAY;
  }
}

const NO_PIECES = new Pieces([]);

/**
 * The common tp_* fields of a row built as bytes: the same text, in the same order (TP_FIELDS, through tp-layout.ts),
 * as the enricher appends to a row's JSON (createEnricher), so that a line format's rows and the reference path's rows
 * are byte for byte alike.
 *
 * A row is written as `{fields…` + head() + the tp_index value + afterIndex() + the table's optional fields + `}\n`.
 * The parts that are not a row's own are made once per artifact, batch or day as fragments; a row's id and time of
 * day are written from their digits, which costs far less than a Date, a string and an encode per row.
 */
export class RowTail {
  readonly fromMs: number;
  readonly toMs: number;
  /** Windows whose rows earlier collections wrote; undefined when there are none. */
  readonly exclude: readonly CoveredWindow[] | undefined;
  /** JSON of tp_index when the row has no value for it: the artifact property or "default". */
  readonly indexFallback: Fragment;
  /** Bytes head() and afterIndex() may write, at most; a writer ensures this much room besides its own. */
  readonly room: number;

  /** The SDK's fields of the artifact's rows, and of the batch's (with its ingest time). */
  private readonly template: Template;
  private batch: Template;
  /** The batch's template for the day of the last time: before tp_index's value and after it. */
  private before = NO_PIECES;
  private after = NO_PIECES;
  /** The day of the last time, as ms since the epoch of its midnight. */
  private dayStart = Number.NaN;
  private lastMs = Number.NaN;
  /** The position of the row being written, for an id after tp_index. */
  private position = 0;
  /** "hh:mm:ss.sssZ" of the last time, 13 bytes, and as 4 words (the last padded). */
  private readonly timeOfDay = new Uint8Array(16);
  private readonly timeWords = new Int32Array(this.timeOfDay.buffer);
  private readonly digits = new Uint8Array(16);

  constructor(ctx: ArtifactEnrichContext, indexFallback: string) {
    this.fromMs = ctx.from?.getTime() ?? -Infinity;
    this.toMs = ctx.to?.getTime() ?? Infinity;
    this.exclude = ctx.exclude !== undefined && ctx.exclude.length > 0 ? ctx.exclude : undefined;
    this.template = sdkFieldsTemplate(ctx, "bytes");
    this.batch = this.template;
    this.indexFallback = new Fragment(encoder.encode(JSON.stringify(indexFallback)));
    this.room = this.template.reduce<number>((n, p) => n + (typeof p === "string" ? Buffer.byteLength(p, "utf8") : SLOT_MAX_BYTES[p]), 0);
    this.timeOfDay.set(encoder.encode("00:00:00.000Z"));
  }

  /** Starts a batch: its rows share one tp_ingest_timestamp. */
  startBatch(ingest: string): void {
    this.batch = fill(this.template, { [Slot.Ingest]: ingest });
    // The day's pieces hold the batch's ingest time: remade at the next row.
    this.dayStart = Number.NaN;
    this.lastMs = Number.NaN;
  }

  /** True when the row at this position with this time is to be written: inside [from, to), and not written before. */
  inRange(ms: number, position: number): boolean {
    return ms >= this.fromMs && ms < this.toMs && (this.exclude === undefined || !isCovered(this.exclude, position, ms));
  }

  /** Writes the SDK's fields before tp_index's value; ms must be a valid time (|ms| ≤ MAX_TIME_MS). */
  head(out: ByteBatch, position: number, ms: number): void {
    if (ms !== this.lastMs) this.setTime(ms);
    this.position = position;
    const p = this.before;
    if (p.idThenTime) {
      out.frag(p.lead);
      this.writeId(out);
      out.frag(p.trails[0]!);
      this.writeTimeOfDay(out);
      out.frag(p.trails[1]!);
    } else this.write(out, p);
  }

  /** Writes the SDK's fields after tp_index's value, for the row of the last head(). */
  afterIndex(out: ByteBatch): void {
    const p = this.after;
    if (p.values.length === 0) out.frag(p.lead);
    else this.write(out, p);
  }

  /** Writes the pieces in any order TP_FIELDS gives them. */
  private write(out: ByteBatch, p: Pieces): void {
    out.frag(p.lead);
    const values = p.values;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === ID) this.writeId(out);
      else this.writeTimeOfDay(out);
      out.frag(p.trails[i]!);
    }
  }

  /** position.toString(36), written without making the string. */
  private writeId(out: ByteBatch): void {
    const d = this.digits;
    let n = this.position;
    let k = d.length;
    do {
      const r = n % 36;
      d[--k] = r < 10 ? 0x30 + r : 0x57 + r;
      n = Math.floor(n / 36);
    } while (n > 0);
    out.copy(d, k, d.length);
  }

  /** "hh:mm:ss.sssZ" of the last time, a word at a time. */
  private writeTimeOfDay(out: ByteBatch): void {
    const view = out.view;
    const at = out.pos;
    const w = this.timeWords;
    view.setInt32(at, w[0]!, true);
    view.setInt32(at + 4, w[1]!, true);
    view.setInt32(at + 8, w[2]!, true);
    view.setInt32(at + 12, w[3]!, true);
    out.pos = at + 13;
  }

  /** Makes the ISO text of ms (as toISOString writes it): the day's pieces, once a day, and the time of day's digits. */
  private setTime(ms: number): void {
    this.lastMs = ms;
    if (!(ms >= this.dayStart && ms < this.dayStart + DAY_MS)) {
      const iso = new Date(ms).toISOString();
      this.dayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
      // tp_date is the first ten characters of tp_timestamp, as the enricher cuts it.
      const day = fill(this.batch, { [Slot.Day]: iso.slice(0, iso.indexOf("T")), [Slot.Date]: iso.slice(0, 10) });
      const [before, after] = splitAt(day, Slot.Index);
      this.before = new Pieces(before);
      this.after = new Pieces(after);
    }
    const t = ms - this.dayStart;
    const h = Math.floor(t / 3_600_000);
    const m = Math.floor(t / 60_000) % 60;
    const sec = Math.floor(t / 1000) % 60;
    const milli = t % 1000;
    // "hh:mm:ss.sssZ": the colons, dot and Z stay where the constructor put them.
    const b = this.timeOfDay;
    b[0] = 0x30 + Math.floor(h / 10);
    b[1] = 0x30 + (h % 10);
    b[3] = 0x30 + Math.floor(m / 10);
    b[4] = 0x30 + (m % 10);
    b[6] = 0x30 + Math.floor(sec / 10);
    b[7] = 0x30 + (sec % 10);
    b[9] = 0x30 + Math.floor(milli / 100);
    b[10] = 0x30 + (Math.floor(milli / 10) % 10);
    b[11] = 0x30 + (milli % 10);
  }
}

const DAY_MS = 86_400_000;
