import type { CollectionEvent, StatusCounters } from "../contract/events.js";
import type { ArtifactInfo } from "../contract/source.js";
import type { Event, Event__Input } from "./generated/tailkit/plugin/v1/Event.js";
import type { Status, Status__Input } from "./generated/tailkit/plugin/v1/Status.js";
import type { ArtifactInfo as PbArtifact, ArtifactInfo__Input } from "./generated/tailkit/plugin/v1/ArtifactInfo.js";

/** Date → the wire's unix milliseconds (0 when absent). */
export function toUnixMs(d: Date | undefined): number {
  return d ? d.getTime() : 0;
}

/** The wire's unix milliseconds → Date; undefined for 0 (unset). */
export function fromUnixMs(ms: number | string | null | undefined): Date | undefined {
  const n = Number(ms ?? 0);
  return n ? new Date(n) : undefined;
}

function artifactToWire(a: ArtifactInfo): ArtifactInfo__Input {
  return { name: a.name, location: a.location, size: a.size ?? 0, properties: Object.entries(a.properties).map(([key, value]) => ({ key, value })) };
}

function artifactFromWire(a: PbArtifact | null | undefined): ArtifactInfo {
  return {
    name: a?.name ?? "",
    location: a?.location ?? "",
    size: Number(a?.size ?? 0),
    properties: Object.fromEntries((a?.properties ?? []).map((p) => [p.key, p.value])),
  };
}

function statusToWire(s: StatusCounters): Status__Input {
  return {
    artifacts_discovered: s.artifactsDiscovered,
    artifacts_downloaded: s.artifactsDownloaded,
    artifacts_extracted: s.artifactsExtracted,
    artifacts_failed: s.artifactsFailed,
    artifacts_skipped: s.artifactsSkipped,
    artifacts_waiting: s.artifactsWaiting,
    artifacts_listed: s.artifactsListed,
    discovery_done: s.discoveryDone,
    bytes_downloaded: s.bytesDownloaded,
    rows_received: s.rowsReceived,
    rows_enriched: s.rowsEnriched,
    rows_written: s.rowsWritten,
    chunks_written: s.chunksWritten,
    row_errors: Object.entries(s.rowErrors).map(([operation, count]) => ({ operation, count })),
    elapsed_ms: s.elapsedMs,
  };
}

function statusFromWire(s: Status | null | undefined): StatusCounters {
  const rowErrors: Record<string, number> = {};
  for (const r of s?.row_errors ?? []) rowErrors[r.operation] = Number(r.count);
  return {
    artifactsDiscovered: Number(s?.artifacts_discovered ?? 0),
    artifactsDownloaded: Number(s?.artifacts_downloaded ?? 0),
    artifactsExtracted: Number(s?.artifacts_extracted ?? 0),
    artifactsFailed: Number(s?.artifacts_failed ?? 0),
    artifactsSkipped: Number(s?.artifacts_skipped ?? 0),
    artifactsWaiting: Number(s?.artifacts_waiting ?? 0),
    artifactsListed: Number(s?.artifacts_listed ?? 0),
    discoveryDone: s?.discovery_done === true,
    bytesDownloaded: Number(s?.bytes_downloaded ?? 0),
    rowsReceived: Number(s?.rows_received ?? 0),
    rowsEnriched: Number(s?.rows_enriched ?? 0),
    rowsWritten: Number(s?.rows_written ?? 0),
    chunksWritten: Number(s?.chunks_written ?? 0),
    rowErrors,
    elapsedMs: Number(s?.elapsed_ms ?? 0),
  };
}

/** Domain event → wire message. */
export function eventToWire(e: CollectionEvent): Event__Input {
  const base: Event__Input = { execution_id: e.executionId, time_unix_ms: e.time.getTime() };
  switch (e.type) {
    case "started":
      return { ...base, started: { table: e.table, partition: e.partition, source_type: e.sourceType, output_dir: e.outputDir } };
    case "artifact_discovered":
      return { ...base, artifact_discovered: { artifact: artifactToWire(e.artifact) } };
    case "artifact_downloaded":
      return { ...base, artifact_downloaded: { artifact: artifactToWire(e.artifact), bytes: e.bytes, duration_ms: e.durationMs } };
    case "artifact_extracted":
      return { ...base, artifact_extracted: { artifact: artifactToWire(e.artifact), rows: e.rows, row_errors: e.rowErrors } };
    case "status":
      return { ...base, status: statusToWire(e.status) };
    case "chunk_written":
      return { ...base, chunk_written: { sequence: e.sequence, rows: e.rows, path: e.path } };
    case "complete":
      return { ...base, complete: { rows: e.rows, chunks: e.chunks, error: e.error ?? "", status: statusToWire(e.status) } };
    case "error":
      return {
        ...base,
        error: { message: e.message, artifact: e.artifact ?? "", operation: e.operation ?? "", row_index: e.rowIndex ?? -1 },
      };
  }
}

/** Wire message → domain event; undefined for an event kind this host does not know (a newer plugin). */
export function eventFromWire(m: Event): CollectionEvent | undefined {
  const base = { executionId: m.execution_id, time: fromUnixMs(m.time_unix_ms) ?? new Date() };
  switch (m.event) {
    case "started": {
      const s = m.started!;
      return { ...base, type: "started", table: s.table, partition: s.partition, sourceType: s.source_type, outputDir: s.output_dir };
    }
    case "artifact_discovered":
      return { ...base, type: "artifact_discovered", artifact: artifactFromWire(m.artifact_discovered?.artifact) };
    case "artifact_downloaded": {
      const d = m.artifact_downloaded!;
      return { ...base, type: "artifact_downloaded", artifact: artifactFromWire(d.artifact), bytes: Number(d.bytes), durationMs: Number(d.duration_ms) };
    }
    case "artifact_extracted": {
      const x = m.artifact_extracted!;
      return { ...base, type: "artifact_extracted", artifact: artifactFromWire(x.artifact), rows: Number(x.rows), rowErrors: Number(x.row_errors) };
    }
    case "status":
      return { ...base, type: "status", status: statusFromWire(m.status) };
    case "chunk_written": {
      const c = m.chunk_written!;
      return { ...base, type: "chunk_written", sequence: c.sequence, rows: Number(c.rows), path: c.path };
    }
    case "complete": {
      const c = m.complete!;
      return { ...base, type: "complete", rows: Number(c.rows), chunks: c.chunks, ...(c.error ? { error: c.error } : {}), status: statusFromWire(c.status) };
    }
    case "error": {
      const e = m.error!;
      const rowIndex = Number(e.row_index);
      return {
        ...base,
        type: "error",
        message: e.message,
        ...(e.artifact ? { artifact: e.artifact } : {}),
        ...(e.operation ? { operation: e.operation } : {}),
        ...(rowIndex >= 0 ? { rowIndex } : {}),
      };
    }
    default:
      return undefined;
  }
}
