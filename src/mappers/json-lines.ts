import { describeJsonError } from "../loaders/json-document.js";
import type { Mapper } from "../contract/mapper.js";

/** Options of createJsonLinesMapper. */
export interface JsonLinesMapperOptions {
  /** Reject a line whose value is not a JSON object (an array, a number). Default true: rows are objects. */
  requireObject?: boolean;
}

/** A mapper that parses each line as JSON; blank lines are dropped, malformed ones rejected with the parser's reason. */
export function createJsonLinesMapper(options: JsonLinesMapperOptions = {}): Mapper<string, unknown> {
  const requireObject = options.requireObject ?? true;
  return {
    name: "json-lines",
    map(line) {
      if (line.length === 0 || line.trim().length === 0) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new Error(describeJsonError(err));
      }
      if (requireObject && (typeof value !== "object" || value === null || Array.isArray(value))) {
        throw new Error(`expected a JSON object, found ${value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`}`);
      }
      return value;
    },
  };
}
