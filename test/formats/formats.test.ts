import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Code } from "../../src/errors/index.js";
import { compileLogFormat, createFormat, createLogFormatMapper, logFormatString, NGINX_MAIN } from "../../src/formats/index.js";
import type { MapContext } from "../../src/mappers/index.js";
import { readFormat, tempDir, thrown } from "./helpers.js";

const dir = tempDir("formats");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string, name = `f${n++}.log`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}
const ctx: MapContext = { artifact: { name: "x.log", location: "/x.log", properties: {} }, itemIndex: 0 };

describe("jsonl", () => {
  it("gives one row per object line; a malformed line is a counted map row error at its line", async () => {
    const r = await readFormat({ type: "jsonl" }, file('{"a":1}\n\n{"a":\n{"a":3,"b":[1]}\n[1]\n'));
    expect(r.rows).toEqual([{ a: 1 }, { a: 3, b: [1] }]);
    expect(r.errors.map((e) => [e.operation, e.itemIndex + 1])).toEqual([
      ["map", 3],
      ["map", 5],
    ]);
    expect(r.failure).toBeUndefined();
  });
});

describe("delimited", () => {
  it("reads a CSV with a header: quoting, escaped quotes, delimiters and newlines inside quotes", async () => {
    const r = await readFormat({ type: "delimited" }, file('id,name,note\n1,"Smith, J","said ""hi"""\n2,plain,"two\nlines"\n3,x,\n'));
    expect(r.rows).toEqual([
      { id: "1", name: "Smith, J", note: 'said "hi"' },
      { id: "2", name: "plain", note: "two\nlines" },
      { id: "3", name: "x", note: "" },
    ]);
  });

  it("reads TSV by named columns, with a null string and a custom escape", async () => {
    const r = await readFormat(
      { type: "delimited", delimiter: "\t", columns: ["ts", "user", "msg"], null_value: "\\N", escape: "\\" },
      file('2024-01-01\talice\t"a \\"quoted\\" word"\n2024-01-02\t\\N\tok\n'),
    );
    expect(r.rows).toEqual([
      { ts: "2024-01-01", user: "alice", msg: 'a "quoted" word' },
      { ts: "2024-01-02", user: null, msg: "ok" },
    ]);
  });

  it("skips the header when columns are named and header is true; comments are skipped", async () => {
    const r = await readFormat({ type: "delimited", columns: ["x", "y"], header: true, comment: "#" }, file("a,b\n# note\n1,2\n"));
    expect(r.rows).toEqual([{ x: "1", y: "2" }]);
  });

  it("makes a record with the wrong field count, or an unclosed quote, a counted row error at its line", async () => {
    const r = await readFormat({ type: "delimited" }, file('a,b\n1,2\n3\n4,5,6\n7,8\n9,"open\n'));
    expect(r.rows).toEqual([
      { a: "1", b: "2" },
      { a: "7", b: "8" },
    ]);
    expect(r.errors.map((e) => [e.operation, e.itemIndex + 1])).toEqual([
      ["map", 3],
      ["map", 4],
      ["map", 6],
    ]);
    expect(r.errors[0]!.message).toMatch(/expected 2 fields separated by ",", found 1/);
    expect(r.errors[2]!.message).toMatch(/Quote Not Closed/);
    // Rows and errors share one position counter, in file order.
    expect(r.positions).toEqual([0, 3]);
  });

  it("numbers rows after a multi-line record by their own lines", async () => {
    const r = await readFormat({ type: "delimited" }, file('a,b\n1,"x\ny\nz"\n2,bad,extra\n'));
    expect(r.errors.map((e) => e.itemIndex + 1)).toEqual([5]);
  });

  it("refuses named columns twice and no header without columns", () => {
    expect(() => createFormat({ type: "delimited", columns: ["a", "a"] })).toThrow(/format.columns: column "a" is named twice/);
    expect(() => createFormat({ type: "delimited", header: false })).toThrow(/format.columns: must be given/);
  });
});

describe("regex", () => {
  it("gives named groups; a line that does not match is a counted map row error", async () => {
    const r = await readFormat({ type: "regex", layout: "^(?<level>[A-Z]+) (?<msg>.*)$", null_value: "-" }, file("INFO started\nbad line\nWARN -\n"));
    expect(r.rows).toEqual([
      { level: "INFO", msg: "started" },
      { level: "WARN", msg: null },
    ]);
    expect(r.errors.map((e) => [e.operation, e.itemIndex + 1])).toEqual([["map", 2]]);
  });

  it("refuses a layout that does not compile, naming format.layout", () => {
    const e = thrown(() => createFormat({ type: "regex", layout: "(?<a>[" }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.details.field).toBe("format.layout");
  });
});

describe("grok", () => {
  it("parses lines by a grok layout with user patterns; unmatched lines are counted row errors", async () => {
    const r = await readFormat(
      { type: "grok", layout: "^%{TIMESTAMP_ISO8601:time} %{LOGLEVEL:level} %{APP:app}: %{GREEDYDATA:message}$", patterns: { APP: "[a-z]+-[0-9]+" } },
      file("2024-01-15T10:00:00Z ERROR api-1: boom\ngarbage\n2024-01-15T10:00:01Z INFO api-2: ok\n"),
    );
    expect(r.rows).toEqual([
      { time: "2024-01-15T10:00:00Z", level: "ERROR", app: "api-1", message: "boom" },
      { time: "2024-01-15T10:00:01Z", level: "INFO", app: "api-2", message: "ok" },
    ]);
    expect(r.errors.map((e) => [e.operation, e.itemIndex + 1])).toEqual([["map", 2]]);
  });

  it("refuses an unknown pattern at definition, naming it and format.layout", () => {
    expect(() => createFormat({ type: "grok", layout: "%{IPADDR:ip}" })).toThrow(/^format.layout: grok pattern names an unknown grok pattern %\{IPADDR\}/);
  });
});

describe("nginx log_format", () => {
  it("parses the combined preset, '-' as null and numbers converted", async () => {
    const r = await readFormat({ type: "nginx" }, path.join(import.meta.dirname, "fixtures", "access.log"));
    expect(r.rows[0]).toEqual({
      remote_addr: "203.0.113.9",
      remote_user: null,
      time_local: "10/Oct/2023:13:55:36 +0000",
      request: "GET /index.html HTTP/1.1",
      status: 200,
      body_bytes_sent: 2326,
      http_referer: null,
      http_user_agent: "curl/8.0",
    });
    expect(r.rows[2]).toMatchObject({ remote_addr: "2001:db8::7", body_bytes_sent: null, status: 404 });
    expect(r.errors).toEqual([]);
  });

  it("compiles a custom log_format, given as a string or as the nginx.conf directive", () => {
    const layout = '$remote_addr [$time_iso8601] "$request" $status $request_time ${upstream_addr} "$http_user_agent"';
    const line = '10.0.0.1 [2024-01-15T10:00:00+00:00] "GET /a?b=\\"c\\" HTTP/1.1" 502 0.125 10.0.0.9:8080 "ua \\"x\\""';
    const expected = {
      remote_addr: "10.0.0.1",
      time_iso8601: "2024-01-15T10:00:00+00:00",
      request: 'GET /a?b=\\"c\\" HTTP/1.1',
      status: 502,
      request_time: 0.125,
      upstream_addr: "10.0.0.9:8080",
      http_user_agent: 'ua \\"x\\"',
    };
    expect(createLogFormatMapper(layout).map(line, ctx)).toEqual(expected);
    const directive = `log_format timed '$remote_addr [$time_iso8601] "$request" '\n  '$status $request_time \${upstream_addr} "$http_user_agent"';`;
    expect(logFormatString(directive)).toBe(layout);
    expect(createLogFormatMapper(directive).map(line, ctx)).toEqual(expected);
  });

  it("parses the main preset and rejects a line that does not fit", async () => {
    expect(compileLogFormat(NGINX_MAIN).fields.map((f) => f.name)).toContain("http_x_forwarded_for");
    const r = await readFormat({ type: "nginx", layout: "$remote_addr $status" }, file("10.0.0.1 200\nnope\n10.0.0.2 abc\n"));
    expect(r.rows).toEqual([{ remote_addr: "10.0.0.1", status: 200 }]);
    expect(r.errors.map((e) => [e.operation, e.itemIndex + 1])).toEqual([
      ["map", 2],
      ["map", 3],
    ]);
    expect(r.errors[1]!.message).toMatch(/field "status": expected an integer/);
  });

  it("refuses a layout with no variable, or two variables with nothing between them", () => {
    expect(() => createFormat({ type: "nginx", layout: "plain text" })).toThrow(/format.layout: .* names no variable/);
    expect(() => createFormat({ type: "nginx", layout: "$a$b" })).toThrow(/format.layout: \$a and \$b have nothing between them/);
  });
});

describe("apache presets", () => {
  it("parses common and combined lines", async () => {
    const common = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326';
    const combined = `${common} "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`;
    const r = await readFormat({ type: "apache", preset: "common" }, file(`${common}\nnot apache\n`));
    expect(r.rows).toEqual([
      {
        clientip: "127.0.0.1",
        ident: null,
        auth: "frank",
        timestamp: "10/Oct/2000:13:55:36 -0700",
        verb: "GET",
        request: "/apache_pb.gif",
        httpversion: "1.0",
        rawrequest: null,
        response: 200,
        bytes: 2326,
      },
    ]);
    expect(r.errors.map((e) => e.itemIndex + 1)).toEqual([2]);
    const c = await readFormat({ type: "apache" }, file(`${combined}\n`));
    expect(c.rows[0]).toMatchObject({ referrer: '"http://www.example.com/start.html"', agent: '"Mozilla/4.08 [en] (Win98; I ;Nav)"', response: 200 });
  });
});
