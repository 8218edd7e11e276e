import fs from "node:fs";
import { pipeline, Readable } from "node:stream";
import zlib from "node:zlib";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../contract/source.js";
import { createZstdStream, isZstd, ZSTD_NAME } from "./zstd.js";
import { isZip, openZipMembers, ZIP_NAME } from "./zip.js";

/** Compression formats a loader can open: gzip and zstd streams, zip archives (members read one after another). */
export type Compression = "none" | "gzip" | "zstd" | "zip";

/** Largest output chunk gunzipWhole asks zlib for. */
const WHOLE_CHUNK_MAX = 64 * 1024 * 1024;

/** Read size for artifact streams: larger than fs's 64 KiB default, which cuts per-chunk overhead on big files. */
const READ_CHUNK_BYTES = 256 * 1024;

/** True when `head` starts with the gzip magic bytes 1f 8b. */
export function isGzip(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Inflates a whole gzip file at once. The trailer's ISIZE is the inflated size (mod 2^32) of the last member: an
 * output chunk that size takes the whole file in one piece, sparing the copy of many 16 KiB pieces into one buffer
 * (a wrong ISIZE, as in a multi-member file, only costs that copy; a huge one is capped, so that a crafted trailer
 * cannot make it allocate much). Throws as zlib does, ERR_BUFFER_TOO_LARGE past maxOutputLength included.
 */
export function gunzipWhole(raw: Buffer, maxOutputLength: number): ReturnType<typeof zlib.gunzipSync> {
  const isize = raw.length >= 18 ? raw.readUInt32LE(raw.length - 4) : 0;
  const chunkSize = Math.max(64 * 1024, Math.min(maxOutputLength, WHOLE_CHUNK_MAX, isize + 1));
  return zlib.gunzipSync(raw, { maxOutputLength, chunkSize });
}

/** The compression a file's first bytes (4 are enough) say it has. */
export function compressionOf(head: Uint8Array): Compression {
  if (isGzip(head)) return "gzip";
  if (isZstd(head)) return "zstd";
  if (isZip(head)) return "zip";
  return "none";
}

/** Detects the compression of a file from its first bytes; file names lie too often to be trusted. */
export async function detectCompression(path: string): Promise<Compression> {
  return compressionOf(await readMagic(path));
}

/** Bytes of a file's start shown when it is not what its name says. */
const MAGIC_BYTES = 8;

async function readMagic(path: string): Promise<Buffer> {
  const fh = await fs.promises.open(path, "r");
  try {
    const head = Buffer.alloc(MAGIC_BYTES);
    const { bytesRead } = await fh.read(head, 0, MAGIC_BYTES, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Names that say a compression, the format they say and its magic bytes, for checkNamedCompression. */
const NAMED: readonly { ext: string; compression: Compression; label: string; magic: string }[] = [
  { ext: ".gz", compression: "gzip", label: "gzip", magic: "1f 8b" },
  { ext: ".zst", compression: "zstd", label: ZSTD_NAME, magic: "28 b5 2f fd" },
  { ext: ".zip", compression: "zip", label: ZIP_NAME, magic: "50 4b 03 04" },
];

/**
 * Throws DATA_LOSS "not gzip" (or zstd, zip) when an artifact named *.gz (*.zst, *.zip) does not start with that
 * format's magic bytes: read as plain text it would only fail later and worse ("malformed JSON", a row error per line
 * of binary). A file with no bytes at all is not refused: it holds nothing, compressed or not.
 */
export function checkNamedCompression(artifact: LocalArtifact, head: Uint8Array): void {
  if (head.length === 0) return;
  const named = NAMED.find((n) => artifact.info.name.toLowerCase().endsWith(n.ext));
  if (named === undefined || compressionOf(head) === named.compression) return;
  const start = Buffer.from(head.subarray(0, MAGIC_BYTES));
  const hex = [...start].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  // The start as text too, when it is printable: `{"Records` or `2 123456` says at once what the file really is.
  const text = start.toString("latin1");
  const shown = /^[\x20-\x7e\t\r\n]+$/.test(text) ? ` (${JSON.stringify(text)})` : "";
  throw new TailkitError(
    Code.DataLoss,
    `${artifact.info.name}: not ${named.label}: the name ends in ${named.ext} but the file starts with ${hex}${shown}, not the ${named.label} magic bytes ${named.magic}`,
    { artifact: artifact.info.name, operation: "load" },
  );
}

/** Options of openArtifactStream. */
export interface OpenStreamOptions {
  signal?: AbortSignal | undefined;
}

/**
 * Opens a local artifact as a stream of decompressed bytes (plain, gzip, zstd or zip, by magic bytes). A zip archive
 * gives its members' bytes one after another, in the order of its central directory, each ending in a newline; a
 * member that cannot be read is passed over and the stream fails after the last member, naming it (see zip.ts).
 * Errors (truncated gzip, unreadable file) surface on the returned stream as raw Node errors; pass them to
 * toLoadError to name the file.
 */
export async function openArtifactStream(artifact: LocalArtifact, options: OpenStreamOptions = {}): Promise<{ stream: Readable; compression: Compression }> {
  let head: Buffer;
  try {
    head = await readMagic(artifact.path);
  } catch (err) {
    throw toLoadError(artifact, err);
  }
  checkNamedCompression(artifact, head);
  const compression = compressionOf(head);
  if (compression === "zip") return { stream: openZipMembers(artifact, options.signal), compression };
  if (compression === "none" && artifact.readBytes === 0) return { stream: Readable.from([]), compression };
  // A plain file still being written to is read up to the end of its last complete line (LocalArtifact.readBytes).
  const end = compression === "none" && artifact.readBytes !== undefined ? { end: artifact.readBytes - 1 } : {};
  const file = fs.createReadStream(artifact.path, { highWaterMark: READ_CHUNK_BYTES, signal: options.signal, ...end });
  if (compression === "none") return { stream: file, compression };
  const inflate = compression === "gzip" ? zlib.createGunzip({ chunkSize: READ_CHUNK_BYTES }) : createZstdStream();
  // pipeline (not pipe) so a read error or an early break by the consumer tears down both streams.
  const stream = pipeline(file, inflate, () => {});
  return { stream, compression };
}

/** Turns an error met while reading an artifact into a TailkitError whose message names the file and the fault. */
export function toLoadError(artifact: LocalArtifact, err: unknown): TailkitError {
  const name = artifact.info.name;
  const details = { artifact: name, operation: "load" };
  if (err instanceof TailkitError) return err;
  const e = err as NodeJS.ErrnoException | undefined;
  if (e instanceof Error && e.name === "AbortError") {
    return new TailkitError(Code.Canceled, `${name}: loading was canceled`, details, { cause: err });
  }
  if (e instanceof Error && e.name === "ZstdError") {
    return new TailkitError(Code.DataLoss, `${name}: zstd stream is corrupt or truncated (${e.message})`, details, { cause: err });
  }
  switch (e?.code) {
    case "Z_BUF_ERROR":
      return new TailkitError(Code.DataLoss, `${name}: gzip stream is truncated (${e.message})`, details, { cause: err });
    case "Z_DATA_ERROR":
    case "Z_STREAM_ERROR":
    case "Z_NEED_DICT":
      return new TailkitError(Code.DataLoss, `${name}: gzip stream is corrupt (${e.message})`, details, { cause: err });
    case "ERR_BUFFER_TOO_LARGE":
      return new TailkitError(Code.ResourceExhausted, `${name}: ${e.message}`, details, { cause: err });
    case "ENOENT":
      return new TailkitError(Code.NotFound, `${name}: file not found at ${artifact.path}`, details, { cause: err });
    case "EACCES":
    case "EPERM":
      return new TailkitError(Code.PermissionDenied, `${name}: cannot read ${artifact.path} (${e.code})`, details, {
        cause: err,
      });
    default:
      return new TailkitError(Code.Unknown, `${name}: ${e instanceof Error ? e.message : String(err)}`, details, {
        cause: err,
      });
  }
}
