import { isCovered, type CoveredWindow } from "../state/coverage.js";
import { artifactIdPrefix } from "./artifact-id.js";
import { Fragment, type ByteBatch } from "./byte-batch.js";
import type { ArtifactEnrichContext } from "./types.js";

/** Largest time a Date holds, in ms either side of the epoch; beyond it toISOString throws and the enricher says NaN. */
export const MAX_TIME_MS = 8.64e15;

const encoder = new TextEncoder();
const frag = (s: string): Fragment => new Fragment(encoder.encode(s));

/**
 * The common tp_* fields of a row built as bytes: the same text, in the same order, as the enricher appends to a row's
 * JSON (createEnricher), so that a line format's rows and the reference path's rows are byte for byte alike.
 *
 * A row is written as `{fields…` + head() + the tp_index value + afterIndex() + the table's optional fields + `}\n`.
 * The constant parts are made once per artifact, batch or day as fragments; the time of day is written from its
 * digits, which costs far less than a Date, a string and an encode per row.
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

  private readonly idPrefix: Fragment;
  private readonly tableJson: string;
  private readonly sourceJson: string;
  /** After the time: its closing quote, the batch's ingest time, ... `"tp_index":`. */
  private afterTime: Fragment = frag("");
  /** The day of the last time, as ms since the epoch of its midnight. */
  private dayStart = Number.NaN;
  /** `","tp_timestamp":"YYYY-MM-DDT` of that day. */
  private timeKey: Fragment = frag("");
  /** `,"tp_date":"YYYY-MM-DD"` and the source fields, for that day. */
  private dateFragment: Fragment = frag("");
  private lastMs = Number.NaN;
  /** "hh:mm:ss.sssZ" of the last time, 13 bytes, and as 4 words (the last padded). */
  private readonly timeOfDay = new Uint8Array(16);
  private readonly timeWords = new Int32Array(this.timeOfDay.buffer);
  private readonly digits = new Uint8Array(16);

  constructor(ctx: ArtifactEnrichContext, indexFallback: string) {
    this.fromMs = ctx.from?.getTime() ?? -Infinity;
    this.toMs = ctx.to?.getTime() ?? Infinity;
    this.exclude = ctx.exclude !== undefined && ctx.exclude.length > 0 ? ctx.exclude : undefined;
    this.idPrefix = frag(`,"tp_id":"${ctx.idSeed ?? artifactIdPrefix(ctx.sourceType, ctx.sourceName, ctx.artifact.name)}`);
    this.tableJson = `,"tp_table":${JSON.stringify(ctx.table.name)},"tp_partition":${JSON.stringify(ctx.partition)}`;
    this.sourceJson =
      `,"tp_source_type":${JSON.stringify(ctx.sourceType)},"tp_source_name":${JSON.stringify(ctx.sourceName)}` +
      `,"tp_source_location":${JSON.stringify(ctx.artifact.location)}`;
    this.indexFallback = frag(JSON.stringify(indexFallback));
    this.room = this.idPrefix.length + 16 + 3 * (this.tableJson.length + this.sourceJson.length) + 160;
    this.timeOfDay.set(encoder.encode("00:00:00.000Z"));
  }

  /** Starts a batch: its rows share one tp_ingest_timestamp. */
  startBatch(ingest: string): void {
    this.afterTime = frag(`","tp_ingest_timestamp":"${ingest}"${this.tableJson},"tp_index":`);
  }

  /** True when the row at this position with this time is to be written: inside [from, to), and not written before. */
  inRange(ms: number, position: number): boolean {
    return ms >= this.fromMs && ms < this.toMs && (this.exclude === undefined || !isCovered(this.exclude, position, ms));
  }

  /** Writes tp_id through `"tp_index":`; ms must be a valid time (|ms| ≤ MAX_TIME_MS). */
  head(out: ByteBatch, position: number, ms: number): void {
    if (ms !== this.lastMs) this.setTime(ms);
    out.frag(this.idPrefix);
    // position.toString(36), written without making the string.
    const d = this.digits;
    let n = position;
    let k = d.length;
    do {
      const r = n % 36;
      d[--k] = r < 10 ? 0x30 + r : 0x57 + r;
      n = Math.floor(n / 36);
    } while (n > 0);
    out.copy(d, k, d.length);
    out.frag(this.timeKey);
    const view = out.view;
    const p = out.pos;
    const w = this.timeWords;
    view.setInt32(p, w[0]!, true);
    view.setInt32(p + 4, w[1]!, true);
    view.setInt32(p + 8, w[2]!, true);
    view.setInt32(p + 12, w[3]!, true);
    out.pos = p + 13;
    out.frag(this.afterTime);
  }

  /** Writes tp_date through tp_source_location, for the time of the last head(). */
  afterIndex(out: ByteBatch): void {
    out.frag(this.dateFragment);
  }

  /** Makes the ISO text of ms (as toISOString writes it): the day's fragments, once a day, and the time of day's digits. */
  private setTime(ms: number): void {
    this.lastMs = ms;
    if (!(ms >= this.dayStart && ms < this.dayStart + DAY_MS)) {
      const iso = new Date(ms).toISOString();
      this.dayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
      this.timeKey = frag(`","tp_timestamp":"${iso.slice(0, iso.indexOf("T") + 1)}`);
      // tp_date is the first ten characters of tp_timestamp, as the enricher cuts it.
      this.dateFragment = frag(`,"tp_date":"${iso.slice(0, 10)}"${this.sourceJson}`);
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

