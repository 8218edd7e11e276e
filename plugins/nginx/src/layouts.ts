/**
 * A file layout for a log named `<anything>name` at any depth, and the names rotation gives it: numbered by logrotate
 * (`.1`, `.2`), dated by its `dateext` (`-20240301`, `-2024030112`, `-20240301-1709251200`), either compressed as gzip,
 * zstd or zip. The file source reads compression by content; the extensions here only keep `.lock`, `.tmp` and such
 * siblings out.
 */
export function rotatedLogLayout(name: string): string {
  const base = name.replace(/[.\\]/g, "\\$&");
  return `**/{file:[^/]*${base}(\\.\\d+|-\\d{8}(-?\\d+)?)?(\\.(gz|zst|zip))?}`;
}
