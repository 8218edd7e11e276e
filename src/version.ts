/** The SDK's version, reported by Describe. */
export const SDK_VERSION = "0.1.0";
