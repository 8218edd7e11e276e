import { describe, expect, it } from "vitest";
import type { CollectionEvent } from "../../src/contract/events.js";
import { emptyStatus } from "../../src/contract/events.js";
import { eventFromWire, eventToWire } from "../../src/protocol/index.js";
import type { WireEvent } from "../../src/protocol/index.js";

const time = new Date("2024-03-01T12:34:56.789Z");
const status = { ...emptyStatus(), artifactsDiscovered: 3, rowsWritten: 42, rowErrors: { map: 2 }, elapsedMs: 1500 };
const artifact = { name: "a/b.json.gz", location: "/data/a/b.json.gz", size: 10, properties: { year: "2024" } };

const events: CollectionEvent[] = [
  { type: "started", executionId: "e1", time, table: "t", partition: "p", sourceType: "file", outputDir: "/out" },
  { type: "artifact_discovered", executionId: "e1", time, artifact },
  { type: "artifact_downloaded", executionId: "e1", time, artifact, bytes: 10, durationMs: 3 },
  { type: "artifact_extracted", executionId: "e1", time, artifact, rows: 5, rowErrors: 1 },
  { type: "status", executionId: "e1", time, status },
  { type: "chunk_written", executionId: "e1", time, sequence: 2, rows: 100, path: "/out/e1-2.jsonl" },
  { type: "complete", executionId: "e1", time, rows: 42, chunks: 1, status },
  { type: "complete", executionId: "e1", time, rows: 0, chunks: 0, error: "boom", status },
  { type: "error", executionId: "e1", time, message: "bad", artifact: "a/b.json.gz", operation: "map", rowIndex: 7 },
  { type: "error", executionId: "e1", time, message: "fatal" },
];

describe("event conversion", () => {
  it.each(events.map((e) => [`${e.type}${"error" in e && e.error ? " (failed)" : ""}`, e] as const))(
    "%s survives a round trip through the wire form",
    (_n, e) => {
      // The wire form as grpc-js decodes it with the shared loader options: the oneof name is set.
      const wire = eventToWire(e) as unknown as WireEvent;
      const key = Object.keys(wire).find((k) => !["execution_id", "time_unix_ms"].includes(k))!;
      const back = eventFromWire({ ...wire, event: key as WireEvent["event"] } as WireEvent);
      expect(back).toEqual(e);
    },
  );
});
