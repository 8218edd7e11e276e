import { createCloudWatchLogsSourceFactory, createS3SourceFactory, createWebhookSourceFactory, type PluginDefinition } from "tailkit";
import { cloudTrailTable } from "./cloudtrail.js";
import { vpcFlowLogTable } from "./vpc-flow-log.js";
import { route53ResolverQueryLogTable } from "./route53-resolver.js";

/**
 * The AWS plugin: CloudTrail, VPC flow logs and Route 53 Resolver query logs, from local copies or their S3 buckets;
 * CloudTrail also from CloudWatch Logs and a webhook. Resolver answers feed tailkit/dns, which gives flow logs tp_domains.
 */
export const awsPlugin: PluginDefinition = {
  name: "aws",
  version: "0.1.0",
  module: import.meta.url,
  tables: [cloudTrailTable, vpcFlowLogTable, route53ResolverQueryLogTable],
  sources: [createS3SourceFactory(), createCloudWatchLogsSourceFactory(), createWebhookSourceFactory()],
};

export { cloudTrailTable, cloudTrailRecords, cloudTrailLogEvents, cloudTrailEventMapper, CLOUDTRAIL_FILE_LAYOUT, type CloudTrailRecord } from "./cloudtrail.js";
export { vpcFlowLogTable, VPC_FLOW_LOG_FILE_LAYOUT, VPC_DEFAULT_FIELDS, VPC_FLOW_LOG_OPTIONS } from "./vpc-flow-log.js";
export { route53ResolverQueryLogTable, ROUTE53_RESOLVER_FILE_LAYOUT, type ResolverQueryRecord, type ResolverAnswer } from "./route53-resolver.js";
