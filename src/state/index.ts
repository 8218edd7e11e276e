export { CollectionState, parseStateLocation, defaultStatePath, type ArtifactState, type StateLocation, type CollectionStateOptions } from "./collection-state.js";
