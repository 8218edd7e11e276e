import { describe, expect, it } from "vitest";
import { formatHandshake, parseHandshake } from "../../src/plugin/handshake.js";

describe("handshake line", () => {
  it("is the go-plugin form CORE|APP|unix|socket|grpc and parses back", () => {
    const line = formatHandshake("unix", "/tmp/x/plugin.sock");
    expect(line).toBe("1|1|unix|/tmp/x/plugin.sock|grpc");
    expect(parseHandshake(line)).toEqual({ coreProtocol: 1, appProtocol: 1, network: "unix", address: "/tmp/x/plugin.sock", protocol: "grpc" });
  });

  it("rejects another app protocol, a netrpc plugin and garbage with a message saying which", () => {
    expect(() => parseHandshake("1|2|unix|/s|grpc")).toThrow(/app protocol 2/);
    expect(() => parseHandshake("1|1|unix|/s|netrpc")).toThrow(/unsupported protocol "netrpc"/);
    expect(() => parseHandshake("hello world")).toThrow(/malformed handshake line/);
    expect(() => parseHandshake("2|1|unix|/s|grpc")).toThrow(/core protocol version 2/);
  });
});
