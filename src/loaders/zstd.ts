import { Transform } from "node:stream";
import { Decompress } from "fzstd";

/** What error messages call the format. */
export const ZSTD_NAME = "zstd";

/** True when `head` starts with the zstd frame magic number 28 b5 2f fd (0xFD2FB528, little-endian). */
export function isZstd(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd;
}

/** fzstd throws plain Errors; this name lets toLoadError tell them from a read error and name the format. */
function asZstdError(err: unknown): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.name = "ZstdError";
  return e;
}

/**
 * A stream that decompresses zstd (one frame or several in a row). fzstd is pure JS: Node 20's zlib has no zstd (it
 * came in 22.15). The output is copied out of fzstd's window, which it overwrites as it goes on.
 */
export function createZstdStream(): Transform {
  const stream: Transform = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (err) {
        done(asZstdError(err));
      }
    },
    flush(done) {
      try {
        // The final push checks that the last frame is whole: a truncated file fails here ("unexpected EOF").
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(asZstdError(err));
      }
    },
  });
  const decoder = new Decompress((data) => {
    if (data.length > 0) stream.push(Buffer.from(data));
  });
  return stream;
}

/**
 * Decompresses a whole zstd file, refusing to give more than maxOutputLength bytes (a frame's declared size is not
 * trusted: it could ask for any allocation). Throws an error with code ERR_BUFFER_TOO_LARGE past the limit, as zlib does.
 */
export function unzstdWhole(raw: Uint8Array, maxOutputLength: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const decoder = new Decompress((data) => {
    size += data.length;
    if (size > maxOutputLength) {
      throw Object.assign(new Error(`Cannot create a Buffer larger than ${maxOutputLength} bytes`), { code: "ERR_BUFFER_TOO_LARGE" });
    }
    parts.push(Buffer.from(data));
  });
  try {
    decoder.push(raw, true);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw err;
    throw asZstdError(err);
  }
  return Buffer.concat(parts, size);
}

/**
 * What the start of a zstd file decompresses to, up to maxBytes (for the head print of state): as much as the bytes
 * given hold, without asking for the rest; of a corrupt start, what came out before the fault.
 */
export function unzstdHead(raw: Uint8Array, maxBytes: number): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const decoder = new Decompress((data) => {
    if (size >= maxBytes) return;
    parts.push(Buffer.from(data.subarray(0, maxBytes - size)));
    size += Math.min(data.length, maxBytes - size);
  });
  try {
    decoder.push(raw);
  } catch {
    // What decompressed before the fault is the head.
  }
  return Buffer.concat(parts, size);
}
