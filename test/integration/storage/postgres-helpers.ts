import { randomBytes } from "node:crypto";
import pg from "pg";

/** The shared server the suite needs: trust auth for 127.0.0.1, database `test`. Tests fail (never skip) without it. */
export const POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/test";

/** Throws a loud error unless the shared PostgreSQL answers. */
export async function requirePostgres(): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (err) {
    throw new Error(`these tests need PostgreSQL at ${POSTGRES_URL} and it did not answer: ${(err as Error).message || String(err)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A table-name prefix unique to one run of one test file, so runs and files never see each other's tables. */
export function uniqueTablePrefix(file: string): string {
  return `tk_${file}_${randomBytes(5).toString("hex")}`;
}

/** Runs one statement on the shared server, on a connection of its own. */
export async function sql(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** Drops every table whose name starts with `prefix`. */
export async function dropTables(prefix: string): Promise<void> {
  const { rows } = await sql(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND starts_with(tablename, $1)`, [prefix]);
  for (const { tablename } of rows as Array<{ tablename: string }>) await sql(`DROP TABLE IF EXISTS "${tablename}"`);
}
