import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectInProcess } from "../../src/testing/index.js";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { ROOT, tempDir } from "../e2e/helpers.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A process holding a zombie child: `sh` forks `sleep 0`, then becomes `sleep 30`, which never reaps it. */
async function zombieHolder(): Promise<{ holder: ChildProcess; zombie: number }> {
  const holder = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 30"], { stdio: ["ignore", "pipe", "ignore"] });
  cleanups.push(() => holder.kill("SIGKILL"));
  const zombie = await new Promise<number>((resolve) => holder.stdout.once("data", (b: Buffer) => resolve(Number(b.toString().trim()))));
  // Wait until the child has exited and sits unreaped.
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${zombie}/stat`, "utf8");
    if (stat.charAt(stat.lastIndexOf(")") + 2) === "Z") break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { holder, zombie };
}

describe("temp chunk files left by dead collectors", () => {
  it("are removed at the start of a collection, a killed-but-unreaped (zombie) writer's included; a live writer's stay", async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const { holder, zombie } = await zombieHolder();
    const zombieTemp = `.exec_old-1.${zombie}.jsonl.tmp`;
    const liveTemp = `.exec_other-3.${holder.pid}.jsonl.tmp`;
    writeFileSync(join(t.dir, zombieTemp), '{"half":');
    writeFileSync(join(t.dir, liveTemp), '{"still being written":');
    const res = await collectInProcess(awsPlugin, {
      table: "aws_vpc_flow_log",
      source: { type: "file", config: { paths: [join(ROOT, "sample", "vpcflow")] } },
      outputDir: t.dir,
    });
    expect(res.complete.error).toBeUndefined();
    expect(existsSync(join(t.dir, zombieTemp))).toBe(false);
    expect(existsSync(join(t.dir, liveTemp))).toBe(true);
  });
});
