export { launchPlugin, PluginClient, type CollectionStarted, type LaunchOptions, type PluginExit } from "./plugin-client.js";
export { executionChunks, countChunkRows, type ChunkOnDisk } from "./chunks-on-disk.js";
