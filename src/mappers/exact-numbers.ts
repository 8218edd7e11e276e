import { randomBytes } from "node:crypto";

// A number a double cannot hold (an integer beyond 2^53: a flow log's byte count, an id) travels in a row as a bigint
// and is written with its digits. Node 20 has no JSON.rawJSON, so JSON.stringify cannot write a bigint as a number:
// such a row is stringified with each bigint as a marked string, and the marks are then taken off. Rows without a
// bigint (nearly all) cost one JSON.stringify, as before: the marked way is taken only when that throws.

/** Unique to this process, so that no text a log holds can pass for a mark. */
const MARK = `\uE000tailkit-integer-${randomBytes(8).toString("hex")}:`;
/** A marked bigint as JSON.stringify writes it (the mark needs no escape: no quote, backslash or control character). */
const MARKED = new RegExp(`"${MARK}(-?\\d+)"`, "g");

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * The value of a number column's text: `n` (Number(text), which the caller has made and checked) unless the text is an
 * integer that n does not hold exactly (beyond 2^53), which becomes a bigint of the text's value.
 */
export function exactNumber(text: string, n: number): number | bigint {
  // The common case is one comparison: numbers that fit stay numbers.
  if ((n <= MAX_SAFE && n >= -MAX_SAFE) || Number.isNaN(n)) return n;
  return bigIntOf(text) ?? n;
}

/**
 * The value of an integer column's text (optional sign, decimal digits): a number when it fits in a double exactly, a
 * bigint when it does not; undefined when the text is not an integer.
 */
export function exactInteger(text: string): number | bigint | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_SAFE && n >= -MAX_SAFE ? n : BigInt(text);
}

const INTEGER = /^[+-]?\d+$/;

/** BigInt(text) for an integer literal (decimal, or 0x/0o/0b as Number reads them), else undefined (a fraction, "1e20", "Infinity"). */
function bigIntOf(text: string): bigint | undefined {
  try {
    return BigInt(text);
  } catch {
    return undefined;
  }
}

/**
 * JSON.stringify(value), with every bigint written as a JSON integer of its digits (JSON allows integers of any
 * length) instead of throwing.
 */
export function rowJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    // "Do not know how to serialize a BigInt"; anything else (a cycle) throws again below, as it did.
    if (!(err instanceof TypeError)) throw err;
    const json = JSON.stringify(value, markBigInt) as string | undefined;
    return json?.replace(MARKED, "$1");
  }
}

function markBigInt(_key: string, v: unknown): unknown {
  return typeof v === "bigint" ? MARK + v.toString() : v;
}

/** Integers of 16 digits or more: the only ones a double may not hold. */
const LONG_DIGITS = /\d{16}/;
const JSON_INTEGER = /^-?[1-9]\d*$/;

/**
 * JSON.parse(text), keeping each integer literal a double cannot hold as a bigint, so that rowJson writes it back with
 * its digits. Text without a run of 16 digits is parsed as is.
 */
export function parseRowJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  let marked = "";
  let from = 0;
  let found = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Over the string, escapes included: digits inside it are text.
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      while (j < n && isNumberChar(text.charCodeAt(j))) j++;
      const literal = text.slice(i, j);
      // Only what JSON.parse reads as an integer (no "+", no leading zero): anything else is its error to report.
      if (JSON_INTEGER.test(literal) && typeof exactInteger(literal) === "bigint") {
        marked += `${text.slice(from, i)}"${MARK}${literal}"`;
        from = j;
        found = true;
      }
      i = j - 1;
    }
  }
  if (!found) return JSON.parse(text);
  return JSON.parse(marked + text.slice(from), unmarkBigInt);
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;
}

function unmarkBigInt(_key: string, v: unknown): unknown {
  return typeof v === "string" && v.startsWith(MARK) ? BigInt(v.slice(MARK.length)) : v;
}
