import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nginxPlugin } from "../../plugins/nginx/src/index.js";
import { TailkitError } from "../../src/errors/index.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir, zipArchive, zstdRawFrame } from "../formats/helpers.js";
import { S3_CREDENTIALS, startS3, type S3Server } from "../sources/s3/s3-server.js";

const root = tempDir("nginx");
let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3(["web"]);
});
afterAll(async () => {
  await s3?.close();
  fs.rmSync(root, { recursive: true, force: true });
});
let n = 0;
function folder(files: Record<string, string>): string {
  const dir = path.join(root, `d${n++}`);
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
  return dir;
}
function collect(table: string, dir: string, tableConfig?: Record<string, unknown>) {
  return collectInProcess(nginxPlugin, {
    table,
    source: { type: "file", config: { paths: [dir] } },
    ...(tableConfig ? { tableConfig } : {}),
    outputDir: path.join(root, `out${n++}`),
  });
}

const TIMED = '$remote_addr - [$time_iso8601] "$request" $status $body_bytes_sent $request_time "$http_user_agent" $upstream_addr';
const timedLines = [
  '10.0.0.1 - [2024-05-01T10:00:00+02:00] "GET /api/items?id=3 HTTP/2.0" 200 512 0.004 "curl/8" 10.0.1.5:8080',
  "a line of something else",
  '10.0.0.2 - [2024-05-01T10:00:01+02:00] "POST /api/items HTTP/1.1" 201 - 1.250 "Mozilla/5.0 (X11)" -',
  "",
].join("\n");

const ERRORS = [
  '2024/05/01 10:00:00 [error] 1201#1201: *42 open() "/srv/www/favicon.ico" failed (2: No such file or directory), client: 192.0.2.7, server: shop.example.com, request: "GET /favicon.ico HTTP/1.1", host: "shop.example.com"',
  "2024/05/01 10:00:05 [notice] 1200#1200: signal process started",
  '2024/05/01 10:00:09 [crit] 1201#1203: *43 upstream timed out (110: Connection timed out) while reading response header from upstream, client: 192.0.2.8, server: _, request: "POST /pay, now HTTP/1.1", upstream: "http://10.0.1.5:8080/pay", host: "shop.example.com", referrer: "https://shop.example.com/cart"',
  "not an error line",
  "2024/02/30 10:00:00 [warn] 1#1: a day February lacks",
  "",
].join("\n");

describe("nginx_access_log with a custom log_format", () => {
  it("parses the log_format given in the table config, as a string or as its directive", async () => {
    const dir = folder({ "access.log": timedLines });
    for (const log_format of [TIMED, `log_format timed '${TIMED.slice(0, 40)}'\n    '${TIMED.slice(40)}';`]) {
      const res = await collect("nginx_access_log", dir, { log_format });
      expect(res.complete.error).toBeUndefined();
      expect(
        res.rows.map((r) => [
          r["remote_addr"],
          r["method"],
          r["path"],
          r["status"],
          r["body_bytes_sent"],
          r["request_time"],
          r["upstream_addr"],
          r["tp_timestamp"],
        ]),
      ).toEqual([
        ["10.0.0.1", "GET", "/api/items?id=3", 200, 512, 0.004, "10.0.1.5:8080", "2024-05-01T08:00:00.000Z"],
        ["10.0.0.2", "POST", "/api/items", 201, null, 1.25, null, "2024-05-01T08:00:01.000Z"],
      ]);
      expect(res.complete.status.rowErrors).toEqual({ map: 1 });
    }
  });

  it("refuses at Collect a log_format without a time variable, or one that cannot be parsed, naming table_config.log_format", async () => {
    const dir = folder({ "access.log": timedLines });
    for (const [log_format, message] of [
      ["$remote_addr $status", /has none of \$time_local, \$time_iso8601, \$msec/],
      ["$remote_addr$time_local", /have nothing between them/],
    ] as const) {
      const e = await collect("nginx_access_log", dir, { log_format }).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(TailkitError);
      expect((e as TailkitError).details.field).toBe("table_config.log_format");
      expect((e as TailkitError).message).toMatch(message);
    }
  });
});

describe("nginx_error_log", () => {
  it("parses level, process, connection, message and the details nginx appends; bad lines are row errors", async () => {
    const res = await collect("nginx_error_log", folder({ "web1/error.log": ERRORS, "web1/access.log": timedLines }));
    expect(res.rows).toHaveLength(3);
    expect(res.rows[0]).toMatchObject({
      time: "2024-05-01T10:00:00+00:00",
      level: "error",
      pid: 1201,
      tid: 1201,
      connection: 42,
      message: 'open() "/srv/www/favicon.ico" failed (2: No such file or directory)',
      client: "192.0.2.7",
      server: "shop.example.com",
      request: "GET /favicon.ico HTTP/1.1",
      host: "shop.example.com",
      upstream: null,
      tp_timestamp: "2024-05-01T10:00:00.000Z",
      tp_source_ip: "192.0.2.7",
    });
    expect(res.rows[1]).toMatchObject({ level: "notice", connection: null, message: "signal process started", client: null });
    expect(res.rows[2]).toMatchObject({
      level: "crit",
      tid: 1203,
      request: "POST /pay, now HTTP/1.1",
      upstream: "http://10.0.1.5:8080/pay",
      referrer: "https://shop.example.com/cart",
      message: "upstream timed out (110: Connection timed out) while reading response header from upstream",
    });
    expect(res.complete.status.rowErrors).toEqual({ map: 2 });
  });

  it("reads times at the configured utc_offset", async () => {
    const res = await collect("nginx_error_log", folder({ "error.log": ERRORS }), { utc_offset: "-05:00" });
    expect(res.rows[0]!["tp_timestamp"]).toBe("2024-05-01T15:00:00.000Z");
  });
});

describe("the default layouts", () => {
  /** A folder of the usual rotation names, and names beside them that are not logs, each holding `line`. */
  function rotations(base: string, line: string): string {
    const dir = path.join(root, `d${n++}`);
    const text = Buffer.from(`${line}\n`);
    const files: Record<string, Buffer> = {
      [base]: text,
      [`${base}.1`]: text,
      [`${base}.2.gz`]: zlib.gzipSync(text),
      [`${base}-20240301`]: text,
      [`${base}-20240302.gz`]: zlib.gzipSync(text),
      [`${base}.3.zst`]: zstdRawFrame(text),
      [`${base}.4.zip`]: zipArchive([{ name: base, data: text }]),
      [`web1/shop.example.com.${base}`]: text,
      [`${base}.lock`]: text,
      [`${base}.2.gz.tmp`]: text,
      [`${base}.old`]: text,
      [`${base}x`]: text,
      "foo.txt": text,
    };
    for (const [name, content] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), content);
    }
    return dir;
  }
  const expected = (base: string) =>
    [base, `${base}-20240301`, `${base}-20240302.gz`, `${base}.1`, `${base}.2.gz`, `${base}.3.zst`, `${base}.4.zip`, `web1/shop.example.com.${base}`].sort();

  it.each([
    ["nginx_access_log", "access.log", '10.0.0.1 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"'],
    ["nginx_error_log", "error.log", "2024/05/01 10:00:05 [notice] 1200#1200: signal process started"],
  ])("%s collects %s, its numbered, dated and compressed rotations, and nothing else", async (table, base, line) => {
    const dir = rotations(base, line);
    const res = await collect(table, dir);
    expect(res.complete.error).toBeUndefined();
    const collected = res.events.flatMap((e) => (e.type === "artifact_extracted" ? [path.relative(path.basename(dir), e.artifact.name)] : []));
    expect(collected.sort()).toEqual(expected(base));
    // One row from each, the compressed ones read by their content.
    expect(res.rows).toHaveLength(expected(base).length);
    expect(res.complete.status.rowErrors).toEqual({});
  });
});

describe("the nginx plugin on an S3 bucket", () => {
  it("collects access and error logs under their default layouts", async () => {
    await s3.put("web", "logs/web1/access.log", timedLines.replace(/\[(\S+)\]/g, "[01/May/2024:10:00:00 +0000]"));
    await s3.put("web", "logs/web1/error.log", ERRORS);
    const config = { bucket: "web", endpoint: s3.endpoint, force_path_style: true, region: "us-east-1", ...S3_CREDENTIALS };
    const run = (table: string, tableConfig?: Record<string, unknown>) =>
      collectInProcess(nginxPlugin, {
        table,
        source: { type: "aws_s3_bucket", config },
        ...(tableConfig ? { tableConfig } : {}),
        outputDir: path.join(root, `out${n++}`),
      });
    const access = await run("nginx_access_log", { log_format: TIMED.replace("$time_iso8601", "$time_local") });
    expect(access.rows.map((r) => r["remote_addr"])).toEqual(["10.0.0.1", "10.0.0.2"]);
    const errors = await run("nginx_error_log");
    expect(errors.rows.map((r) => r["level"])).toEqual(["error", "notice", "crit"]);
  });
});
