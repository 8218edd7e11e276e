import type { Row } from "../contract/row.js";

/** Marks a RawRow across copies of the SDK (a plugin may bundle its own). */
const RAW_ROW = Symbol.for("tailkit.rawRow");

/**
 * A row a mapper has already serialized: its JSON text (one object, no line breaks) and the few fields that the
 * table's `enrich` reads. The enricher appends the tp_* fields to `json` instead of serializing a row object, and
 * passes `fields` to `enrich`. The text must be exactly what the row should be written as: the SDK does not parse or
 * check it on the fast path (a row whose text already holds `"tp_` is parsed and enriched the plain way).
 */
export class RawRow {
  constructor(
    /** The row as a JSON object text, without a trailing newline. */
    readonly json: string,
    /** What `TableDefinition.enrich` receives for this row. */
    readonly fields: Row,
    /**
     * Optional: bytes[start, end) are json's exact UTF-8, e.g. the record in the file it came from. Extraction then
     * copies them and appends the tp_* fields as bytes instead of encoding json again.
     */
    readonly bytes?: Uint8Array,
    readonly start = 0,
    readonly end = 0,
    /**
     * Optional: true when the producer knows that no top-level key of json starts with `tp_` (it parsed json and looked:
     * hasTpKey), so that the enricher need not search the text for one.
     */
    readonly noTpKeys = false,
  ) {}

  /** The brand isRawRow checks; on the prototype, so it costs a row nothing. */
  get [RAW_ROW](): true {
    return true;
  }
}

/**
 * Makes a pre-serialized row: `json` is the row's JSON object text, `fields` what the table's enrich needs of it. A
 * mapper that also has json's exact UTF-8 bytes passes them to the RawRow constructor.
 */
export function rawRow(json: string, fields: Row): RawRow {
  return new RawRow(json, fields);
}

/** Whether an object (a parsed row) has an own key that starts with `tp_`, which the SDK's fields would collide with. */
export function hasTpKey(row: object): boolean {
  for (const key in row) {
    if (key.charCodeAt(0) === 0x74 && key.startsWith("tp_") && Object.hasOwn(row, key)) return true;
  }
  return false;
}

/** True when a mapped value is a RawRow. */
export function isRawRow(value: unknown): value is RawRow {
  return typeof value === "object" && value !== null && (value as { [RAW_ROW]?: unknown })[RAW_ROW] === true;
}
