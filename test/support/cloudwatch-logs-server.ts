import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A CloudWatch Logs of the tests' own, on 127.0.0.1: the documented JSON protocol (POST /, X-Amz-Target
// Logs_20140328.<Operation>, application/x-amz-json-1.1), enough of DescribeLogGroups, DescribeLogStreams,
// FilterLogEvents and GetLogEvents for the real client, with nextToken paging, errors on command and a delay per
// request (latencyMs; what is in flight is counted). Requests are not signed-checked: the client signs them with the
// tests' dummy credentials.

/** One stored event. */
export interface StoredEvent {
  timestamp: number;
  ingestionTime: number;
  message: string;
  eventId: string;
  /** Order of arrival, across the server: what the server's own pages follow within a millisecond. */
  seq: number;
}

/** One request the server answered, as the client sent it. */
export interface SeenRequest {
  operation: string;
  body: Record<string, unknown>;
  /** The HTTP status it got. */
  status: number;
}

/** What the server answers instead of the operation's result. */
export type Injected = { status: number; type: string; message: string } | undefined;

/** Options of the fake server. */
export interface FakeCloudWatchLogsOptions {
  /** Events a FilterLogEvents / GetLogEvents response holds at most (the request's limit when smaller). Default 5. */
  eventsPerPage?: number;
  /** Streams or groups a Describe response holds at most. Default 2. */
  namesPerPage?: number;
  /** How long each request waits before it is answered, in ms, as a far endpoint would make it. Default 0. */
  latencyMs?: Latency;
}

type Body = Record<string, unknown>;
/** A delay in ms for every request, or one by operation. */
export type Latency = number | ((operation: string) => number);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined);
const token = (key: unknown): string => Buffer.from(JSON.stringify(key)).toString("base64url");
const untoken = <T>(t: unknown): T | undefined => (typeof t === "string" ? (JSON.parse(Buffer.from(t, "base64url").toString()) as T) : undefined);

/** A loopback CloudWatch Logs: groups of streams of events, with what the tests inject. */
export class FakeCloudWatchLogs {
  readonly groups = new Map<string, Map<string, StoredEvent[]>>();
  readonly requests: SeenRequest[] = [];
  /** Consulted before each request: what to answer instead (a ThrottlingException, a 500), or undefined. */
  inject: ((operation: string, body: Body) => Injected) | undefined;
  /** Called before each request is answered (after inject let it through): may change the data. */
  onRequest: ((operation: string, body: Body) => void) | undefined;
  /** How long each request waits before it is answered, in ms (see FakeCloudWatchLogsOptions). */
  latencyMs: Latency;
  /** Requests received and not yet answered or dropped, now and at the most so far, by operation. */
  readonly inFlight = new Map<string, number>();
  readonly maxInFlight = new Map<string, number>();
  /** Requests the client gave up on (it closed the connection) before they were answered. */
  dropped = 0;
  private seq = 0;
  private readonly eventsPerPage: number;
  private readonly namesPerPage: number;

  private constructor(
    private readonly server: Server,
    options: FakeCloudWatchLogsOptions,
  ) {
    this.eventsPerPage = options.eventsPerPage ?? 5;
    this.namesPerPage = options.namesPerPage ?? 2;
    this.latencyMs = options.latencyMs ?? 0;
  }

  /** Starts a server on 127.0.0.1 and a free port. */
  static async start(options: FakeCloudWatchLogsOptions = {}): Promise<FakeCloudWatchLogs> {
    const server = createServer();
    const fake = new FakeCloudWatchLogs(server, options);
    server.on("request", (req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** The URL to give the client as its endpoint. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The requests of one operation. */
  calls(operation: string): SeenRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  createGroup(group: string): void {
    if (!this.groups.has(group)) this.groups.set(group, new Map());
  }

  /** Adds events to a stream (made with its group if new); gives their eventIds. */
  put(group: string, stream: string, events: { timestamp: number; message: string }[]): string[] {
    this.createGroup(group);
    const streams = this.groups.get(group)!;
    const list = streams.get(stream) ?? [];
    streams.set(stream, list);
    return events.map((e) => {
      const seq = this.seq++;
      // Ids as long as CloudWatch's, in no order of their own: the client must not rely on the server's order.
      const digits = BigInt(`0x${createHash("sha256").update(`${group}/${stream}/${seq}`).digest("hex")}`)
        .toString()
        .slice(0, 56)
        .padStart(56, "0");
      list.push({ timestamp: e.timestamp, ingestionTime: Date.now(), message: e.message, eventId: digits, seq });
      return digits;
    });
  }

  deleteStream(group: string, stream: string): void {
    this.groups.get(group)?.delete(stream);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers["x-amz-target"] ?? "");
    const operation = target.startsWith("Logs_20140328.") ? target.slice("Logs_20140328.".length) : target;
    const body = (chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {}) as Body;
    this.inFlight.set(operation, (this.inFlight.get(operation) ?? 0) + 1);
    this.maxInFlight.set(operation, Math.max(this.maxInFlight.get(operation) ?? 0, this.inFlight.get(operation)!));
    const gone = await this.delay(operation, res);
    this.inFlight.set(operation, this.inFlight.get(operation)! - 1);
    if (gone) {
      this.dropped++;
      return;
    }
    const send = (status: number, payload: unknown) => {
      this.requests.push({ operation, body, status });
      res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": `req-${this.requests.length}` });
      res.end(JSON.stringify(payload));
    };
    const injected = this.inject?.(operation, body);
    if (injected) return send(injected.status, { __type: injected.type, message: injected.message });
    this.onRequest?.(operation, body);
    const answer = this.answer(operation, body);
    if ("error" in answer) return send(400, { __type: answer.error, message: answer.message });
    send(200, answer.ok);
  }

  /** Waits latencyMs; true when the client closed the connection meanwhile. */
  private delay(operation: string, res: ServerResponse): Promise<boolean> {
    const ms = typeof this.latencyMs === "function" ? this.latencyMs(operation) : this.latencyMs;
    if (ms <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onClose = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        res.off("close", onClose);
        resolve(false);
      }, ms);
      res.once("close", onClose);
    });
  }

  private answer(operation: string, body: Body): { ok: unknown } | { error: string; message: string } {
    const groupGone = { error: "ResourceNotFoundException", message: "The specified log group does not exist." };
    const streamGone = { error: "ResourceNotFoundException", message: "The specified log stream does not exist." };
    const limit = (max: number) => Math.min(max, num(body["limit"]) ?? max);
    switch (operation) {
      case "DescribeLogGroups": {
        const prefix = str(body["logGroupNamePrefix"]) ?? "";
        const after = untoken<string>(body["nextToken"]);
        const names = [...this.groups.keys()].filter((g) => g.startsWith(prefix) && (after === undefined || g > after)).sort();
        const page = names.slice(0, limit(this.namesPerPage));
        return {
          ok: {
            logGroups: page.map((g) => ({ logGroupName: g, arn: `arn:aws:logs:us-east-1:123456789012:log-group:${g}:*`, creationTime: 0, storedBytes: 0 })),
            ...(names.length > page.length ? { nextToken: token(page[page.length - 1]) } : {}),
          },
        };
      }
      case "DescribeLogStreams": {
        const streams = this.groups.get(str(body["logGroupName"]) ?? "");
        if (!streams) return groupGone;
        const prefix = str(body["logStreamNamePrefix"]) ?? "";
        const after = untoken<string>(body["nextToken"]);
        const names = [...streams.keys()].filter((s) => s.startsWith(prefix) && (after === undefined || s > after)).sort();
        const page = names.slice(0, limit(this.namesPerPage));
        return {
          ok: {
            logStreams: page.map((s) => {
              const events = streams.get(s)!;
              return {
                logStreamName: s,
                creationTime: 0,
                ...(events.length
                  ? { firstEventTimestamp: Math.min(...events.map((e) => e.timestamp)), lastEventTimestamp: Math.max(...events.map((e) => e.timestamp)) }
                  : {}),
                arn: `arn:aws:logs:us-east-1:123456789012:log-group:${str(body["logGroupName"])}:log-stream:${s}`,
                storedBytes: 0,
              };
            }),
            ...(names.length > page.length ? { nextToken: token(page[page.length - 1]) } : {}),
          },
        };
      }
      case "FilterLogEvents": {
        const streams = this.groups.get(str(body["logGroupName"]) ?? "");
        if (!streams) return groupGone;
        const wanted = Array.isArray(body["logStreamNames"]) ? (body["logStreamNames"] as string[]) : undefined;
        if (wanted?.some((s) => !streams.has(s))) return streamGone;
        const prefix = str(body["logStreamNamePrefix"]) ?? "";
        // Both ends inclusive, as the API documents them.
        const start = num(body["startTime"]) ?? -Infinity;
        const end = num(body["endTime"]) ?? Infinity;
        const after = untoken<[number, number]>(body["nextToken"]);
        const all = [...streams]
          .filter(([s]) => (wanted ? wanted.includes(s) : s.startsWith(prefix)))
          .flatMap(([s, events]) => events.map((e) => ({ ...e, logStreamName: s })))
          .filter((e) => e.timestamp >= start && e.timestamp <= end)
          .filter((e) => after === undefined || e.timestamp > after[0] || (e.timestamp === after[0] && e.seq > after[1]))
          .sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
        const page = all.slice(0, limit(this.eventsPerPage));
        const last = page[page.length - 1];
        return {
          ok: {
            events: page.map((e) => ({
              logStreamName: e.logStreamName,
              timestamp: e.timestamp,
              message: e.message,
              ingestionTime: e.ingestionTime,
              eventId: e.eventId,
            })),
            searchedLogStreams: [],
            ...(all.length > page.length && last ? { nextToken: token([last.timestamp, last.seq]) } : {}),
          },
        };
      }
      case "GetLogEvents": {
        const streams = this.groups.get(str(body["logGroupName"]) ?? "");
        if (!streams) return groupGone;
        const events = streams.get(str(body["logStreamName"]) ?? "");
        if (!events) return streamGone;
        // startTime inclusive, endTime exclusive, as the API documents them; forward paging only.
        const start = num(body["startTime"]) ?? -Infinity;
        const end = num(body["endTime"]) ?? Infinity;
        const after = untoken<[number, number]>((str(body["nextToken"]) ?? "").replace(/^f\//, "") || undefined);
        const all = events
          .filter((e) => e.timestamp >= start && e.timestamp < end)
          .filter((e) => after === undefined || e.timestamp > after[0] || (e.timestamp === after[0] && e.seq > after[1]))
          .sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
        const page = all.slice(0, limit(this.eventsPerPage));
        const last = page[page.length - 1];
        const forward = last ? `f/${token([last.timestamp, last.seq])}` : (str(body["nextToken"]) ?? "f/");
        return {
          ok: {
            events: page.map((e) => ({ timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime })),
            nextForwardToken: forward,
            nextBackwardToken: "b/",
          },
        };
      }
      default:
        return { error: "UnknownOperationException", message: `no operation ${operation}` };
    }
  }
}

/** A ThrottlingException, as CloudWatch Logs answers one. */
export const THROTTLED: Injected = { status: 400, type: "ThrottlingException", message: "Rate exceeded" };
