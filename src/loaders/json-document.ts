import { isAscii } from "node:buffer";
import fs from "node:fs";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../contract/source.js";
import { checkNamedCompression, detectCompression, gunzipWhole, isGzip, toLoadError } from "./compression.js";
import { isZip } from "./zip.js";
import { isZstd, unzstdWhole } from "./zstd.js";
import { arraySpansFrom, findTopLevelArrayBytes } from "./json-slices.js";
import type { Loader, LoaderOptions } from "../contract/loader.js";

/** Default largest decompressed document, in bytes. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 512 * 1024 * 1024;

/**
 * Compressed inputs up to this size are inflated with gunzipSync, the fastest path; larger ones go to the
 * thread pool so one huge file does not freeze the event loop (status events, health checks) for seconds.
 */
const SYNC_GUNZIP_MAX_BYTES = 100 * 1024 * 1024;

const gunzipAsync = promisify(zlib.gunzip);

/** The text each document this loader produced was parsed from; it lives as long as the document does. */
const texts = new WeakMap<object, string>();

/**
 * The JSON text a document yielded by the json-document loader was parsed from (without a byte order mark), or
 * undefined for any other value. A mapper may reuse slices of it as pre-serialized rows (rawRow) instead of
 * serializing parsed objects again.
 */
export function documentText(doc: unknown): string | undefined {
  return doc !== null && typeof doc === "object" ? texts.get(doc) : undefined;
}

/** The text of each element of a split document's array, by document (see JsonDocumentLoaderOptions.splitArray). */
const elementTexts = new WeakMap<object, string[]>();

/**
 * For a document yielded by a json-document loader with `splitArray`, the JSON text of each element of its (partial)
 * array, in order, as in the file: a mapper may reuse them as pre-serialized rows (rawRow). Undefined otherwise. An
 * element whose text has a line break between its tokens (pretty-printed) has "" instead.
 */
export function documentElementTexts(doc: unknown): readonly string[] | undefined {
  return doc !== null && typeof doc === "object" ? elementTexts.get(doc) : undefined;
}

/** Where a split document's elements are in the file's bytes, when the file is ASCII (its text is its UTF-8). */
export interface DocumentElementBytes {
  /** The decompressed file. */
  bytes: Uint8Array;
  /** [start, end) of each element of this piece, as [start0, end0, start1, end1, ...]; -1 for an element without text. */
  spans: Int32Array;
}

const elementBytes = new WeakMap<object, DocumentElementBytes>();

/**
 * For a document yielded by a json-document loader with `splitArray` from an ASCII file, where each element of its
 * array is in the file's bytes (which are then exactly the UTF-8 of documentElementTexts): a mapper may pass them to
 * rawRow so that the row is copied rather than encoded. Undefined otherwise.
 */
export function documentElementBytes(doc: unknown): DocumentElementBytes | undefined {
  return doc !== null && typeof doc === "object" ? elementBytes.get(doc) : undefined;
}

/** Options of createJsonDocumentLoader. */
export interface JsonDocumentLoaderOptions {
  /**
   * A top-level array member (CloudTrail's "Records") to deliver in pieces: each item is then the document with that
   * array cut to the next `splitSize` elements, and each element is parsed on its own, just before its piece is
   * yielded. Rows made from one piece can then die young instead of living as long as the whole parsed document.
   * The items together hold exactly what JSON.parse of the file gives; a file where the member cannot be found, or
   * that is not valid JSON, is read whole as without this option (and fails the same way). Default: none.
   */
  splitArray?: string;
  /** Elements per item when splitting. Default 100. */
  splitSize?: number;
  /**
   * With splitArray: each item holds only the members before the array (and its piece of the array); the members after
   * it are checked as JSON but not delivered, and the first member named splitArray is the one split. In exchange the
   * loader finds elements by searching for the text between the first two (`},{"eventVersion":` in a CloudTrail file)
   * rather than reading every byte, and checks each guess by parsing the element, which it does anyway. For documents
   * made of one big array (CloudTrail's `{"Records":[...]}`). A malformed document still fails with the parser's
   * message, but a fault after the array is found once the array's rows are out. Default false.
   */
  leadingMembersOnly?: boolean;
}

/** Default elements per item of a split document. */
export const DEFAULT_SPLIT_SIZE = 100;

/** A loader that parses a whole file (plain or gzip) as one JSON document and yields it as a batch of one. */
export function createJsonDocumentLoader(opts: JsonDocumentLoaderOptions = {}): Loader {
  const splitSize = opts.splitSize ?? DEFAULT_SPLIT_SIZE;
  if (!Number.isInteger(splitSize) || splitSize < 1) {
    throw new TailkitError(Code.InvalidArgument, `splitSize: must be a positive integer, got ${splitSize}`, { field: "splitSize" });
  }
  return {
    name: "json-document",
    load: (artifact, options) => loadDocument(artifact, options ?? {}, opts.splitArray, splitSize, opts.leadingMembersOnly === true),
  };
}

async function* loadDocument(
  artifact: LocalArtifact,
  options: LoaderOptions,
  splitArray: string | undefined,
  splitSize: number,
  leadingOnly: boolean,
): AsyncGenerator<unknown[]> {
  const maxBytes = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  let bytes = await readBytes(artifact, maxBytes, options.signal);
  // Most logs are plain ASCII: then a Latin-1 decode gives the same string and is a copy rather than a UTF-8 decode.
  const encoding = isAscii(bytes) ? "latin1" : "utf8";
  // A UTF-8 byte order mark, which some Windows tools write, is not part of the document (JSON.parse rejects it).
  if (encoding === "utf8" && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
  // An empty file (or a gzip stream of nothing) holds no document and no record: nothing to yield, nothing wrong.
  if (isBlank(bytes)) return;
  const split = splitArray === undefined ? undefined : splitDocument(bytes, encoding, splitArray, leadingOnly);
  if (split === undefined) {
    yield [parseDocument(artifact, bytes.toString(encoding))];
    return;
  }
  const { base, key } = split;
  let { spans, guessedFrom } = split;
  let n = spans.length / 2;
  // An empty array still yields the document once, as reading it whole does.
  piece: for (let k = 0; k === 0 || k < n; k += splitSize) {
    const end = Math.min(n, k + splitSize);
    const elements: unknown[] = new Array<unknown>(end - k);
    const texts: string[] = new Array<string>(end - k);
    const where = encoding === "latin1" ? new Int32Array(2 * (end - k)).fill(-1) : undefined;
    for (let i = k; i < end; i++) {
      const start = spans[2 * i]!;
      // Each element is decoded on its own: a small string that dies with its row, not a slice of one huge string.
      const elementText = bytes.toString(encoding, start < 0 ? -start - 1 : start, spans[2 * i + 1]);
      let value: unknown;
      try {
        value = JSON.parse(elementText) as unknown;
      } catch {
        if (i >= guessedFrom) {
          // A guessed span that does not parse was a wrong guess (or the element is bad): read on byte by byte.
          const exact = arraySpansFrom(bytes, start);
          if (exact !== undefined) {
            spans = spans.slice(0, 2 * i).concat(exact.spans);
            split.end = exact.end;
            guessedFrom = Infinity;
            n = spans.length / 2;
            // This piece again, with the spans read.
            k -= splitSize;
            continue piece;
          }
        }
        // A bad element fails the artifact with the parser's own error for the whole text, as without splitting.
        throw badElement(artifact, bytes.toString(encoding), key);
      }
      elements[i - k] = value;
      texts[i - k] = start < 0 ? "" : elementText;
      if (where !== undefined && start >= 0) {
        where[2 * (i - k)] = start;
        where[2 * (i - k) + 1] = spans[2 * i + 1]!;
      }
    }
    const doc: Record<string, unknown> = { ...base };
    Object.defineProperty(doc, key, { value: elements, writable: true, enumerable: true, configurable: true });
    elementTexts.set(doc, texts);
    if (where !== undefined) elementBytes.set(doc, { bytes, spans: where });
    yield [doc];
  }
  // What follows a guessed array is checked once the guesses are.
  if (split.restUnchecked) {
    const rest = parseRest(bytes, encoding, split.end);
    if (rest === undefined) throw badElement(artifact, bytes.toString(encoding), key);
    if (Object.hasOwn(rest, key)) {
      throw new TailkitError(
        Code.InvalidArgument,
        `${artifact.info.name}: the document has a second "${key}" member after the one read; its elements were not read`,
        {
          artifact: artifact.info.name,
          operation: "load",
        },
      );
    }
  }
}

/** Bytes only, at most, of whitespace; larger ones are left for the parser, which says what it finds. */
const BLANK_MAX_BYTES = 64;

/** True for no bytes, or a few that are all JSON whitespace. */
function isBlank(bytes: Buffer): boolean {
  if (bytes.length > BLANK_MAX_BYTES) return false;
  for (const b of bytes) if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) return false;
  return true;
}

/** The whole document's parse error, or an internal error when it parses after all. */
function badElement(artifact: LocalArtifact, text: string, key: string): TailkitError {
  parseDocument(artifact, text);
  return new TailkitError(Code.Internal, `${artifact.info.name}: an element of ${key} did not parse but the document did`, {
    artifact: artifact.info.name,
    operation: "load",
  });
}

/**
 * The members after an array that ends at `end` (a top-level member's value), parsed as an object (with a member named
 * "" first); undefined when they and the object's end are not valid JSON.
 */
function parseRest(bytes: Buffer, encoding: BufferEncoding, end: number): Record<string, unknown> | undefined {
  try {
    return JSON.parse(`{"":0${bytes.toString(encoding, end)}`) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The decompressed bytes of a document, within maxBytes. */
async function readBytes(artifact: LocalArtifact, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  try {
    // Refuse an oversized plain file before reading it into memory; a gzip one is bounded by maxOutputLength.
    if (artifact.bytes > maxBytes && (await detectCompression(artifact.path)) === "none") {
      throw tooLarge(artifact, maxBytes);
    }
    const raw = await fs.promises.readFile(artifact.path, { signal });
    checkNamedCompression(artifact, raw);
    let bytes: Buffer = raw;
    if (isGzip(raw)) {
      bytes = raw.length <= SYNC_GUNZIP_MAX_BYTES ? gunzipWhole(raw, maxBytes) : await gunzipAsync(raw, { maxOutputLength: maxBytes });
    } else if (isZstd(raw)) {
      bytes = unzstdWhole(raw, maxBytes);
    } else if (isZip(raw)) {
      // One document per artifact: an archive of several has no single document to give.
      throw new TailkitError(
        Code.InvalidArgument,
        `${artifact.info.name}: a zip archive is read by line loaders (each member's lines), not as one JSON document`,
        {
          artifact: artifact.info.name,
          operation: "load",
        },
      );
    }
    if (bytes.length > maxBytes) throw tooLarge(artifact, maxBytes);
    return bytes;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(artifact, maxBytes);
    throw toLoadError(artifact, err);
  }
}

/**
 * The document cut at its `key` array: the rest parsed (the array left empty) and the byte spans of the array's
 * elements. Undefined when the array is not found, or the rest is not valid JSON: the caller then parses it whole.
 * Parsing the rest and each element on its own accepts exactly the texts JSON.parse accepts, and gives the same values,
 * since the scanner found the array at a value position of the same tokens the parser reads.
 */
function splitDocument(bytes: Buffer, encoding: BufferEncoding, key: string, leadingOnly: boolean): SplitDocument | undefined {
  const found = findTopLevelArrayBytes(bytes, key, { guess: leadingOnly });
  if (found === undefined) return undefined;
  const guessedFrom = found.guessedFrom ?? Infinity;
  // Only the members before the array, or all the others; a guessed array's end is checked after its elements.
  const rest = leadingOnly ? "}" : bytes.toString(encoding, found.end);
  if (leadingOnly && guessedFrom === Infinity) {
    // Read whole when the rest is malformed (for the parser's message) or names the array again (the last one wins).
    const after = parseRest(bytes, encoding, found.end);
    if (after === undefined || Object.hasOwn(after, key)) return undefined;
  }
  let base: unknown;
  try {
    base = JSON.parse(bytes.toString(encoding, 0, found.start) + "[]" + rest) as unknown;
  } catch {
    return undefined;
  }
  if (base === null || typeof base !== "object" || Array.isArray(base) || !Array.isArray((base as Record<string, unknown>)[key])) return undefined;
  // Elements with a line break between their tokens are marked -(start + 1): parsed, but not offered as text.
  return { base: base as Record<string, unknown>, key, spans: found.spans, guessedFrom, end: found.end, restUnchecked: guessedFrom !== Infinity };
}

/** A document cut at its split array. */
interface SplitDocument {
  /** The other members (with leadingMembersOnly, those before the array), the array left empty. */
  base: Record<string, unknown>;
  key: string;
  /** The elements' byte spans, as TopLevelArray.spans. */
  spans: number[];
  /** The index of the first element whose span is a guess, or Infinity. */
  guessedFrom: number;
  /** Just past the array's closing bracket. */
  end: number;
  /** Whether what follows the array is still to be checked (its end was a guess). */
  restUnchecked: boolean;
}

function parseDocument(artifact: LocalArtifact, text: string): unknown {
  const name = artifact.info.name;
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc !== null && typeof doc === "object") texts.set(doc, text);
    return doc;
  } catch (err) {
    throw new TailkitError(Code.InvalidArgument, `${name}: ${describeJsonError(err)}`, {
      artifact: name,
      operation: "load",
    });
  }
}

function tooLarge(artifact: LocalArtifact, maxBytes: number): TailkitError {
  const name = artifact.info.name;
  return new TailkitError(Code.ResourceExhausted, `${name}: document is over the limit of ${maxBytes} bytes (maxDocumentBytes)`, {
    artifact: name,
    operation: "load",
  });
}

/** "malformed JSON at position N: <parser message>", or without the position when the parser does not give one. */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  return position === undefined ? `malformed JSON: ${message}` : `malformed JSON at position ${position}: ${message}`;
}
