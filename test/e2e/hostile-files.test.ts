import { execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VPC_FLOW_LOG_FILE_LAYOUT } from "../../plugins/aws/src/index.js";
import { CLI, ROOT, cloudTrailRecords, listFiles, readChunks, runCli, tempDir, type RunResult } from "./helpers.js";

const SAMPLE_VPC = join(ROOT, "sample", "vpcflow");
const SAMPLE_CLOUDTRAIL = join(ROOT, "sample", "cloudtrail");
const NOBODY = 65534;

interface Summary {
  outcome: string;
  error: string | null;
  rows: number;
  status: { artifactsDiscovered: number; artifactsExtracted: number; artifactsFailed: number; rowErrors: Record<string, number> };
  errors: { message: string; artifact: string | null; operation: string | null; rowIndex: number | null }[];
}

/** The CLI run as another user, so that permissions bind (tests run as root, whom no mode bit stops). */
function runCliAs(uid: number, args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { uid, gid: uid, env: { ...process.env, HOME: "/tmp" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** nginx combined-format lines, `n` of them, told apart by their path. */
function accessLines(tag: string, n: number): string {
  let out = "";
  for (let i = 0; i < n; i++)
    out += `10.0.0.${i + 1} - - [03/Mar/2024:00:00:${String(i).padStart(2, "0")} +0000] "GET /${tag}/${i} HTTP/1.1" 200 12 "-" "curl/8"\n`;
  return out;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});
function scratch(): string {
  const t = tempDir();
  cleanups.push(t.cleanup);
  return t.dir;
}

describe("--out that cannot be made", () => {
  it("refuses --out /proc/x at once with the path and the real errno, exit 2 (no endless mkdir)", async () => {
    const r = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", "/proc/x/y"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("output_dir");
    expect(r.stderr).toContain("/proc/x");
    expect(r.stderr).toContain("ENOENT");
  });

  it("says EROFS, naming the folder, for --out on a read-only mount, exit 2", async () => {
    const dir = scratch();
    const ro = join(dir, "ro");
    mkdirSync(ro);
    // Root may mount; a test that cannot make the read-only file system fails here rather than pass on nothing.
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro", "none", ro]);
    cleanups.push(() => execFileSync("umount", [ro]));
    const nested = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", join(ro, "out", "deeper")]);
    expect(nested.code).toBe(2);
    expect(nested.stderr).toContain(`mkdir ${join(ro, "out")}`);
    expect(nested.stderr).toContain("EROFS");
    expect(nested.stderr).not.toContain("ENOENT");
    // The mount point itself exists: it is refused as not writable, before any state or chunk is tried.
    const existing = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", SAMPLE_VPC, "--out", ro, "--output", "json"]);
    expect(existing.code).toBe(2);
    expect(existing.stderr).toContain(`${ro} is not writable`);
    expect(existing.stderr).toContain("EROFS");
  });
});

describe("hostile entries below --path", () => {
  it("collects the rest when a symlink leads outside the root and a folder is unreadable: each reported, exit 3", async () => {
    const dir = scratch();
    // The collecting user must reach the scratch folder: mkdtemp makes it 0700 for root.
    chmodSync(dir, 0o755);
    const root = join(dir, "logs");
    mkdirSync(join(root, "good"), { recursive: true });
    writeFileSync(join(root, "good", "access.log"), accessLines("good", 3));
    mkdirSync(join(root, "locked"));
    writeFileSync(join(root, "locked", "access.log"), accessLines("locked", 2));
    chmodSync(join(root, "locked"), 0o000);
    mkdirSync(join(dir, "elsewhere"));
    writeFileSync(join(dir, "elsewhere", "access.log"), accessLines("secret", 2));
    mkdirSync(join(root, "linked"));
    symlinkSync(join(dir, "elsewhere", "access.log"), join(root, "linked", "access.log"));
    const out = join(dir, "out");
    mkdirSync(out);
    chownSync(out, NOBODY, NOBODY);

    const r = await runCliAs(NOBODY, ["collect", "--no-convert", "nginx", "--table", "nginx_access_log", "--path", root, "--out", out, "--output", "json"]);
    expect(r.stderr).not.toContain("extractor is closed");
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.error).toBeNull();
    expect(summary.outcome).toBe("partial");
    expect(summary.status.artifactsFailed).toBe(2);
    const discover = summary.errors.filter((e) => e.operation === "discover");
    expect(discover).toHaveLength(2);
    expect(discover.find((e) => e.message.includes(join(root, "locked")))?.message).toMatch(/permission denied/);
    const link = discover.find((e) => e.artifact === "logs/linked/access.log");
    expect(link?.message).toContain(`leads outside its root ${root}`);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows.map((row) => row["request"])).toEqual(["GET /good/0 HTTP/1.1", "GET /good/1 HTTP/1.1", "GET /good/2 HTTP/1.1"]);
  });
});

describe("--path", () => {
  it("takes a file, collected as it is though the layout starts at AWSLogs/", async () => {
    const out = scratch();
    const vpc = listFiles(SAMPLE_VPC).filter((f) => f.endsWith(".log.gz"));
    const one = join(SAMPLE_VPC, vpc[0]!);
    const r = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", one, "--out", out, "--output", "json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.status.artifactsDiscovered).toBe(1);
    expect(summary.rows).toBeGreaterThan(0);
    const rows = readChunks(out).flatMap((c) => c.rows);
    expect(rows).toHaveLength(summary.rows);
    expect(rows[0]!["tp_source_location"]).toBe(one);
    expect(rows[0]!["tp_index"]).toBe(vpc[0]!.split("/")[1]);
  });

  it("says how many files it saw when none matched the layout, instead of only 'Collected 0 rows'", async () => {
    const out = scratch();
    // One level too deep: the layout starts at AWSLogs/.
    const below = join(SAMPLE_VPC, "AWSLogs");
    const total = listFiles(below).length;
    const r = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", below, "--out", out, "--output", "json"]);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.rows).toBe(0);
    const note = summary.errors.find((e) => e.operation === "discover");
    expect(note?.message).toBe(
      `0 of ${total} files under ${below} matched the layout ${VPC_FLOW_LOG_FILE_LAYOUT}; is paths[0] (--path) the folder the layout starts from (for AWS logs, the bucket's root)?`,
    );
    const text = await runCli(["collect", "--no-convert", "aws", "--table", "aws_vpc_flow_log", "--path", below, "--out", out]);
    expect(text.stderr).toContain(`0 of ${total} files under ${below} matched the layout`);
    expect(text.stdout).toContain(`Collected nothing: 0 of ${total} files under ${below} matched the layout`);
    expect(text.stdout).not.toContain("Collected 0 rows");
  });
});

describe("empty and mislabelled files", () => {
  it("collects an empty file and an empty gzip as 0 rows and reports a .gz that is not gzip as 'not gzip', exit 3", async () => {
    const dir = scratch();
    const root = join(dir, "trail");
    cpSync(SAMPLE_CLOUDTRAIL, root, { recursive: true });
    const records = cloudTrailRecords(root).length;
    const day = join(root, "AWSLogs", "693748329432", "CloudTrail", "eu-west-1", "2024", "03", "03");
    writeFileSync(join(day, "693748329432_CloudTrail_eu-west-1_20240303T2300Z_empty.json.gz"), "");
    writeFileSync(join(day, "693748329432_CloudTrail_eu-west-1_20240303T2310Z_nothing.json.gz"), gzipSync(Buffer.alloc(0)));
    writeFileSync(join(day, "693748329432_CloudTrail_eu-west-1_20240303T2320Z_plain.json.gz"), JSON.stringify({ Records: [] }));
    const out = join(dir, "out");
    const r = await runCli(["collect", "--no-convert", "aws", "--table", "aws_cloudtrail_log", "--path", root, "--out", out, "--output", "json"]);
    expect(r.code).toBe(3);
    const summary = JSON.parse(r.stdout) as Summary;
    expect(summary.rows).toBe(records);
    expect(summary.status.artifactsFailed).toBe(1);
    expect(summary.status.artifactsExtracted).toBe(listFiles(root).length - 1);
    expect(summary.errors).toHaveLength(1);
    expect(summary.errors[0]).toMatchObject({
      artifact: "trail/AWSLogs/693748329432/CloudTrail/eu-west-1/2024/03/03/693748329432_CloudTrail_eu-west-1_20240303T2320Z_plain.json.gz",
      operation: "load",
    });
    expect(summary.errors[0]!.message).toContain("not gzip: the name ends in .gz but the file starts with 7b 22 52 65");
    expect(summary.errors[0]!.message).not.toContain("malformed JSON");
  });
});

describe("row error numbers", () => {
  it("count lines from 1 in line files and records from 1 in documents, in the message and in rowIndex alike", async () => {
    const dir = scratch();
    const web = join(dir, "web");
    mkdirSync(web);
    const good = accessLines("ok", 2).split("\n");
    const badTime = good[0]!.replace("03/Mar/2024", "03/Foo/2024");
    writeFileSync(join(web, "access.log"), [good[0], "not an access log line", good[1], badTime, ""].join("\n"));
    const nginx = await runCli([
      "collect",
      "--no-convert",
      "nginx",
      "--table",
      "nginx_access_log",
      "--path",
      web,
      "--out",
      join(dir, "out1"),
      "--output",
      "json",
    ]);
    expect(nginx.code).toBe(3);
    const lineErrors = (JSON.parse(nginx.stdout) as Summary).errors.map((e) => [
      e.rowIndex,
      e.operation,
      /^.*?: (?:line|record) \d+(?=: )/.exec(e.message)?.[0],
    ]);
    expect(lineErrors).toEqual([
      [2, "map", "web/access.log: line 2"],
      [4, "enrich", "web/access.log: line 4"],
    ]);

    const trail = join(dir, "trail");
    const day = join(trail, "AWSLogs", "123456789012", "CloudTrail", "us-east-1", "2024", "03", "01");
    mkdirSync(day, { recursive: true });
    const record = (i: number) => ({
      eventVersion: "1.08",
      eventTime: `2024-03-01T00:00:0${i}Z`,
      eventSource: "ec2.amazonaws.com",
      eventName: `E${i}`,
      recipientAccountId: "123456789012",
    });
    const records = [record(1), record(2), { ...record(3), eventTime: "not a time" }, record(4)];
    writeFileSync(join(day, "123456789012_CloudTrail_us-east-1_20240301T0000Z_x.json.gz"), gzipSync(JSON.stringify({ Records: records })));
    const ct = await runCli([
      "collect",
      "--no-convert",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--path",
      trail,
      "--out",
      join(dir, "out2"),
      "--output",
      "json",
    ]);
    expect(ct.code).toBe(3);
    const recordErrors = (JSON.parse(ct.stdout) as Summary).errors;
    expect(recordErrors).toHaveLength(1);
    expect(recordErrors[0]!.rowIndex).toBe(3);
    expect(recordErrors[0]!.message).toMatch(/\.json\.gz: record 3: tp_timestamp is missing or not a valid time/);
  });
});
