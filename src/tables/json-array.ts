import type { Loader } from "../contract/loader.js";
import type { Mapper } from "../contract/mapper.js";
import type { Row } from "../contract/row.js";
import type { TableSource } from "../contract/table.js";
import { createJsonDocumentLoader, documentElementBytes, documentElementTexts, documentText } from "../loaders/json-document.js";
import { topLevelArraySpans } from "../loaders/json-slices.js";
import { hasTpKey, RawRow, rawRow } from "../mappers/raw-row.js";

/** Options of jsonArrayRows. */
export interface JsonArrayRowsOptions {
  /** The top-level member of each document whose elements are the rows (CloudTrail's "Records"). */
  member: string;
  /**
   * The documents hold nothing but this array and, before it, a few other members (CloudTrail's `{"Records":[...]}`).
   * The loader then finds the elements by the text between them instead of reading every byte; the members after the
   * array are still checked as JSON. Default false.
   */
  onlyMember?: boolean;
  /** The mapper's name, which its row errors carry. Default `${member}`. */
  mapperName?: string;
  /** What a document without the array is said to be, in its row error. Default: "document has no <member> array". */
  missingMessage?: string;
}

/**
 * How a source reads documents whose rows are the elements of one JSON array member: one row per element, each written
 * as the element's own text in the file (no parse and serialize again), with the parsed element as what enrich reads.
 * Spread it into a table's source entry, or the table itself:
 *
 * ```ts
 * sources: { file: { defaults: { file_layout: LAYOUT }, ...jsonArrayRows<CloudTrailRecord>({ member: "Records", onlyMember: true }) } }
 * ```
 */
export function jsonArrayRows<R extends object = Row>(options: JsonArrayRowsOptions): Required<Pick<TableSource<unknown, unknown, R>, "loader" | "mappers">> {
  const member = options.member;
  if (typeof member !== "string" || member === "") throw new TypeError("jsonArrayRows: member must be a non-empty string");
  const mapper = elementsMapper(member, options.mapperName ?? member, options.missingMessage ?? `document has no ${member} array`);
  const loader = (): Loader<unknown> => createJsonDocumentLoader({ splitArray: member, leadingMembersOnly: options.onlyMember === true });
  return { loader, mappers: () => [mapper] };
}

/**
 * The elements of `doc[member]` as rows. With the document split by the loader, each element's text is at hand and is
 * reused as the row's JSON; with its bytes too (an ASCII file), they are copied into the output instead of encoded.
 * An element whose text has a line break between tokens (a pretty-printed file), or that is not an object, is
 * serialized as usual.
 */
function elementsMapper(member: string, name: string, missing: string): Mapper<unknown, Row | RawRow> {
  return {
    name,
    map(doc) {
      const elements = (doc as Record<string, unknown> | null)?.[member];
      if (!Array.isArray(elements)) throw new Error(missing);
      const texts = documentElementTexts(doc);
      if (texts !== undefined && texts.length === elements.length) {
        const where = documentElementBytes(doc);
        const rows: (Row | RawRow)[] = new Array<Row | RawRow>(elements.length);
        for (let i = 0; i < elements.length; i++) {
          const element = elements[i] as unknown;
          const text = texts[i]!;
          if (text === "" || !isObject(element)) rows[i] = element as Row;
          else if (where === undefined || where.spans[2 * i]! < 0) rows[i] = rawRow(text, element);
          else rows[i] = new RawRow(text, element, where.bytes, where.spans[2 * i], where.spans[2 * i + 1], !hasTpKey(element));
        }
        return rows;
      }
      // A document read whole: the elements' texts are found in its text, when the loader kept it.
      const text = documentText(doc);
      const spans = text === undefined ? undefined : topLevelArraySpans(text, member);
      if (text === undefined || spans === undefined || spans.length !== elements.length * 2) return elements as Row[];
      const rows: (Row | RawRow)[] = new Array<Row | RawRow>(elements.length);
      for (let i = 0; i < elements.length; i++) {
        const element = elements[i] as unknown;
        const start = spans[2 * i]!;
        rows[i] = start >= 0 && isObject(element) ? rawRow(text.slice(start, spans[2 * i + 1]), element) : (element as Row);
      }
      return rows;
    },
  };
}

function isObject(value: unknown): value is Row {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
