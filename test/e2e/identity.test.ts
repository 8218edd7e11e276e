// Row identity through the CLI: tp_id tells every row of every file apart, across logrotate and across roots, and
// stays what it was when the same bytes are read again; a renamed file is known by its content, never taken for
// another file that starts alike.
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readChunks, runCli, tempDir } from "./helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Combined-format lines, each with its own request path (`/<tag>/<i>`), so a row says which line it came from. */
function lines(tag: string, count: number): string {
  return Array.from(
    { length: count },
    (_, i) => `10.0.${i % 200}.${i % 250} - - [26/Nov/2026:02:${String(i % 60).padStart(2, "0")}:00 +0000] "GET /${tag}/${i} HTTP/1.1" 200 ${i} "-" "curl/8"\n`,
  ).join("");
}

async function collect(paths: string[], out: string, extra: string[] = []): Promise<number> {
  const res = await runCli([
    "collect",
    "--no-convert",
    "nginx",
    "--table",
    "nginx_access_log",
    ...paths.flatMap((p) => ["--path", p]),
    "--out",
    out,
    "--output",
    "json",
    ...extra,
  ]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { rows: number }).rows;
}

function rows(out: string): Record<string, unknown>[] {
  return readChunks(out).flatMap((c) => c.rows);
}

/** The request path of each row, e.g. "/h03/12". */
function requests(rs: Record<string, unknown>[]): string[] {
  return rs.map((r) => String(r["path"]));
}

describe("row identity", () => {
  it("gives every row its own tp_id across a logrotate and across two roots with the same paths, and the same id on a re-read", async () => {
    const dir = scratch();
    const logs = join(dir, "logs");
    const out = join(dir, "out");
    mkdirSync(logs);
    writeFileSync(join(logs, "access.log"), lines("old", 300));
    expect(await collect([logs], out)).toBe(300);
    // logrotate: the log moves to access.log.1 and a new access.log starts.
    renameSync(join(logs, "access.log"), join(logs, "access.log.1"));
    writeFileSync(join(logs, "access.log"), lines("new", 250));
    expect(await collect([logs], out)).toBe(250);
    const rotated = rows(out);
    expect(rotated).toHaveLength(550);
    expect(new Set(rotated.map((r) => r["tp_id"])).size).toBe(550);

    // Two hosts, each with its own state, collect logs/h/access.log under their own roots into one output.
    const shared = join(dir, "shared");
    for (const host of ["hostA", "hostB"]) {
      mkdirSync(join(dir, host, "logs", "h"), { recursive: true });
      writeFileSync(join(dir, host, "logs", "h", "access.log"), lines(host, 120));
      expect(await collect([join(dir, host, "logs")], shared, ["--state", join(dir, `${host}.sqlite`)])).toBe(120);
    }
    const hosts = rows(shared);
    expect(hosts).toHaveLength(240);
    expect(new Set(hosts.map((r) => r["tp_id"])).size).toBe(240);

    // The same bytes read again without state (a new output) get the same ids: the new access.log's, whose place and
    // content are the same (the rotated file's rows kept the ids they got as access.log).
    const again = join(dir, "again");
    expect(await collect([logs], again)).toBe(550);
    const idsOf = (rs: Record<string, unknown>[]) =>
      rs
        .filter((r) => String(r["path"]).startsWith("/new/"))
        .map((r) => String(r["tp_id"]))
        .sort();
    expect(idsOf(rows(again))).toHaveLength(250);
    expect(idsOf(rows(again))).toEqual(idsOf(rotated));
  }, 60_000);

  it("knows 24 files that share their first 200 bytes apart when their root folder is renamed, and collects only what was added", async () => {
    const dir = scratch();
    const out = join(dir, "out");
    // Every file starts with the same two lines (past the 128 bytes the head key covers), then has lines of its own.
    const common = lines("common", 2);
    expect(common.length).toBeGreaterThan(128);
    const root = (name: string) => join(dir, name);
    for (let h = 0; h < 24; h++) {
      const host = `h${String(h).padStart(2, "0")}`;
      mkdirSync(join(root("logs"), host), { recursive: true });
      writeFileSync(join(root("logs"), host, "access.log"), common + lines(host, 8));
    }
    expect(await collect([root("logs")], out)).toBe(24 * 10);

    // What the files hold, line by line: the output must hold each exactly once.
    const expected = Array.from({ length: 24 }, (_, h) =>
      [0, 1].map((i) => `/common/${i}`).concat(Array.from({ length: 8 }, (_, i) => `/h${String(h).padStart(2, "0")}/${i}`)),
    ).flat();
    const expectEachLineOnce = () => {
      const all = rows(out);
      expect(requests(all).sort()).toEqual([...expected].sort());
      expect(new Set(all.map((r) => r["tp_id"])).size).toBe(all.length);
    };
    expectEachLineOnce();

    renameSync(root("logs"), root("logs-renamed"));
    expect(await collect([root("logs-renamed")], out)).toBe(0);
    expectEachLineOnce();

    // Lines added to some files are all that the next run collects.
    for (const h of ["03", "11", "20"]) {
      appendFileSync(join(root("logs-renamed"), `h${h}`, "access.log"), lines(`added${h}`, 5));
      expected.push(...Array.from({ length: 5 }, (_, i) => `/added${h}/${i}`));
    }
    expect(await collect([root("logs-renamed")], out)).toBe(15);
    expectEachLineOnce();

    // Grown and renamed at once: their print no longer covers all of their first bytes, and still none is mistaken.
    for (const h of ["05", "17"]) {
      appendFileSync(join(root("logs-renamed"), `h${h}`, "access.log"), lines(`grown${h}`, 4));
      expected.push(...Array.from({ length: 4 }, (_, i) => `/grown${h}/${i}`));
    }
    renameSync(root("logs-renamed"), root("logs-again"));
    expect(await collect([root("logs-again")], out)).toBe(8);
    expectEachLineOnce();
  }, 60_000);
});
