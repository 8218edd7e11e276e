import { describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../../src/errors/index.js";
import { compileFileLayout, mayIntersect, periodOf } from "../../../src/sources/filesystem/index.js";

const CLOUDTRAIL = "AWSLogs/{account:\\d{12}}/CloudTrail/{region}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.json.gz";

/** Matches a relative path segment by segment, as the walk does. */
function match(pattern: string, rel: string): Record<string, string> | undefined {
  const layout = compileFileLayout(pattern);
  const parts = rel.split("/");
  let states = layout.initial();
  for (const dir of parts.slice(0, -1)) {
    states = layout.enterDirectory(states, dir);
    if (states.length === 0) return undefined;
  }
  return layout.matchFile(states, parts[parts.length - 1]!);
}

function layoutError(pattern: string): TailkitError {
  try {
    compileFileLayout(pattern);
  } catch (err) {
    expect(err).toBeInstanceOf(TailkitError);
    return err as TailkitError;
  }
  throw new Error(`expected ${pattern} to be refused`);
}

describe("compileFileLayout", () => {
  it("captures named parts, with custom regexes holding braces", () => {
    expect(match(CLOUDTRAIL, "AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/15/123_CloudTrail_x.json.gz")).toEqual({
      account: "123456789012",
      region: "us-east-1",
      year: "2024",
      month: "03",
      day: "15",
      file: "123_CloudTrail_x",
    });
    expect(match(CLOUDTRAIL, "AWSLogs/12345/CloudTrail/us-east-1/2024/03/15/x.json.gz")).toBeUndefined();
    expect(match(CLOUDTRAIL, "AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/15/x.json")).toBeUndefined();
  });

  it("prunes a directory that cannot match its segment", () => {
    const layout = compileFileLayout(CLOUDTRAIL);
    expect(layout.enterDirectory(layout.initial(), "Other")).toEqual([]);
    expect(layout.enterDirectory(layout.initial(), "AWSLogs")).toHaveLength(1);
  });

  it("matches every file at any depth by default, and supports * and **", () => {
    expect(match("**/*", "a.log")).toEqual({});
    expect(match("**/*", "x/y/z/a.log")).toEqual({});
    expect(match("logs/**/{name}.log", "logs/a.log")).toEqual({ name: "a" });
    expect(match("logs/**/{name}.log", "logs/2024/01/a.log")).toEqual({ name: "a" });
    expect(match("logs/*.log", "logs/a.txt")).toBeUndefined();
  });

  it.each([
    ["a/{year", "never closed"],
    ["a/year}", "no matching"],
    ["{x}/{x}.log", 'capture "x" is used twice'],
    ["{x:a{2,1}}", "bad regex"],
    ["{x:(}", "bad regex"],
    ["a//b", "empty"],
    ["/abs/{f}", "relative"],
    ["../{f}", '".." is not allowed'],
    ["{1x}", "capture name"],
    ["a**b/c", '"**" must be a whole path segment'],
  ])("refuses %s with INVALID_ARGUMENT naming file_layout", (pattern, why) => {
    const err = layoutError(pattern);
    expect(err.code).toBe(Code.InvalidArgument);
    expect(err.details.field).toBe("file_layout");
    expect(err.message).toMatch(/^file_layout: /);
    expect(err.message).toContain(why);
  });
});

describe("time periods", () => {
  it("covers the period the known captures pin down, in UTC", () => {
    expect(periodOf({ year: "2024" })).toEqual({ start: Date.UTC(2024, 0, 1), end: Date.UTC(2025, 0, 1) });
    expect(periodOf({ year: "2024", month: "12" })).toEqual({ start: Date.UTC(2024, 11, 1), end: Date.UTC(2025, 0, 1) });
    expect(periodOf({ year: "2024", month: "02", day: "29", hour: "23" })).toEqual({
      start: Date.UTC(2024, 1, 29, 23),
      end: Date.UTC(2024, 2, 1, 0),
    });
    expect(periodOf({ month: "02" })).toBeUndefined();
  });

  it("keeps periods that touch [from, to) and drops those that don't", () => {
    const from = new Date(Date.UTC(2024, 2, 1));
    const to = new Date(Date.UTC(2024, 3, 1));
    expect(mayIntersect({ year: "2024", month: "03" }, from, to)).toBe(true);
    expect(mayIntersect({ year: "2024", month: "02" }, from, to)).toBe(false);
    expect(mayIntersect({ year: "2024", month: "04" }, from, to)).toBe(false);
    expect(mayIntersect({ year: "2024", month: "04" }, from)).toBe(true);
    expect(mayIntersect({ region: "x" }, from, to)).toBe(true);
  });
});
