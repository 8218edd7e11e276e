// Every plugin in plugins/ passes the conformance kit, run as a plugin author runs it in the plugin's own test: its
// definition in process, on fixtures from sample/, and its executable launched as the CLI does.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { checkPlugin, type ConformanceOptions } from "../../src/testing/index.js";
import type { PluginDefinition } from "../../src/index.js";
import { awsPlugin } from "../../plugins/aws/src/index.js";
import { nginxPlugin } from "../../plugins/nginx/src/index.js";
import { corePlugin } from "../../plugins/core/src/index.js";
import { parse as parseYaml } from "yaml";
import { ROOT } from "../e2e/helpers.js";

const sample = (...p: string[]) => join(ROOT, "sample", ...p);
const CLOUDTRAIL = sample(
  "cloudtrail/AWSLogs/693748329432/CloudTrail/eu-west-1/2024/03/03/693748329432_CloudTrail_eu-west-1_20240303T0030Z_WvzWY2Qx550kwhBd.json.gz",
);
const VPC = sample(
  "vpcflow/AWSLogs/693748329432/vpcflowlogs/eu-west-1/2024/03/03/693748329432_vpcflowlogs_eu-west-1_fl-e05f3d3b4fe74157a_20240303T0030Z_a89cfa29.log.gz",
);
const ROUTE53 = sample(
  "route53/AWSLogs/693748329432/vpcdnsquerylogs/vpc-0f3c2a1b9d8e7f605/2024/03/03/vpc-0f3c2a1b9d8e7f605_vpcdnsquerylogs_693748329432_20240303T0000Z_5e1d2c3b.log.gz",
);
const NGINX = sample("nginx/web1/access.log");
const ORDERS = sample("orders/orders-2024-03-01.csv");
const ORDERS_TABLE = parseYaml(readFileSync(sample("orders/orders.yaml"), "utf8")) as Record<string, unknown>;
const NGINX_ERRORS = sample("nginx/web1/error.log");

const text = (file: string) => (file.endsWith(".gz") ? gunzipSync(readFileSync(file)) : readFileSync(file)).toString("utf8");
const lines = (file: string) =>
  text(file)
    .split("\n")
    .filter((l) => l.length > 0);

/** Each plugin of plugins/, with its fixtures: a file each table reads and the rows it holds, counted from the file. */
const PLUGINS: Record<string, { definition: PluginDefinition; options: ConformanceOptions }> = {
  aws: {
    definition: awsPlugin,
    options: {
      fixtures: {
        aws_cloudtrail_log: { config: { paths: [CLOUDTRAIL] }, rows: (JSON.parse(text(CLOUDTRAIL)) as { Records: unknown[] }).Records.length },
        // The first line is the header naming the fields.
        aws_vpc_flow_log: { config: { paths: [VPC] }, rows: lines(VPC).length - 1 },
        aws_route53_resolver_query_log: { config: { paths: [ROUTE53] }, rows: lines(ROUTE53).length },
      },
      executable: join(ROOT, "plugins/aws/bin/tailkit-plugin-aws"),
    },
  },
  nginx: {
    definition: nginxPlugin,
    options: {
      fixtures: {
        nginx_access_log: [
          { config: { paths: [NGINX] }, rows: lines(NGINX).length },
          // The combined format written out as a log_format in the table config: the same rows.
          {
            config: { paths: [NGINX] },
            tableConfig: { log_format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"' },
            rows: lines(NGINX).length,
            label: "nginx_access_log with a log_format",
          },
        ],
        nginx_error_log: { config: { paths: [NGINX_ERRORS] }, rows: lines(NGINX_ERRORS).length },
      },
      executable: join(ROOT, "plugins/nginx/bin/tailkit-plugin-nginx"),
    },
  },
  core: {
    definition: corePlugin,
    options: {
      // core has no tables of its own: the kit checks the custom table the sample defines, as Describe would list it.
      fixtures: { shop_orders: { config: { paths: [ORDERS] }, tableConfig: { definition: ORDERS_TABLE }, rows: lines(ORDERS).length - 1 } },
      executable: join(ROOT, "plugins/core/bin/tailkit-plugin-core"),
    },
  },
};

/** Plugins the kit cannot check, and why: none. */
const UNCHECKED: Record<string, string> = {};

describe("the plugins in plugins/", () => {
  it("are each listed here", () => {
    expect(readdirSync(join(ROOT, "plugins")).sort()).toEqual([...Object.keys(PLUGINS), ...Object.keys(UNCHECKED)].sort());
  });

  it.each(Object.keys(PLUGINS))("%s passes the conformance kit", async (name) => {
    const { definition, options } = PLUGINS[name]!;
    const report = await checkPlugin(definition, options);
    // Every table collected its fixtures (one or more each), and the executable was launched, served and stopped.
    expect(report.checks.filter((c) => c.name.startsWith("collects ")).length).toBe(Object.values(options.fixtures).flat().length);
    expect(report.checks.map((c) => c.name)).toEqual(expect.arrayContaining(["executable starts and answers health", "executable shuts down cleanly"]));
  });
});
