/** A JSON Schema document (draft 2020-12 or 07), as plain JSON. */
export type JSONSchema = Record<string, unknown>;
