import { join } from "node:path";
import { onTestFinished } from "vitest";
import { StateStore, type Clock } from "../../src/state/index.js";
import { tempDir } from "../e2e/helpers.js";

/**
 * A shared SQLite state file in a fresh folder, and a way to open stores on it as separate collectors do (each its own
 * connection), all judging expiry by `clock`. Called inside a test: what it opened is closed, and the folder
 * removed, when the test ends.
 */
export function sharedState(clock: Clock): { dir: string; open(): Promise<StateStore> } {
  const t = tempDir();
  const opened: StateStore[] = [];
  onTestFinished(async () => {
    for (const s of opened.splice(0)) await s.close();
    t.cleanup();
  });
  return {
    dir: t.dir,
    open: async () => {
      const store = await StateStore.open({ backend: "sqlite", path: join(t.dir, "state.sqlite") }, "p/t/default", clock);
      opened.push(store);
      return store;
    },
  };
}
