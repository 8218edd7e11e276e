import { createHash } from "node:crypto";
import type { ArtifactInfo } from "../sources/types.js";
import type { EnrichContext, Row, TableDefinition } from "../tables/types.js";

/** What every row of one artifact shares, computed once per artifact rather than once per row. */
export interface ArtifactEnrichContext {
  table: TableDefinition<unknown>;
  partition: string;
  sourceType: string;
  sourceName: string;
  artifact: ArtifactInfo;
  /** Rows before this instant are dropped (not an error). */
  from?: Date | undefined;
  /** Rows at or after this instant are dropped. */
  to?: Date | undefined;
}

/** A row that enrichment rejected. */
export interface EnrichFailure {
  position: number;
  operation: "enrich" | "validate";
  message: string;
}

/** Result of enriching one batch: JSON lines and the positions they came from. */
export interface EnrichedBatch {
  lines: string[];
  indexes: number[];
  failures: EnrichFailure[];
  /** Rows outside [from, to). */
  filtered: number;
}

/** The deterministic id prefix of an artifact: the same source, artifact name and position always give the same tp_id. */
export function artifactIdPrefix(sourceType: string, sourceName: string, artifactName: string): string {
  return createHash("sha256").update(`${sourceType}\0${sourceName}\0${artifactName}`).digest("base64url").slice(0, 16);
}

function toIso(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === "number") {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  if (typeof value === "string" && value.length > 0) {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

/**
 * Builds the per-artifact enrich function: table fields, then the common tp_* fields, then one JSON line per row.
 * Synchronous and allocation-light, since it runs once per row.
 */
export function createEnricher(ctx: ArtifactEnrichContext): (rows: unknown[], positions: number[]) => EnrichedBatch {
  const prefix = artifactIdPrefix(ctx.sourceType, ctx.sourceName, ctx.artifact.name);
  const enrichCtx: EnrichContext = { artifact: ctx.artifact, table: ctx.table.name, partition: ctx.partition };
  const fromMs = ctx.from?.getTime() ?? -Infinity;
  const toMs = ctx.to?.getTime() ?? Infinity;
  const { table, partition, sourceType, sourceName } = ctx;
  const location = ctx.artifact.location;

  return (rows, positions) => {
    const ingest = new Date().toISOString();
    const lines: string[] = [];
    const indexes: number[] = [];
    const failures: EnrichFailure[] = [];
    let filtered = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Row;
      const position = positions[i]!;
      if (row === null || typeof row !== "object" || Array.isArray(row)) {
        failures.push({ position, operation: "validate", message: `row ${position} is not an object` });
        continue;
      }
      let extra;
      try {
        extra = table.enrich(row, enrichCtx);
      } catch (err) {
        failures.push({ position, operation: "enrich", message: `row ${position}: ${err instanceof Error ? err.message : String(err)}` });
        continue;
      }
      const ts = toIso(extra.tp_timestamp);
      if (ts === undefined) {
        failures.push({ position, operation: "validate", message: `row ${position}: tp_timestamp is missing or not a valid time (${JSON.stringify(extra.tp_timestamp)})` });
        continue;
      }
      const ms = Date.parse(ts);
      if (ms < fromMs || ms >= toMs) {
        filtered++;
        continue;
      }
      row["tp_id"] = `${prefix}${position.toString(36)}`;
      row["tp_timestamp"] = ts;
      row["tp_ingest_timestamp"] = ingest;
      row["tp_table"] = table.name;
      row["tp_partition"] = partition;
      row["tp_index"] = extra.tp_index ?? "default";
      row["tp_date"] = ts.slice(0, 10);
      row["tp_source_type"] = sourceType;
      row["tp_source_name"] = sourceName;
      row["tp_source_location"] = location;
      if (extra.tp_source_ip !== undefined) row["tp_source_ip"] = extra.tp_source_ip;
      if (extra.tp_destination_ip !== undefined) row["tp_destination_ip"] = extra.tp_destination_ip;
      if (extra.tp_ips !== undefined) row["tp_ips"] = extra.tp_ips;
      if (extra.tp_usernames !== undefined) row["tp_usernames"] = extra.tp_usernames;
      if (extra.tp_akas !== undefined) row["tp_akas"] = extra.tp_akas;
      if (extra.tp_domains !== undefined) row["tp_domains"] = extra.tp_domains;
      if (extra.tp_emails !== undefined) row["tp_emails"] = extra.tp_emails;
      if (extra.tp_tags !== undefined) row["tp_tags"] = extra.tp_tags;
      lines.push(JSON.stringify(row));
      indexes.push(position);
    }
    return { lines, indexes, failures, filtered };
  };
}
