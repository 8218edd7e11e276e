import type { JSONSchema } from "../schema/index.js";
import { ENRICH_SLOTS, SDK_TP_NAMES } from "./tp-layout.js";

/** The fields a table's rows must have, from its row schema's `required`, by where a writer looks for them. */
export interface RequiredFields {
  /** The table's own fields: looked for in the mapped row (a RawRow's fields). */
  readonly columns: readonly string[];
  /** Optional tp_* fields (tp_source_ip, ...): looked for in what the table's enrich gave. */
  readonly enriched: readonly string[];
}

const NONE: RequiredFields = Object.freeze({ columns: Object.freeze([]), enriched: Object.freeze([]) });
const ENRICH_NAMES = new Set(ENRICH_SLOTS.map((s) => s.name));
/** By row schema: tables are made once and their schema with them, so each is read once, not once per artifact. */
const compiled = new WeakMap<JSONSchema, RequiredFields>();

/**
 * The required fields of a row schema that a row can lack: all but the tp_* fields the SDK sets on every row. A
 * field is missing when the row has no value for it or null, as the conversion to tables reads it (a required column
 * is NOT NULL there).
 */
export function requiredFields(rowSchema: JSONSchema): RequiredFields {
  let r = compiled.get(rowSchema);
  if (r === undefined) {
    const names = rowSchema["required"];
    const list = Array.isArray(names) ? [...new Set(names.filter((n): n is string => typeof n === "string" && !SDK_TP_NAMES.has(n)))] : [];
    r =
      list.length === 0
        ? NONE
        : Object.freeze({ columns: Object.freeze(list.filter((n) => !ENRICH_NAMES.has(n))), enriched: Object.freeze(list.filter((n) => ENRICH_NAMES.has(n))) });
    compiled.set(rowSchema, r);
  }
  return r;
}

/** The names the row has no value (or null) for, in their order; undefined when it has them all. */
export function missingFields(row: Readonly<Record<string, unknown>>, names: readonly string[]): string[] | undefined {
  // The first names are read at a site each: a table's rows ask each site for one name, which V8's inline caches
  // serve far faster than one site asked for several (measured: the check as one loop cost a CloudTrail row ~200 ns).
  const n = names.length;
  if ((n > 0 && isAbsent(row[names[0]!])) || (n > 1 && isAbsent(row[names[1]!])) || (n > 2 && isAbsent(row[names[2]!])) || n > 3) {
    let absent: string[] | undefined;
    for (let i = 0; i < n; i++) if (isAbsent(row[names[i]!])) (absent ??= []).push(names[i]!);
    return absent;
  }
  return undefined;
}

function isAbsent(v: unknown): boolean {
  return v === undefined || v === null;
}

/**
 * A "validate" row error's message for these missing fields: each named, with how many rows of the artifact have
 * lacked it so far (`counts`, in the same order), since the status counts row errors by operation only.
 */
export function missingMessage(names: readonly string[], counts: readonly number[]): string {
  const each = names.map((n, i) => `${JSON.stringify(n)} (${counts[i]} ${counts[i] === 1 ? "row" : "rows"} of this artifact so far)`);
  return `missing required field${names.length > 1 ? "s" : ""} ${each.join(", ")}`;
}
