import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Code, TailkitError } from "../../../src/errors/index.js";
import { validateConfig } from "../../../src/schema/index.js";
import { createFileSystemSourceFactory, type FileSystemSourceConfig } from "../../../src/sources/filesystem/index.js";
import type { ArtifactInfo, SourceContext } from "../../../src/contract/source.js";

const LAYOUT = "AWSLogs/{account:\\d{12}}/CloudTrail/{region}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.json.gz";

let tmp: string;
let root: string;
beforeEach(async () => {
  tmp = await fs.promises.mkdtemp(path.join(os.tmpdir(), "tailkit-fs-"));
  root = path.join(tmp, "cloudtrail");
});
afterEach(async () => {
  vi.restoreAllMocks();
  await fs.promises.rm(tmp, { recursive: true, force: true });
});

async function touch(rel: string, content = "x", base = root): Promise<string> {
  const file = path.join(base, rel);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, content);
  return file;
}

function context(extra: Partial<SourceContext> = {}): SourceContext {
  return { signal: new AbortController().signal, tempDir: tmp, ...extra };
}

async function discover(config: FileSystemSourceConfig, ctx = context(), onError?: (err: TailkitError) => void) {
  const source = createFileSystemSourceFactory(onError ? { onError } : {}).create(config);
  const found: ArtifactInfo[] = [];
  for await (const a of source.discover(ctx)) found.push(a);
  return found;
}

const trail = (month: string, day: string, file: string) => `AWSLogs/123456789012/CloudTrail/us-east-1/2024/${month}/${day}/${file}.json.gz`;

describe("file source", () => {
  it("publishes a config schema that requires paths", () => {
    const factory = createFileSystemSourceFactory();
    expect(factory.type).toBe("file");
    expect(() => validateConfig(factory.configSchema, {}, "source.config")).toThrow(/source\.config\.paths: is required/);
    expect(() => validateConfig(factory.configSchema, { paths: [] }, "source.config")).toThrow(/paths/);
    expect(validateConfig(factory.configSchema, { paths: ["/x"], file_layout: "{f}" }, "source.config")).toBeTruthy();
  });

  it("finds matching files in sorted order with captures, size and an artifact name prefixed by the root folder", async () => {
    await touch(trail("03", "02", "b"), "hello");
    await touch(trail("03", "01", "a"));
    await touch("AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/01/not-a-match.txt");
    await touch("AWSLogs/bad-account/CloudTrail/us-east-1/2024/03/01/a.json.gz");
    const found = await discover({ paths: [root], file_layout: LAYOUT });
    expect(found.map((a) => a.name)).toEqual([`cloudtrail/${trail("03", "01", "a")}`, `cloudtrail/${trail("03", "02", "b")}`]);
    expect(found[1]).toMatchObject({
      location: path.join(root, trail("03", "02", "b")),
      size: 5,
      properties: { account: "123456789012", region: "us-east-1", year: "2024", month: "03", day: "02", file: "b" },
    });
    expect(typeof found[1]!.mtimeMs).toBe("number");
  });

  it("does not open directories for months outside [from, to)", async () => {
    await touch(trail("02", "28", "feb"));
    await touch(trail("03", "01", "mar"));
    await touch(trail("04", "01", "apr"));
    const opened: string[] = [];
    const real = fs.promises.opendir.bind(fs.promises);
    vi.spyOn(fs.promises, "opendir").mockImplementation((p, o) => {
      opened.push(path.relative(root, String(p)));
      return real(p, o);
    });
    const found = await discover({ paths: [root], file_layout: LAYOUT }, context({ from: new Date(Date.UTC(2024, 2, 1)), to: new Date(Date.UTC(2024, 3, 1)) }));
    expect(found.map((a) => a.properties["file"])).toEqual(["mar"]);
    const yearDir = "AWSLogs/123456789012/CloudTrail/us-east-1/2024";
    expect(opened).toContain(path.join(yearDir, "03"));
    expect(opened).not.toContain(path.join(yearDir, "02"));
    expect(opened).not.toContain(path.join(yearDir, "04"));
  });

  it("does not enter directories that cannot match the layout", async () => {
    await touch(trail("03", "01", "a"));
    await touch("AWSLogs/123456789012/Config/us-east-1/2024/03/01/x.json.gz");
    await touch("unrelated/deep/file.json.gz");
    const opened: string[] = [];
    const real = fs.promises.opendir.bind(fs.promises);
    vi.spyOn(fs.promises, "opendir").mockImplementation((p, o) => {
      opened.push(path.relative(root, String(p)));
      return real(p, o);
    });
    expect(await discover({ paths: [root], file_layout: LAYOUT })).toHaveLength(1);
    expect(opened.some((d) => d.startsWith("unrelated"))).toBe(false);
    expect(opened.some((d) => d.includes("Config"))).toBe(false);
  });

  it("takes every file at any depth without a layout, filtered by extensions", async () => {
    await touch("a.log");
    await touch("x/y/b.LOG");
    await touch("x/c.txt");
    expect((await discover({ paths: [root] })).map((a) => a.name)).toEqual(["cloudtrail/a.log", "cloudtrail/x/c.txt", "cloudtrail/x/y/b.LOG"]);
    expect((await discover({ paths: [root], extensions: [".log"] })).map((a) => a.name)).toEqual(["cloudtrail/a.log", "cloudtrail/x/y/b.LOG"]);
  });

  it("keeps names of two roots apart, and refuses roots whose names would collide or that overlap", async () => {
    const other = path.join(tmp, "nginx");
    await touch("a.log");
    await touch("a.log", "y", other);
    expect((await discover({ paths: [root, other] })).map((a) => a.name)).toEqual(["cloudtrail/a.log", "nginx/a.log"]);

    const factory = createFileSystemSourceFactory();
    await fs.promises.mkdir(path.join(tmp, "elsewhere", "cloudtrail"), { recursive: true });
    await fs.promises.mkdir(path.join(root, "sub"), { recursive: true });
    expect(() => factory.create({ paths: [root, path.join(tmp, "elsewhere", "cloudtrail")] })).toThrow(
      expect.objectContaining({ code: Code.InvalidArgument, details: { field: "paths[1]" } }),
    );
    expect(() => factory.create({ paths: [root, path.join(root, "sub")] })).toThrow(/paths\[1\].*overlaps paths\[0\]/);
  });

  it("refuses a symlink that leads outside its root, naming it, and goes on", async () => {
    const outside = await touch("secret.log", "s", path.join(tmp, "outside"));
    await touch("a.log");
    await fs.promises.symlink(outside, path.join(root, "link-to-file.log"));
    await fs.promises.symlink(path.join(tmp, "outside"), path.join(root, "link-to-dir"));
    await fs.promises.symlink("../outside/secret.log", path.join(root, "relative-link.log"));
    const errors: TailkitError[] = [];
    const found = await discover({ paths: [root] }, context(), (e) => errors.push(e));
    expect(found.map((a) => a.name)).toEqual(["cloudtrail/a.log"]);
    expect(errors.map((e) => e.code)).toEqual([Code.PermissionDenied, Code.PermissionDenied, Code.PermissionDenied]);
    expect(errors[0]!.message).toContain(path.join(root, "link-to-dir"));
    expect(errors[0]!.message).toContain("outside its root");
    expect(errors.map((e) => e.details.artifact)).toEqual(["cloudtrail/link-to-dir", "cloudtrail/link-to-file.log", "cloudtrail/relative-link.log"]);
  });

  it("without onError, fails discovery on a symlink leading outside the root", async () => {
    await fs.promises.mkdir(path.join(tmp, "outside"), { recursive: true });
    await touch("a.log");
    await fs.promises.symlink(path.join(tmp, "outside"), path.join(root, "z-link"));
    await expect(discover({ paths: [root] })).rejects.toMatchObject({
      code: Code.PermissionDenied,
      message: expect.stringContaining("z-link"),
    });
  });

  it("follows a symlink that stays inside its root, and does not loop on one pointing back up", async () => {
    await touch("data/a.log");
    await fs.promises.symlink(path.join(root, "data"), path.join(root, "alias"));
    await fs.promises.symlink(root, path.join(root, "data", "up"));
    const errors: TailkitError[] = [];
    const found = await discover({ paths: [root] }, context(), (e) => errors.push(e));
    expect(found.map((a) => a.name)).toEqual(["cloudtrail/alias/a.log", "cloudtrail/data/a.log"]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.message.includes("loops"))).toBe(true);
  });

  it("takes a file in paths: named <its folder>/<its name>, captures from the layout's last segment, extensions not applied", async () => {
    const file = await touch(trail("03", "01", "a"));
    const other = await touch(trail("03", "01", "b"));
    const found = await discover({ paths: [file, other], file_layout: LAYOUT, extensions: [".log"] });
    expect(found.map((a) => [a.name, a.location, a.properties])).toEqual([
      ["01/a.json.gz", file, { file: "a" }],
      ["01/b.json.gz", other, { file: "b" }],
    ]);
    // A name the layout does not fit is still collected, the user having named it; it has no captures.
    const odd = await touch("odd.txt");
    expect((await discover({ paths: [odd], file_layout: LAYOUT })).map((a) => [a.name, a.properties])).toEqual([["cloudtrail/odd.txt", {}]]);
    expect(() => createFileSystemSourceFactory().create({ paths: [root, odd] })).toThrow(/paths\[1\].*overlaps paths\[0\]/);
  });

  it("reports a file root gone by discovery as an artifact error and goes on", async () => {
    const file = await touch("a.log");
    const source = createFileSystemSourceFactory().create({ paths: [file] });
    await fs.promises.rm(file);
    const problems: TailkitError[] = [];
    const found: ArtifactInfo[] = [];
    for await (const a of source.discover(context({ report: (e) => problems.push(e) }))) found.push(a);
    expect(found).toEqual([]);
    expect(problems.map((e) => [e.code, e.details])).toEqual([[Code.NotFound, { artifact: "cloudtrail/a.log", operation: "discover" }]]);
    expect(problems[0]!.message).toContain(file);
  });

  it("says how many files a root holds when none matched the layout, and nothing when some did or there are none", async () => {
    await touch("123456789012/CloudTrail/us-east-1/2024/03/01/a.json.gz");
    await touch("123456789012/CloudTrail/us-east-1/2024/03/02/b.json.gz");
    await touch("notes.txt");
    const notices: string[] = [];
    expect(await discover({ paths: [root], file_layout: LAYOUT }, context({ notice: (m) => notices.push(m) }))).toEqual([]);
    expect(notices).toEqual([
      `0 of 3 files under ${root} matched the layout ${LAYOUT}; is paths[0] (--path) the folder the layout starts from (for AWS logs, the bucket's root)?`,
    ]);

    notices.length = 0;
    const from = new Date("2025-01-01T00:00:00Z");
    expect(
      await discover({ paths: [tmp], file_layout: `cloudtrail/${LAYOUT.replace("AWSLogs/", "")}` }, context({ from, notice: (m) => notices.push(m) })),
    ).toEqual([]);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toContain("in the time range 2025-01-01T00:00:00.000Z to now (2 match it outside that range)");

    notices.length = 0;
    await touch(trail("03", "01", "c"));
    expect(await discover({ paths: [root], file_layout: LAYOUT }, context({ notice: (m) => notices.push(m) }))).toHaveLength(1);
    await fs.promises.mkdir(path.join(tmp, "empty"));
    expect(await discover({ paths: [path.join(tmp, "empty")], file_layout: LAYOUT }, context({ notice: (m) => notices.push(m) }))).toEqual([]);
    expect(notices).toEqual([]);
  });

  it("refuses a missing root when the source is created, naming the path and the field", () => {
    const missing = path.join(tmp, "nope");
    let err: unknown;
    try {
      createFileSystemSourceFactory().create({ paths: [missing] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.InvalidArgument);
    expect((err as TailkitError).message).toContain(missing);
    expect((err as TailkitError).details.field).toBe("paths[0]");
  });

  it("refuses a bad layout at create, naming file_layout", () => {
    expect(() => createFileSystemSourceFactory().create({ paths: [root], file_layout: "{a" })).toThrow(
      expect.objectContaining({ code: Code.InvalidArgument, details: { field: "file_layout" } }),
    );
  });

  it("stops discovering when the signal is aborted", async () => {
    for (let i = 0; i < 5; i++) await touch(`f${i}.log`);
    const controller = new AbortController();
    const source = createFileSystemSourceFactory().create({ paths: [root] });
    const found: string[] = [];
    await expect(async () => {
      for await (const a of source.discover(context({ signal: controller.signal }))) {
        found.push(a.name);
        controller.abort();
      }
    }).rejects.toMatchObject({ code: Code.Canceled });
    expect(found).toHaveLength(1);
  });

  it("downloads by pointing at the file itself", async () => {
    await touch("a.log", "12345");
    const source = createFileSystemSourceFactory().create({ paths: [root] });
    const [info] = await discover({ paths: [root] });
    const local = await source.download(info!, context());
    expect(local).toMatchObject({ path: path.join(root, "a.log"), bytes: 5, info });
    await local.release();
    expect(fs.existsSync(local.path)).toBe(true);
    await fs.promises.rm(local.path);
    await expect(source.download(info!, context())).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("gives an artifact's first bytes as a loader reads them: plain, gzip inflated, short, or what a broken gzip gives", async () => {
    const text = Array.from({ length: 400 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`).join("\n");
    await touch("plain.log", text);
    await touch("packed.log.gz", zlib.gzipSync(text) as unknown as string);
    await touch("short.log", "abc\n");
    await touch("growing.log", "abc\nde");
    // Incompressible text: the first read of the gzip file inflates to less than asked, and more is read.
    let x = 1;
    const noise = Buffer.from(Array.from({ length: 8000 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24));
    await touch("noise.log.gz", zlib.gzipSync(noise) as unknown as string);
    const packed = zlib.gzipSync(text);
    await touch("broken.log.gz", packed.subarray(0, 20) as unknown as string);
    await touch("garbage.log.gz", Buffer.concat([packed.subarray(0, 10), Buffer.alloc(50, 0xff)]) as unknown as string);
    const source = createFileSystemSourceFactory().create({ paths: [root] });
    const found = new Map((await discover({ paths: [root] })).map((a) => [path.basename(a.location), a]));
    const head = async (name: string, n = 1024) => Buffer.from(await source.head!(found.get(name)!, n, context())).toString("latin1");
    expect(await head("plain.log")).toBe(text.slice(0, 1024));
    expect(await head("packed.log.gz")).toBe(text.slice(0, 1024));
    expect(await head("packed.log.gz", 4096)).toBe(text.slice(0, 4096));
    expect(await head("short.log")).toBe("abc\n");
    // A file still being written to: its unfinished last line is not part of its print (it will change).
    expect(await head("growing.log")).toBe("abc\n");
    expect(await head("noise.log.gz", 4096)).toBe(noise.subarray(0, 4096).toString("latin1"));
    expect(text.startsWith(await head("broken.log.gz"))).toBe(true);
    expect(await head("garbage.log.gz")).toBe("");
  });
});
