// A real S3-compatible server (s3rver) on loopback, for the S3 source's tests and for `npm run bench`, with one fix to
// its listing (below). Keep in step with s3rver.d.mts.
import fs from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

const require = createRequire(import.meta.url);

/** s3rver's fixed credentials, as the S3 source's config takes them. */
export const S3_CREDENTIALS = { access_key: "S3RVER", secret_key: "S3RVER" };

/** The object files of s3rver's store end so; its other files hold metadata. */
const OBJECT_SUFFIX = "._S3rver_object";

/**
 * Starts s3rver on 127.0.0.1 (a free port) with the given buckets, its store in a fresh temp folder.
 * @param {string[]} buckets
 * @returns {Promise<{ endpoint: string, directory: string, close(): Promise<void> }>}
 */
export async function startS3rver(buckets) {
  const directory = fs.mkdtempSync(path.join(tmpdir(), "s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  fixListing(server, directory);
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    directory,
    close: async () => {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A client of s3rver at `endpoint` (path style, its credentials).
 * @param {string} endpoint
 */
export function s3rverClient(endpoint) {
  return new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_CREDENTIALS.access_key, secretAccessKey: S3_CREDENTIALS.secret_key },
  });
}

/**
 * Uploads every file below `dir` under its relative path (after `prefix`), 16 at a time; resolves to the keys, sorted.
 * @param {S3Client} client
 * @param {string} bucket
 * @param {string} dir
 * @param {string} [prefix]
 */
export async function uploadDir(client, bucket, dir, prefix = "") {
  const keys = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
  for (let i = 0; i < keys.length; i += 16) {
    await Promise.all(
      keys.slice(i, i + 16).map((k) => client.send(new PutObjectCommand({ Bucket: bucket, Key: prefix + k, Body: fs.readFileSync(path.join(dir, k)) }))),
    );
  }
  return keys.map((k) => prefix + k);
}

/**
 * s3rver 3.7.1 walks its folders only one level below the prefix when a delimiter is given, so a folder that holds
 * folders but no object of its own is missing from CommonPrefixes (listing "AWSLogs/" gives nothing when every object is
 * deeper). Real S3 lists every common prefix. Its store's listing is replaced by one that walks every folder below the
 * prefix (and nothing outside it), as S3 answers: keys in order, common prefixes rolled up, objects up to maxKeys.
 * Nothing else of s3rver changes.
 * @param {any} server
 * @param {string} directory
 */
function fixListing(server, directory) {
  const store = server.store;
  const S3Object = require("s3rver/lib/models/object.js");
  /** @param {string} bucket @param {{ delimiter?: string, startAfter?: string, prefix?: string, maxKeys?: number }} options */
  store.listObjects = async (bucket, options) => {
    const { delimiter = "", startAfter = "", prefix = "", maxKeys = Infinity } = options;
    const root = path.join(directory, bucket);
    // Only the folder the prefix names is walked (the store keeps keys as paths): a listing costs what is below it.
    const base = prefix.slice(0, prefix.lastIndexOf("/") + 1);
    const from = path.join(root, base);
    const keys = (fs.existsSync(from) ? fs.readdirSync(from, { recursive: true, withFileTypes: true }) : [])
      .filter((e) => e.isFile() && e.name.endsWith(OBJECT_SUFFIX))
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)).slice(0, -OBJECT_SUFFIX.length))
      .filter((k) => k.startsWith(prefix) && k > startAfter)
      .sort();
    /** @type {string[]} */
    const objects = [];
    const commonPrefixes = new Set();
    let isTruncated = false;
    for (const key of keys) {
      const at = delimiter === "" ? -1 : key.indexOf(delimiter, prefix.length);
      if (at !== -1) {
        commonPrefixes.add(key.slice(0, at + delimiter.length));
        continue;
      }
      if (objects.length >= maxKeys) {
        isTruncated = true;
        break;
      }
      objects.push(key);
    }
    // The next page starts after the last object; the prefixes of this page are not listed again there.
    const last = objects.at(-1);
    const prefixes = [...commonPrefixes].filter((p) => !isTruncated || last === undefined || p < last).sort();
    return {
      objects: await Promise.all(objects.map(async (k) => new S3Object(bucket, k, null, await store.getMetadata(bucket, k)))),
      commonPrefixes: prefixes,
      isTruncated,
    };
  };
}
