import { createHash } from "node:crypto";

/**
 * The id prefix of an artifact named so, without state to say more: the same source, name and position give the same
 * tp_id. Collections give their artifacts an artifactIdSeed instead (kept in state), since a name is reused by the
 * next file logrotate puts under it and by files of the same path under other roots.
 */
export function artifactIdPrefix(sourceType: string, sourceName: string, artifactName: string): string {
  return createHash("sha256").update(`${sourceType}\0${sourceName}\0${artifactName}`).digest("base64url").slice(0, 16);
}

/**
 * The tp_id prefix of an artifact first collected at `location` with these first bytes (its HeadPrint, when the
 * source gives them): the same bytes at the same place give the same ids, another file under the same name or the same
 * name under another root other ones. `after` sets it apart from the seed of a file it replaced that printed alike.
 */
export function artifactIdSeed(sourceType: string, sourceName: string, location: string, head?: { bytes: number; sha256: string }, after?: string): string {
  const print = head === undefined ? "" : `${head.bytes}:${head.sha256}`;
  return createHash("sha256")
    .update(`${sourceType}\0${sourceName}\0${location}\0${print}${after === undefined ? "" : `\0${after}`}`)
    .digest("base64url")
    .slice(0, 16);
}
