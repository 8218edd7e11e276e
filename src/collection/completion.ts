import type { Progress } from "../state/index.js";
import type { ChunkRange } from "../writer/types.js";
import type { ClaimKeeper } from "./claim-keeper.js";

/**
 * Marks artifacts complete in state, and gives their claims up, only once every row they gave is in a visible chunk:
 * an artifact read to its end may still have rows waiting in the writer, and a run killed then must read them again.
 */
export class Completions {
  /** Artifacts read to their end in this execution: where their positions end, and how many rows they gave. */
  private readonly ends = new Map<string, { end: number; rows: number }>();
  private readonly completed = new Set<string>();

  constructor(
    private readonly progress: Pick<Progress, "complete">,
    private readonly keeper: Pick<ClaimKeeper, "release">,
  ) {}

  /** The artifact was read to its end: `end` positions, `rows` rows written. */
  ended(name: string, end: number, rows: number): void {
    this.ends.set(name, { end, rows });
  }

  /** A chunk with these ranges became visible: the artifacts whose last positions it holds are complete. */
  async visible(ranges: readonly ChunkRange[]): Promise<void> {
    for (const r of ranges) {
      const e = this.ends.get(r.artifact);
      if (e && r.to >= e.end) await this.complete(r.artifact, e.end, e.rows);
    }
  }

  /**
   * Every row written so far is in visible chunks: every artifact read to its end is complete. What no chunk holds
   * (artifacts without rows, row errors after the last row) needs no file.
   */
  async all(): Promise<void> {
    for (const [name, e] of this.ends) await this.complete(name, e.end, e.rows);
  }

  private async complete(name: string, end: number, rows: number): Promise<void> {
    if (this.completed.has(name)) return;
    this.completed.add(name);
    await this.progress.complete(name, end, rows);
    await this.keeper.release(name);
  }
}
