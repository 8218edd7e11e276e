export {
  CollectionState,
  parseStateLocation,
  defaultStatePath,
  HEAD_PRINT_BYTES,
  localHost,
  type ClaimHolder,
  type ArtifactState,
  type HeadPrint,
  type StateLocation,
  type CollectionStateOptions,
} from "./collection-state.js";
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
