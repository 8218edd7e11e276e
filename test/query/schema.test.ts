import { describe, expect, it } from "vitest";
import { columnsFromSchema, storedInferredType, validateRow } from "../../src/query/schema.js";

describe("columns from a row schema", () => {
  const columns = columnsFromSchema({
    type: "object",
    required: ["when", "n"],
    properties: {
      when: { type: "string", format: "date-time" },
      n: { type: "integer" },
      ratio: { type: ["number", "null"] },
      ok: { type: "boolean" },
      tags: { type: "array", items: { type: "string" } },
      any: { type: "array" },
      free: { type: ["object", "null"] },
      point: { type: "object", properties: { x: { type: "integer" }, label: { type: "string" } }, additionalProperties: false },
      name: { type: "string" },
    },
  });
  const byName = Object.fromEntries(columns.map((c) => [c.name, c]));

  it("stores timestamps as TIMESTAMP, integers, booleans, lists, and objects as JSON or a declared STRUCT", () => {
    expect(Object.fromEntries(columns.map((c) => [c.name, c.type]))).toMatchObject({
      when: "TIMESTAMP",
      n: "BIGINT",
      ratio: "DOUBLE",
      ok: "BOOLEAN",
      tags: "VARCHAR[]",
      any: "JSON[]",
      free: "JSON",
      point: 'STRUCT("x" BIGINT, "label" VARCHAR)',
      name: "VARCHAR",
      tp_id: "VARCHAR",
      tp_timestamp: "TIMESTAMP",
      tp_date: "VARCHAR",
    });
    expect(byName["when"]!.required).toBe(true);
    expect(byName["tp_index"]!.required).toBe(true);
    expect(byName["ratio"]!.required).toBe(false);
  });

  it("names the column a row breaks: missing when required, or a value of another type", () => {
    const row = {
      tp_id: "i",
      tp_timestamp: "2024-03-01T00:00:00Z",
      tp_table: "t",
      tp_partition: "p",
      tp_index: "x",
      tp_date: "2024-03-01",
      when: "2024-03-01T00:00:00.000Z",
      n: 3,
    };
    expect(validateRow(row, columns)).toBeUndefined();
    expect(validateRow({ ...row, ratio: null, free: null, name: "a", tags: ["a"] }, columns)).toBeUndefined();
    expect(validateRow({ ...row, n: undefined }, columns)).toMatchObject({ column: "n", message: "required column n is missing" });
    expect(validateRow({ ...row, n: "3" }, columns)).toMatchObject({ column: "n" });
    expect(validateRow({ ...row, n: 2.5 }, columns)).toMatchObject({ column: "n" });
    expect(validateRow({ ...row, when: "yesterday" }, columns)).toMatchObject({ column: "when" });
    expect(validateRow({ ...row, ok: "true" }, columns)).toMatchObject({ column: "ok" });
    expect(validateRow({ ...row, n: 2 ** 63 }, columns)).toMatchObject({ column: "n" });
    expect(validateRow({ ...row, when: "2024-03-01" }, columns)).toMatchObject({ column: "when" });
    // A string column keeps a number, boolean or object as its JSON text, and so does a list of strings.
    expect(validateRow({ ...row, tags: ["a", 1], name: 5 }, columns)).toBeUndefined();
  });

  it("narrows inferred types of undeclared columns to ones every file can share", () => {
    expect(storedInferredType("INTEGER")).toBe("BIGINT");
    expect(storedInferredType("UUID")).toBe("VARCHAR");
    expect(storedInferredType("DATE")).toBe("VARCHAR");
    expect(storedInferredType("TIMESTAMP")).toBe("VARCHAR");
    expect(storedInferredType("STRUCT(k BIGINT)")).toBe("JSON");
    expect(storedInferredType("BOOLEAN")).toBe("BOOLEAN");
  });
});
