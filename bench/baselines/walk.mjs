// Shared by the Node baselines: the input files in a stable order.

import { readdir } from "node:fs/promises";
import { join } from "node:path";

/**
 * Every file under `dir` whose name ends with `suffix`, sorted by path.
 * @param {string} dir
 * @param {string} suffix
 * @returns {Promise<string[]>}
 */
export async function walk(dir, suffix) {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}
