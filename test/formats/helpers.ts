import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import type { LocalArtifact } from "../../src/contract/source.js";
import type { TailkitError } from "../../src/errors/index.js";
import { createFormat, type FormatDefinition } from "../../src/formats/index.js";
import { MapperChain, type RowErrorRecord } from "../../src/mappers/index.js";

/** A temp folder for one test file's fixtures; remove it in afterAll. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tailkit-${prefix}-`));
}

/** The error fn throws; fails the test when it throws none. */
export function thrown(fn: () => unknown): TailkitError {
  try {
    fn();
  } catch (err) {
    return err as TailkitError;
  }
  throw new Error("expected a throw");
}

/** A local artifact of a file on disk. */
export function localArtifact(file: string, name = path.basename(file)): LocalArtifact {
  return { info: { name, location: file, properties: {} }, path: file, bytes: fs.statSync(file).size, release: async () => {} };
}

/** What reading a file by a format gave: rows with their positions, row errors, and the error that ended it. */
export interface Read {
  rows: Record<string, unknown>[];
  positions: number[];
  errors: RowErrorRecord[];
  failure: Error | undefined;
}

/** Reads a file as an artifact of the format: its loader, then its mappers in a chain, as extraction does. */
export async function readFormat(def: FormatDefinition, file: string): Promise<Read> {
  const { loader, mappers } = createFormat(def);
  const artifact = localArtifact(file);
  const chain = new MapperChain(mappers, artifact.info);
  const out: Read = { rows: [], positions: [], errors: [], failure: undefined };
  try {
    for await (const items of loader.load(artifact, { batchSize: 3 })) {
      const batch = chain.map(items);
      out.rows.push(...(batch.rows as Record<string, unknown>[]));
      out.positions.push(...batch.positions);
      out.errors.push(...batch.errors);
    }
  } catch (err) {
    out.failure = err as Error;
  }
  return out;
}

/**
 * A zstd frame holding `data` in raw blocks (RFC 8878 §3.1.1.2: block type 0, stored as is): a valid zstd file made
 * without a compressor. The committed fixture *.zst files are compressed ones, made by the zstd tool.
 */
export function zstdRawFrame(data: Buffer): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.from([0x00, 0x58])]; // no checksum, window descriptor
  const MAX = 128 * 1024;
  for (let at = 0; at === 0 || at < data.length; at += MAX) {
    const piece = data.subarray(at, Math.min(data.length, at + MAX));
    const last = at + MAX >= data.length ? 1 : 0;
    const header = (piece.length << 3) | (0 << 1) | last;
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), piece);
  }
  return Buffer.concat(parts);
}

/** A zip member for zipArchive: deflated unless `stored`; `crc` overrides the CRC-32 written (to make a bad one). */
export interface ZipMember {
  name: string;
  data: Buffer;
  stored?: boolean;
  crc?: number;
  /** Replaces the compressed bytes written (to make corrupt data). */
  compressed?: Buffer;
}

/** A zip archive (PKWARE APPNOTE 4.3: local headers, data, central directory, end record), written without a library. */
export function zipArchive(members: ZipMember[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const method = m.stored ? 0 : 8;
    const body = m.compressed ?? (m.stored ? m.data : zlib.deflateRawSync(m.data));
    const crc = m.crc ?? zlib.crc32(m.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(m.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(method, 10);
    entry.writeUInt32LE(crc >>> 0, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(m.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    offset += 30 + name.length + body.length;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}
