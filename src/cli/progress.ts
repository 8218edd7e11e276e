import cliProgress from "cli-progress";
import type { CollectionEvent, StatusCounters } from "../collection/events.js";

/** Renders collection progress for people: a live bar on a TTY, a plain line every few seconds elsewhere. */
export interface ProgressReporter {
  update(event: CollectionEvent): void;
  stop(): void;
}

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

/** A reporter for the given stream: live bar on a TTY, periodic lines otherwise. */
export function createProgressReporter(stream: NodeJS.WriteStream, intervalMs = 5000): ProgressReporter {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: " {bar} {value}/{total} artifacts | {rows} rows | {rate}/s | {errors} errors{waiting}",
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 20,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(e) {
        if (!started) {
          bar.start(0, 0, { rows: "0", rate: "0", errors: "0", waiting: "" });
          started = true;
        }
        if (e.type === "status" || e.type === "complete") {
          const s = e.status;
          bar.setTotal(s.artifactsDiscovered);
          bar.update(s.artifactsExtracted + s.artifactsFailed, {
            rows: fmt(s.rowsEnriched),
            rate: fmt(s.elapsedMs > 0 ? (s.rowsEnriched * 1000) / s.elapsedMs : 0),
            errors: fmt(rowErrorTotal(s) + s.artifactsFailed),
            waiting: s.artifactsWaiting ? ` | waiting for ${fmt(s.artifactsWaiting)} held by other collectors` : "",
          });
        } else if (e.type === "artifact_discovered") {
          bar.setTotal(bar.getTotal() + 1);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
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
    stop() {},
  };
}
