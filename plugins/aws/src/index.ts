import type { PluginDefinition } from "../../../src/plugin/types.js";
import { cloudTrailTable } from "./cloudtrail.js";
import { vpcFlowLogTable } from "./vpc-flow-log.js";

/** The AWS plugin: CloudTrail and VPC flow logs. */
export const awsPlugin: PluginDefinition = {
  name: "aws",
  version: "0.1.0",
  module: import.meta.url,
  tables: [cloudTrailTable, vpcFlowLogTable],
};

export { cloudTrailTable, cloudTrailRecordsExtractor, CLOUDTRAIL_FILE_LAYOUT } from "./cloudtrail.js";
export { vpcFlowLogTable, VPC_FLOW_LOG_FILE_LAYOUT, VPC_DEFAULT_FIELDS } from "./vpc-flow-log.js";
