import {
  chain,
  createJsonLinesMapper,
  createLinesLoader,
  defineTable,
  type DataSourceLookup,
  type Mapper,
  type TableDefinition,
  type WriteableDataSource,
} from "tailkit";
import { isIp, uniqueStrings } from "./util.js";

/**
 * AWS's delivery layout for Route 53 Resolver query log files in S3, relative to the bucket (or a copy of it):
 * `AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/<yyyy>/<mm>/<dd>/<vpc-id>_vpcdnsquerylogs_<account>_<yyyymmddThhmmZ>_<hash>.log.gz`.
 */
export const ROUTE53_RESOLVER_FILE_LAYOUT =
  "AWSLogs/{account:\\d{12}}/vpcdnsquerylogs/{vpc:vpc-[0-9a-f]+}/{year:\\d{4}}/{month:\\d{2}}/{day:\\d{2}}/{file}.log.gz";

/** One answer of a query: the record's data (an address for A and AAAA), its type and class. */
export interface ResolverAnswer {
  Rdata?: string;
  Type?: string;
  Class?: string;
}

/** A Route 53 Resolver query log record (one JSON object a line); the fields the table reads, the rest kept as they are. */
export interface ResolverQueryRecord {
  version?: string;
  account_id?: string;
  region?: string;
  vpc_id?: string;
  query_timestamp?: string;
  query_name?: string;
  query_type?: string;
  query_class?: string;
  rcode?: string;
  answers?: ResolverAnswer[];
  srcaddr?: string;
  srcport?: string;
  transport?: string;
  srcids?: { instance?: string; resolver_endpoint?: string };
  firewall_rule_action?: string;
  firewall_rule_group_id?: string;
  firewall_domain_list_id?: string;
  [field: string]: unknown;
}

/** The addresses among a record's answers (A and AAAA records; a CNAME's Rdata is a name). */
function answerAddresses(r: ResolverQueryRecord): string[] {
  return uniqueStrings((r.answers ?? []).map((a) => a?.Rdata)).filter(isIp);
}

/**
 * Passes each record on and writes its answers into tailkit/dns (the query's name → the answers' addresses, at the
 * query's time; the log gives no TTL, so the source's default applies). Writes go before the row is written to a
 * chunk: a row the collection then fails still taught the cache what it resolved, which is true.
 */
function dnsWriter(ctx: DataSourceLookup): Mapper<ResolverQueryRecord, ResolverQueryRecord> {
  const dns = ctx.getDataSource("tailkit", "dns") as WriteableDataSource | undefined;
  return {
    name: "route53_resolver_dns",
    map: (r) => {
      if (dns === undefined || typeof r.query_name !== "string" || r.query_name === "" || typeof r.query_timestamp !== "string") return r;
      const ips = answerAddresses(r);
      if (ips.length > 0) dns.write([{ domain: r.query_name, ips, at: r.query_timestamp }]);
      return r;
    },
  };
}

const s = (description?: string): Record<string, unknown> => ({ type: ["string", "null"], ...(description ? { description } : {}) });

/** The aws_route53_resolver_query_log table. */
export const route53ResolverQueryLogTable: TableDefinition = defineTable({
  name: "aws_route53_resolver_query_log",
  description: "Amazon Route 53 Resolver query logs: DNS queries made from VPCs, from the files delivered to S3. Every answer goes into tailkit/dns.",
  sources: {
    file: { defaults: { file_layout: ROUTE53_RESOLVER_FILE_LAYOUT } },
    aws_s3_bucket: { defaults: { file_layout: ROUTE53_RESOLVER_FILE_LAYOUT } },
  },
  dataSources: [{ namespace: "tailkit", id: "dns", version: 1 }],
  loader: () => createLinesLoader(),
  mappers: (_config, ctx) => chain(createJsonLinesMapper() as Mapper<string, ResolverQueryRecord>, dnsWriter(ctx)),
  rowSchema: {
    type: "object",
    required: ["tp_id", "tp_timestamp", "query_timestamp"],
    properties: {
      version: s("major.minor version of the log format"),
      account_id: s(),
      region: s(),
      vpc_id: s(),
      query_timestamp: { type: "string", format: "date-time" },
      query_name: s("the domain queried, with its trailing dot"),
      query_type: s(),
      query_class: s(),
      rcode: s(),
      answers: {
        type: ["array", "null"],
        items: { type: "object", properties: { Rdata: { type: "string" }, Type: { type: "string" }, Class: { type: "string" } } },
      },
      srcaddr: s(),
      srcport: s("as the log gives it: a string"),
      transport: s(),
      srcids: { type: ["object", "null"], properties: { instance: { type: "string" }, resolver_endpoint: { type: "string" } } },
      firewall_rule_action: s(),
      firewall_rule_group_id: s(),
      firewall_domain_list_id: s(),
      tp_id: { type: "string" },
      tp_timestamp: { type: "string", format: "date-time" },
    },
  },
  enrich: (r: ResolverQueryRecord, ctx) => {
    const ips = answerAddresses(r);
    const src = typeof r.srcaddr === "string" && isIp(r.srcaddr) ? r.srcaddr : null;
    const domain = typeof r.query_name === "string" && r.query_name !== "" ? r.query_name.replace(/\.$/, "").toLowerCase() : undefined;
    return {
      tp_timestamp: r.query_timestamp ?? "",
      tp_index: r.account_id ?? ctx.artifact.properties["account"] ?? "default",
      tp_source_ip: src,
      tp_ips: uniqueStrings([src, ...ips]),
      tp_domains: domain !== undefined ? [domain] : [],
    };
  },
});
