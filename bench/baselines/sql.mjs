// Shared by the DuckDB baselines.

/**
 * A SQL string literal.
 * @param {string} s
 */
export function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`;
}
