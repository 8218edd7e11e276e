import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TP_FIELDS } from "../../src/plugin/tp-fields.js";
import { expectEveryPathAgrees } from "./tp-paths.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-tp-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("the tp_* fields of every writer path", () => {
  it("are written in TP_FIELDS order by each path, and each path writes the reference path's line", async () => {
    await expectEveryPathAgrees(dir);
  });

  it("keeps TP_FIELDS as the writers need it: always for the SDK's sources only, enrich fields last", () => {
    const firstEnrich = TP_FIELDS.findIndex((f) => !f.always);
    expect(TP_FIELDS.slice(firstEnrich).every((f) => !f.always && (f.source === "enrich" || f.source === "enrich_list"))).toBe(true);
    expect(TP_FIELDS.slice(0, firstEnrich).every((f) => f.always && f.source !== "enrich" && f.source !== "enrich_list")).toBe(true);
  });
});
