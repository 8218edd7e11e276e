import { systemClock, type Claims, type Clock } from "../state/index.js";

/** What a ClaimKeeper needs of the state's claims. */
export type ClaimStore = Pick<Claims, "claim" | "renew" | "release" | "leaseSeconds">;

/**
 * The claims one execution holds, kept alive: claims are held until an artifact is complete (its rows may wait in the
 * writer long after extraction), so one timer renews them all, every third of the lease (200 ms at the least). A
 * claim found taken by another collector (this one stalled past its lease) is dropped and its watchers are told, so
 * that the artifact stops being read here and the rows both collectors write stay few: those of the last renewal
 * period, at most.
 */
export class ClaimKeeper {
  private readonly held = new Set<string>();
  private readonly watchers = new Map<string, AbortController>();
  /** Renewals under way: they settle before the claims are released at the end, lest one take a claim back. */
  private readonly renewing = new Set<Promise<void>>();
  private readonly stopTimer: () => void;

  /** Starts renewing (on `clock`'s timer; default: the machine's) whatever claim() takes from now on. */
  constructor(
    private readonly claims: ClaimStore,
    clock: Clock = systemClock,
  ) {
    this.stopTimer = clock.every(Math.max(200, (claims.leaseSeconds * 1000) / 3), () => void this.renewAll());
  }

  /** Claims an artifact (Claims.claim); true when this collector holds it now, and keeps it renewed from then on. */
  async claim(name: string): Promise<boolean> {
    if (!(await this.claims.claim(name))) return false;
    this.held.add(name);
    return true;
  }

  /** Whether this collector holds the artifact's claim, as far as its last renewal knows. */
  holds(name: string): boolean {
    return this.held.has(name);
  }

  /** A signal aborted once this collector's claim on `name` is found taken by another collector; until unwatch(name). */
  watch(name: string): AbortSignal {
    const lost = new AbortController();
    this.watchers.set(name, lost);
    return lost.signal;
  }

  /** Stops watching the artifact's claim (its reading ended). */
  unwatch(name: string): void {
    this.watchers.delete(name);
  }

  /** Gives the artifact's claim up (one another collector took meanwhile stays theirs) and stops renewing it. */
  async release(name: string): Promise<void> {
    this.held.delete(name);
    await this.claims.release(name);
  }

  /** Renews every claim held, as the timer does; resolves once each renewal has settled. Failed renewals are let be. */
  renewAll(): Promise<void> {
    const round: Promise<void>[] = [];
    for (const name of this.held) {
      const p: Promise<void> = this.claims
        .renew(name)
        .then(async (holds) => {
          if (holds && !this.held.has(name)) {
            // Released while the renewal ran, which then took the claim anew: give it up again.
            await this.claims.release(name);
          } else if (!holds && this.held.has(name)) {
            this.held.delete(name);
            this.watchers.get(name)?.abort();
          }
        })
        .catch(() => undefined)
        .finally(() => this.renewing.delete(p));
      this.renewing.add(p);
      round.push(p);
    }
    return Promise.all(round).then(() => undefined);
  }

  /**
   * Stops renewing and gives up every claim still held (a failed or cancelled run's artifacts, whose committed rows
   * stay): otherwise the next run would wait out their lease. Renewals under way settle first, as one could take a
   * released claim back. Releases that fail are let be: the claims lapse with their lease.
   */
  async stop(): Promise<void> {
    this.stopTimer();
    await Promise.allSettled(this.renewing);
    for (const name of this.held) await this.claims.release(name).catch(() => undefined);
    this.held.clear();
  }
}
