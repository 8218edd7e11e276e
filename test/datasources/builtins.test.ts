import { join } from "node:path";
import { scratchDirs } from "../e2e/helpers.js";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { DataNotFound, KeyNotSupported, type DataSource } from "../../src/contract/data-source.js";
import { collectionSetup, registryFor } from "../../src/datasources/setup.js";
import { parseStateLocation } from "../../src/state/location.js";
import { collectInProcess } from "../../src/testing/index.js";
import { ACCOUNT, resolverLogs } from "../plugins/route53-helpers.js";

const scratch = scratchDirs();

const ajv = new Ajv({ strict: false });
ajv.addFormat("date-time", true);

/** Asserts that the value is valid under the source's own schema() (the check every built-in must pass). */
function expectValid(source: DataSource, value: unknown): void {
  const validate = ajv.compile(source.schema());
  expect(validate(value), JSON.stringify(validate.errors)).toBe(true);
}

describe("built-in data sources after a collection", () => {
  it("tailkit/artifacts, tailkit/executions and tailkit/dns give what they know, valid under their schemas", async () => {
    const root = scratch();
    const out = join(root, "out");
    resolverLogs(join(root, "r53"));
    const res = await collectInProcess(awsPlugin, {
      table: "aws_route53_resolver_query_log",
      source: { type: "file", config: { paths: [join(root, "r53")] } },
      outputDir: out,
    });
    expect(res.complete.error).toBeUndefined();

    // The registry a later collection into the same folder gets.
    const registry = await registryFor(collectionSetup("aws", {}, parseStateLocation("", out), out));
    registry.refresh();
    const artifacts = registry.getDataSource("tailkit", "artifacts")!;
    // Named as the file source names it: from the folder given in paths.
    const name = `r53/AWSLogs/${ACCOUNT}/vpcdnsquerylogs/vpc-0abc123/2024/03/01/vpc-0abc123_vpcdnsquerylogs_${ACCOUNT}_20240301T1200Z_1a2b3c4d.log.gz`;
    const artifact = artifacts.get({ table: "aws_route53_resolver_query_log", name }) as Record<string, unknown>;
    expect(artifact).toMatchObject({
      table: "aws_route53_resolver_query_log",
      partition: "default",
      name,
      rows: 3,
      complete: true,
      execution: res.executionId,
    });
    expect(artifact["location"]).toBe(join(root, name));
    expect(typeof artifact["collectedAtMs"]).toBe("number");
    expectValid(artifacts, artifact);
    // By where it was collected from (tp_source_location), as a mapper of another table would know it.
    expect(artifacts.get({ table: "aws_route53_resolver_query_log", location: join(root, name) })).toEqual(artifact);
    expect(artifacts.lookup({ table: "aws_route53_resolver_query_log", location: join(root, "elsewhere.log.gz") })).toBeUndefined();
    expect(() => artifacts.get({ table: "aws_route53_resolver_query_log", name: "nope.log.gz" })).toThrow(DataNotFound);
    expect(() => artifacts.get({ name })).toThrow(KeyNotSupported);

    const executions = registry.getDataSource("tailkit", "executions")!;
    const exec = executions.get({ id: res.executionId }) as Record<string, unknown>;
    expect(exec).toMatchObject({ id: res.executionId, table: "aws_route53_resolver_query_log", partition: "default", status: "succeeded", rows: 3, chunks: 1 });
    expect(exec["durationMs"]).toBeGreaterThanOrEqual(0);
    expectValid(executions, exec);
    expect(() => executions.get({ id: "exec_none" })).toThrow(DataNotFound);
    expect(() => executions.get("exec")).toThrow(KeyNotSupported);

    const dns = registry.getDataSource("tailkit", "dns")!;
    const answer = dns.get({ domain: "api.example.com", at: "2024-03-01T12:30:00Z" });
    expect(answer).toEqual({ domain: "api.example.com", ips: ["203.0.113.10", "203.0.113.11"] });
    expectValid(dns, answer);
    expectValid(dns, dns.get({ ip: "10.0.5.5" }));
  });
});
