import fs from "node:fs";
import path from "node:path";
import { Code, TailkitError } from "../errors/index.js";

/** What a failed mkdir or access means, in words; the errno itself is always quoted beside it. */
const CAUSES: Record<string, string> = {
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  ENOTDIR: "a part of the path is not a folder",
  ENAMETOOLONG: "name too long",
  ELOOP: "too many symlinks",
  EIO: "input/output error",
};

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException | undefined)?.code ?? "unknown error";
}

/** The gRPC-aligned code of an errno met creating or checking a folder. */
function codeOf(errno: string): Code {
  if (errno === "EACCES" || errno === "EPERM" || errno === "EROFS") return Code.PermissionDenied;
  if (errno === "ENOSPC" || errno === "EDQUOT") return Code.ResourceExhausted;
  return Code.FailedPrecondition;
}

function describeErrno(code: string): string {
  const cause = CAUSES[code];
  return cause === undefined ? code : `${cause} (${code})`;
}

/**
 * Creates `dir` and the folders above it that are missing, then checks that it is a writable folder. Node's own
 * recursive mkdir spins forever where a parent exists but mkdir answers ENOENT (/proc, /sys), and reports ENOENT
 * instead of the real errno of the first folder it could not make (EROFS on a read-only mount); this walks up once
 * and down once, so it ends in at most two calls per path level. Throws a TailkitError (operation "write") whose
 * message names the path that failed and the errno; `field` is put in its details.
 */
export function createOutputDirectory(dir: string, field?: string): void {
  const target = path.resolve(dir);
  const details = { operation: "write", ...(field !== undefined ? { field } : {}) };
  const fail = (code: Code, message: string, cause?: unknown): never => {
    throw new TailkitError(code, `${field !== undefined ? `${field}: ` : ""}${message}`, details, cause === undefined ? undefined : { cause });
  };
  // Up to the nearest folder that exists; what lies below it is missing and is made on the way down.
  const missing: string[] = [];
  let at = target;
  for (;;) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch (err) {
      const code = errnoOf(err);
      // ENOTDIR: a file in the way further up, which the walk then finds and names.
      if (code !== "ENOENT" && code !== "ENOTDIR") fail(codeOf(code), `cannot create ${target}: ${at} cannot be looked up: ${describeErrno(code)}`, err);
    }
    if (stat !== undefined) {
      if (!stat.isDirectory()) fail(Code.FailedPrecondition, `cannot create ${target}: ${at} exists and is not a folder`);
      break;
    }
    missing.push(at);
    const parent = path.dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    const next = missing[i]!;
    try {
      fs.mkdirSync(next);
    } catch (err) {
      const code = errnoOf(err);
      if (code === "EEXIST" && fs.statSync(next, { throwIfNoEntry: false })?.isDirectory() === true) continue;
      if (code === "ENOENT") {
        // The parent was there a moment ago (or was just made): a pseudo-filesystem that takes no new folders.
        fail(
          Code.FailedPrecondition,
          `cannot create ${target}: mkdir ${next} failed with ENOENT though ${path.dirname(next)} exists; that file system does not take new folders (a pseudo-filesystem such as /proc or /sys?)`,
          err,
        );
      }
      fail(codeOf(code), `cannot create ${target}: mkdir ${next}: ${describeErrno(code)}`, err);
    }
  }
  try {
    // W_OK asks the kernel, so a read-only mount says EROFS even to root, who passes every permission check.
    fs.accessSync(target, fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    const code = errnoOf(err);
    fail(codeOf(code), `${target} is not writable: ${describeErrno(code)}`, err);
  }
}
