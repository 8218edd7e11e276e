import { describe, expect, it } from "vitest";
import { pluginNameProblem, tailkitDependency } from "../../src/cli/new-plugin.js";

describe("tailkit new plugin: what the new plugin depends on, and which names it takes", () => {
  it("depends on an installed tailkit by its version, on a checkout or link by a file: path", () => {
    expect(tailkitDependency({ root: "/home/me/proj/node_modules/tailkit", version: "1.4.2" })).toBe("^1.4.2");
    expect(tailkitDependency({ root: "/usr/lib/node_modules/tailkit", version: "1.4.2" })).toBe("^1.4.2");
    expect(tailkitDependency({ root: "/home/me/src/tailkit", version: "1.4.2" })).toBe("file:/home/me/src/tailkit");
  });

  it("takes lowercase words joined by single hyphens, and says why it refuses the rest", () => {
    for (const good of ["myapp", "my-app", "app2", "a1-b2-c3"]) expect(pluginNameProblem(good), good).toBeUndefined();
    expect(pluginNameProblem("")).toBe("is empty");
    expect(pluginNameProblem("x".repeat(41))).toBe("is longer than 40 characters");
    for (const bad of ["MyApp", "my_app", "my--app", "-app", "app-", "9lives", "a/b", ".."]) expect(pluginNameProblem(bad), bad).toMatch(/^must be lowercase/);
    expect(pluginNameProblem("tailkit-plugin-web")).toContain("try web");
  });
});
