import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

// Each test file gets a temp folder of its own as TMPDIR, which the plugins and CLIs it starts inherit; it goes when the
// file is done. A test that SIGKILLs a CLI and its plugin together leaves no one to remove the plugin's socket folder,
// and the system temp folder is shared by everyone on the machine.
const previous = process.env["TMPDIR"];
const dir = mkdtempSync(join(tmpdir(), "tailkit-vitest-"));
// Like /tmp itself, usable by every user (tests that run the CLI as another user) and sticky.
chmodSync(dir, 0o1777);
process.env["TMPDIR"] = dir;

afterAll(() => {
  if (previous === undefined) delete process.env["TMPDIR"];
  else process.env["TMPDIR"] = previous;
  rmSync(dir, { recursive: true, force: true });
});
