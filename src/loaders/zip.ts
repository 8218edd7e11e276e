import { Readable } from "node:stream";
import zlib from "node:zlib";
import type yauzl from "yauzl";
import { Code, TailkitError } from "../errors/index.js";
import type { LocalArtifact } from "../contract/source.js";

/** What error messages call the format. */
export const ZIP_NAME = "zip";

const LF = 0x0a;
const NEWLINE = Buffer.from("\n");

/** True when `head` starts with a zip local file header (50 4b 03 04) or, for an empty archive, its end record (50 4b 05 06). */
export function isZip(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 0x03 && head[3] === 0x04) || (head[2] === 0x05 && head[3] === 0x06));
}

/**
 * The bytes of a zip archive's members, one after another in the order of the central directory (folders passed
 * over), each ending in a newline so that no line runs from one member into the next. The order is the archive's own,
 * so the same bytes always give the same positions; a member added at the end of an archive takes the positions
 * after those collected. Each member's CRC-32 is checked (yauzl checks sizes only).
 *
 * A member that cannot be read (corrupt data, a bad CRC, encrypted, an unsupported method) is passed over, and once
 * every other member has been read the stream fails with DATA_LOSS naming it: the artifact is reported failed, with the
 * rows of the other members collected. Rows a member gave before its fault are kept, as with a truncated gzip file.
 */
export function openZipMembers(artifact: LocalArtifact, signal?: AbortSignal): Readable {
  return Readable.from(memberBytes(artifact, signal), { objectMode: false });
}

async function* memberBytes(artifact: LocalArtifact, signal: AbortSignal | undefined): AsyncGenerator<Buffer> {
  const name = artifact.info.name;
  let zip: yauzl.ZipFile;
  try {
    // Loaded with the first zip archive: importing tailkit (in every extraction worker) does not pay for yauzl.
    const { default: unzip } = await import("yauzl");
    zip = await unzip.openPromise(artifact.path, { autoClose: false, lazyEntries: true });
  } catch (err) {
    throw new TailkitError(Code.DataLoss, `${name}: zip archive is corrupt (${(err as Error).message})`, { artifact: name, operation: "load" }, { cause: err });
  }
  const failed: string[] = [];
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.endsWith("/")) continue;
      signal?.throwIfAborted();
      let crc = 0;
      let last = LF;
      try {
        const stream = await zip.openReadStreamPromise(entry);
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          if (chunk.length === 0) continue;
          crc = zlib.crc32(chunk, crc);
          last = chunk[chunk.length - 1]!;
          yield chunk;
        }
        if (crc >>> 0 !== entry.crc32 >>> 0) throw new Error(`CRC-32 is ${hex(crc)}, the archive says ${hex(entry.crc32)}`);
      } catch (err) {
        if (signal?.aborted) throw err;
        failed.push(`${entry.fileName} (${(err as Error).message})`);
      }
      if (last !== LF) yield NEWLINE;
    }
  } catch (err) {
    if (signal?.aborted || err instanceof TailkitError) throw err;
    // The central directory itself is damaged: what was read is kept, the rest of the archive cannot be found.
    throw new TailkitError(Code.DataLoss, `${name}: zip archive is corrupt (${(err as Error).message})`, { artifact: name, operation: "load" }, { cause: err });
  } finally {
    zip.close();
  }
  if (failed.length > 0) {
    throw new TailkitError(
      Code.DataLoss,
      `${name}: ${failed.length === 1 ? "zip member" : `${failed.length} zip members`} could not be read: ${failed.join("; ")}; the other members were collected`,
      { artifact: name, operation: "load" },
    );
  }
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}
