import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import type * as tpFields from "../../src/plugin/tp-fields.js";
import { TP_FIELDS, type TpField } from "../../src/plugin/tp-fields.js";
import { expectEveryPathAgrees } from "./tp-paths.js";

// TP_FIELDS edited as a change to it would be, and nothing else: the SDK's fields in another order (tp_index first,
// tp_id after tp_date) and two optional fields more. Every writer path must follow the list.
vi.mock("../../src/plugin/tp-fields.js", async (original) => {
  const real = await original<typeof tpFields>();
  const byName = (n: string) => real.TP_FIELDS.find((f) => f.name === n)!;
  const sdk = real.TP_FIELDS.filter((f) => f.always && f.name !== "tp_index" && f.name !== "tp_id");
  const date = sdk.findIndex((f) => f.name === "tp_date");
  const extra: TpField[] = [
    { name: "tp_peer_ip", schema: { type: ["string", "null"] }, always: false, source: "enrich", description: "a test field" },
    { name: "tp_ticket_ids", schema: { type: "array", items: { type: "string" } }, always: false, source: "enrich_list", description: "a test field" },
  ];
  const fields = [byName("tp_index"), ...sdk.slice(0, date + 1), byName("tp_id"), ...sdk.slice(date + 1), ...real.TP_FIELDS.filter((f) => !f.always), ...extra];
  return { ...real, TP_FIELDS: fields };
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tailkit-tp-edited-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("a field added to or moved in TP_FIELDS", () => {
  it("is written by every path in the list's order, with no other edit", async () => {
    // The list the SDK's modules see is the edited one (the check below compares their lines with it).
    expect(TP_FIELDS.map((f) => f.name).filter((n, i) => i === 0 || n.startsWith("tp_peer") || n === "tp_ticket_ids")).toEqual([
      "tp_index",
      "tp_peer_ip",
      "tp_ticket_ids",
    ]);
    await expectEveryPathAgrees(dir);
  });
});
