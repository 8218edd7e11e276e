import { isAscii } from "node:buffer";
import fs from "node:fs";
import { promisify } from "node:util";
import zlib from "node:zlib";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../sources/types.js";
import { detectCompression, isGzip, toLoadError } from "./compression.js";
import type { Loader, LoaderOptions } from "./types.js";

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

/** A loader that parses a whole file (plain or gzip) as one JSON document and yields it as a batch of one. */
export function createJsonDocumentLoader(): Loader {
  return {
    name: "json-document",
    load: (artifact, options) => loadDocument(artifact, options ?? {}),
  };
}

async function* loadDocument(artifact: LocalArtifact, options: LoaderOptions): AsyncGenerator<unknown[]> {
  const maxBytes = options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  yield [await readDocument(artifact, maxBytes, options.signal)];
}

async function readDocument(artifact: LocalArtifact, maxBytes: number, signal?: AbortSignal): Promise<unknown> {
  const name = artifact.info.name;
  let text: string;
  try {
    // Refuse an oversized plain file before reading it into memory; a gzip one is bounded by maxOutputLength.
    if (artifact.bytes > maxBytes && (await detectCompression(artifact.path)) === "none") {
      throw tooLarge(artifact, maxBytes);
    }
    const raw = await fs.promises.readFile(artifact.path, { signal });
    let bytes = raw;
    if (isGzip(raw)) {
      bytes =
        raw.length <= SYNC_GUNZIP_MAX_BYTES
          ? zlib.gunzipSync(raw, { maxOutputLength: maxBytes })
          : await gunzipAsync(raw, { maxOutputLength: maxBytes });
    }
    if (bytes.length > maxBytes) throw tooLarge(artifact, maxBytes);
    // Most logs are plain ASCII: then a Latin-1 decode gives the same string and is a copy rather than a UTF-8 decode.
    text = isAscii(bytes) ? bytes.toString("latin1") : bytes.toString("utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(artifact, maxBytes);
    throw toLoadError(artifact, err);
  }
  // JSON.parse rejects a UTF-8 byte order mark, which some Windows tools write.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
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
  return new TailkitError(
    Code.ResourceExhausted,
    `${name}: document is over the limit of ${maxBytes} bytes (maxDocumentBytes)`,
    { artifact: name, operation: "load" },
  );
}

/** "malformed JSON at position N: <parser message>", or without the position when the parser does not give one. */
export function describeJsonError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const position = /at position (\d+)/.exec(message)?.[1];
  return position === undefined ? `malformed JSON: ${message}` : `malformed JSON at position ${position}: ${message}`;
}
