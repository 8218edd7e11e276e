import { TP_FIELDS, type TpField, type TpSource } from "../plugin/tp-fields.js";
import { artifactIdPrefix } from "./artifact-id.js";
import { Fragment } from "./byte-batch.js";
import type { ArtifactEnrichContext } from "./types.js";

// Every writer of rows builds the tp_* fields from TP_FIELDS through this module: the enricher's text and byte paths,
// RowTail, the delimited line format and the reference path (setTpFields). What each writer keeps for itself is only
// how often it remakes a piece (per artifact, batch, day or row), never which fields there are or their order.

/** The tp_* fields the SDK sets on every row, in TP_FIELDS order. */
export const SDK_TP_FIELDS: readonly TpField[] = TP_FIELDS.filter((f) => f.always);

/** Names of the fields in SDK_TP_FIELDS. */
export const SDK_TP_NAMES: ReadonlySet<string> = new Set(SDK_TP_FIELDS.map((f) => f.name));

/** An optional tp_* field, one a table's enrich gives (TableEnrichment), with its key made once. */
export interface EnrichSlot {
  readonly name: string;
  /** `,"name":` as text. */
  readonly key: string;
  /** `,"name":` as bytes. */
  readonly keyBytes: Fragment;
  /** Its value is a list of strings (tp_ips), else a string or null (tp_source_ip). */
  readonly list: boolean;
}

/** The optional tp_* fields, in TP_FIELDS order; every writer puts them after the SDK's fields. */
export const ENRICH_SLOTS: readonly EnrichSlot[] = TP_FIELDS.filter((f) => !f.always).map((f) => {
  const key = `,${JSON.stringify(f.name)}:`;
  return { name: f.name, key, keyBytes: new Fragment(Buffer.from(key, "utf8")), list: f.source === "enrich_list" };
});

/**
 * A value of the SDK's fields that the template of an artifact leaves open: those that change per batch (Ingest), per
 * day (Day, Date) or per row. In the text form a row's time is one slot (Time), in the bytes form its day and its
 * time of day (RowTail writes the time of day from its digits).
 */
export const Slot = { Id: 0, Time: 1, Day: 2, TimeOfDay: 3, Ingest: 4, Index: 5, Date: 6 } as const;
export type Slot = (typeof Slot)[keyof typeof Slot];

/** Text of the SDK's fields with some values left open as slots; no two texts are adjacent. */
export type Template = readonly (string | Slot)[];

checkLayout(TP_FIELDS);

/**
 * The SDK's fields of an artifact's rows in TP_FIELDS order, each `,"key":value`: keys and the artifact's values as
 * text, the rest as slots. A slot's value is inserted as it is given: JSON (Index), or text inside quotes the
 * template has (Id: the digits after the artifact's prefix; Time, Day, TimeOfDay, Ingest, Date: ISO text).
 */
export function sdkFieldsTemplate(ctx: ArtifactEnrichContext, form: "text" | "bytes"): Template {
  const out: (string | Slot)[] = [];
  for (const f of SDK_TP_FIELDS) {
    const key = `,${JSON.stringify(f.name)}:`;
    switch (f.source) {
      case "id":
        out.push(`${key}"${ctx.idSeed ?? artifactIdPrefix(ctx.sourceType, ctx.sourceName, ctx.artifact.name)}`, Slot.Id, '"');
        break;
      case "timestamp":
        out.push(`${key}"`, ...(form === "text" ? [Slot.Time] : [Slot.Day, "T", Slot.TimeOfDay]), '"');
        break;
      case "ingest":
        out.push(`${key}"`, Slot.Ingest, '"');
        break;
      case "date":
        out.push(`${key}"`, Slot.Date, '"');
        break;
      case "index":
        out.push(key, Slot.Index);
        break;
      default:
        out.push(key + JSON.stringify(sdkValue(f.source, ctx)));
    }
  }
  return merged(out);
}

/** The template with these slots filled: values by slot number. */
export function fill(t: Template, values: { readonly [slot: number]: string }): Template {
  return merged(t.map((p) => (typeof p === "number" && values[p] !== undefined ? values[p] : p)));
}

/** What comes before and after the one slot left open in t; throws when another is. */
export function around(t: Template, slot: Slot): [string, string] {
  const at = t.indexOf(slot);
  const open = t.filter((p) => typeof p === "number");
  if (at < 0 || open.length !== 1) throw new Error(`tp_* template: expected only slot ${slot} open, found ${JSON.stringify(open)}`);
  return [at > 0 ? (t[at - 1] as string) : "", at < t.length - 1 ? (t[at + 1] as string) : ""];
}

/** The parts of t before and after a slot (which stays open in neither). */
export function splitAt(t: Template, slot: Slot): [Template, Template] {
  const at = t.indexOf(slot);
  return [t.slice(0, at), t.slice(at + 1)];
}

/** The longest text a slot's value can have, in bytes; the value of Index is the caller's. */
export const SLOT_MAX_BYTES: Readonly<Record<Slot, number>> = {
  // position.toString(36) of any safe integer is 11 digits; RowTail's digit buffer holds 16.
  [Slot.Id]: 16,
  // toISOString of the extreme years: "+275760-09-13T00:00:00.000Z".
  [Slot.Time]: 27,
  [Slot.Day]: 13,
  [Slot.TimeOfDay]: 13,
  [Slot.Ingest]: 27,
  [Slot.Index]: 0,
  [Slot.Date]: 10,
};

/** The values of a row's SDK fields that the reference path sets, besides the artifact's. */
export interface RowTpValues {
  id: string;
  /** ISO-8601 text; tp_date is its first ten characters. */
  timestamp: string;
  ingest: string;
  index: string;
}

/**
 * Sets every tp_* field on the row in TP_FIELDS order, the enrich fields that `extra` gives (undefined: not given):
 * the reference every other writer must equal. A key the row already has keeps its place and is overwritten.
 */
export function setTpFields(row: Record<string, unknown>, values: RowTpValues, ctx: ArtifactEnrichContext, extra: Readonly<Record<string, unknown>>): void {
  for (const f of TP_FIELDS) {
    const v = f.always ? sdkValue(f.source, ctx, values) : extra[f.name];
    if (v !== undefined) row[f.name] = v;
  }
}

/** The value of one of the SDK's fields: the artifact's, or the row's from `values` (which the template leaves open). */
function sdkValue(source: TpSource, ctx: ArtifactEnrichContext, values?: RowTpValues): string {
  switch (source) {
    case "table":
      return ctx.table.name;
    case "partition":
      return ctx.partition;
    case "source_type":
      return ctx.sourceType;
    case "source_name":
      return ctx.sourceName;
    case "source_location":
      return ctx.artifact.location;
  }
  if (values === undefined) throw new Error(`tp_* field source ${source} is not one of an artifact`);
  switch (source) {
    case "date":
      return values.timestamp.slice(0, 10);
    case "id":
    case "timestamp":
    case "ingest":
    case "index":
      return values[source];
    default:
      throw new Error(`tp_* field source ${source} is not one of the SDK's`);
  }
}

/** Joins adjacent texts and drops empty ones. */
function merged(parts: readonly (string | Slot)[]): Template {
  const out: (string | Slot)[] = [];
  for (const p of parts) {
    if (p === "") continue;
    if (typeof p === "string" && typeof out[out.length - 1] === "string") out[out.length - 1] += p;
    else out.push(p);
  }
  return out;
}

/**
 * What the writers rely on of TP_FIELDS, checked when the SDK loads so that a wrong edit fails every test at once:
 * unique tp_ names, `always` exactly for the SDK's sources, each SDK source once, and the enrich fields last (the fast
 * paths append them after the SDK's, which they write from a template).
 */
function checkLayout(fields: readonly TpField[]): void {
  const seen = new Set<string>();
  let enrichSeen = false;
  for (const f of fields) {
    const enrich = f.source === "enrich" || f.source === "enrich_list";
    const problem = !f.name.startsWith("tp_")
      ? "does not start with tp_"
      : seen.has(f.name) || (!enrich && seen.has(f.source))
        ? "repeats a name or an SDK source"
        : f.always === enrich
          ? "has always set wrong for its source"
          : !enrich && enrichSeen
            ? "is an SDK field after an enrich field"
            : undefined;
    if (problem !== undefined) throw new Error(`TP_FIELDS: ${f.name} ${problem}`);
    seen.add(f.name);
    if (!enrich) seen.add(f.source);
    enrichSeen ||= enrich;
  }
  for (const s of ["id", "timestamp", "ingest", "index", "date"]) if (!seen.has(s)) throw new Error(`TP_FIELDS: no field has source ${s}`);
}
