import type { ArtifactInfo } from "../contract/source.js";
import { isDone, systemClock, type ArtifactState, type Clock, type CollectionState, type CoveragePlan } from "../state/index.js";
import type { ClaimKeeper } from "./claim-keeper.js";
import type { StartingPoint } from "./starting-point.js";

/** What the scheduler did with an artifact: skipped it (done), deferred it (another collector holds it), or started it. */
export type Decision = "skip" | "defer" | "start";

/** Options of Scheduler; defaults in each field's comment. */
export interface SchedulerOptions {
  state: Pick<CollectionState, "progress" | "heads" | "window" | "leaseSeconds">;
  keeper: Pick<ClaimKeeper, "claim" | "release">;
  /** --recollect: collect artifacts again even when state says they are collected. */
  recollect: boolean;
  /** Artifacts collected at once, at most. */
  concurrency: number;
  /** Time between rounds over the deferred artifacts. Default: the machine's clock. */
  clock?: Clock | undefined;
  /** Where an artifact claimed for collection starts (see startingPoint). */
  startingPoint(info: ArtifactInfo, current: ArtifactState | undefined): Promise<StartingPoint>;
  /**
   * Collects an artifact this collector claimed, writing the rows `plan` keeps with the tp_id prefix `idSeed`; resolves
   * once it is read or has failed, and never rejects (a failure is the artifact's, reported there).
   */
  collect(info: ArtifactInfo, plan: CoveragePlan, idSeed: string): Promise<void>;
  /**
   * Makes this collector's rows so far durable, so that the artifacts it finished complete and give their claims up:
   * done before it waits on other collectors, which may be waiting on it.
   */
  flush(): Promise<void>;
  /** Whether to take no more artifacts: the execution was cancelled or failed. */
  stopped: () => boolean;
  /** An artifact skipped: its rows are collected already. */
  onSkip: (info: ArtifactInfo) => void;
  /** How many artifacts wait for other collectors' claims, after each round (the same count may come again). */
  onWaiting: (count: number) => void;
}

/**
 * Decides, artifact by artifact, which to collect and when: an artifact state says is collected is skipped, one a
 * live claim of another collector holds is deferred, and any other is claimed and started, at most `concurrency` at
 * a time. Deferred artifacts are tried again every quarter lease (a second at the most) until the other collector
 * finishes them (they are skipped then) or its claim lapses (they are taken over, from the rows it committed).
 */
export class Scheduler {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly clock: Clock;

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Decides what to do with one artifact, and starts it when that is the decision. */
  async consider(info: ArtifactInfo): Promise<Decision> {
    const { state, keeper, recollect } = this.opts;
    const progress = state.progress;
    if (!recollect && isDone(await progress.artifact(info.name), info, state.window)) return "skip";
    if (!(await keeper.claim(info.name))) return "defer";
    // The claim was taken after the read: read again so progress a previous holder committed meanwhile counts.
    const current = await progress.artifact(info.name);
    if (!recollect && isDone(current, info, state.window)) {
      await keeper.release(info.name);
      return "skip";
    }
    const from = await this.opts.startingPoint(info, current);
    const plan = progress.begin(info, from);
    if (from.head !== undefined) await state.heads.indexHead(info.name, from.head);
    const p: Promise<void> = this.opts.collect(info, plan, from.idSeed).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return "start";
  }

  /**
   * Schedules every artifact `listed` gives, then waits for the deferred ones; resolves once every artifact started
   * is read (or failed). Rejects when the state fails; the artifacts under way go on (see drain()).
   */
  async run(listed: AsyncIterable<ArtifactInfo>): Promise<void> {
    const { onSkip, onWaiting, stopped } = this.opts;
    const deferred: ArtifactInfo[] = [];
    for await (const info of listed) {
      if (stopped()) break;
      const what = await this.consider(info);
      if (what === "skip") onSkip(info);
      else if (what === "defer") deferred.push(info);
      await this.room();
    }
    // Artifacts other collectors hold: wait until they finish them, or their claims lapse and this one takes over.
    // First make this collector's own rows durable, so the artifacts it holds complete and others stop waiting on it.
    onWaiting(deferred.length);
    if (deferred.length) await this.settle();
    const retryMs = Math.min(1000, (this.opts.state.leaseSeconds * 1000) / 4);
    while (deferred.length && !stopped()) {
      for (let i = deferred.length - 1; i >= 0; i--) {
        const what = await this.consider(deferred[i]!);
        if (what !== "defer") {
          if (what === "skip") onSkip(deferred[i]!);
          deferred.splice(i, 1);
        }
        await this.room();
      }
      onWaiting(deferred.length);
      if (deferred.length) {
        await this.settle();
        await this.clock.sleep(retryMs);
      }
    }
    await Promise.all(this.inFlight);
  }

  /** Waits for every artifact under way to end, however it ends. */
  async drain(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  /** Waits, when `concurrency` artifacts are under way, until one of them ends. */
  private async room(): Promise<void> {
    if (this.inFlight.size >= this.opts.concurrency) await Promise.race(this.inFlight);
  }

  private async settle(): Promise<void> {
    await Promise.all(this.inFlight);
    await this.opts.flush();
  }
}
