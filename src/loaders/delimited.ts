import { pipeline } from "node:stream";
import type { Options as CsvOptions } from "csv-parse";
import { invalidArgument } from "../errors/index.js";
import { RowErrorItem, SKIPPED_LINE, type Loader, type LoaderOptions } from "../contract/loader.js";
import type { LocalArtifact } from "../contract/source.js";
import { checkNames } from "../mappers/delimited.js";
import { openArtifactStream, toLoadError } from "./compression.js";
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_LINE_BYTES, validateLimits } from "./lines.js";

/** Options of createDelimitedLoader. Defaults are written beside each field. */
export interface DelimitedLoaderOptions {
  /** Column names in order. Default: the header line's (then `header` must be true). */
  columns?: string[] | undefined;
  /** Whether the first line names the columns; with `columns` given, it is skipped. Default: true when `columns` is not given. */
  header?: boolean | undefined;
  /** Field separator, one or more characters ("\t" for TSV). Default ",". */
  delimiter?: string | undefined;
  /** Quote character; null for none. Default '"'. */
  quote?: string | null | undefined;
  /** Escape of a quote inside a quoted field. Default: the quote itself (a doubled quote, as in RFC 4180). */
  escape?: string | undefined;
  /** A value that means null. Default none: an empty field is "". */
  nullValue?: string | undefined;
  /** Lines starting with this are comments and skipped. Default none. */
  comment?: string | undefined;
  /** Trim spaces around fields. Default false. */
  trim?: boolean | undefined;
}

/**
 * A loader of CSV, TSV and other delimited text (plain or compressed) through csv-parse: quoted fields (with
 * delimiters, newlines and escaped quotes in them), a header line or named columns. Each record becomes an object of
 * its columns' text (or null for `nullValue`). A record with another number of fields than the columns, or that
 * csv-parse cannot read (an unclosed quote), is a "map" row error; items are numbered by line ("line 7: ...", a
 * record across lines by its first), since the loader fills in the lines it takes up.
 */
export function createDelimitedLoader(options: DelimitedLoaderOptions = {}): Loader<Record<string, unknown>> {
  const checked = validateDelimitedLoaderOptions(options);
  return {
    name: "delimited",
    numbering: "line",
    load: (artifact, loaderOptions) => loadDelimited(artifact, loaderOptions ?? {}, checked),
  };
}

/** Checks DelimitedLoaderOptions; throws INVALID_ARGUMENT naming the option. */
export function validateDelimitedLoaderOptions(options: DelimitedLoaderOptions): DelimitedLoaderOptions & { header: boolean; delimiter: string } {
  const columns = options.columns;
  if (columns !== undefined) checkNames(columns, "columns", "column");
  const header = options.header ?? columns === undefined;
  if (!header && columns === undefined) throw invalidArgument("columns", "must be given when there is no header line");
  const delimiter = options.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter === "") throw invalidArgument("delimiter", "must be a non-empty string");
  if (options.quote !== undefined && options.quote !== null && (typeof options.quote !== "string" || options.quote.length !== 1)) {
    throw invalidArgument("quote", "must be one character, or null for none");
  }
  if (options.escape !== undefined && (typeof options.escape !== "string" || options.escape.length !== 1))
    throw invalidArgument("escape", "must be one character");
  return { ...options, header, delimiter };
}

async function* loadDelimited(
  artifact: LocalArtifact,
  options: LoaderOptions,
  o: DelimitedLoaderOptions & { header: boolean; delimiter: string },
): AsyncGenerator<unknown[]> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  validateLimits(batchSize, maxLineBytes);
  let batch: unknown[] = [];
  // Items are lines: a record goes at the index of its first line, the lines it or blank lines take up are fillers.
  let items = 0;
  const place = (line: number, item: unknown) => {
    while (items < line - 1) {
      batch.push(SKIPPED_LINE);
      items++;
    }
    batch.push(item);
    items++;
  };
  const csv: CsvOptions = {
    delimiter: o.delimiter,
    quote: o.quote === undefined ? '"' : o.quote === null ? false : o.quote,
    ...(o.escape !== undefined ? { escape: o.escape } : {}),
    ...(o.comment !== undefined ? { comment: o.comment } : {}),
    trim: o.trim ?? false,
    bom: true,
    info: true,
    raw: true,
    relax_column_count: true,
    // A quote inside an unquoted field is text (`5" disk`), as most writers of such files mean it.
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    max_record_size: maxLineBytes,
  };
  let columns = o.columns;
  let headerPending = o.header;
  const { stream } = await openArtifactStream(artifact, { signal: options.signal });
  // Loaded with the first delimited artifact, as yauzl is with the first zip.
  const { parse } = await import("csv-parse");
  const parser = parse(csv);
  // Skips are told as the parser meets them, ahead of the records still queued for this loop: they wait here and
  // take their place before the first record that starts after them.
  const skipped: { line: number; message: string }[] = [];
  parser.on("skip", (err: { message?: string; lines?: number } | undefined, raw: string | undefined) => {
    const line = err?.lines ?? 0;
    skipped.push({ line: line - newlines(raw ?? ""), message: err?.message ?? "malformed record" });
  });
  const placeSkipped = (before: number) => {
    while (skipped.length > 0 && skipped[0]!.line < before) {
      const s = skipped.shift()!;
      place(Math.max(items + 1, s.line), new RowErrorItem(s.message, "map"));
    }
  };
  pipeline(stream, parser, () => {});
  try {
    for await (const out of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
      options.signal?.throwIfAborted();
      const first = out.info.lines - newlines(out.raw);
      placeSkipped(first);
      const start = Math.max(items + 1, first);
      if (headerPending) {
        headerPending = false;
        columns ??= out.record;
        place(start, SKIPPED_LINE);
        continue;
      }
      place(start, toRow(out.record, columns!, o.nullValue, o.delimiter));
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    placeSkipped(Infinity);
    if (batch.length > 0) yield batch;
    throw toLoadError(artifact, err);
  }
  placeSkipped(Infinity);
  if (batch.length > 0) yield batch;
}

function toRow(values: string[], columns: readonly string[], nullValue: string | undefined, delimiter: string): Record<string, unknown> | RowErrorItem {
  if (values.length !== columns.length) {
    return new RowErrorItem(`expected ${columns.length} fields separated by ${JSON.stringify(delimiter)}, found ${values.length}`, "map");
  }
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) {
    const v = values[i]!;
    row[columns[i]!] = v === nullValue ? null : v;
  }
  return row;
}

/** Newlines inside a record's raw text (its own end excluded): how many lines before its last it began. */
function newlines(raw: string): number {
  let n = 0;
  const end = raw.endsWith("\r\n") ? raw.length - 2 : raw.endsWith("\n") ? raw.length - 1 : raw.length;
  for (let i = raw.indexOf("\n"); i !== -1 && i < end; i = raw.indexOf("\n", i + 1)) n++;
  return n;
}
