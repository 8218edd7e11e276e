export type { MapContext, Mapper } from "../contract/mapper.js";
export { createMapperChain, MapperChain, type MappedBatch, type RowErrorRecord } from "./chain.js";
export { createDelimitedMapper, validateDelimitedMapperOptions, type DelimitedMapperOptions, type FieldType } from "./delimited.js";
export { createRegexMapper, type RegexMapperOptions } from "./regex.js";
export { createJsonLinesMapper, type JsonLinesMapperOptions } from "./json-lines.js";
export { rawRow, isRawRow, hasTpKey, RawRow } from "./raw-row.js";
