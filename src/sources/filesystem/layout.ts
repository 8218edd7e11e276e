import { invalidArgument } from "../../errors/index.js";

/** Config field the layout comes from, named in every error about it. */
const FIELD = "file_layout";

/** Layout used when none is given: every file, at any depth. */
export const ANY_FILE_LAYOUT = "**/*";

/** One path segment of a layout: a regex for one name, or `**` (any number of directories). */
export type LayoutSegment = { kind: "match"; regex: RegExp; source: string; literal?: string } | { kind: "globstar" };

/** Where a walk stands in a layout: the next segment to match and what was captured on the way. */
export interface LayoutState {
  index: number;
  captures: Record<string, string>;
}

/** A half-open time interval in ms since the epoch. */
export interface Period {
  start: number;
  end: number;
}

/**
 * A compiled file layout. Matching goes one path segment at a time so a walk can leave a directory unread when no
 * file below it could match.
 */
export interface FileLayout {
  readonly pattern: string;
  readonly segments: readonly LayoutSegment[];
  readonly captureNames: readonly string[];
  /** States at the root. */
  initial(): LayoutState[];
  /** States inside directory `name`; empty when nothing below it can match. */
  enterDirectory(states: readonly LayoutState[], name: string): LayoutState[];
  /** Captures when a file called `name` completes the layout, else undefined. */
  matchFile(states: readonly LayoutState[], name: string): Record<string, string> | undefined;
}

type Token = { kind: "literal"; text: string } | { kind: "capture"; name: string; regex?: string } | { kind: "star" };

/**
 * Compiles a layout such as `AWSLogs/{account:\d{12}}/CloudTrail/{region}/{year:\d{4}}/{month}/{day}/{file}.json.gz`,
 * relative to a root. `{name}` captures part of one segment (`[^/]+?`), `{name:regex}` captures what regex matches,
 * `*` matches any run of characters within a segment and a `**` segment any number of directories; `\` escapes the
 * next character. Throws INVALID_ARGUMENT naming "file_layout".
 */
export function compileFileLayout(pattern: string = ANY_FILE_LAYOUT): FileLayout {
  if (typeof pattern !== "string" || pattern === "") throw invalidArgument(FIELD, "must be a non-empty pattern");
  if (pattern.startsWith("/")) throw invalidArgument(FIELD, `"${pattern}" must be relative to the root paths, not start with "/"`);
  const names: string[] = [];
  const segments = splitSegments(tokenize(pattern)).map((tokens, i) => compileSegment(tokens, i, names));
  return new CompiledLayout(pattern, segments, names);
}

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let literal = "";
  const flush = (): void => {
    if (literal !== "") tokens.push({ kind: "literal", text: literal });
    literal = "";
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      if (i + 1 >= pattern.length) throw invalidArgument(FIELD, `ends with a lone "\\"`);
      literal += pattern[++i];
    } else if (c === "}") {
      throw invalidArgument(FIELD, `unbalanced braces: "}" at character ${i + 1} has no matching "{"`);
    } else if (c === "*") {
      flush();
      tokens.push({ kind: "star" });
    } else if (c === "{") {
      flush();
      const close = findClose(pattern, i);
      const body = pattern.slice(i + 1, close);
      const colon = body.indexOf(":");
      const name = colon === -1 ? body : body.slice(0, colon);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw invalidArgument(FIELD, `capture name "${name}" at character ${i + 1} must be a letter or "_" followed by letters, digits or "_"`);
      }
      const regex = colon === -1 ? undefined : body.slice(colon + 1);
      if (regex === "") throw invalidArgument(FIELD, `capture {${name}:} has an empty regex`);
      tokens.push(regex === undefined ? { kind: "capture", name } : { kind: "capture", name, regex });
      i = close;
    } else {
      literal += c;
    }
  }
  flush();
  return tokens;
}

/** Index of the "}" closing the capture opened at `open`; braces nest (`\d{4}`), escapes and [classes] don't count. */
function findClose(pattern: string, open: number): number {
  let depth = 0;
  let inClass = false;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (inClass) inClass = c !== "]";
    else if (c === "[") inClass = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  throw invalidArgument(FIELD, `unbalanced braces: "{" at character ${open + 1} is never closed`);
}

function splitSegments(tokens: Token[]): Token[][] {
  const segments: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind !== "literal") {
      segments[segments.length - 1]!.push(t);
      continue;
    }
    const parts = t.text.split("/");
    parts.forEach((part, i) => {
      if (i > 0) segments.push([]);
      if (part !== "") segments[segments.length - 1]!.push({ kind: "literal", text: part });
    });
  }
  return segments;
}

function compileSegment(tokens: Token[], index: number, names: string[]): LayoutSegment {
  const where = `path segment ${index + 1}`;
  if (tokens.length === 0) throw invalidArgument(FIELD, `${where} is empty ("//" or a trailing "/")`);
  const stars = tokens.filter((t) => t.kind === "star").length;
  if (stars === 2 && tokens.length === 2) return { kind: "globstar" };
  if (tokens.some((t, i) => t.kind === "star" && tokens[i + 1]?.kind === "star")) {
    throw invalidArgument(FIELD, `${where}: "**" must be a whole path segment`);
  }
  const only = tokens.length === 1 ? tokens[0] : undefined;
  if (only?.kind === "literal" && (only.text === "." || only.text === "..")) {
    throw invalidArgument(FIELD, `${where}: "${only.text}" is not allowed; a layout stays inside its root`);
  }
  let source = "^";
  for (const t of tokens) {
    if (t.kind === "literal") source += escapeRegex(t.text);
    else if (t.kind === "star") source += "[^/]*";
    else {
      if (names.includes(t.name)) throw invalidArgument(FIELD, `capture "${t.name}" is used twice`);
      names.push(t.name);
      if (t.regex !== undefined) {
        try {
          new RegExp(t.regex);
        } catch (err) {
          throw invalidArgument(FIELD, `capture {${t.name}:${t.regex}} has a bad regex: ${(err as Error).message}`);
        }
      }
      source += `(?<${t.name}>${t.regex ?? "[^/]+?"})`;
    }
  }
  source += "$";
  // A segment of plain text names one folder: a listing walk can go straight into it instead of listing its parent.
  const literal = tokens.every((t) => t.kind === "literal") ? tokens.map((t) => (t as { text: string }).text).join("") : undefined;
  try {
    return { kind: "match", regex: new RegExp(source), source, ...(literal === undefined ? {} : { literal }) };
  } catch (err) {
    throw invalidArgument(FIELD, `${where} does not compile: ${(err as Error).message}`);
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

class CompiledLayout implements FileLayout {
  constructor(
    readonly pattern: string,
    readonly segments: readonly LayoutSegment[],
    readonly captureNames: readonly string[],
  ) {}

  initial(): LayoutState[] {
    return this.close([{ index: 0, captures: {} }]);
  }

  enterDirectory(states: readonly LayoutState[], name: string): LayoutState[] {
    const next: LayoutState[] = [];
    const last = this.segments.length - 1;
    for (const s of states) {
      const seg = this.segments[s.index];
      if (seg === undefined) continue;
      if (seg.kind === "globstar") {
        next.push(s);
        continue;
      }
      // A directory can only take a segment that still leaves one for the file.
      if (s.index >= last) continue;
      const captures = this.capture(seg, name, s.captures);
      if (captures !== undefined) next.push({ index: s.index + 1, captures });
    }
    return this.close(next);
  }

  matchFile(states: readonly LayoutState[], name: string): Record<string, string> | undefined {
    const last = this.segments.length - 1;
    for (const s of states) {
      if (s.index !== last) continue;
      const seg = this.segments[last]!;
      if (seg.kind === "globstar") return s.captures;
      const captures = this.capture(seg, name, s.captures);
      if (captures !== undefined) return captures;
    }
    return undefined;
  }

  private capture(seg: LayoutSegment & { kind: "match" }, name: string, before: Record<string, string>): Record<string, string> | undefined {
    const m = seg.regex.exec(name);
    if (m === null) return undefined;
    if (m.groups === undefined) return before;
    const captures = { ...before };
    for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) captures[k] = v;
    return captures;
  }

  /** Adds the states reached by matching a `**` zero times; the first state to reach an index wins, so captures stay deterministic. */
  private close(states: LayoutState[]): LayoutState[] {
    const byIndex = new Map<number, LayoutState>();
    const queue = [...states];
    while (queue.length > 0) {
      const s = queue.shift()!;
      if (byIndex.has(s.index)) continue;
      byIndex.set(s.index, s);
      if (this.segments[s.index]?.kind === "globstar") queue.push({ index: s.index + 1, captures: s.captures });
    }
    return [...byIndex.values()];
  }
}

/**
 * The UTC period that year/month/day/hour captures pin down, from the coarsest unit as far as they go;
 * undefined when there is no usable year, so nothing is pruned on a guess.
 */
export function periodOf(captures: Record<string, string>): Period | undefined {
  const year = intOf(captures["year"], 1970, 9999);
  if (year === undefined) return undefined;
  const month = intOf(captures["month"], 1, 12);
  if (month === undefined) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year + 1, 0, 1) };
  const day = intOf(captures["day"], 1, 31);
  if (day === undefined) return { start: Date.UTC(year, month - 1, 1), end: Date.UTC(year, month, 1) };
  const hour = intOf(captures["hour"], 0, 23);
  if (hour === undefined) return { start: Date.UTC(year, month - 1, day), end: Date.UTC(year, month - 1, day + 1) };
  return { start: Date.UTC(year, month - 1, day, hour), end: Date.UTC(year, month - 1, day, hour + 1) };
}

/** True when the captures' period may hold times in [from, to); unknown periods always may. */
export function mayIntersect(captures: Record<string, string>, from?: Date, to?: Date): boolean {
  if (from === undefined && to === undefined) return true;
  const p = periodOf(captures);
  if (p === undefined) return true;
  return (to === undefined || p.start < to.getTime()) && (from === undefined || p.end > from.getTime());
}

function intOf(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}
