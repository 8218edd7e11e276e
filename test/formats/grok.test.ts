import { describe, expect, it } from "vitest";
import { Code } from "../../src/errors/index.js";
import { compileGrok, createGrokMapper, GROK_PATTERNS } from "../../src/formats/index.js";
import type { MapContext } from "../../src/mappers/index.js";
import { thrown } from "./helpers.js";

const ctx: MapContext = { artifact: { name: "x.log", location: "/x.log", properties: {} }, itemIndex: 0 };

/** Whether `text` is, whole, what the named library pattern matches. */
function whole(name: string, text: string): boolean {
  const { regex } = compileGrok(`^%{${name}}$`);
  return regex.test(text);
}

describe("grok pattern library", () => {
  it.each([
    ["IPV4", "192.168.1.10", true],
    ["IPV4", "256.1.1.1", false],
    ["IPV6", "2001:db8::8a2e:370:7334", true],
    ["IPV6", "::1", true],
    ["IPV6", "fe80::1%eth0", true],
    ["IPV6", "::ffff:10.0.0.1", true],
    ["IPV6", "2001:0db8:0000:0000:0000:ff00:0042:8329", true],
    ["IP", "10.0.0.1", true],
    ["IP", "2001:db8::1", true],
    ["NUMBER", "-12.5", true],
    ["NUMBER", "1e3", true],
    ["INT", "+42", true],
    ["INT", "4.2", false],
    ["WORD", "hello_1", true],
    ["NOTSPACE", "a/b?c", true],
    ["NOTSPACE", "a b", false],
    ["QUOTEDSTRING", '"say \\"hi\\""', true],
    ["QUOTEDSTRING", "'single'", true],
    ["TIMESTAMP_ISO8601", "2024-01-15T10:00:00.123Z", true],
    ["TIMESTAMP_ISO8601", "2024-01-15 10:00:00+01:00", true],
    ["HTTPDATE", "10/Oct/2000:13:55:36 -0700", true],
    ["SYSLOGTIMESTAMP", "Jan  5 09:03:01", true],
    ["LOGLEVEL", "WARNING", true],
    ["LOGLEVEL", "error", true],
    ["HOSTNAME", "web-01.example.com", true],
    ["URIPATHPARAM", "/search?q=a+b&page=2", true],
    ["URI", "https://user@example.com:8443/a/b?c=d", true],
    ["UUID", "123e4567-e89b-12d3-a456-426614174000", true],
    ["MAC", "00:1a:2b:3c:4d:5e", true],
    ["EMAILADDRESS", "ops@example.com", true],
  ])("%s matches %j: %s", (name, text, expected) => {
    expect(whole(name, text)).toBe(expected);
  });

  it("has every pattern compile on its own", () => {
    for (const name of Object.keys(GROK_PATTERNS)) expect(() => compileGrok(`%{${name}}`), name).not.toThrow();
  });
});

describe("createGrokMapper", () => {
  it("gives named fields, converting :int and :float, and nested library names", () => {
    const m = createGrokMapper(
      "%{TIMESTAMP_ISO8601:time} %{LOGLEVEL:level} \\[%{WORD:component}\\] took %{NUMBER:ms:float}ms, %{INT:items:int} items: %{GREEDYDATA:message}",
    );
    expect(m.map("2024-01-15T10:00:00Z WARN [db] took 12.5ms, 3 items: slow query", ctx)).toEqual({
      time: "2024-01-15T10:00:00Z",
      level: "WARN",
      component: "db",
      ms: 12.5,
      items: 3,
      message: "slow query",
    });
  });

  it("parses a syslog line with SYSLOGBASE's own fields", () => {
    const m = createGrokMapper("^%{SYSLOGLINE}$");
    expect(m.map("Jan  5 09:03:01 host1 sshd[1234]: Accepted publickey for alice", ctx)).toEqual({
      timestamp: "Jan  5 09:03:01",
      facility: null,
      priority: null,
      logsource: "host1",
      program: "sshd",
      pid: 1234,
      message: "Accepted publickey for alice",
    });
  });

  it("takes user patterns, which may use the library and one another", () => {
    const m = createGrokMapper("%{REQID:id} %{IP:client}", { patterns: { HEX8: "[0-9a-f]{8}", REQID: "req-%{HEX8}" } });
    expect(m.map("req-deadbeef 10.1.2.3", ctx)).toEqual({ id: "req-deadbeef", client: "10.1.2.3" });
  });

  it("rejects a line that does not match, quoting it", () => {
    const m = createGrokMapper("^%{IP:client} %{INT:status:int}$");
    expect(() => m.map("not an ip 200", ctx)).toThrow(/line does not match grok pattern .*"not an ip 200"/);
  });

  it("refuses an unknown pattern, naming it", () => {
    const e = thrown(() => compileGrok("%{IP:client} %{NOPE:x}", { field: "format.layout" }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.details.field).toBe("format.layout");
    expect(e.message).toContain("unknown grok pattern %{NOPE}");
  });

  it("refuses a user pattern that does not compile, naming it", () => {
    const e = thrown(() => compileGrok("%{MINE:x}", { patterns: { MINE: "[0-9+" }, patternsField: "format.patterns" }));
    expect(e.details.field).toBe("format.patterns.MINE");
    expect(e.message).toMatch(/grok pattern MINE does not compile/);
  });

  it("refuses a pattern that refers to itself, and an unknown type", () => {
    expect(thrown(() => compileGrok("%{A}", { patterns: { A: "x%{B}", B: "%{A}" } })).message).toMatch(/refers to itself/);
    expect(thrown(() => compileGrok("%{INT:n:long}")).message).toMatch(/unknown type long/);
  });
});
