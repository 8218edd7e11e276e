export { CollectionState, type CollectionStateOptions } from "./collection-state.js";
export { parseStateLocation, defaultStatePath, type StateLocation } from "./location.js";
export { StateStore } from "./store.js";
export { Progress, isDone, chunkVisible, type BeginOptions, type ProgressOptions } from "./progress.js";
export { HeadIndex, HEAD_PRINT_BYTES, headPrint, replaced, startsWith } from "./head-index.js";
export { Claims, localHost, type ClaimHolder, type ClaimsOptions } from "./claims.js";
export { systemClock, createManualClock, type Clock, type ManualClock } from "./clock.js";
export type { ArtifactState, HeadPrint } from "./types.js";
export {
  advanceCoverage,
  containsWindow,
  isCovered,
  planCoverage,
  simplifyCoverage,
  timeWindow,
  type CoveragePlan,
  type CoveredWindow,
  type TimeWindow,
} from "./coverage.js";
