import { describe, expect, it } from "vitest";
import { RowErrorItem } from "../../src/loaders/index.js";
import { MapperChain, type Mapper } from "../../src/mappers/index.js";
import type { ArtifactInfo } from "../../src/contract/source.js";

const artifact: ArtifactInfo = { name: "a/b.log", location: "/tmp/a/b.log", properties: {} };

const parse: Mapper<string, Record<string, unknown>> = {
  name: "parse",
  map(line) {
    if (line === "bad") throw new Error("cannot parse");
    if (line === "skip") return undefined;
    if (line.startsWith("many:"))
      return line
        .slice(5)
        .split(",")
        .map((v) => ({ v }));
    return { v: line };
  },
};

describe("MapperChain", () => {
  it("numbers rows and errors with one counter that runs on across batches", () => {
    const chain = new MapperChain([parse], artifact);
    const first = chain.map(["a", "bad", "many:x,y", "skip"]);
    expect(first.rows).toEqual([{ v: "a" }, { v: "x" }, { v: "y" }]);
    expect(first.positions).toEqual([0, 2, 3]);
    expect(first.errors).toEqual([{ position: 1, operation: "map", message: "parse: cannot parse", itemIndex: 1 }]);
    expect([first.from, first.to]).toEqual([0, 4]);

    const second = chain.map([new RowErrorItem("line 6 is too long"), "c"]);
    expect(second.errors).toEqual([{ position: 4, operation: "load", message: "line 6 is too long", itemIndex: 4 }]);
    expect(second.rows).toEqual([{ v: "c" }]);
    expect(second.positions).toEqual([5]);
    expect([second.from, second.to]).toEqual([4, 6]);
    expect(chain.position).toBe(6);
    expect(chain.itemCount).toBe(6);
  });

  it("feeds each output of a mapper to the next one, and records where in an expansion a later mapper fails", () => {
    const check: Mapper<Record<string, unknown>, Record<string, unknown>> = {
      name: "check",
      map(row, ctx) {
        if (row["v"] === "y") throw new Error(`rejected in ${ctx.artifact.name}`);
        return { ...row, item: ctx.itemIndex };
      },
    };
    const out = new MapperChain([parse, check], artifact).map(["many:x,y,z"]);
    expect(out.rows).toEqual([
      { v: "x", item: 0 },
      { v: "z", item: 0 },
    ]);
    expect(out.positions).toEqual([0, 2]);
    expect(out.errors).toEqual([{ position: 1, operation: "map", message: "check: rejected in a/b.log", itemIndex: 0 }]);
  });

  it("passes items through unchanged with no mappers, and records non-Error throws", () => {
    expect(new MapperChain([], artifact).map([{ a: 1 }]).rows).toEqual([{ a: 1 }]);
    const throwsString: Mapper = {
      name: "s",
      map() {
        // A mapper may throw anything; the chain must still report it.
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw "plain string";
      },
    };
    expect(new MapperChain([throwsString], artifact).map([1]).errors[0]?.message).toBe("s: plain string");
  });
});
