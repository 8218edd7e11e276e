import fs from "node:fs";
import { expect } from "vitest";
import { extractArtifact } from "../../src/collection/extract-artifact.js";
import type { ExtractSpec } from "../../src/collection/types.js";
import type { LoaderOptions } from "../../src/contract/loader.js";
import type { ArtifactInfo } from "../../src/contract/source.js";
import type { TableDefinition } from "../../src/contract/table.js";
import { lineFormatOf, withLineFormat, type LineFormat, type LineOutcome } from "../../src/collection/line-format.js";

// A table's line format against its reference path (the same table without the format): both run on the same file.

export interface Outcome {
  lines: string[];
  /** The same lines as bytes (latin1), so that bytes a UTF-8 decoder would replace still count. */
  raw: string[];
  indexes: number[];
  errors: string[];
  /** Where the last batch ended; batches are checked to be adjacent from 0. */
  end: number;
  rowsReceived: number;
}

export interface RunOptions {
  loader?: LoaderOptions;
  from?: Date;
  to?: Date;
  info?: ArtifactInfo;
}

/** Extracts one file with the table; lines with tp_ingest_timestamp made constant, errors sorted by position. */
export async function runExtract(table: TableDefinition, file: string, opts: RunOptions = {}): Promise<Outcome> {
  const info = opts.info ?? { name: file, location: file, properties: {} };
  const local = { info, path: file, bytes: fs.statSync(file).size, release: async () => undefined };
  const spec: ExtractSpec = {
    table,
    tableConfig: {},
    partition: "p",
    sourceType: "file",
    sourceName: "s",
    loaderOptions: opts.loader,
    from: opts.from,
    to: opts.to,
  };
  const out: Outcome = { lines: [], raw: [], indexes: [], errors: [], end: 0, rowsReceived: 0 };
  const constantIngest = (l: string) => l.replace(/"tp_ingest_timestamp":"[^"]+"/, '"tp_ingest_timestamp":"X"');
  let failure: string | undefined;
  try {
    for await (const b of extractArtifact(local, spec)) {
      expect(b.batch.from).toBe(out.end);
      out.end = b.batch.to;
      const bytes = Buffer.from((b.batch.lines as { bytes: Uint8Array }).bytes);
      const split = (text: string) => (text === "" ? [] : text.slice(0, -1).split("\n"));
      const lines = split(bytes.toString("utf8"));
      expect(lines).toHaveLength(b.batch.lines.length);
      out.lines.push(...lines.map(constantIngest));
      out.raw.push(...split(bytes.toString("latin1")).map(constantIngest));
      out.indexes.push(...b.batch.indexes);
      out.errors.push(...b.rowErrors.map((e) => `${e.position} ${e.operation} ${e.message}`));
      out.rowsReceived += b.rowsReceived;
    }
  } catch (err) {
    failure = err instanceof Error ? err.message : String(err);
  }
  out.errors.sort((a, b) => parseInt(a) - parseInt(b));
  if (failure !== undefined) out.errors.push(`failed: ${failure}`);
  return out;
}

/** Runs the table with and without its line format, expects the same outcome, and returns it. */
export async function bothPaths(table: TableDefinition, file: string, opts: RunOptions = {}): Promise<Outcome> {
  expect(lineFormatOf(table.sources["file"]!)).toBeDefined();
  const fast = await runExtract(table, file, opts);
  // A copy of each source entry leaves its line format behind (it is not enumerable): the reference path.
  const sources = Object.fromEntries(Object.entries(table.sources).map(([type, entry]) => [type, { ...entry }]));
  const reference = await runExtract({ ...table, sources }, file, opts);
  expect(fast).toEqual(reference);
  return fast;
}

/** The table with its line format watched: what write() said of each line, in order, goes into outcomes. */
export function watchOutcomes(table: TableDefinition): { table: TableDefinition; outcomes: LineOutcome[] } {
  const entry = table.sources["file"]!;
  const format = lineFormatOf(entry)!;
  const outcomes: LineOutcome[] = [];
  const watched: LineFormat = {
    indexFallback: (a) => format.indexFallback(a),
    open: (a) => {
      const r = format.open(a);
      return {
        mapperName: r.mapperName,
        map: (l) => r.map(l),
        write: (...args) => {
          const o = r.write(...args);
          outcomes.push(o);
          return o;
        },
      };
    },
  };
  return { table: { ...table, sources: { ...table.sources, file: withLineFormat({ ...entry }, watched) } }, outcomes };
}
