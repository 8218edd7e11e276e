// The plugin the data-source bench collects with: the AWS plugin's resolver and flow-log tables, and the flow-log
// table without its tp_domains lookup (the same definition, domainsOf left out), all loadable by extraction workers.
import { createS3SourceFactory, defineDelimitedTable } from "../dist/src/index.js";
import { route53ResolverQueryLogTable, vpcFlowLogTable, VPC_FLOW_LOG_OPTIONS } from "../dist/plugins/aws/src/index.js";

const enrichWithoutDns = { ...VPC_FLOW_LOG_OPTIONS.enrich };
delete enrichWithoutDns.domainsOf;

export const benchDnsPlugin = {
  name: "bench_dns",
  version: "0.0.0",
  module: import.meta.url,
  // The tables also accept aws_s3_bucket (its client loads only when used).
  sources: [createS3SourceFactory()],
  tables: [
    route53ResolverQueryLogTable,
    vpcFlowLogTable,
    defineDelimitedTable({ ...VPC_FLOW_LOG_OPTIONS, name: "aws_vpc_flow_log_no_dns", enrich: enrichWithoutDns }),
  ],
};
