import { spawn, type ChildProcess } from "node:child_process";
import { describe, expect, it } from "vitest";
import { freePort, post } from "../sources/webhook/helpers.js";
import { CLI, childOf, readChunks, scratchDirs } from "./helpers.js";

// The real CLI and the real AWS plugin executable, a webhook on a loopback port, CloudTrail records with unique eventIDs.

const scratch = scratchDirs();
const TOKEN = "e2e-token";

/** A CloudTrail record, unique by its eventID. */
const record = (id: string) => ({
  eventVersion: "1.09",
  eventTime: "2024-05-01T10:00:00Z",
  eventSource: "sts.amazonaws.com",
  eventName: "AssumeRole",
  sourceIPAddress: "198.51.100.4",
  eventID: id,
  recipientAccountId: "123456789012",
});

interface RunningCli {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `tailkit collect` of aws_cloudtrail_log from a webhook on port, and waits until it listens. */
async function startCollect(out: string, port: number): Promise<RunningCli> {
  const config = JSON.stringify({ listen: `127.0.0.1:${port}`, token_env: "HOOK_TOKEN" });
  const child = spawn(
    process.execPath,
    [
      CLI,
      "collect",
      "aws",
      "--table",
      "aws_cloudtrail_log",
      "--source",
      "webhook",
      "--config",
      config,
      "--out",
      out,
      "--no-convert",
      "--rows-per-chunk",
      "7",
      "--verbose",
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, HOOK_TOKEN: TOKEN } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (http:\S+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`tailkit exited ${code} before listening:\n${stderr}`)));
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Posts one batch of records; resolves whether it was acknowledged (200), false on any failure to get one. */
async function send(url: string, ids: string[]): Promise<boolean> {
  try {
    const res = await post(url, JSON.stringify(ids.map(record)), { token: TOKEN });
    return res.status === 200;
  } catch {
    return false;
  }
}

/** How many times each eventID is in the chunk files of out. */
function countIds(out: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const row of readChunks(out).flatMap((c) => c.rows)) counts.set(row["eventID"] as string, (counts.get(row["eventID"] as string) ?? 0) + 1);
  return counts;
}

describe("tailkit collect --source webhook", () => {
  it("keeps every acknowledged row when the plugin is SIGKILLed right after acknowledging: each in a chunk exactly once after a rerun", async () => {
    const out = scratch();
    const port = await freePort();
    const first = await startCollect(out, port);
    const plugin = childOf(first.child.pid!)!;
    const acked: string[] = [];
    const sent = new Set<string>();
    let killed = false;
    // Four senders at once, three records a request, until the plugin is gone; it is killed in the callback of the
    // acknowledgement that brings the count to 150, while the others' requests are on their way.
    await Promise.all(
      [0, 1, 2, 3].map(async (sender) => {
        for (let n = 0; !killed; n++) {
          const ids = [0, 1, 2].map((k) => `s${sender}-${n}-${k}`);
          ids.forEach((id) => sent.add(id));
          if (!(await send(first.url, ids))) break;
          acked.push(...ids);
          if (acked.length >= 150 && !killed) {
            killed = true;
            process.kill(plugin, "SIGKILL");
          }
        }
      }),
    );
    expect(await first.exited).toBe(1);
    expect(first.stderr()).toMatch(/plugin exited .*SIGKILL/);
    const beforeRerun = countIds(out);
    // What a run read from its spool into chunks before it was killed, it wrote once.
    expect([...beforeRerun.values()].every((n) => n === 1)).toBe(true);

    const second = await startCollect(out, port);
    expect(await send(second.url, ["after-restart"])).toBe(true);
    acked.push("after-restart");
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);

    const counts = countIds(out);
    const missing = acked.filter((id) => counts.get(id) !== 1);
    expect(missing).toEqual([]);
    // No row twice, acknowledged or not; rows not acknowledged (on their way at the kill) are there once or not at all.
    expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect([...counts.keys()].filter((id) => !sent.has(id) && id !== "after-restart")).toEqual([]);
    console.log(`webhook kill: ${acked.length} acknowledged, ${[...beforeRerun.keys()].length} in chunks at the kill, ${counts.size} after the rerun`);
  }, 120_000);

  it("on SIGINT stops taking rows, writes what it acknowledged, and exits 0 with the summary", async () => {
    const out = scratch();
    const run = await startCollect(out, await freePort());
    const ids = Array.from({ length: 25 }, (_, i) => `int-${i}`);
    for (let i = 0; i < ids.length; i += 5) expect(await send(run.url, ids.slice(i, i + 5))).toBe(true);
    run.child.kill("SIGINT");
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/Collected 25 rows into 4 chunk files in /);
    expect(run.stderr()).not.toMatch(/interrupted/);
    expect([...countIds(out).entries()].sort()).toEqual(ids.map((id) => [id, 1]).sort());
    // Stopped: the port is closed.
    expect(await send(run.url, ["late"])).toBe(false);
  }, 60_000);

  it("on SIGTERM to the plugin itself drains the same way, and the CLI exits 0", async () => {
    const out = scratch();
    const run = await startCollect(out, await freePort());
    expect(await send(run.url, ["term-1", "term-2", "term-3"])).toBe(true);
    process.kill(childOf(run.child.pid!)!, "SIGTERM");
    expect(await run.exited).toBe(0);
    expect([...countIds(out).keys()].sort()).toEqual(["term-1", "term-2", "term-3"]);
  }, 60_000);
});
