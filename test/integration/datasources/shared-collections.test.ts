import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { awsPlugin } from "../../../plugins/aws/src/index.js";
import { collectInProcess } from "../../../src/testing/index.js";
import { scratchDirs } from "../../e2e/helpers.js";
import { FLOW_DOMAINS, flowLogs, resolverLogs } from "../../plugins/route53-helpers.js";
import { deletePrefix, requireRedis, uniquePrefix } from "../storage/redis-helpers.js";

const scratch = scratchDirs();

describe("tailkit/dns shared through Redis state", () => {
  it("gives a collector's flow rows the domains another collector's resolver logs taught, with no storage configured", async () => {
    await requireRedis();
    const prefix = uniquePrefix().replace(/:$/, "");
    const state = `redis://127.0.0.1:6379/${prefix}`;
    // Two collectors with nothing in common but the Redis of their state: other folders, other runtimes.
    const collector = async (table: string, write: (dir: string) => void, sub: string) => {
      const dir = scratch();
      write(join(dir, sub));
      const res = await collectInProcess(awsPlugin, {
        table,
        source: { type: "file", config: { paths: [join(dir, sub)] } },
        outputDir: join(dir, "out"),
        state,
      });
      expect(res.complete.error).toBeUndefined();
      return res;
    };
    try {
      await collector("aws_route53_resolver_query_log", resolverLogs, "r53");
      const flows = await collector("aws_vpc_flow_log", flowLogs, "vpc");
      expect(flows.rows.map((r) => [r["dstaddr"], r["tp_domains"]])).toEqual(FLOW_DOMAINS);
    } finally {
      await deletePrefix(`${prefix}:`);
    }
  });
});
