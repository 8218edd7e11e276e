import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createWebhookSourceFactory, type RowPage, type RowSource } from "../../../src/index.js";
import { readChunks, scratchDirs } from "../../e2e/helpers.js";
import { freePort, post, startWebhook } from "./helpers.js";

const scratch = scratchDirs();

const ids = (out: string) =>
  readChunks(out)
    .flatMap((c) => c.rows)
    .map((r) => r["id"]);

describe("webhook source: what it takes", () => {
  it("takes NDJSON, a JSON array and a single object, and writes each row once when stopped", async () => {
    const out = scratch();
    const hook = await startWebhook(out);
    const ndjson = await post(hook.url, '{"id":"n1"}\n{"id":"n2"}\r\n\n{"id":"n3"}\n', { token: "secret", contentType: "application/x-ndjson" });
    const ndjsonSniffed = await post(hook.url, '{"id":"s1"}\n{"id":"s2"}', { token: "secret" });
    const array = await post(hook.url, '[{"id":"a1"},{"id":"a2"}]', { token: "secret" });
    const single = await post(hook.url, '{\n  "id": "o1",\n  "ts": "2024-05-02T00:00:00Z"\n}', { token: "secret" });
    expect([ndjson, ndjsonSniffed, array, single].map((r) => [r.status, r.body["accepted"]])).toEqual([
      [200, 3],
      [200, 2],
      [200, 2],
      [200, 1],
    ]);
    const complete = await hook.stop();
    expect(complete.error).toBeUndefined();
    expect(complete.rows).toBe(8);
    expect(ids(out)).toEqual(["n1", "n2", "n3", "s1", "s2", "a1", "a2", "o1"]);
    const row = readChunks(out)[0]!.rows.at(-1)!;
    expect(row).toMatchObject({ tp_source_type: "webhook", tp_source_name: "webhook", tp_timestamp: "2024-05-02T00:00:00.000Z" });
    expect(row["tp_source_location"]).toBe(hook.url);
  });

  it("refuses a wrong or missing token (401), another path (404), another method (405), and writes nothing of them", async () => {
    const out = scratch();
    const hook = await startWebhook(out);
    const wrong = await post(hook.url, '{"id":"x"}', { token: "secreT" });
    const longer = await post(hook.url, '{"id":"x"}', { token: "secret-and-more" });
    const none = await post(hook.url, '{"id":"x"}');
    const path = await post(`${hook.url}other`, '{"id":"x"}', { token: "secret" });
    const get = await post(hook.url, "", { token: "secret", method: "GET" });
    expect([wrong.status, longer.status, none.status, path.status, get.status]).toEqual([401, 401, 401, 404, 405]);
    expect(wrong.headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(get.headers["allow"]).toBe("POST");
    await hook.stop();
    expect(ids(out)).toEqual([]);
  });

  it("answers 413 to a body over max_body_bytes, declared or sent chunked, and stores none of it", async () => {
    const out = scratch();
    const hook = await startWebhook(out, { max_body_bytes: 1000 });
    const big = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ id: `big${i}` })));
    expect(big.length).toBeGreaterThan(1000);
    const declared = await post(hook.url, big, { token: "secret" });
    // 64 KiB chunks, 16 MiB in all: the server stops reading after the first one; the rest is never sent.
    const chunked = await post(hook.url, ["[", ...Array.from({ length: 256 }, () => `${'{"id":"c"},'.repeat(6000)}`)], { token: "secret" });
    const fits = await post(hook.url, '[{"id":"small"}]', { token: "secret" });
    expect([declared.status, chunked.status, fits.status]).toEqual([413, 413, 200]);
    expect(declared.body["error"]).toMatch(/max_body_bytes \(1000\)/);
    await hook.stop();
    expect(ids(out)).toEqual(["small"]);
  });

  it("answers 400 to malformed JSON, naming the NDJSON line or the position, and stores none of the request", async () => {
    const out = scratch();
    const hook = await startWebhook(out);
    const ndjson = await post(hook.url, '{"id":"ok1"}\n{"id":"ok2"}\n{"id": oops}\n{"id":"ok4"}\n', { token: "secret", contentType: "application/x-ndjson" });
    const sniffed = await post(hook.url, '{"id":"ok1"}\n\n{"id":"ok2"\n', { token: "secret" });
    const pretty = await post(hook.url, '{\n  "id": "x",\n  "n": 01\n}', { token: "secret" });
    const array = await post(hook.url, '[{"id":"a"},{"id":]', { token: "secret" });
    const empty = await post(hook.url, "  \n", { token: "secret" });
    expect([ndjson.status, sniffed.status, pretty.status, array.status, empty.status]).toEqual([400, 400, 400, 400, 400]);
    expect(ndjson.body["error"]).toMatch(/^line 3: malformed JSON/);
    expect(sniffed.body["error"]).toMatch(/^line 3: malformed JSON/);
    // A single object over several lines, broken on its third: the line of the body, not of NDJSON.
    expect(pretty.body["error"]).toMatch(/^malformed JSON at line 3 column 9 /);
    expect(array.body["error"]).toMatch(/^malformed JSON array at line 1 column 19 \(position 18\): /);
    expect(empty.body["error"]).toMatch(/empty/);
    await hook.stop();
    expect(ids(out)).toEqual([]);
  });

  it("ends by itself once --to passes, with the rows taken before in chunks", async () => {
    const out = scratch();
    const hook = await startWebhook(out, {}, { to: new Date(Date.now() + 1500) });
    expect((await post(hook.url, '[{"id":"before-to"}]', { token: "secret" })).status).toBe(200);
    const complete = await hook.done();
    expect(complete.error).toBeUndefined();
    expect(ids(out)).toEqual(["before-to"]);
  });

  it("refuses a config with no token unless auth is none, and auth none on a non-loopback host", () => {
    const factory = createWebhookSourceFactory({ env: { HOOK_TOKEN: "from-env" } });
    expect(() => factory.create({})).toThrow(/token: a bearer token is required/);
    expect(() => factory.create({ token_env: "MISSING" })).toThrow(/token_env: environment variable MISSING is not set/);
    expect(() => factory.create({ token: "a", token_env: "HOOK_TOKEN" })).toThrow(/token and token_env both given/);
    expect(() => factory.create({ auth: "none", listen: "0.0.0.0:8787" })).toThrow(/auth: "none" is allowed on a loopback host only/);
    expect(() => factory.create({ token: "a", listen: "8787" })).toThrow(/listen: must be host:port/);
    expect(() => factory.create({ token: "a", listen: ":8787" })).toThrow(/listen: must be host:port/);
    expect(factory.create({ token_env: "HOOK_TOKEN" }).type).toBe("webhook");
    expect(factory.create({ auth: "none", listen: "[::1]:8787" }).type).toBe("webhook");
    expect(factory.create({ token: "a", listen: "0.0.0.0:8787" }).type).toBe("webhook");
  });
});

describe("webhook source: its queue", () => {
  it("answers 429 with Retry-After while max_queued_rows rows wait for chunks, and takes rows again once they are in", async () => {
    const dir = scratch();
    let url!: string;
    const source: RowSource = createWebhookSourceFactory({ onListening: (u) => (url = u), retryAfterSeconds: 2 }).create({
      listen: `127.0.0.1:${await freePort()}`,
      token: "secret",
      max_queued_rows: 3,
    });
    const abort = new AbortController();
    // The collection is played by hand: pages are taken, but none is made durable until the test says so.
    const pages = source.read(undefined, { signal: abort.signal, stateDir: dir })[Symbol.asyncIterator]();
    const first = pages.next();
    while (url === undefined) await new Promise((r) => setTimeout(r, 10));
    expect((await post(url, '[{"id":1},{"id":2}]', { token: "secret" })).status).toBe(200);
    const page = (await first).value as RowPage;
    expect(page.items).toEqual([{ id: 1 }, { id: 2 }]);
    const second = await post(url, '[{"id":3},{"id":4}]', { token: "secret" });
    expect(second.status).toBe(429);
    expect(second.headers["retry-after"]).toBe("2");
    expect(second.body["error"]).toMatch(/queue full: 2 rows/);
    expect((await post(url, '[{"id":3}]', { token: "secret" })).status).toBe(200);
    expect((await post(url, '[{"id":4}]', { token: "secret" })).status).toBe(429);
    page.durable!();
    expect((await post(url, '[{"id":4}]', { token: "secret" })).status).toBe(200);
    // One request alone bigger than the queue could never fit: 413, not "try again".
    expect((await post(url, "[1,2,3,4]", { token: "secret" })).status).toBe(413);
    abort.abort();
    await pages.return?.(undefined);
    await source.close?.();
  });

  it("deletes spool segments once their rows are in chunks and the cursor has passed them, and a rerun writes nothing again", async () => {
    const out = scratch();
    const spool = join(out, "spool");
    const hook = await startWebhook(out, { spool_dir: spool }, { segmentBytes: 256, rowsPerChunk: 5 });
    for (let i = 0; i < 40; i++) expect((await post(hook.url, JSON.stringify([{ id: `r${i}`, pad: "x".repeat(300) }]), { token: "secret" })).status).toBe(200);
    await hook.stop();
    expect(ids(out)).toEqual(Array.from({ length: 40 }, (_, i) => `r${i}`));
    // Every record had a segment of its own; the one being written stays.
    expect(readdirSync(spool).length).toBeLessThanOrEqual(2);
    const again = await startWebhook(out, { spool_dir: spool }, { segmentBytes: 256, rowsPerChunk: 5 });
    expect((await post(again.url, '{"id":"after"}', { token: "secret" })).status).toBe(200);
    await again.stop();
    expect(ids(out)).toEqual([...Array.from({ length: 40 }, (_, i) => `r${i}`), "after"]);
  });
});
