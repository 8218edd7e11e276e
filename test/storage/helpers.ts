import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OperationResult, PutArgs } from "../../src/storage/index.js";

/** A fresh temp dir per test, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tailkit-storage-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

/** The operations a shared case runs; sync handles are adapted with `async`. */
export interface Ops {
  put(args: PutArgs<unknown, unknown>): Promise<OperationResult>;
  get(key: unknown): Promise<OperationResult<unknown>>;
  erase(key: unknown): Promise<OperationResult>;
  close(): Promise<OperationResult>;
}

/** Code and value of a result, without the message, which may name temp paths or prefixes. */
export function outcome(r: OperationResult<unknown>): { code: string; value?: unknown } {
  return r.value === undefined ? { code: r.code } : { code: r.code, value: r.value };
}
