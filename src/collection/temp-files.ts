import { readFileSync } from "node:fs";
import { readdir, unlink } from "node:fs/promises";
import { join } from "node:path";

/** Removes temp chunk files that dead processes left in the output folder (their pid is in the name). */
export async function removeStaleTempFiles(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const m = /^\..+\.(\d+)\.jsonl\.tmp$/.exec(name);
    if (!m) continue;
    if (!processAlive(Number(m[1]))) await unlink(join(dir, name)).catch(() => undefined);
  }
}

/**
 * True when the process may still write: it exists and is not a zombie. A killed process whose parent has not reaped
 * it yet still answers signal 0; on Linux its /proc state ("Z") tells it apart. Elsewhere signal 0 decides.
 */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return true;
  }
  // "pid (comm) S ...": the state follows the last ")", as comm may hold parentheses and spaces.
  const state = stat.charAt(stat.lastIndexOf(")") + 2);
  return state !== "Z" && state !== "X";
}
