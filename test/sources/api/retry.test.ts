import { describe, expect, it } from "vitest";
import { Code, createCloudWatchLogsSourceFactory, TailkitError } from "../../../src/index.js";
import { backoffDelay, validateRetryOptions } from "../../../src/sources/api/index.js";
import { THROTTLED } from "../../support/cloudwatch-logs-server.js";
import { fakeServer, sourceConfig } from "../cloudwatch/helpers.js";

const server = fakeServer();

describe("API source retries", () => {
  it("back off exponentially up to the cap, never less than half the step", () => {
    const retry = validateRetryOptions({ baseDelayMs: 100, maxDelayMs: 1_000 });
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(retry, n, () => 0))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(retry, n, () => 1))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it("refuse options that would never try or never wait sensibly, naming the option", () => {
    expect(() => validateRetryOptions({ attempts: 0 })).toThrow(/retry\.attempts: must be a whole number of at least 1/);
    expect(() => validateRetryOptions({ baseDelayMs: 100, maxDelayMs: 10 })).toThrow(/retry\.maxDelayMs: must be at least baseDelayMs/);
  });

  it("stop at once when the collection is cancelled while backing off", async () => {
    const fake = server();
    fake.put("app", "a", [{ timestamp: 1, message: "m" }]);
    const abort = new AbortController();
    // A minute's backoff after the first refusal; the collection is cancelled as soon as that refusal is sent.
    fake.inject = () => {
      setImmediate(() => abort.abort());
      return THROTTLED;
    };
    const source = createCloudWatchLogsSourceFactory({ retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } }).create(
      sourceConfig(fake, { log_group_name: "app" }) as never,
    );
    const read = (async () => {
      for await (const page of source.read(undefined, { signal: abort.signal })) void page;
    })();
    const err = await read.then(
      () => undefined,
      (e: unknown) => e,
    );
    await source.close?.();
    expect(err).toBeInstanceOf(TailkitError);
    expect((err as TailkitError).code).toBe(Code.Canceled);
    expect(fake.requests).toHaveLength(1);
  });
});
