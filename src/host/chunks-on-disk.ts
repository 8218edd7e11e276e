import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A chunk file of an execution found in its output folder. */
export interface ChunkOnDisk {
  path: string;
  sequence: number;
}

/**
 * The chunk files `<executionId>-<seq>.jsonl` in dir, by sequence: what a host reports when the plugin died before it
 * could announce them all. An unreadable folder has none.
 */
export function executionChunks(dir: string, executionId: string): ChunkOnDisk[] {
  const prefix = `${executionId}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: ChunkOnDisk[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".jsonl")) continue;
    const seq = name.slice(prefix.length, -".jsonl".length);
    if (/^\d+$/.test(seq)) found.push({ path: join(dir, name), sequence: Number(seq) });
  }
  return found.sort((a, b) => a.sequence - b.sequence);
}

/** Rows in a chunk file: its lines (each row ends with a newline). */
export function countChunkRows(path: string): number {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return 0;
  }
  let n = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) n++;
  return n;
}
