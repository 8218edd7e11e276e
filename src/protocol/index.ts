export { loadProtocol, protoRoot, PROTO_FILES, LOADER_OPTIONS } from "./load.js";
export { eventToWire, eventFromWire, toUnixMs, fromUnixMs } from "./convert.js";
export type { CollectRequest, CollectRequest__Input } from "./generated/tailkit/plugin/v1/CollectRequest.js";
export type { DescribeResponse, DescribeResponse__Input } from "./generated/tailkit/plugin/v1/DescribeResponse.js";
export type { PluginServiceClient, PluginServiceHandlers } from "./generated/tailkit/plugin/v1/PluginService.js";
export type { GRPCControllerClient, GRPCControllerHandlers } from "./generated/plugin/GRPCController.js";
export type { DataSourceServiceClient, DataSourceServiceHandlers } from "./generated/tailkit/plugin/v1/DataSourceService.js";
export type { AddObserverResponse } from "./generated/tailkit/plugin/v1/AddObserverResponse.js";
export type { Event as WireEvent } from "./generated/tailkit/plugin/v1/Event.js";
