import { Code, TailkitError } from "../errors/index.js";
import { dataSourceName, isWriteable, type DataSource, type WriteableDataSource } from "../contract/data-source.js";
import type { DataSourceServiceHandlers } from "../protocol/index.js";
import type { DataSourceRegistry } from "../datasources/registry.js";

/** Parses one JSON text of a request; INVALID_ARGUMENT naming the field when it is not JSON. */
function parse(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new TailkitError(Code.InvalidArgument, `${field}: malformed JSON: ${(err as Error).message}`, { field });
  }
}

/** The data source named by a request; NOT_FOUND naming what is registered when there is none. */
function sourceOf(registry: DataSourceRegistry, namespace: string, id: string): DataSource {
  const s = registry.getDataSource(namespace, id);
  if (s === undefined) {
    const known = registry.list().map(dataSourceName);
    throw new TailkitError(Code.NotFound, `data source ${namespace}/${id} is not registered${known.length ? `; registered: ${known.join(", ")}` : ""}`, {
      field: "id",
    });
  }
  return s;
}

function writeable(registry: DataSourceRegistry, namespace: string, id: string): WriteableDataSource {
  const s = sourceOf(registry, namespace, id);
  if (!isWriteable(s)) throw new TailkitError(Code.Unimplemented, `data source ${namespace}/${id} is not writeable`);
  return s;
}

/** Writes one request's entries: each parsed first, so that a malformed one stores none of them. */
function writeEntries(registry: DataSourceRegistry, namespace: string, id: string, entriesJson: readonly string[]): number {
  const target = writeable(registry, namespace, id);
  const entries = entriesJson.map((e, i) => parse(e, `entries_json[${i}]`));
  target.write(entries);
  return entries.length;
}

/**
 * The handlers of DataSourceService over a registry, transport-free apart from the generated types: every failure is
 * a TailkitError whose code is the gRPC status (`toError` turns it into one).
 */
export function dataSourceHandlers(registry: DataSourceRegistry, toError: (err: unknown) => Error): DataSourceServiceHandlers {
  return {
    Get: (call, callback) => {
      try {
        const { namespace, id, key_json } = call.request;
        const source = sourceOf(registry, namespace, id);
        const key = parse(key_json, "key_json");
        // Collections write from their own threads: a caller gets what the store holds now, not what this cache saw.
        source.refresh?.();
        const value = source.get(key);
        callback(null, { value_json: JSON.stringify(value) });
      } catch (err) {
        callback(toError(err));
      }
    },
    Write: (call, callback) => {
      try {
        const { namespace, id, entries_json } = call.request;
        callback(null, { written: writeEntries(registry, namespace, id, entries_json) });
      } catch (err) {
        callback(toError(err));
      }
    },
    WriteStream: (call, callback) => {
      let written = 0;
      let failed = false;
      call.on("data", (msg: { namespace: string; id: string; entries_json: string[] }) => {
        if (failed) return;
        try {
          written += writeEntries(registry, msg.namespace, msg.id, msg.entries_json);
        } catch (err) {
          // The entries of earlier messages stay written; the response says where it stopped.
          failed = true;
          const e = TailkitError.from(err, Code.Internal);
          callback(toError(new TailkitError(e.code, `after ${written} entries: ${e.message}`, e.details)));
        }
      });
      call.on("end", () => {
        if (!failed) callback(null, { written });
      });
      call.on("error", () => undefined);
    },
    Delete: (call, callback) => {
      try {
        const { namespace, id, keys_json } = call.request;
        const target = writeable(registry, namespace, id);
        const keys = keys_json.map((k, i) => parse(k, `keys_json[${i}]`));
        target.delete(keys);
        callback(null, { deleted: keys.length });
      } catch (err) {
        callback(toError(err));
      }
    },
  };
}
