/**
 * Finds the elements of one array in a JSON text without parsing it, so that a mapper can reuse each element's text
 * (as a rawRow) instead of serializing the parsed element again. The scanner tracks only string, escape and bracket
 * state, so what it finds is right for valid JSON: the caller parses the text, or the elements, as well.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Index just past the string that opens at i (text[i] is a quote). */
function skipString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q === -1) return text.length;
    // The quote is escaped when an odd number of backslashes precede it.
    let b = q - 1;
    while (b > i && text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

function skipWs(text: string, i: number): number {
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** Set by skipValue: whether the value it skipped has a line break between its tokens (it could not be a JSON line). */
let sawWhitespace = false;

/** Index just past the value that starts at i (no leading whitespace); sets sawWhitespace. */
function skipValue(text: string, i: number): number {
  sawWhitespace = false;
  const c0 = text.charCodeAt(i);
  if (c0 === QUOTE) return skipString(text, i);
  if (c0 !== OPEN_BRACE && c0 !== OPEN_BRACKET) {
    // A number, true, false or null: runs to the next delimiter.
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWs(c)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  let ws = false;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) {
        sawWhitespace = ws;
        return i + 1;
      }
    } else if (c === 0x0a || c === 0x0d) ws = true;
    i++;
  }
  sawWhitespace = ws;
  return i;
}

/**
 * The spans of the elements of the array that is the value of `key` in the top-level object of `text`, as
 * [start0, end0, start1, end1, ...] with ends exclusive. An element with a line break between its tokens (a pretty-printed
 * record, whose text would break a JSON line) gets -(start + 1) instead of start; spaces and tabs are kept. Undefined when the top level is not an object, has no
 * such member, the member is not an array, or a top-level key is written with escapes (JSON.parse's last-wins rule could
 * then pick a member the scanner did not match). The last member of that name wins, as in JSON.parse.
 */
export function topLevelArraySpans(text: string, key: string): number[] | undefined {
  return findTopLevelArray(text, key)?.spans;
}

/** Where topLevelArraySpans found the array: its text is [start, end), its elements' spans as there. */
export interface TopLevelArray {
  start: number;
  end: number;
  spans: number[];
}

/** topLevelArraySpans, with the bounds of the array itself. */
export function findTopLevelArray(text: string, key: string): TopLevelArray | undefined {
  let found: TopLevelArray | undefined;
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== OPEN_BRACE) return undefined;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_BRACE) return undefined;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = skipString(text, i);
    const keyStart = i + 1;
    const bs = text.indexOf("\\", keyStart);
    if (bs !== -1 && bs < keyEnd - 1) return undefined;
    const matches = keyEnd - 1 - keyStart === key.length && text.startsWith(key, keyStart);
    i = skipWs(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) return undefined;
    i = skipWs(text, i + 1);
    if (matches) {
      if (text.charCodeAt(i) !== OPEN_BRACKET) {
        found = undefined;
        i = skipValue(text, i);
      } else {
        const arrayStart = i;
        const spans: number[] = [];
        i = skipWs(text, i + 1);
        if (text.charCodeAt(i) === CLOSE_BRACKET) i++;
        else {
          for (;;) {
            const start = i;
            i = skipValue(text, i);
            spans.push(sawWhitespace ? -1 - start : start, i);
            i = skipWs(text, i);
            const c = text.charCodeAt(i++);
            if (c === CLOSE_BRACKET) break;
            if (c !== COMMA) return undefined;
            i = skipWs(text, i);
          }
        }
        found = { start: arrayStart, end: i, spans };
      }
    } else {
      i = skipValue(text, i);
    }
    i = skipWs(text, i);
    const c = text.charCodeAt(i++);
    if (c === CLOSE_BRACE) return found;
    if (c !== COMMA) return undefined;
    i = skipWs(text, i);
  }
}

/** The bytes findTopLevelArrayBytes scans, as a DataView: strings are searched for their quote a word at a time. */
let view: DataView = new DataView(new ArrayBuffer(0));

/** Index just past the string that opens at i (b[i] is a quote). */
function skipStringBytes(b: Uint8Array, i: number): number {
  let j = i + 1;
  const n = b.length;
  for (;;) {
    let q = j;
    // Four bytes at a time: the lowest byte flagged as equal to '"' is the first one.
    while (q + 4 <= n) {
      const x = view.getInt32(q, true) ^ 0x22222222;
      const z = (x - 0x01010101) & ~x & 0x80808080;
      if (z !== 0) {
        q += (31 - Math.clz32(z & (-z | 0))) >> 3;
        break;
      }
      q += 4;
    }
    while (q < n && b[q] !== QUOTE) q++;
    if (q === n) return q;
    // The quote is escaped when an odd number of backslashes precede it.
    let p = q - 1;
    while (p > i && b[p] === BACKSLASH) p--;
    if ((q - 1 - p) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

function skipWsBytes(b: Uint8Array, i: number): number {
  while (i < b.length && isWs(b[i]!)) i++;
  return i;
}

/** Index just past the value that starts at i (no leading whitespace); sets sawWhitespace. */
function skipValueBytes(b: Uint8Array, i: number): number {
  sawWhitespace = false;
  const c0 = b[i]!;
  if (c0 === QUOTE) return skipStringBytes(b, i);
  if (c0 !== OPEN_BRACE && c0 !== OPEN_BRACKET) {
    // A number, true, false or null: runs to the next delimiter.
    while (i < b.length) {
      const c = b[i]!;
      if (c === COMMA || c === CLOSE_BRACE || c === CLOSE_BRACKET || isWs(c)) break;
      i++;
    }
    return i;
  }
  let depth = 0;
  let ws = false;
  const n = b.length;
  while (i < n) {
    const c = b[i]!;
    if (c === QUOTE) {
      i = skipStringBytes(b, i);
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) {
        sawWhitespace = ws;
        return i + 1;
      }
    } else if (c === 0x0a || c === 0x0d) ws = true;
    i++;
  }
  sawWhitespace = ws;
  return i;
}

/** Options of findTopLevelArrayBytes. */
export interface ArrayScanOptions {
  /**
   * Find the elements after the first by searching for the text that separates the first two (such as `},{"eventVersion":`
   * in a compact file whose elements all start with the same key) instead of reading every byte, and stop at the end
   * of the array: the members after it are not read, and the first member named `key` is taken. The spans from
   * `guessedFrom` on are right only where each one parses on its own as JSON: the caller must parse each (json-document
   * does) and, from the first that does not parse, take the spans arraySpansFrom gives. Default false.
   */
  guess?: boolean;
}

/** Where findTopLevelArrayBytes found the array. */
export interface TopLevelArrayBytes extends TopLevelArray {
  /** With `guess`: the index of the first element whose span is a guess; absent when none is. */
  guessedFrom?: number;
}

/** findTopLevelArray over UTF-8 (or ASCII) bytes: spans are byte offsets. */
export function findTopLevelArrayBytes(b: Uint8Array, key: string, opts: ArrayScanOptions = {}): TopLevelArrayBytes | undefined {
  view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    return scanTopLevelArrayBytes(b, key, opts.guess === true);
  } finally {
    view = new DataView(new ArrayBuffer(0));
  }
}

/**
 * The spans of the elements of an array from the element that starts at `start` (an element's first byte) to the
 * array's end, read byte by byte, and the index just past the array's closing bracket; undefined when the bytes there
 * are not such elements. How a caller goes on when a guessed span (findTopLevelArrayBytes with `guess`) did not parse.
 */
export function arraySpansFrom(b: Uint8Array, start: number): { spans: number[]; end: number } | undefined {
  view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    const spans: number[] = [];
    const end = scanElements(b, start, spans, false);
    return end < 0 ? undefined : { spans, end };
  } finally {
    view = new DataView(new ArrayBuffer(0));
  }
}

function scanTopLevelArrayBytes(b: Uint8Array, key: string, guess: boolean): TopLevelArrayBytes | undefined {
  let found: TopLevelArrayBytes | undefined;
  let i = skipWsBytes(b, 0);
  if (b[i]! !== OPEN_BRACE) return undefined;
  i = skipWsBytes(b, i + 1);
  if (b[i]! === CLOSE_BRACE) return undefined;
  for (;;) {
    if (b[i]! !== QUOTE) return undefined;
    const keyEnd = skipStringBytes(b, i);
    const keyStart = i + 1;
    for (let k = keyStart; k < keyEnd - 1; k++) if (b[k] === BACKSLASH) return undefined;
    let matches = keyEnd - 1 - keyStart === key.length;
    for (let k = 0; matches && k < key.length; k++) matches = b[keyStart + k] === key.charCodeAt(k);
    i = skipWsBytes(b, keyEnd);
    if (b[i]! !== COLON) return undefined;
    i = skipWsBytes(b, i + 1);
    if (matches) {
      if (b[i]! !== OPEN_BRACKET) {
        found = undefined;
        i = skipValueBytes(b, i);
      } else {
        const arrayStart = i;
        const spans: number[] = [];
        i = skipWsBytes(b, i + 1);
        if (b[i]! === CLOSE_BRACKET) i++;
        else {
          i = scanElements(b, i, spans, guess);
          if (i < 0) return undefined;
        }
        found = { start: arrayStart, end: i, spans };
        if (guessedFrom >= 0) found.guessedFrom = guessedFrom;
        // A guess may have run past the array: what follows is for the caller to check.
        if (guess) return found;
      }
    } else {
      i = skipValueBytes(b, i);
    }
    i = skipWsBytes(b, i);
    const c = b[i++]!;
    if (c === CLOSE_BRACE) return found;
    if (c !== COMMA) return undefined;
    i = skipWsBytes(b, i);
  }
}

/** Set by scanElements: the index of the first element it guessed, or -1. */
let guessedFrom = -1;

/**
 * Appends the spans of the array elements from the one at i, and returns the index just past the closing bracket,
 * or -1 when the bytes are not elements of an array. With `guess`, guesses once, after the first element.
 */
function scanElements(b: Uint8Array, i: number, spans: number[], guess: boolean): number {
  guessedFrom = -1;
  for (;;) {
    const start = i;
    i = skipValueBytes(b, i);
    spans.push(sawWhitespace ? -1 - start : start, i);
    i = skipWsBytes(b, i);
    const c = b[i++]!;
    if (c === CLOSE_BRACKET) return i;
    if (c !== COMMA) return -1;
    i = skipWsBytes(b, i);
    // Right after the first element: the second one is the first that may be guessed.
    if (guess && spans.length === 2) {
      i = guessElements(b, i, spans);
      if (spans.length > 2) guessedFrom = 1;
    }
  }
}

/**
 * After the first element, which ended at `next - 1` or before, and the second, which starts at `next`: pushes the
 * spans that searching for the separator of the two finds, and returns where the element after them starts (the
 * last one, which the caller reads byte by byte). Guesses nothing when the separator is not `},{"key":` or an element
 * would have a line break.
 */
function guessElements(b: Uint8Array, next: number, spans: number[]): number {
  if (b[next - 1] !== COMMA || b[next - 2] !== CLOSE_BRACE || b[next] !== OPEN_BRACE || b[next + 1] !== QUOTE) return next;
  const keyEnd = skipStringBytes(b, next + 1);
  if (b[keyEnd] !== COLON) return next;
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const separator = buf.subarray(next - 2, keyEnd + 1);
  let s = next;
  const from = spans.length;
  for (;;) {
    const at = buf.indexOf(separator, s);
    if (at < 0) break;
    spans.push(s, at + 1);
    s = at + 2;
  }
  // A line break outside strings is whitespace between tokens, which elements here must not have.
  const lf = buf.indexOf(0x0a, next);
  const cr = buf.indexOf(0x0d, next);
  if ((lf >= 0 && lf < s) || (cr >= 0 && cr < s)) {
    spans.length = from;
    return next;
  }
  return s;
}
