import type { ArtifactInfo, ArtifactSource, SourceContext } from "../contract/source.js";
import { HEAD_PRINT_BYTES, headPrint, replaced as wasReplaced, type ArtifactState, type BeginOptions, type HeadIndex } from "../state/index.js";
import { artifactIdPrefix, artifactIdSeed } from "./artifact-id.js";

/** Where an artifact's collection starts (CollectionState.begin's options), and the tp_id prefix of its rows. */
export type StartingPoint = BeginOptions & { idSeed: string };

/** What startingPoint needs of the execution. */
export interface StartingPointContext {
  source: ArtifactSource;
  sourceContext: SourceContext;
  sourceType: string;
  sourceName: string;
  heads: Pick<HeadIndex, "moved" | "findByHead">;
  /** --recollect: every artifact starts over at its first row. */
  recollect: boolean;
}

/**
 * Where an artifact's collection starts when it is not where its state says: a file that replaced the one collected
 * under its name (a rotated or truncated log) starts over, and a file collected under another name (the rotated log)
 * goes on from there. Both are told by the artifact's first bytes, where the source offers them.
 */
export async function startingPoint(ctx: StartingPointContext, info: ArtifactInfo, current: ArtifactState | undefined): Promise<StartingPoint> {
  const { sourceType, sourceName } = ctx;
  let head: Uint8Array | undefined;
  if (ctx.source.head !== undefined) {
    try {
      head = await ctx.source.head(info, HEAD_PRINT_BYTES, ctx.sourceContext);
    } catch {
      // An artifact that cannot be read fails in download, with the source's own message.
      head = undefined;
    }
  }
  const print = head === undefined ? undefined : headPrint(head);
  const replaced = current !== undefined && wasReplaced(current, info, head);
  // The tp_id prefix: the one its rows were given so far while the file goes on (state older than seeds gave the
  // name's), else a new one from its location and content, never the one of the file it replaced.
  const goingOn = (prev: ArtifactState) => prev.idSeed ?? artifactIdPrefix(sourceType, sourceName, info.name);
  const newSeed = () => {
    const seed = artifactIdSeed(sourceType, sourceName, info.location, print);
    const old = replaced ? goingOn(current) : undefined;
    return seed === old ? artifactIdSeed(sourceType, sourceName, info.location, print, old) : seed;
  };
  if (ctx.recollect) return { head: print, restartAt: 0, idSeed: current !== undefined && !replaced ? goingOn(current) : newSeed() };
  if (current !== undefined && !replaced) return { head: print, idSeed: goingOn(current) };
  // What was collected under this name is kept for the name it moved to.
  if (replaced) await ctx.heads.moved(current);
  const earlier = head === undefined || print === undefined ? undefined : await ctx.heads.findByHead(head, info.name);
  // A renamed file keeps its ids; its new rows continue its positions.
  return { head: print, restartAt: earlier?.committed ?? 0, restartWindows: earlier?.windows, idSeed: earlier?.idSeed ?? newSeed() };
}
