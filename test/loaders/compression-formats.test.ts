import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { nginxPlugin } from "../../plugins/nginx/src/index.js";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { readHead } from "../../src/sources/filesystem/source.js";
import { collectInProcess } from "../../src/testing/index.js";
import { tempDir, zipArchive, zstdRawFrame } from "../formats/helpers.js";

const root = tempDir("compression");
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(files: Record<string, Buffer | string>): string {
  const dir = path.join(root, `d${n++}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}
const fixture = fs.readFileSync(path.join(import.meta.dirname, "..", "formats", "fixtures", "access.log"));
const fixtureZst = fs.readFileSync(path.join(import.meta.dirname, "..", "formats", "fixtures", "access.log.zst"));

/** What of a row does not depend on the file it came from. */
function content(rows: Record<string, unknown>[]): unknown[] {
  return rows.map(({ tp_id: _i, tp_source_location: _l, tp_ingest_timestamp: _t, ...rest }) => rest);
}

async function collectNginx(dir: string, layout: string) {
  return collectInProcess(nginxPlugin, {
    table: "nginx_access_log",
    source: { type: "file", config: { paths: [dir], file_layout: layout } },
    outputDir: path.join(root, `out${n++}`),
  });
}

describe("compressed artifacts, by content", () => {
  it("collects zstd and zip files into the same rows as plain and gzip ones", async () => {
    const plain = await collectNginx(folder({ "access.log": fixture }), "access.log");
    const gz = await collectNginx(folder({ "access.log.gz": zlib.gzipSync(fixture) }), "access.log.gz");
    const zst = await collectNginx(folder({ "access.log.zst": fixtureZst }), "access.log.zst");
    const zip = await collectNginx(folder({ "logs.zip": zipArchive([{ name: "access.log", data: fixture }]) }), "logs.zip");
    // Compression is told by the bytes, not the name.
    const misnamed = await collectNginx(folder({ "access.log": zstdRawFrame(fixture) }), "access.log");
    expect(plain.rows).toHaveLength(3);
    for (const r of [gz, zst, zip, misnamed]) {
      expect(r.complete.error).toBeUndefined();
      expect(content(r.rows)).toEqual(content(plain.rows));
    }
  });

  it("reads every member of a zip archive in order, each ending its own last line, folders passed over", async () => {
    const lines = fixture.toString().trimEnd().split("\n");
    const archive = zipArchive([
      { name: "a/", data: Buffer.alloc(0), stored: true },
      { name: "a/access.log", data: Buffer.from(lines[0]!) }, // no trailing newline
      { name: "b.log", data: Buffer.from(`${lines[1]}\n${lines[2]}\n`), stored: true },
    ]);
    const r = await collectNginx(folder({ "logs.zip": archive }), "logs.zip");
    expect(r.complete.error).toBeUndefined();
    expect(r.rows.map((row) => row["remote_addr"])).toEqual(["203.0.113.9", "198.51.100.2", "2001:db8::7"]);
    // Positions run on across members: the ids are those of one artifact's rows 0, 1, 2.
    expect(new Set(r.rows.map((row) => row["tp_id"])).size).toBe(3);
  });

  it("makes a corrupt member an artifact error naming it, and collects the other members", async () => {
    const lines = fixture.toString().trimEnd().split("\n");
    const archive = zipArchive([
      { name: "one.log", data: Buffer.from(`${lines[0]}\n`) },
      { name: "broken.log", data: Buffer.from(`${lines[1]}\n`), compressed: Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00]) },
      { name: "badcrc.log", data: Buffer.from(`${lines[1]}\n`), stored: true, crc: 1234 },
      { name: "three.log", data: Buffer.from(`${lines[2]}\n`) },
    ]);
    const dir = folder({ "logs.zip": archive, "access.log": fixture });
    const r = await collectInProcess(nginxPlugin, {
      table: "nginx_access_log",
      source: { type: "file", config: { paths: [dir], file_layout: "{f:(logs\\.zip|access\\.log)}" } },
      outputDir: path.join(root, `out${n++}`),
    });
    const errors = r.events.filter((e) => e.type === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ artifact: expect.stringContaining("logs.zip"), operation: "load" });
    expect(errors[0]!.type === "error" && errors[0]!.message).toMatch(
      /2 zip members could not be read: broken\.log \(.*\); badcrc\.log \(CRC-32 is .*\); the other members were collected/,
    );
    expect(r.complete.status.artifactsFailed).toBe(1);
    const fromZip = r.rows.filter((row) => String(row["tp_source_location"]).endsWith("logs.zip")).map((row) => row["remote_addr"]);
    // The stored member with the bad CRC gave its line before its check failed; the corrupt deflate member gave none.
    expect(fromZip).toEqual(["203.0.113.9", "198.51.100.2", "2001:db8::7"]);
    expect(r.rows.filter((row) => String(row["tp_source_location"]).endsWith("access.log"))).toHaveLength(3);
  });

  it("reports a truncated zstd file as an artifact error, keeping the lines before the fault", async () => {
    const big = Buffer.from(Array.from({ length: 3000 }, (_, i) => fixture.toString().split("\n")[i % 3]).join("\n") + "\n");
    const frame = zstdRawFrame(big);
    const r = await collectNginx(folder({ "access.log.zst": frame.subarray(0, frame.length - 1000) }), "access.log.zst");
    const errors = r.events.filter((e) => e.type === "error");
    expect(errors.map((e) => e.type === "error" && e.message)).toEqual([expect.stringMatching(/access\.log\.zst: zstd stream is corrupt or truncated/)]);
    expect(r.rows.length).toBeGreaterThan(2000);
    expect(r.rows.length).toBeLessThan(3000);
  });

  it("goes the delimited line format's fast path for zstd and zip too", async () => {
    const header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    const body = `${header}\n2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK\n`;
    const run = (name: string, data: Buffer) =>
      collectInProcess(awsPlugin, {
        table: "aws_vpc_flow_log",
        source: { type: "file", config: { paths: [folder({ [name]: data })], file_layout: name } },
        outputDir: path.join(root, `out${n++}`),
      });
    const gz = await run("f.log.gz", zlib.gzipSync(body));
    const zst = await run("f.log.zst", zstdRawFrame(Buffer.from(body)));
    const zip = await run("f.zip", zipArchive([{ name: "f.log", data: Buffer.from(body) }]));
    expect(gz.rows).toHaveLength(1);
    expect(content(zst.rows)).toEqual(content(gz.rows));
    expect(content(zip.rows)).toEqual(content(gz.rows));
  });

  it("reads a zstd JSON document as a gzip one, and refuses a zip archive as a document, saying why", async () => {
    const records = [1, 2, 3].map((i) => ({
      eventVersion: "1.08",
      eventTime: `2024-03-01T00:00:0${i}Z`,
      eventSource: "s3.amazonaws.com",
      eventName: `E${i}`,
      recipientAccountId: "123456789012",
    }));
    const doc = Buffer.from(JSON.stringify({ Records: records }));
    const run = (files: Record<string, Buffer>) =>
      collectInProcess(awsPlugin, {
        table: "aws_cloudtrail_log",
        source: { type: "file", config: { paths: [folder(files)], file_layout: "{file}" } },
        outputDir: path.join(root, `out${n++}`),
      });
    const gz = await run({ "trail.json.gz": zlib.gzipSync(doc) });
    const zst = await run({ "trail.json.zst": zstdRawFrame(doc) });
    expect(gz.rows.map((r) => r["eventName"])).toEqual(["E1", "E2", "E3"]);
    expect(content(zst.rows)).toEqual(content(gz.rows));
    const zip = await run({ "trail.zip": zipArchive([{ name: "trail.json", data: doc }]) });
    const errors = zip.events.filter((e) => e.type === "error");
    expect(errors.map((e) => e.type === "error" && e.message)).toEqual([expect.stringContaining("a zip archive is read by line loaders")]);
  });

  it("gives state a zstd file's head print from its decompressed start, and a zip's from its own bytes", async () => {
    const dir = folder({ "a.zst": fixtureZst, "b.zip": zipArchive([{ name: "x", data: fixture }]) });
    expect(Buffer.from(await readHead(path.join(dir, "a.zst"), 64))).toEqual(fixture.subarray(0, 64));
    expect(Buffer.from(await readHead(path.join(dir, "b.zip"), 4)).toString("latin1")).toBe("PK\x03\x04");
  });
});
