// A real S3-compatible server (s3rver) on loopback for the S3 source's tests, and a proxy of the tests' own in front of
// it that answers 503 SlowDown, cuts a body midway or resets a connection on command, and counts the requests.
import fs from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { S3Client, PutObjectCommand, DeleteObjectCommand } from "@aws-sdk/client-s3";
import { createRequire } from "node:module";
import S3rver from "s3rver";

const require = createRequire(import.meta.url);

// No test may reach past this machine: no instance-metadata lookups, and every client gets a loopback endpoint.
process.env["AWS_EC2_METADATA_DISABLED"] = "true";

/** s3rver's fixed credentials. */
export const S3_CREDENTIALS = { access_key: "S3RVER", secret_key: "S3RVER" };

/** A running s3rver with one or more buckets. */
export interface S3Server {
  endpoint: string;
  client: S3Client;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  /** Uploads every file below `dir` under its relative path; returns the keys. */
  uploadDir(bucket: string, dir: string, prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

/** Starts s3rver on 127.0.0.1 with the given buckets, its store in a fresh temp folder. */
export async function startS3(buckets: string[]): Promise<S3Server> {
  const directory = fs.mkdtempSync(path.join(tmpdir(), "s3rver-"));
  const server = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory, configureBuckets: buckets.map((name) => ({ name })) });
  fixListing(server, directory);
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = new S3Client({
    region: "us-east-1",
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_CREDENTIALS.access_key, secretAccessKey: S3_CREDENTIALS.secret_key },
  });
  const put = async (bucket: string, key: string, body: string | Uint8Array) => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  };
  return {
    endpoint,
    client,
    put,
    remove: async (bucket, key) => {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    uploadDir: async (bucket, dir, prefix = "") => {
      const keys = fs
        .readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
        .sort();
      // A few at a time: s3rver writes each object to its folder.
      for (let i = 0; i < keys.length; i += 16) {
        await Promise.all(keys.slice(i, i + 16).map((k) => put(bucket, prefix + k, fs.readFileSync(path.join(dir, k)))));
      }
      return keys.map((k) => prefix + k);
    },
    close: async () => {
      client.destroy();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** The object files of s3rver's store end so; its other files hold metadata. */
const OBJECT_SUFFIX = "._S3rver_object";

interface ListOptions {
  delimiter?: string;
  startAfter?: string;
  prefix?: string;
  maxKeys?: number;
}

/**
 * s3rver 3.7.1 walks its folders only one level below the prefix when a delimiter is given, so a folder that holds
 * folders but no object of its own is missing from CommonPrefixes (listing "AWSLogs/" gives nothing when every object is
 * deeper). Real S3 lists every common prefix. Its store's listing is replaced by one that walks every folder below the
 * prefix, as S3 answers: keys in order, common prefixes rolled up, objects up to maxKeys. Nothing else of s3rver changes.
 */
function fixListing(server: S3rver, directory: string): void {
  const store = (server as unknown as { store: { getMetadata(bucket: string, key: string): Promise<Record<string, string>>; listObjects: unknown } }).store;
  const S3Object = require("s3rver/lib/models/object.js") as new (bucket: string, key: string, content: null, metadata: Record<string, string>) => unknown;
  store.listObjects = async (bucket: string, options: ListOptions) => {
    const { delimiter = "", startAfter = "", prefix = "", maxKeys = Infinity } = options;
    const root = path.join(directory, bucket);
    const keys = fs
      .readdirSync(root, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith(OBJECT_SUFFIX))
      .map((e) => path.relative(root, path.join(e.parentPath, e.name)).slice(0, -OBJECT_SUFFIX.length))
      .filter((k) => k.startsWith(prefix) && k > startAfter)
      .sort();
    const objects: string[] = [];
    const commonPrefixes = new Set<string>();
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

/** What the proxy does to one request it was told to spoil. */
export type Fault = "slowdown" | "reset" | "cut";

/** One request the proxy saw. */
export interface SeenRequest {
  method: string;
  /** Path without the query, decoded: /bucket/key. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
}

/** A loopback proxy in front of s3rver. */
export interface FaultProxy {
  endpoint: string;
  requests: SeenRequest[];
  /** Spoils the next `count` requests that `match` accepts (default: object GETs) in the given way. */
  inject(fault: Fault, count: number, match?: (r: SeenRequest) => boolean): void;
  /** Forgets the faults not yet used up. */
  clearFaults(): void;
  /** Runs before forwarding each request that `match` accepts, once (e.g. deletes the object: it vanished after listing). */
  before(match: (r: SeenRequest) => boolean, action: () => Promise<void>): void;
  /** Rewrites the body of ListObjectsV2 answers. */
  rewriteListings(rewrite: ((xml: string) => string) | undefined): void;
  close(): Promise<void>;
}

/** A GET of one object (not a listing). */
export const isObjectGet = (r: SeenRequest): boolean => r.method === "GET" && !r.query.has("list-type") && r.path.split("/").length > 2;
/** A ListObjectsV2 request. */
export const isListing = (r: SeenRequest): boolean => r.method === "GET" && r.query.get("list-type") === "2";

/** Starts a proxy on 127.0.0.1 forwarding to `target` (s3rver's endpoint). The client signs for the proxy's host; it is forwarded as it is. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const faults: { fault: Fault; left: number; match: (r: SeenRequest) => boolean }[] = [];
  const hooks: { match: (r: SeenRequest) => boolean; action: () => Promise<void> }[] = [];
  let rewrite: ((xml: string) => string) | undefined;
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    const seen: SeenRequest = { method: req.method ?? "GET", path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers };
    requests.push(seen);
    const f = faults.find((x) => x.left > 0 && x.match(seen));
    if (f !== undefined) f.left--;
    const hook = hooks.findIndex((h) => h.match(seen));
    const go = async () => {
      if (hook !== -1) await hooks.splice(hook, 1)[0]!.action();
      if (f?.fault === "reset") {
        req.socket.destroy();
        return;
      }
      if (f?.fault === "slowdown") {
        res.writeHead(503, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`);
        return;
      }
      const up = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        if (f?.fault === "cut") {
          // Headers and the first half of the body, then the connection drops.
          const length = Number(upRes.headers["content-length"] ?? 0);
          res.writeHead(upRes.statusCode ?? 500, upRes.headers);
          const half = Math.floor(length / 2);
          let sent = 0;
          upRes.on("data", (chunk: Buffer) => {
            if (sent >= half) return;
            const part = chunk.subarray(0, half - sent);
            sent += part.length;
            // Dropped once the half is on the wire: destroying at once would discard what is still buffered.
            res.write(part, () => {
              if (sent < half) return;
              upRes.destroy();
              res.socket?.destroy();
            });
          });
          return;
        }
        if (rewrite !== undefined && isListing(seen)) {
          const parts: Buffer[] = [];
          upRes.on("data", (c: Buffer) => parts.push(c));
          upRes.on("end", () => {
            const body = rewrite!(Buffer.concat(parts).toString("utf8"));
            const headers = { ...upRes.headers, "content-length": String(Buffer.byteLength(body)) };
            res.writeHead(upRes.statusCode ?? 500, headers);
            res.end(body);
          });
          return;
        }
        res.writeHead(upRes.statusCode ?? 500, upRes.headers);
        upRes.pipe(res);
      });
      up.on("error", () => res.destroy());
      req.pipe(up);
    };
    go().catch(() => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    inject: (fault, count, match = isObjectGet) => faults.push({ fault, left: count, match }),
    clearFaults: () => faults.splice(0),
    before: (match, action) => hooks.push({ match, action }),
    rewriteListings: (fn) => (rewrite = fn),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
