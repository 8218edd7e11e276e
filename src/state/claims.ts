import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { ReturnCode } from "../storage/index.js";
import type { StateStore } from "./store.js";

/** Who holds a claim: the execution, its process, and the host that process runs on (localHost()). */
export interface ClaimHolder {
  execution: string;
  pid: number;
  host: string;
}

let hostId: string | undefined;

/**
 * This machine as claim holders name it: the host name, and on Linux the boot and the pid namespace, so that a pid is
 * only ever judged in the namespace it belongs to (containers that share a host name, a host that rebooted).
 */
export function localHost(): string {
  if (hostId !== undefined) return hostId;
  let id = hostname();
  try {
    id += `/${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    // Not Linux: the host name alone.
  }
  return (hostId = id);
}

/** A stored claim value as a holder, or undefined for one this version did not write. */
function asHolder(value: unknown): ClaimHolder | undefined {
  const v = value as Partial<ClaimHolder> | null;
  if (v === null || typeof v !== "object" || typeof v.execution !== "string" || typeof v.pid !== "number" || typeof v.host !== "string") return undefined;
  return { execution: v.execution, pid: v.pid, host: v.host };
}

/** Options of Claims. */
export interface ClaimsOptions {
  /** Who claims: the execution id. */
  owner: string;
  /** Seconds a claim lasts without renewal; a crashed collector's claims come back after this. */
  leaseSeconds: number;
  /**
   * Whether the collector holding a claim is known to be gone (a killed process on this host), so that its claims are
   * taken at once instead of after their lease. Default: never known; claims of others wait for their lease.
   */
  holderGone?: ((holder: ClaimHolder) => boolean) | undefined;
}

/**
 * Claims that split artifacts between collectors sharing one state: an artifact is read by the collector that holds
 * its claim, which lapses `leaseSeconds` after it was taken or last renewed (the store's expiry judges that). Every
 * change is a compare-and-set on the claim's value, so that of two collectors racing for a claim one wins, and one
 * that lost its claim never takes it back from the one that has it now.
 */
export class Claims {
  /** This collector's claim value: who holds the claim, so that a collector on the same host can tell it died. */
  private readonly mine: ClaimHolder;

  constructor(
    private readonly store: StateStore,
    private readonly options: ClaimsOptions,
  ) {
    this.mine = { execution: options.owner, pid: process.pid, host: localHost() };
  }

  /** Seconds a claim lasts without renewal. */
  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  /**
   * Claims an artifact for this collector; false when a live claim of another collector holds it. A claim whose
   * holder is gone (options.holderGone: a killed collector on this host) is taken at once rather than when its lease
   * lapses; a compare-and-set on the dead holder's value, so that of two collectors taking it one wins.
   */
  async claim(name: string): Promise<boolean> {
    const { handle } = this.store;
    const key = this.store.key("claim", name);
    const lease = this.leaseSeconds;
    const mine = this.mine;
    const res = await handle.put({ key, value: mine, overwrite: false, expireTime: lease });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code !== ReturnCode.KEY_EXISTS) this.store.check(res, `claiming ${name}`);
    const value = this.store.check(await handle.get(key), `reading claim of ${name}`);
    if (value === undefined) return this.claim(name);
    const other = asHolder(value);
    if (other?.execution === mine.execution && other.pid === mine.pid && other.host === mine.host) return true;
    if (other === undefined || !this.options.holderGone?.(other)) return false;
    const taken = await handle.put({ key, value: mine, expireTime: lease, ifValue: value });
    if (taken.code === ReturnCode.SUCCESS) return true;
    if (taken.code === ReturnCode.KEY_NOT_FOUND) return this.claim(name);
    if (taken.code !== ReturnCode.KEY_EXISTS) this.store.check(taken, `taking the claim of ${name} from a collector that is gone`);
    return false;
  }

  /** Who holds an artifact's claim now, or undefined when nobody does (or the claim was written by an older version). */
  async holder(name: string): Promise<ClaimHolder | undefined> {
    const value = await this.store.get("claim", name, `reading claim of ${name}`);
    return value === undefined ? undefined : asHolder(value);
  }

  /**
   * Extends this collector's claim on an artifact: true while it holds it, false when its claim lapsed and another
   * collector took the artifact (which keeps it: the renewal is a compare-and-set). A lapsed claim nobody took is
   * taken again.
   */
  async renew(name: string): Promise<boolean> {
    const mine = this.mine;
    const res = await this.store.handle.put({ key: this.store.key("claim", name), value: mine, expireTime: this.leaseSeconds, ifValue: mine });
    if (res.code === ReturnCode.SUCCESS) return true;
    if (res.code === ReturnCode.KEY_NOT_FOUND) return this.claim(name);
    if (res.code !== ReturnCode.KEY_EXISTS) this.store.check(res, `renewing claim of ${name}`);
    return false;
  }

  /** Gives this collector's claim up; a claim another collector took meanwhile stays (compare-and-delete). */
  async release(name: string): Promise<void> {
    const res = await this.store.handle.erase(this.store.key("claim", name), this.mine);
    if (res.code !== ReturnCode.KEY_EXISTS && res.code !== ReturnCode.KEY_NOT_FOUND) this.store.check(res, `releasing claim of ${name}`);
  }
}
