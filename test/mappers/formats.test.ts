import { describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../src/errors/index.js";
import { createDelimitedMapper, createJsonLinesMapper, createRegexMapper, MapperChain, type MapContext } from "../../src/mappers/index.js";

const ctx: MapContext = { artifact: { name: "x.log", location: "/x.log", properties: {} }, itemIndex: 3 };

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a throw");
}

describe("createDelimitedMapper", () => {
  const mapper = createDelimitedMapper({
    fields: ["time", "client", "request", "status", "bytes", "latency"],
    types: { status: "int", bytes: "int", latency: "float" },
  });

  it("splits on spaces, keeps quoted fields whole, turns '-' into null and converts types", () => {
    expect(mapper.map('2024-01-01T00:00:00Z 10.0.0.1 "GET /a b HTTP/1.1" 200 - 0.25', ctx)).toEqual({
      time: "2024-01-01T00:00:00Z",
      client: "10.0.0.1",
      request: "GET /a b HTTP/1.1",
      status: 200,
      bytes: null,
      latency: 0.25,
    });
  });

  it("rejects a line with the wrong field count, naming both counts", () => {
    expect(thrown(() => mapper.map("a b c", ctx)).message).toBe('expected 6 fields separated by " ", found 3');
  });

  it("rejects a value that is not of its type, naming the field", () => {
    expect(thrown(() => mapper.map("t c r abc 1 0.1", ctx)).message).toContain('field "status": expected an integer, found "abc"');
  });

  it("reads CSV with doubled quotes and skips a header that repeats the field names", () => {
    const csv = createDelimitedMapper({ fields: ["a", "b"], separator: ",", header: "skip-if-matches-fields" });
    expect(csv.map("a,b", ctx)).toBeUndefined();
    expect(csv.map('"x, ""y""",', ctx)).toEqual({ a: 'x, "y"', b: "" });
  });

  it("skips the first item when told to", () => {
    const m = createDelimitedMapper({ fields: ["a"], header: "skip-first" });
    expect(m.map("anything", { ...ctx, itemIndex: 0 })).toBeUndefined();
    expect(m.map("anything", ctx)).toEqual({ a: "anything" });
  });

  it("rejects bad options with INVALID_ARGUMENT naming the option", () => {
    const err = thrown(() => createDelimitedMapper({ fields: ["a", "a"] }));
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).details.field).toBe("fields");
    expect((thrown(() => createDelimitedMapper({ fields: ["a"], types: { b: "int" } })) as TailkitError).details.field).toBe("types.b");
  });
});

describe("createRegexMapper", () => {
  const mapper = createRegexMapper(/^(?<ip>\S+) (?<user>\S+) (?<status>\d+)(?: (?<extra>.*))?$/, { types: { status: "int" } });

  it("returns the named groups as a row, with null for a group that did not take part", () => {
    expect(mapper.map("1.2.3.4 bob 404", ctx)).toEqual({ ip: "1.2.3.4", user: "bob", status: 404, extra: null });
  });

  it("rejects a line that does not match, quoting it", () => {
    expect(thrown(() => mapper.map("garbage", ctx)).message).toMatch(/^line does not match .*: "garbage"$/);
  });

  it("refuses a pattern without named groups or one that does not compile", () => {
    expect((thrown(() => createRegexMapper("(\\d+)")) as TailkitError).details.field).toBe("pattern");
    expect((thrown(() => createRegexMapper("(?<a>")) as TailkitError).code).toBe(Code.InvalidArgument);
  });

  it("is not confused by a global flag across lines", () => {
    const g = createRegexMapper(/(?<n>\d+)/g);
    expect(g.map("12", ctx)).toEqual({ n: "12" });
    expect(g.map("34", ctx)).toEqual({ n: "34" });
  });
});

describe("createJsonLinesMapper", () => {
  const mapper = createJsonLinesMapper();

  it("parses a line into an object and drops blank lines", () => {
    expect(mapper.map('{"a":1}', ctx)).toEqual({ a: 1 });
    expect(mapper.map("   ", ctx)).toBeUndefined();
  });

  it("rejects malformed JSON and non-objects with a clear message", () => {
    expect(thrown(() => mapper.map('{"a":', ctx)).message).toMatch(/^malformed JSON/);
    expect(thrown(() => mapper.map("[1]", ctx)).message).toBe("expected a JSON object, found an array");
  });

  it("becomes row errors with positions inside a chain", () => {
    const out = new MapperChain([mapper], ctx.artifact).map(['{"a":1}', "oops", '{"a":2}']);
    expect(out.positions).toEqual([0, 2]);
    expect(out.errors).toMatchObject([{ position: 1, operation: "map", message: expect.stringMatching(/^json-lines: malformed JSON/) }]);
  });
});
