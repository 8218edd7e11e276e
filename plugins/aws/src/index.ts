import { createWebhookSourceFactory, type PluginDefinition } from "tailkit";
import { cloudTrailTable } from "./cloudtrail.js";
import { vpcFlowLogTable } from "./vpc-flow-log.js";

/** The AWS plugin: CloudTrail (from files and a webhook) and VPC flow logs. */
export const awsPlugin: PluginDefinition = {
  name: "aws",
  version: "0.1.0",
  module: import.meta.url,
  tables: [cloudTrailTable, vpcFlowLogTable],
  sources: [createWebhookSourceFactory()],
};

export { cloudTrailTable, cloudTrailRecords, cloudTrailEventMapper, CLOUDTRAIL_FILE_LAYOUT, type CloudTrailRecord } from "./cloudtrail.js";
export { vpcFlowLogTable, VPC_FLOW_LOG_FILE_LAYOUT, VPC_DEFAULT_FIELDS } from "./vpc-flow-log.js";
