import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";

// Route 53 Resolver query logs and VPC flow logs of one VPC, in AWS's S3 layouts: the flow rows to resolved
// addresses, at times inside and past the answers' TTL, and how the tests expect tp_domains to come out.

function put(root: string, rel: string, text: string): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, gzipSync(text));
}

/** The account of the sample logs. */
export const ACCOUNT = "123456789012";
const sec = (iso: string): number => Date.parse(iso) / 1000;

/** Resolver query logs in AWS's S3 layout: api.example.com at 12:00 (two addresses behind a CNAME), db.internal at 12:00:30. */
export function resolverLogs(root: string): void {
  const record = (over: Record<string, unknown>) =>
    JSON.stringify({
      version: "1.100000",
      account_id: ACCOUNT,
      region: "us-east-1",
      vpc_id: "vpc-0abc123",
      query_class: "IN",
      query_type: "A",
      rcode: "NOERROR",
      srcaddr: "10.0.1.5",
      srcport: "53211",
      transport: "UDP",
      srcids: { instance: "i-0123456789abcdef0" },
      ...over,
    });
  put(
    root,
    `AWSLogs/${ACCOUNT}/vpcdnsquerylogs/vpc-0abc123/2024/03/01/vpc-0abc123_vpcdnsquerylogs_${ACCOUNT}_20240301T1200Z_1a2b3c4d.log.gz`,
    [
      record({
        query_timestamp: "2024-03-01T12:00:00Z",
        query_name: "api.example.com.",
        answers: [
          { Rdata: "edge.example.net.", Type: "CNAME", Class: "IN" },
          { Rdata: "203.0.113.10", Type: "A", Class: "IN" },
          { Rdata: "203.0.113.11", Type: "A", Class: "IN" },
        ],
      }),
      record({ query_timestamp: "2024-03-01T12:00:30Z", query_name: "db.internal.", answers: [{ Rdata: "10.0.5.5", Type: "A", Class: "IN" }] }),
      record({ query_timestamp: "2024-03-01T12:01:00Z", query_name: "nx.example.", rcode: "NXDOMAIN", answers: [] }),
    ].join("\n") + "\n",
  );
}

/** Flow logs of the same VPC: to both resolved addresses in time, one two hours later (past the default TTL), one unknown. */
export function flowLogs(root: string): void {
  const line = (dst: string, dstport: string, start: string) =>
    `2 ${ACCOUNT} eni-0a1b2c3d 10.0.1.5 ${dst} 49152 ${dstport} 6 10 840 ${sec(start)} ${sec(start) + 60} ACCEPT OK`;
  put(
    root,
    `AWSLogs/${ACCOUNT}/vpcflowlogs/us-east-1/2024/03/01/${ACCOUNT}_vpcflowlogs_us-east-1_fl-1_20240301T1200Z_hash.log.gz`,
    [
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
      line("203.0.113.10", "443", "2024-03-01T12:01:00Z"),
      line("10.0.5.5", "5432", "2024-03-01T12:05:00Z"),
      // Not written canonically: the line format declines it and the reference path (enrich) must give the same domains.
      line("203.0.113.11", "0443", "2024-03-01T12:10:00Z"),
      line("203.0.113.10", "443", "2024-03-01T14:30:00Z"),
      line("198.51.100.1", "443", "2024-03-01T12:02:00Z"),
    ].join("\n") + "\n",
  );
}

/** [dstaddr, tp_domains] of the flow rows, in order, with tailkit/dns's defaults, once the resolver logs are collected. */
export const FLOW_DOMAINS = [
  ["203.0.113.10", ["api.example.com"]],
  ["10.0.5.5", ["db.internal"]],
  ["203.0.113.11", ["api.example.com"]],
  // 2.5 hours after the answer: past the default TTL of an hour, measured by the rows' own times.
  ["203.0.113.10", []],
  ["198.51.100.1", []],
];
