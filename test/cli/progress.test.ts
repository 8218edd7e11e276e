import { describe, expect, it } from "vitest";
import { emptyStatus, type CollectionEvent, type StatusCounters } from "../../src/contract/events.js";
import { createProgressReporter, formatDuration, type ProgressStream } from "../../src/cli/progress.js";

/** A terminal of the given width that keeps what was written to it. */
function fakeTty(columns: number): ProgressStream & { out: string } {
  const tty = {
    isTTY: true,
    columns,
    out: "",
    write(s: string | Uint8Array) {
      tty.out += String(s);
      return true;
    },
  };
  return tty;
}

/** What a terminal shows: text overwrites from the cursor, \r goes to column 0, ESC[K clears to the line's end. */
function screen(out: string): string[] {
  const CLEAR = "\x1b[K";
  const lines: string[] = [""];
  let col = 0;
  for (let i = 0; i < out.length;) {
    const line = lines[lines.length - 1]!;
    if (out[i] === "\n") {
      lines.push("");
      col = 0;
      i++;
    } else if (out[i] === "\r") {
      col = 0;
      i++;
    } else if (out.startsWith(CLEAR, i)) {
      lines[lines.length - 1] = line.slice(0, col);
      i += CLEAR.length;
    } else {
      lines[lines.length - 1] = line.slice(0, col) + out[i]! + line.slice(col + 1);
      col++;
      i++;
    }
  }
  return lines;
}

const exec = "exec_1";
const status = (s: Partial<StatusCounters>): CollectionEvent => ({ type: "status", executionId: exec, time: new Date(), status: { ...emptyStatus(), ...s } });
const discovered = (name: string): CollectionEvent => ({
  type: "artifact_discovered",
  executionId: exec,
  time: new Date(),
  artifact: { name, location: `/data/${name}`, properties: {} },
});

describe("progress on a terminal", () => {
  it("shows a recent rate and an ETA, not the average since the start", () => {
    const tty = fakeTty(120);
    const p = createProgressReporter(tty);
    // 100,000 rows in the first 10 s, then 1,000 rows a second.
    p.update(status({ artifactsDiscovered: 10, artifactsExtracted: 0, rowsEnriched: 0, elapsedMs: 0 }));
    p.update(status({ artifactsDiscovered: 10, artifactsExtracted: 5, rowsEnriched: 100_000, elapsedMs: 10_000 }));
    for (let t = 11; t <= 25; t++)
      p.update(status({ artifactsDiscovered: 10, artifactsExtracted: 5, rowsEnriched: 100_000 + (t - 10) * 1000, elapsedMs: t * 1000 }));
    p.update(status({ artifactsDiscovered: 10, artifactsExtracted: 6, rowsEnriched: 116_000, elapsedMs: 26_000 }));
    const last = screen(tty.out).at(-1)!;
    // The last 10 s: 10,000 rows and one artifact; four to go at that pace.
    expect(last).toMatch(/6\/10 artifacts \| 116,000 rows \| 1,000 rows\/s \| eta 40s \| 0 errors$/);
  });

  it("counts artifacts as they are announced, skipped ones among the done, and the total stays once all are found", () => {
    const tty = fakeTty(120);
    const p = createProgressReporter(tty);
    p.update(status({ artifactsDiscovered: 2, artifactsSkipped: 3, artifactsExtracted: 1, elapsedMs: 1000 }));
    p.update(discovered("a"));
    p.update(discovered("b"));
    // A message draws the bar again at once (artifact events alone redraw it at most ten times a second).
    p.message("note");
    expect(screen(tty.out).at(-1)).toMatch(/ 4\/7 artifacts/);
    // The next status counts both announced artifacts: the total does not grow again.
    p.update(status({ artifactsDiscovered: 4, artifactsSkipped: 3, artifactsExtracted: 4, elapsedMs: 2000 }));
    expect(screen(tty.out).at(-1)).toMatch(/ 7\/7 artifacts/);
  });

  it("takes the total from what discovery listed ahead, so that it is whole long before the last artifact starts", () => {
    const tty = fakeTty(120);
    const p = createProgressReporter(tty);
    p.update(status({ artifactsListed: 50, discoveryDone: true, artifactsDiscovered: 4, artifactsExtracted: 0, elapsedMs: 0 }));
    p.update(status({ artifactsListed: 50, discoveryDone: true, artifactsDiscovered: 8, artifactsExtracted: 5, rowsEnriched: 5000, elapsedMs: 10_000 }));
    const last = screen(tty.out).at(-1)!;
    // 5 of 50 done in 10 s: 45 to go at that pace.
    expect(last).toMatch(/5\/50 artifacts \| 5,000 rows \| 500 rows\/s \| eta 1m30s \| 0 errors$/);
  });

  it("fits every line drawn to the terminal's width", () => {
    for (const columns of [40, 60, 100]) {
      const tty = fakeTty(columns);
      const p = createProgressReporter(tty);
      p.update(status({ artifactsDiscovered: 123_456, artifactsExtracted: 65_432, rowsEnriched: 987_654_321, elapsedMs: 60_000, rowErrors: { map: 12_345 } }));
      p.update(status({ artifactsDiscovered: 123_456, artifactsExtracted: 65_999, rowsEnriched: 999_654_321, elapsedMs: 61_000, rowErrors: { map: 12_345 } }));
      p.stop();
      for (const l of screen(tty.out)) expect(l.length).toBeLessThan(columns);
      expect(screen(tty.out).at(-2)).toContain("artifacts");
    }
  });

  it("prints messages above the bar, whole, and draws the bar again below them", () => {
    const tty = fakeTty(80);
    const p = createProgressReporter(tty);
    p.update(status({ artifactsDiscovered: 3, artifactsExtracted: 1, rowsEnriched: 10, elapsedMs: 1000 }));
    p.message("error: AWSLogs/x.json.gz: unexpected end of file");
    p.message("error: AWSLogs/y.json.gz: malformed JSON");
    const lines = screen(tty.out);
    expect(lines).toEqual([
      "error: AWSLogs/x.json.gz: unexpected end of file",
      "error: AWSLogs/y.json.gz: malformed JSON",
      expect.stringContaining("1/3 artifacts"),
    ]);
  });

  it("ends the bar's line at stop, so the summary after it overwrites nothing", () => {
    const tty = fakeTty(80);
    const p = createProgressReporter(tty);
    p.update(status({ artifactsDiscovered: 1, artifactsExtracted: 1, rowsEnriched: 5, elapsedMs: 1000 }));
    p.message("error: one");
    p.stop();
    tty.write("Collected 5 rows\n");
    expect(screen(tty.out)).toEqual(["error: one", expect.stringContaining("1/1 artifacts"), "Collected 5 rows", ""]);
  });

  it("on Ctrl-C leaves the bar whole on a line of its own (over the echoed ^C) and draws nothing more", () => {
    const tty = fakeTty(80);
    const p = createProgressReporter(tty);
    p.update(status({ artifactsDiscovered: 4, artifactsExtracted: 2, rowsEnriched: 50, elapsedMs: 1000 }));
    tty.write("^C");
    p.interrupt();
    p.update(status({ artifactsDiscovered: 4, artifactsExtracted: 3, rowsEnriched: 60, elapsedMs: 2000 }));
    p.stop();
    tty.write("interrupted: execution exec_1 stopped\n");
    const lines = screen(tty.out);
    expect(lines).toEqual([expect.stringMatching(/^\[.*\] 2\/4 artifacts/), "interrupted: execution exec_1 stopped", ""]);
  });
});

describe("progress elsewhere", () => {
  it("prints messages as plain lines and no bar", () => {
    let out = "";
    const p = createProgressReporter({ isTTY: false, write: (s: string | Uint8Array) => ((out += String(s)), true) }, 60_000);
    p.update(status({ artifactsDiscovered: 1, elapsedMs: 10 }));
    p.message("error: x");
    p.stop();
    expect(out).toBe("error: x\n");
  });

  it("writes durations briefly", () => {
    expect(formatDuration(42_000)).toBe("42s");
    expect(formatDuration(185_000)).toBe("3m05s");
    expect(formatDuration(3_720_000)).toBe("1h02m");
  });
});
