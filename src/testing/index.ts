// tailkit/testing: helpers for plugin authors' tests. None depends on a test runner.
export { collectInProcess, type InProcessCollection } from "./collect-in-process.js";
export {
  checkPlugin,
  runConformance,
  formatConformanceReport,
  ConformanceError,
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceCheck,
  type TableFixture,
  type InvalidConfigCase,
} from "./conformance.js";
