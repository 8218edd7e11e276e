import { join } from "node:path";
import { scratchDirs } from "../e2e/helpers.js";
import { describe, expect, it } from "vitest";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { PluginRuntime } from "../../src/plugin/runtime.js";
import { formatDescription } from "../../src/cli/describe-text.js";
import { collectInProcess } from "../../src/testing/index.js";
import { ACCOUNT, FLOW_DOMAINS, flowLogs, resolverLogs } from "./route53-helpers.js";

const scratch = scratchDirs();

describe("aws_route53_resolver_query_log and tp_domains of aws_vpc_flow_log", () => {
  it("collects resolver logs in AWS's S3 layout, then gives flow rows to resolved addresses their domains", async () => {
    const root = scratch();
    const out = join(root, "out");
    resolverLogs(join(root, "r53"));
    flowLogs(join(root, "vpc"));

    const dns = await collectInProcess(awsPlugin, {
      table: "aws_route53_resolver_query_log",
      source: { type: "file", config: { paths: [join(root, "r53")] } },
      outputDir: out,
    });
    expect(dns.complete.error).toBeUndefined();
    expect(dns.rows).toHaveLength(3);
    expect(dns.rows[0]).toMatchObject({
      query_name: "api.example.com.",
      tp_index: ACCOUNT,
      tp_source_ip: "10.0.1.5",
      tp_ips: ["10.0.1.5", "203.0.113.10", "203.0.113.11"],
      tp_domains: ["api.example.com"],
      tp_timestamp: "2024-03-01T12:00:00.000Z",
    });

    const flows = await collectInProcess(awsPlugin, {
      table: "aws_vpc_flow_log",
      source: { type: "file", config: { paths: [join(root, "vpc")] } },
      outputDir: out,
    });
    expect(flows.complete.error).toBeUndefined();
    expect(flows.rows.map((r) => [r["dstaddr"], r["tp_domains"]])).toEqual(FLOW_DOMAINS);
  });

  it("matches nothing past a configured default TTL", async () => {
    const root = scratch();
    const out = join(root, "out");
    resolverLogs(join(root, "r53"));
    flowLogs(join(root, "vpc"));
    const config = { dataSources: { dns: { defaultTtlSeconds: 120, graceSeconds: 0 } } };
    await collectInProcess(
      awsPlugin,
      { table: "aws_route53_resolver_query_log", source: { type: "file", config: { paths: [join(root, "r53")] } }, outputDir: out },
      config,
    );
    const flows = await collectInProcess(
      awsPlugin,
      { table: "aws_vpc_flow_log", source: { type: "file", config: { paths: [join(root, "vpc")] } }, outputDir: out },
      config,
    );
    // 12:01 is within 2 minutes of 12:00; 12:05 is 4.5 minutes after 12:00:30, and 12:10 10 minutes after 12:00.
    expect(flows.rows.map((r) => r["tp_domains"])).toEqual([["api.example.com"], [], [], [], []]);
  });

  it("lists each table's data sources with their versions in Describe, and the plugin's own", () => {
    const d = new PluginRuntime({ ...awsPlugin, module: undefined }).describe();
    // What `tailkit describe aws` prints.
    const text = formatDescription(d);
    expect(text).toMatch(/aws_vpc_flow_log .*\n(?: {4}.*\n)*? {4}data sources: tailkit\/dns v1\n/);
    expect(text).toMatch(
      /Data sources:\n\n {2}tailkit\/artifacts +v1 +read-only +keys: name, location\n {2}tailkit\/executions +v1 +read-only +keys: id\n {2}tailkit\/dns +v1 +writeable +keys: ip, domain\n/,
    );
    const byName = Object.fromEntries(d.tables.map((t) => [t.name, t.dataSources]));
    expect(byName["aws_vpc_flow_log"]).toEqual([{ namespace: "tailkit", id: "dns", version: 1 }]);
    expect(byName["aws_route53_resolver_query_log"]).toEqual([{ namespace: "tailkit", id: "dns", version: 1 }]);
    expect(byName["aws_cloudtrail_log"]).toEqual([]);
    expect(d.dataSources.map((s) => [`${s.namespace}/${s.id}`, s.version, s.writeable])).toEqual([
      ["tailkit/artifacts", 1, false],
      ["tailkit/executions", 1, false],
      ["tailkit/dns", 1, true],
    ]);
    expect(d.tables.find((t) => t.name === "aws_route53_resolver_query_log")!.sourceDefaults["aws_s3_bucket"]).toEqual({
      file_layout: "AWSLogs/{account:\\d{12}}/vpcdnsquerylogs/{vpc:vpc-[0-9a-f]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.log.gz",
    });
  });
});
