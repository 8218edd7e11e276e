export { launchPlugin, PluginClient, type LaunchOptions, type PluginExit } from "./plugin-client.js";
