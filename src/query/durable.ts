import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, unlinkSync, type Dirent } from "node:fs";
import { dirname, join, relative, sep } from "node:path";

/** Flushes a file's or a folder's entries to disk. */
export function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Creates `dir` below `root` (which exists), fsyncing the parent of each folder it creates so the path survives a crash. */
export function mkdirDurable(root: string, dir: string): void {
  const rel = relative(root, dir);
  if (rel === "" || rel.startsWith("..")) return;
  let cur = root;
  for (const part of rel.split(sep)) {
    const next = join(cur, part);
    let created = false;
    try {
      mkdirSync(next);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (created) fsyncPath(cur);
    cur = next;
  }
}

/** Moves a finished file into place durably: its data fsynced, renamed, and the target folder fsynced. */
export function moveDurable(root: string, from: string, to: string): void {
  fsyncPath(from);
  mkdirDurable(root, dirname(to));
  renameSync(from, to);
  fsyncPath(dirname(to));
}

/** Removes files, then fsyncs each folder they were in. */
export function unlinkDurable(paths: readonly string[]): void {
  const dirs = new Set<string>();
  for (const p of paths) {
    try {
      unlinkSync(p);
      dirs.add(dirname(p));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  for (const d of dirs) fsyncPath(d);
}

/** Every file below dir (absolute paths); none when dir does not exist. */
export function walkFiles(dir: string): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return entries.filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name));
}

/** Removes a folder tree if it is there. */
export function removeTree(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A file's size in bytes. */
export function fileSize(path: string): number {
  return statSync(path).size;
}
