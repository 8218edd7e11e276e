// A real S3-compatible server (s3rver) on loopback for the S3 source's tests, and a proxy of the tests' own in front of
// it that answers 503 SlowDown, cuts a body midway or resets a connection on command, and counts the requests.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PutObjectCommand, DeleteObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { S3_CREDENTIALS, s3rverClient, startS3rver, uploadDir } from "../../../bench/s3rver.mjs";

export { S3_CREDENTIALS };

// No test may reach past this machine: no instance-metadata lookups, and every client gets a loopback endpoint.
process.env["AWS_EC2_METADATA_DISABLED"] = "true";

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
  const server = await startS3rver(buckets);
  const endpoint = server.endpoint;
  const client = s3rverClient(endpoint);
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
    uploadDir: (bucket, dir, prefix = "") => uploadDir(client, bucket, dir, prefix),
    close: async () => {
      client.destroy();
      await server.close();
    },
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
            // Dropped once the half is on the wire and the client has had a moment to take it in: a socket destroyed
            // at once can take buffered bytes with it, and the cut would fall before the body began.
            res.write(part, () => {
              if (sent < half) return;
              upRes.destroy();
              setTimeout(() => res.socket?.destroy(), 150);
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
