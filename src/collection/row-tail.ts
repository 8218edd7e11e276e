import { artifactIdPrefix, type ArtifactEnrichContext } from "./enrich.js";
import type { ByteBatch } from "./byte-batch.js";

/** Largest time a Date holds, in ms either side of the epoch; beyond it toISOString throws and the enricher says NaN. */
export const MAX_TIME_MS = 8.64e15;

const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);

/**
 * The common tp_* fields of a row built as bytes: the same text, in the same order, as the enricher appends to a row's
 * JSON (createEnricher), so that a line format's rows and the reference path's rows are byte for byte alike.
 *
 * A row is written as `{fields…` + head() + the tp_index value + afterIndex() + the table's optional fields + `}\n`.
 * The constant parts are encoded once per artifact or batch; the time is written from its day's prefix and the time
 * of day, which costs far less than a Date and an encode per row.
 */
export class RowTail {
  readonly fromMs: number;
  readonly toMs: number;
  /** JSON of tp_index when the row has no value for it: the artifact property or "default". */
  readonly indexFallback: Uint8Array;
  /** Bytes head() and afterIndex() may write, at most; a writer ensures this much room besides its own. */
  readonly room: number;

  private readonly idPrefix: Uint8Array;
  private readonly tableJson: string;
  private readonly sourceJson: string;
  /** After `","tp_timestamp":"` and the time: its closing quote, the batch's ingest time, ... `"tp_index":`. */
  private afterTime: Uint8Array = new Uint8Array(0);
  /** The day of the last time, as ms since the epoch of its midnight, and its "YYYY-MM-DDT". */
  private dayStart = Number.NaN;
  private dayPrefix = "";
  private dateFragment: Uint8Array = new Uint8Array(0);
  private lastMs = Number.NaN;
  private lastTime = "";
  private readonly digits = new Uint8Array(16);

  constructor(ctx: ArtifactEnrichContext, indexFallback: string) {
    this.fromMs = ctx.from?.getTime() ?? -Infinity;
    this.toMs = ctx.to?.getTime() ?? Infinity;
    this.idPrefix = utf8(`,"tp_id":"${artifactIdPrefix(ctx.sourceType, ctx.sourceName, ctx.artifact.name)}`);
    this.tableJson = `,"tp_table":${JSON.stringify(ctx.table.name)},"tp_partition":${JSON.stringify(ctx.partition)}`;
    this.sourceJson =
      `,"tp_source_type":${JSON.stringify(ctx.sourceType)},"tp_source_name":${JSON.stringify(ctx.sourceName)}` +
      `,"tp_source_location":${JSON.stringify(ctx.artifact.location)}`;
    this.indexFallback = utf8(JSON.stringify(indexFallback));
    this.room = this.idPrefix.length + 16 + 3 * (this.tableJson.length + this.sourceJson.length) + 160;
  }

  /** Starts a batch: its rows share one tp_ingest_timestamp. */
  startBatch(ingest: string): void {
    this.afterTime = utf8(`","tp_ingest_timestamp":"${ingest}"${this.tableJson},"tp_index":`);
  }

  /** True when a row of this time is to be kept: inside [from, to). */
  inRange(ms: number): boolean {
    return ms >= this.fromMs && ms < this.toMs;
  }

  /** Writes tp_id through `"tp_index":`; ms must be a valid time (|ms| ≤ MAX_TIME_MS). */
  head(out: ByteBatch, position: number, ms: number): void {
    if (ms !== this.lastMs) this.setTime(ms);
    out.bytes(this.idPrefix);
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
    out.bytes(TIMESTAMP_KEY);
    out.ascii(this.lastTime);
    out.bytes(this.afterTime);
  }

  /** Writes tp_date through tp_source_location, for the time of the last head(). */
  afterIndex(out: ByteBatch): void {
    out.bytes(this.dateFragment);
  }

  /** Makes the ISO text of ms (as toISOString writes it) from the day's prefix and the time of day. */
  private setTime(ms: number): void {
    this.lastMs = ms;
    if (!(ms >= this.dayStart && ms < this.dayStart + DAY_MS)) {
      const iso = new Date(ms).toISOString();
      this.dayStart = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
      this.dayPrefix = iso.slice(0, iso.indexOf("T") + 1);
      // tp_date is the first ten characters of tp_timestamp, as the enricher cuts it.
      this.dateFragment = utf8(`,"tp_date":"${iso.slice(0, 10)}"${this.sourceJson}`);
    }
    const t = ms - this.dayStart;
    const h = Math.floor(t / 3_600_000);
    const m = Math.floor(t / 60_000) % 60;
    const sec = Math.floor(t / 1000) % 60;
    const milli = t % 1000;
    this.lastTime = `${this.dayPrefix}${two(h)}:${two(m)}:${two(sec)}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`;
  }
}

const DAY_MS = 86_400_000;
const TIMESTAMP_KEY = utf8('","tp_timestamp":"');

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}
