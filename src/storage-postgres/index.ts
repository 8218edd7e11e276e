// PostgreSQL for the storage framework, built as a third-party backend is: on tailkit/storage's public API alone,
// registered by a call rather than listed among the built-ins.
import { registerBackend } from "tailkit/storage";
import { postgresBackend, type PostgresOptions } from "./postgres-backend.js";

export { PostgresBackend, POSTGRES_DEFAULTS, postgresBackend, validatePostgresOptions, type PostgresOptions } from "./postgres-backend.js";

/** Makes the backend available to openAsync() under `name` (default "postgres"); calling it again is harmless. */
export function registerPostgresBackend(name = "postgres"): void {
  registerBackend(name, postgresBackend);
}

// Typed options for open("postgres", …), as BackendOptionsMap invites third-party backends to add.
declare module "tailkit/storage" {
  interface BackendOptionsMap {
    postgres: PostgresOptions;
  }
}
