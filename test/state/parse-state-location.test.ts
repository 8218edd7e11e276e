import { describe, expect, it } from "vitest";
import { Code, TailkitError } from "../../src/errors/index.js";
import { parseStateLocation } from "../../src/state/index.js";

function refusal(location: string): TailkitError {
  try {
    parseStateLocation(location, "/out");
  } catch (err) {
    return err as TailkitError;
  }
  throw new Error(`${location} was accepted`);
}

describe("parseStateLocation", () => {
  it("takes the redis scheme in any case", () => {
    expect(parseStateLocation("REDIS://10.0.0.1:6390/team", "/out")).toEqual({ backend: "redis", host: "10.0.0.1", port: 6390, db: 0, keyPrefix: "team:" });
    expect(parseStateLocation("Redis://h/p", "/out")).toMatchObject({ backend: "redis", host: "h", keyPrefix: "p:" });
  });

  it("refuses rediss:// saying TLS is not supported, naming field state", () => {
    for (const location of ["rediss://cache.example:6380/p", "REDISS://h/p"]) {
      const err = refusal(location);
      expect(err).toBeInstanceOf(TailkitError);
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.details.field).toBe("state");
      expect(err.message).toMatch(/TLS.*not supported/);
    }
  });

  it("refuses any other scheme instead of making an SQLite file named after the URL", () => {
    for (const location of ["http://example.com/state", "mysql://db/x", "s3://bucket/key"]) {
      const err = refusal(location);
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.details.field).toBe("state");
      expect(err.message).toContain(location.slice(0, location.indexOf("://") + 3));
    }
  });

  it("takes postgres:// and postgresql:// URLs, keeping table and lease for itself and the rest for the driver", () => {
    expect(parseStateLocation("postgres://collector:pw@db.example:5433/state?table=team_state&lease=12&sslmode=require", "/out")).toEqual({
      backend: "postgres",
      url: "postgres://collector:pw@db.example:5433/state?sslmode=require",
      table: "team_state",
      leaseSeconds: 12,
    });
    expect(parseStateLocation("POSTGRESQL://h/db", "/out")).toEqual({ backend: "postgres", url: "postgresql://h/db", table: "tailkit_collection_state" });
  });

  it("refuses a bad postgres table or lease, naming field state and never the password", () => {
    for (const location of ["postgres://u:pw@h/db?table=x;drop", "postgres://u:pw@h/db?lease=0"]) {
      const err = refusal(location);
      expect(err.code).toBe(Code.InvalidArgument);
      expect(err.details.field).toBe("state");
      expect(err.message).not.toContain("pw");
    }
  });

  it("refuses credentials it would otherwise drop", () => {
    expect(refusal("redis://:secret@h:6379/p").message).toMatch(/credentials/);
  });

  it("keeps plain paths and sqlite: paths as SQLite files", () => {
    expect(parseStateLocation("/var/lib/x.sqlite", "/out")).toEqual({ backend: "sqlite", path: "/var/lib/x.sqlite" });
    expect(parseStateLocation("SQLITE:/tmp/s.db", "/out")).toEqual({ backend: "sqlite", path: "/tmp/s.db" });
    expect(parseStateLocation("dir:with:colons/s.db", "/out")).toMatchObject({ backend: "sqlite" });
  });
});
