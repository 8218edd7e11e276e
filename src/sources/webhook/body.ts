/** A body that is not JSON the webhook takes: the message names the line (NDJSON) or the position. */
export class MalformedBody extends Error {
  override readonly name = "MalformedBody";
}

const NDJSON_TYPES = /^application\/(x-)?(ndjson|jsonl|json-lines|jsonlines)\b|^application\/x-json-stream\b/i;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The items of a posted body: NDJSON (one value a line), a JSON array (its elements) or one JSON value (itself).
 * An NDJSON content type (application/x-ndjson, application/jsonl, ...) reads the body as lines; otherwise a body
 * that starts with "[" is an array, and any other is one value or, when it does not parse whole, NDJSON.
 * Throws MalformedBody.
 */
export function parseBody(body: Uint8Array, contentType: string | undefined): unknown[] {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new MalformedBody("body is not UTF-8 text");
  }
  const start = firstNonSpace(text);
  if (start === text.length) throw new MalformedBody("body is empty; post NDJSON, a JSON array or a JSON object");
  if (contentType !== undefined && NDJSON_TYPES.test(contentType)) return parseLines(text);
  if (text[start] === "[") {
    const value = parseWhole(text, "JSON array");
    if (!Array.isArray(value)) throw new MalformedBody("not a JSON array");
    return value;
  }
  try {
    return [JSON.parse(text)];
  } catch {
    // Several values, one a line (NDJSON), when the first line is a value of its own; else one broken value.
  }
  const firstLine = text.slice(start, (text.indexOf("\n", start) + 1 || text.length + 1) - 1);
  if (parses(firstLine)) return parseLines(text);
  return [parseWhole(text, "JSON")];
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function parseWhole(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new MalformedBody(`malformed ${what}${where(text)}: ${(err as Error).message}`);
  }
}

/** " at line L column C (position P)" of the first character JSON.parse stops at (Node 20's message may not say). */
function where(text: string): string {
  const at = jsonErrorOffset(text);
  if (at === undefined) return "";
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  const column = at - (before.lastIndexOf("\n") + 1) + 1;
  return ` at line ${line} column ${column} (position ${at})`;
}

/**
 * Where JSON text first breaks the grammar: the offset of the first character that cannot be there (text.length when
 * it ends too early). Undefined when it is valid, or too deeply nested to walk.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const literal = (word: string) => {
    for (const c of word) {
      if (text[i] !== c) fail();
      i++;
    }
  };
  const digits = () => {
    const from = i;
    while (text[i]! >= "0" && text[i]! <= "9") i++;
    if (i === from) fail();
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c < " ") fail();
      if (c === "\\") {
        i++;
        const e = text[i];
        if (e === "u") {
          for (let k = 0; k < 4; k++) {
            i++;
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail();
          }
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) fail();
      }
      i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{") {
      i++;
      space();
      if (text[i] === "}") return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail();
        string();
        space();
        if (text[i] !== ":") fail();
        i++;
        value();
        space();
        if (text[i] === "}") return void i++;
        if (text[i] !== ",") fail();
        i++;
      }
    }
    if (c === "[") {
      i++;
      space();
      if (text[i] === "]") return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === "]") return void i++;
        if (text[i] !== ",") fail();
        i++;
      }
    }
    if (c === '"') return string();
    if (c === "t") return literal("true");
    if (c === "f") return literal("false");
    if (c === "n") return literal("null");
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return number();
    fail();
  };
  try {
    value();
    space();
    return i < text.length ? i : undefined;
  } catch (err) {
    if (err instanceof SyntaxAt) return err.offset;
    return undefined;
  }
}

class SyntaxAt extends Error {
  constructor(readonly offset: number) {
    super(`JSON syntax error at ${offset}`);
  }
}

function parseLines(text: string): unknown[] {
  const items: unknown[] = [];
  let line = 0;
  let at = 0;
  while (at < text.length) {
    line++;
    let end = text.indexOf("\n", at);
    if (end === -1) end = text.length;
    const s = text.slice(at, end);
    at = end + 1;
    if (s.trim().length === 0) continue;
    try {
      items.push(JSON.parse(s));
    } catch (err) {
      throw new MalformedBody(`line ${line}: malformed JSON: ${(err as Error).message}`);
    }
  }
  return items;
}

function firstNonSpace(text: string): number {
  let i = 0;
  while (i < text.length && (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t" || text[i] === "\uFEFF")) i++;
  return i;
}
