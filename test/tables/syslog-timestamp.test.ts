// Times without a year (RFC 3164 syslog) and without a zone, in custom tables: the year rule, the zone option, and
// the auth.log table docs/FORMATS.md shows, collected from real files whose mtime the test sets.
import { readFileSync, utimesSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { corePlugin } from "../../plugins/core/src/index.js";
import type { Mapper } from "../../src/contract/mapper.js";
import { defineCustomTable } from "../../src/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { timestampParser } from "../../src/tables/custom/timestamp.js";
import { ROOT, scratchDirs } from "../e2e/helpers.js";

const scratch = scratchDirs();
const HOUR = 3600_000;
const iso = (ms: number) => new Date(ms).toISOString();

describe("the syslog layout", () => {
  const syslog = timestampParser("syslog", "layout");

  it("gives a file spanning New Year Dec 31 of last year and Jan 1 of this year", () => {
    const mtime = Date.UTC(2025, 0, 1, 0, 10);
    expect(syslog("Dec 31 23:59:58", mtime)).toBe(iso(Date.UTC(2024, 11, 31, 23, 59, 58)));
    expect(syslog("Jan  1 00:00:05", mtime)).toBe(iso(Date.UTC(2025, 0, 1, 0, 0, 5)));
  });

  it("takes the latest year that puts the time at most a day after the reference", () => {
    const ref = Date.UTC(2025, 5, 15, 12);
    expect(syslog("Jun 15 11:59:59", ref)).toBe(iso(Date.UTC(2025, 5, 15, 11, 59, 59)));
    // 23 hours after the reference: a clock ahead, still this year.
    expect(syslog("Jun 16 11:00:00", ref)).toBe(iso(Date.UTC(2025, 5, 16, 11)));
    // More than a day after: last year's.
    expect(syslog("Jun 16 12:00:01", ref)).toBe(iso(Date.UTC(2024, 5, 16, 12, 0, 1)));
    expect(syslog("Jan  2 00:00:00", ref)).toBe(iso(Date.UTC(2025, 0, 2)));
    // Feb 29 goes back to the last leap year.
    expect(syslog("Feb 29 06:00:00", Date.UTC(2027, 2, 1))).toBe(iso(Date.UTC(2024, 1, 29, 6)));
  });

  it("reads a space-padded, zero-padded or bare day, and refuses what is no time", () => {
    const ref = Date.UTC(2024, 11, 20);
    for (const v of ["Dec  1 09:05:03", "Dec 01 09:05:03", "Dec 1 09:05:03"]) expect(syslog(v, ref)).toBe(iso(Date.UTC(2024, 11, 1, 9, 5, 3)));
    expect(() => syslog("Feb 30 00:00:00", ref)).toThrow('"Feb 30 00:00:00" is not a time there is');
    expect(() => syslog("Dec  1 25:00:00", ref)).toThrow("is not a time there is");
    expect(() => syslog("2024-12-01 09:05:03", ref)).toThrow('"2024-12-01 09:05:03" is not a timestamp in the layout "syslog"');
  });

  it("uses the year rule for any pattern with a month and no year", () => {
    expect(timestampParser("%b %e %H:%M:%S.%f", "l")("Dec 31 23:59:58.250", Date.UTC(2025, 0, 1))).toBe(iso(Date.UTC(2024, 11, 31, 23, 59, 58, 250)));
  });

  it("without a layout, points a syslog time at the layout", () => {
    expect(() => timestampParser(undefined, "l")("Dec  1 09:05:03")).toThrow("a syslog time has no year: give layout: syslog");
  });
});

describe("the zone of times without an offset", () => {
  it("reads a fixed offset and an IANA zone, DST included", () => {
    const ref = Date.UTC(2024, 11, 31);
    expect(timestampParser("syslog", "l", { zone: "+05:30" })("Mar  1 09:00:00", ref)).toBe(iso(Date.UTC(2024, 2, 1, 9) - 5.5 * HOUR));
    expect(timestampParser("syslog", "l", { zone: "-0800" })("Mar  1 09:00:00", ref)).toBe(iso(Date.UTC(2024, 2, 1, 9) + 8 * HOUR));
    const berlin = timestampParser("syslog", "l", { zone: "Europe/Berlin" });
    expect(berlin("Jan 15 12:00:00", ref)).toBe(iso(Date.UTC(2024, 0, 15, 11)));
    expect(berlin("Jul 15 12:00:00", ref)).toBe(iso(Date.UTC(2024, 6, 15, 10)));
    // 27 Oct 2024: 02:30 happens twice (CEST, then CET); the earlier is taken.
    expect(berlin("Oct 27 02:30:00", ref)).toBe(iso(Date.UTC(2024, 9, 27, 0, 30)));
    expect(berlin("Oct 27 03:30:00", ref)).toBe(iso(Date.UTC(2024, 9, 27, 2, 30)));
    // 31 Mar 2024: clocks go from 02:00 to 03:00; 02:30 is read with the winter offset.
    expect(berlin("Mar 31 02:30:00", ref)).toBe(iso(Date.UTC(2024, 2, 31, 1, 30)));
    expect(berlin("Mar 31 01:59:59", ref)).toBe(iso(Date.UTC(2024, 2, 31, 0, 59, 59)));
  });

  it("applies to ISO times without an offset, never to those with one (RFC 5424 / RFC 3339)", () => {
    const ny = timestampParser(undefined, "l", { zone: "America/New_York" });
    expect(ny("2024-03-01T09:05:03")).toBe(iso(Date.UTC(2024, 2, 1, 14, 5, 3)));
    expect(ny("2024-03-01T09:05:03.123456+01:00")).toBe(iso(Date.UTC(2024, 2, 1, 8, 5, 3, 123)));
    expect(timestampParser("iso8601", "l")("2024-03-01T09:05:03.5Z")).toBe(iso(Date.UTC(2024, 2, 1, 9, 5, 3, 500)));
    expect(ny(1700000000)).toBe(iso(1700000000_000));
  });

  it("is refused at definition time, naming the column's field, when it is no zone", () => {
    const def = (zone: unknown, type = "timestamp") => ({
      format: { type: "jsonl" },
      columns: [
        { name: "tp_timestamp", source: "t" },
        { name: "at", type, layout: type === "timestamp" ? "syslog" : undefined, zone },
      ],
    });
    const refusal = (d: unknown) => {
      try {
        defineCustomTable("t", d, { file: "t.yaml" });
      } catch (err) {
        return { message: (err as Error).message, field: (err as { details?: { field?: string } }).details?.field };
      }
      throw new Error("accepted");
    };
    expect(refusal(def("Mars/Olympus"))).toEqual({
      message:
        't.yaml: columns[1].zone: column at: unknown zone "Mars/Olympus"; give UTC, an offset such as +02:00, or an IANA zone name such as Europe/Berlin',
      field: "table_config.definition.columns[1].zone",
    });
    expect(refusal(def("+19:00")).message).toBe('t.yaml: columns[1].zone: column at: offset "+19:00" is out of range (-18:00 to +18:00)');
    expect(refusal(def(2)).message).toContain("columns[1].zone: column at: must be a zone");
    expect(
      refusal({
        ...def("UTC"),
        columns: [
          { name: "tp_timestamp", source: "t" },
          { name: "at", zone: "UTC" },
        ],
      }).message,
    ).toBe("t.yaml: columns[1].zone: column at: a zone is for a timestamp column or transform");
  });
});

const SYSLOG_DEF = {
  format: { type: "grok", layout: "^%{SYSLOGLINE}$" },
  columns: [
    { name: "tp_timestamp", source: "timestamp", type: "timestamp", layout: "syslog" },
    { name: "program" },
    { name: "seen", source: "timestamp", transforms: [{ timestamp: "syslog" }], type: "string" },
  ],
};

/** Collects one file of `lines`, last modified at `mtime`, with the core plugin and `definition`. */
async function collectFile(name: string, lines: string[], mtime: number, definition: Record<string, unknown>, table = "syslog") {
  const dir = scratch();
  const file = join(dir, name);
  writeFileSync(file, lines.map((l) => `${l}\n`).join(""));
  utimesSync(file, mtime / 1000, mtime / 1000);
  return collectInProcess(corePlugin, {
    table,
    source: { type: "file", config: { paths: [file] } },
    tableConfig: { definition },
    outputDir: join(dir, "out"),
  });
}

describe("a custom table of syslog lines", () => {
  it("places a file's lines by its mtime, across New Year, and reports a bad time as a row error", async () => {
    const res = await collectFile(
      "syslog",
      [
        "Dec 31 23:59:58 host1 CRON[100]: (root) CMD (run-parts /etc/cron.hourly)",
        "Jan  1 00:00:05 host1 systemd[1]: Starting logrotate.service",
        "Feb 30 00:00:09 host1 kernel: clock went strange",
        "Jan  1 00:04:59 host1 systemd[1]: Finished logrotate.service",
      ],
      Date.UTC(2025, 0, 1, 0, 5),
      SYSLOG_DEF,
    );
    expect(res.rows.map((r) => [r["tp_timestamp"], r["program"], r["seen"]])).toEqual([
      [iso(Date.UTC(2024, 11, 31, 23, 59, 58)), "CRON", iso(Date.UTC(2024, 11, 31, 23, 59, 58))],
      [iso(Date.UTC(2025, 0, 1, 0, 0, 5)), "systemd", iso(Date.UTC(2025, 0, 1, 0, 0, 5))],
      [iso(Date.UTC(2025, 0, 1, 0, 4, 59)), "systemd", iso(Date.UTC(2025, 0, 1, 0, 4, 59))],
    ]);
    // Both columns fail; the first names the operation counted.
    expect(res.complete.status.rowErrors).toEqual({ "type:tp_timestamp": 1 });
    const errors = res.events.flatMap((e) => (e.type === "error" ? [e.message] : []));
    expect(errors).toEqual([
      expect.stringContaining(
        'line 3: column tp_timestamp (timestamp): "Feb 30 00:00:09" is not a time there is (a day its month lacks, or a field out of range); ' +
          'column seen: "Feb 30 00:00:09" is not a time there is',
      ),
    ]);
  });

  it("reads RFC 5424 lines' ISO times with no layout", async () => {
    const res = await collectFile(
      "messages",
      ["2024-03-01T09:05:03.123456+01:00 host1 sshd[7]: ok", "2024-03-01T09:05:04Z host1 sshd[7]: ok", "2024-03-01T09:05:05 host1 sshd[7]: ok"],
      Date.UTC(2030, 0, 1),
      {
        format: { type: "grok", layout: "^%{TIMESTAMP_ISO8601:time} %{SYSLOGHOST:host} %{SYSLOGPROG}: %{GREEDYDATA:message}$" },
        columns: [{ name: "tp_timestamp", source: "time", zone: "+02:00" }, { name: "host" }],
      },
    );
    expect(res.rows.map((r) => r["tp_timestamp"])).toEqual([
      iso(Date.UTC(2024, 2, 1, 8, 5, 3, 123)),
      iso(Date.UTC(2024, 2, 1, 9, 5, 4)),
      iso(Date.UTC(2024, 2, 1, 7, 5, 5)),
    ]);
    expect(res.complete.status.rowErrors).toEqual({});
  });
});

describe("the reference time of an artifact without an mtime", () => {
  it("is when its extraction began", () => {
    const table = defineCustomTable("t", {
      format: { type: "jsonl" },
      columns: [
        { name: "tp_timestamp", source: "t", layout: "syslog" },
        { name: "at", source: "t", type: "timestamp", layout: "syslog" },
      ],
    });
    const mappers = table.mappers!({}, { getDataSource: () => undefined }) as readonly Mapper[];
    // An hour ago, to the second, in syslog form: this year's (or, just after New Year, last year's) time.
    const hourAgo = Math.floor((Date.now() - HOUR) / 1000) * 1000;
    const d = new Date(hourAgo);
    const month = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    const text = `${month} ${String(d.getUTCDate()).padStart(2, " ")} ${d.toISOString().slice(11, 19)}`;
    const ctx = { artifact: { name: "x", location: "/x", properties: {} }, itemIndex: 0 };
    expect(mappers[mappers.length - 1]!.map({ t: text }, ctx)).toEqual({ at: iso(hourAgo) });
  });
});

describe("docs/FORMATS.md's auth.log table", () => {
  /** The ```yaml block after `<!-- formats-table-def: NAME -->`, and the log block after it. */
  function example(name: string): { yaml: string; log: string } {
    const doc = readFileSync(join(ROOT, "docs", "FORMATS.md"), "utf8");
    const m = new RegExp(`<!-- formats-table-def: ${name.replace(".", "\\.")} -->\\n+\`\`\`yaml\\n([\\s\\S]*?)\`\`\`\\n+\`\`\`\\n([\\s\\S]*?)\`\`\``).exec(doc);
    if (!m) throw new Error(`no example ${name} in docs/FORMATS.md`);
    return { yaml: m[1]!, log: m[2]! };
  }

  it("collects the lines it shows, by its file_layout, into the instants it says", async () => {
    const { yaml, log } = example("auth.yaml");
    const dir = scratch();
    const mtime = Date.UTC(2025, 0, 2) / 1000;
    for (const name of ["auth.log", "auth.log.1", "auth.log.lock", "syslog"]) {
      writeFileSync(join(dir, name), name === "auth.log" ? log : "");
      utimesSync(join(dir, name), mtime, mtime);
    }
    const res = await collectInProcess(corePlugin, {
      table: "auth_log",
      source: { type: "file", config: { paths: [dir] } },
      tableConfig: { definition: parseYaml(yaml) as Record<string, unknown> },
      outputDir: join(dir, "out"),
    });
    // Berlin is UTC+1 in winter.
    expect(res.rows.map((r) => [r["tp_timestamp"], r["host"], r["program"], r["pid"], r["message"]])).toEqual([
      [iso(Date.UTC(2024, 11, 31, 23, 59, 58) - HOUR), "web1", "sshd", 4121, "Accepted publickey for deploy from 203.0.113.9 port 52144 ssh2"],
      [
        iso(Date.UTC(2025, 0, 1, 0, 0, 5) - HOUR),
        "web1",
        "sudo",
        null,
        "deploy : TTY=pts/0 ; PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl reload nginx",
      ],
    ]);
    expect(res.complete.status.rowErrors).toEqual({ "type:tp_timestamp": 1 });
    expect(res.events.flatMap((e) => (e.type === "error" ? [e.message] : []))).toEqual([
      expect.stringContaining(
        'auth.log: line 3: column tp_timestamp (timestamp): "Feb 30 00:01:00" is not a time there is (a day its month lacks, or a field out of range)',
      ),
    ]);
    expect(
      res.events
        .filter((e) => e.type === "artifact_extracted")
        .map((e) => basename((e as { artifact: { name: string } }).artifact.name))
        .sort(),
    ).toEqual(["auth.log", "auth.log.1"]);
  });
});
