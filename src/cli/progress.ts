import type { CollectionEvent, StatusCounters } from "../contract/events.js";

/** Renders collection progress for people: a live bar on a TTY, a plain line every few seconds elsewhere. */
export interface ProgressReporter {
  update(event: CollectionEvent): void;
  /** Prints a line for people (an error); on a terminal above the bar, which is drawn again below it. */
  message(line: string): void;
  /** The run is being interrupted: the bar is drawn once more, whole, and the line ended; later updates draw nothing. */
  interrupt(): void;
  /** Ends the bar's line, so that what is printed next starts on a line of its own. */
  stop(): void;
}

/** The stream a reporter writes to: a TTY has isTTY and, when known, its width in columns. */
export type ProgressStream = Pick<NodeJS.WriteStream, "write"> & { isTTY?: boolean; columns?: number };

function rowErrorTotal(s: StatusCounters): number {
  return Object.values(s.rowErrors).reduce((a, b) => a + b, 0);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A short human summary of counters: artifacts, rows, rate, errors. */
export function describeStatus(s: StatusCounters): string {
  const rate = s.elapsedMs > 0 ? (s.rowsEnriched * 1000) / s.elapsedMs : 0;
  return (
    `artifacts ${fmt(s.artifactsExtracted)}/${fmt(s.artifactsDiscovered)}` +
    (s.artifactsFailed ? ` (${fmt(s.artifactsFailed)} failed)` : "") +
    (s.artifactsSkipped ? ` (${fmt(s.artifactsSkipped)} already collected, skipped)` : "") +
    (s.artifactsWaiting ? `, waiting for ${fmt(s.artifactsWaiting)} artifact${s.artifactsWaiting === 1 ? "" : "s"} held by other collectors` : "") +
    `, rows ${fmt(s.rowsEnriched)} (${fmt(rate)}/s), written ${fmt(s.rowsWritten)} in ${fmt(s.chunksWritten)} chunks` +
    `, row errors ${fmt(rowErrorTotal(s))}`
  );
}

/** "42s", "3m05s", "1h02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** How far back the rate and the ETA look: long enough to smooth a second's jitter, short enough to follow a change. */
const RATE_WINDOW_MS = 10_000;
/** Fastest redraw between status events (artifact events can come by the hundred). */
const REDRAW_MS = 100;
const CLEAR_LINE = "\r\x1b[K";

interface Sample {
  elapsedMs: number;
  rows: number;
  done: number;
}

/** A reporter for the given stream: live bar on a TTY, periodic lines otherwise. */
export function createProgressReporter(stream: ProgressStream, intervalMs = 5000): ProgressReporter {
  return stream.isTTY ? createTtyReporter(stream) : createLineReporter(stream, intervalMs);
}

function createLineReporter(stream: ProgressStream, intervalMs: number): ProgressReporter {
  // The first line comes after one interval: a short collection prints only its summary.
  let last = Date.now();
  let waiting = 0;
  return {
    update(e) {
      if (e.type !== "status") return;
      const now = Date.now();
      // A wait on other collectors is said when it begins: until then nothing shows why the run makes no progress.
      const startsWaiting = e.status.artifactsWaiting > waiting;
      waiting = e.status.artifactsWaiting;
      if (now - last < intervalMs && !startsWaiting) return;
      last = now;
      stream.write(`progress: ${describeStatus(e.status)}\n`);
    },
    message(line) {
      stream.write(`${line}\n`);
    },
    interrupt() {},
    stop() {},
  };
}

function createTtyReporter(stream: ProgressStream): ProgressReporter {
  let status: StatusCounters | undefined;
  // Artifacts announced since the last status, which that status did not count yet.
  let foundSince = 0;
  const samples: Sample[] = [];
  let drawn = false;
  let ended = false;
  let lastDraw = 0;

  const counts = () => {
    const s = status;
    const done = s ? s.artifactsExtracted + s.artifactsFailed + s.artifactsSkipped : 0;
    // Discovery lists ahead of collection: what it listed is the total once it ends, and a floor before.
    const total = Math.max(s?.artifactsListed ?? 0, (s ? s.artifactsDiscovered + s.artifactsSkipped : 0) + foundSince);
    return { done, total: Math.max(total, done) };
  };

  /** Rows and artifacts per second over the last RATE_WINDOW_MS of status events. */
  const recent = (): { rowsPerSec: number; donePerSec: number } => {
    const last = samples.at(-1);
    const first = samples[0];
    if (!last || !first) return { rowsPerSec: 0, donePerSec: 0 };
    const span = last.elapsedMs - first.elapsedMs;
    if (span <= 0)
      return last.elapsedMs > 0
        ? { rowsPerSec: (last.rows * 1000) / last.elapsedMs, donePerSec: (last.done * 1000) / last.elapsedMs }
        : { rowsPerSec: 0, donePerSec: 0 };
    return { rowsPerSec: ((last.rows - first.rows) * 1000) / span, donePerSec: ((last.done - first.done) * 1000) / span };
  };

  const line = (): string => {
    const width = Math.max(20, (stream.columns ?? 80) - 1);
    const { done, total } = counts();
    const s = status;
    const { rowsPerSec, donePerSec } = recent();
    const errors = s ? rowErrorTotal(s) + s.artifactsFailed : 0;
    const parts = [`${fmt(done)}/${fmt(total)} artifacts`, `${fmt(s?.rowsEnriched ?? 0)} rows`, `${fmt(rowsPerSec)} rows/s`];
    if (total > done && donePerSec > 0) parts.push(`eta ${formatDuration(((total - done) / donePerSec) * 1000)}`);
    else if (total > 0 && total === done) parts.push("eta 0s");
    parts.push(`${fmt(errors)} errors`);
    if (s?.artifactsWaiting) parts.push(`waiting for ${fmt(s.artifactsWaiting)} held by other collectors`);
    // Parts go from the right until the text fits; the bar takes what is left, or goes when there is too little.
    let text = parts.join(" | ");
    while (text.length > width && parts.length > 1) {
      parts.pop();
      text = parts.join(" | ");
    }
    const room = width - text.length - 3;
    if (room >= 10) {
      const size = Math.min(40, room);
      const filled = total > 0 ? Math.min(size, Math.floor((done / total) * size)) : 0;
      text = `[${"█".repeat(filled)}${"░".repeat(size - filled)}] ${text}`;
    }
    return text.length > width ? text.slice(0, width) : text;
  };

  const draw = (force: boolean) => {
    if (ended) return;
    const now = Date.now();
    if (!force && now - lastDraw < REDRAW_MS) return;
    lastDraw = now;
    stream.write(`${CLEAR_LINE}${line()}`);
    drawn = true;
  };

  const end = () => {
    if (ended) return;
    if (drawn) stream.write(`${CLEAR_LINE}${line()}\n`);
    ended = true;
  };

  return {
    update(e) {
      if (e.type === "status" || e.type === "complete") {
        status = e.status;
        foundSince = 0;
        samples.push({ elapsedMs: e.status.elapsedMs, rows: e.status.rowsEnriched, done: counts().done });
        while (samples.length > 2 && samples[samples.length - 1]!.elapsedMs - samples[1]!.elapsedMs >= RATE_WINDOW_MS) samples.shift();
        draw(true);
      } else if (e.type === "artifact_discovered") {
        foundSince++;
        draw(false);
      }
    },
    message(text) {
      if (ended) {
        stream.write(`${text}\n`);
        return;
      }
      // The bar's line is cleared, the message takes it, and the bar is drawn again on the line below.
      stream.write(`${drawn ? CLEAR_LINE : ""}${text}\n`);
      if (drawn) draw(true);
    },
    interrupt: end,
    stop: end,
  };
}
