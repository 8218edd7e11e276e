import { createCloudWatchLogsSourceFactory, createS3SourceFactory, createWebhookSourceFactory, type PluginDefinition } from "tailkit";
import { cloudTrailTable } from "./cloudtrail.js";
import { vpcFlowLogTable } from "./vpc-flow-log.js";

/** The AWS plugin: CloudTrail and VPC flow logs, from local copies or their S3 buckets; CloudTrail also from CloudWatch Logs and a webhook. */
export const awsPlugin: PluginDefinition = {
  name: "aws",
  version: "0.1.0",
  module: import.meta.url,
  tables: [cloudTrailTable, vpcFlowLogTable],
  sources: [createS3SourceFactory(), createCloudWatchLogsSourceFactory(), createWebhookSourceFactory()],
};

export { cloudTrailTable, cloudTrailRecords, cloudTrailLogEvents, cloudTrailEventMapper, CLOUDTRAIL_FILE_LAYOUT, type CloudTrailRecord } from "./cloudtrail.js";
export { vpcFlowLogTable, VPC_FLOW_LOG_FILE_LAYOUT, VPC_DEFAULT_FIELDS } from "./vpc-flow-log.js";
