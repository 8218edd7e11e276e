/**
 * Finds the elements of one array in a JSON text without parsing it, so that a mapper can reuse each element's text
 * (as a rawRow) instead of serializing the parsed element again. The text must be valid JSON (it was parsed already);
 * the scanner tracks only string, escape and bracket state.
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

/** Set by skipValue: whether the value it skipped has whitespace between its tokens. */
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
    } else if (!ws && isWs(c)) ws = true;
    i++;
  }
  sawWhitespace = ws;
  return i;
}

/**
 * The spans of the elements of the array that is the value of `key` in the top-level object of `text`, as
 * [start0, end0, start1, end1, ...] with ends exclusive. An element with whitespace between its tokens (a pretty-printed
 * record, whose text would break a JSON line) gets -(start + 1) instead of start. Undefined when the top level is not an object, has no
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
    } else if (!ws && isWs(c)) ws = true;
    i++;
  }
  sawWhitespace = ws;
  return i;
}

/** findTopLevelArray over UTF-8 (or ASCII) bytes: spans are byte offsets. */
export function findTopLevelArrayBytes(b: Uint8Array, key: string): TopLevelArray | undefined {
  view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  try {
    return scanTopLevelArrayBytes(b, key);
  } finally {
    view = new DataView(new ArrayBuffer(0));
  }
}

function scanTopLevelArrayBytes(b: Uint8Array, key: string): TopLevelArray | undefined {
  let found: TopLevelArray | undefined;
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
          for (;;) {
            const start = i;
            i = skipValueBytes(b, i);
            spans.push(sawWhitespace ? -1 - start : start, i);
            i = skipWsBytes(b, i);
            const c = b[i++]!;
            if (c === CLOSE_BRACKET) break;
            if (c !== COMMA) return undefined;
            i = skipWsBytes(b, i);
          }
        }
        found = { start: arrayStart, end: i, spans };
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
