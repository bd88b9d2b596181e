/** `retort revision` and `retort merge` refuse input that would write a file later commands cannot read. */
import { readdirSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { isRetortError, revision, type RetortError } from "../../src/index.js";
import { checkRevisionId } from "../../src/script/template.js";
import { createProject, failure } from "./project.js";

describe("--rev-id", () => {
  it("refuses spaces, path and target characters, keywords and overlong ids, saying which and what to use", () => {
    const cases: Array<[string, string]> = [
      ["bad id with spaces", `Revision id "bad id with spaces" cannot be used: it contains a space.`],
      ["../escape", `Revision id "../escape" cannot be used: it contains ".", "/".`],
      ["a@b", `Revision id "a@b" cannot be used: it contains "@".`],
      ["a-1", `Revision id "a-1" cannot be used: it contains "-".`],
      ["heads", `Revision id "heads" cannot be used: it is a target keyword.`],
      ["", `Revision id "" cannot be used: it is empty.`],
      ["x".repeat(65), `Revision id "${"x".repeat(65)}" cannot be used: it is 65 characters long (at most 64).`],
    ];
    for (const [id, message] of cases) {
      try {
        checkRevisionId(id);
        throw new Error(`accepted ${JSON.stringify(id)}`);
      } catch (error) {
        expect(isRetortError(error, "RETORT_INVALID_REVISION_ID")).toBe(true);
        expect((error as RetortError).message).toBe(message);
      }
    }
    expect(() => checkRevisionId("add_users_2026")).not.toThrow();
    expect(() => checkRevisionId("x".repeat(64))).not.toThrow();
  });

  it("writes no file for a bad id, and the hint offers a usable one", async () => {
    const project = createProject();
    const error = await failure(revision({ message: "first", revId: "bad id with spaces" }, { config: project.config }));
    expect(error.code).toBe("RETORT_INVALID_REVISION_ID");
    expect(error.hint).toBe(`Use letters, digits and _ only (for example "bad_id_with_spaces"), or leave out --rev-id for a random one.`);
    expect(readdirSync(project.dir)).toEqual([]);
  });

  it("a branch label must read back as a target, and be unique", async () => {
    const project = createProject();
    await revision({ message: "first", revId: "first0000001", branchLabel: "core" }, { config: project.config });
    expect((await failure(revision({ message: "x", branchLabel: "a@b", head: "first0000001" }, { config: project.config }))).message).toBe(
      `Branch label "a@b" cannot be used: it contains "@".`,
    );
    expect((await failure(revision({ message: "x", branchLabel: "core" }, { config: project.config }))).message).toBe(
      `Branch label "core" cannot be used: revision first0000001 already uses it.`,
    );
    expect(readdirSync(project.dir)).toHaveLength(1);
  });
});

describe("file names", () => {
  it("two revisions with one message in the same second get two files, the later one's name carrying its id", async () => {
    const project = createProject();
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(new Date("2026-12-03T23:01:22.100Z"));
      const first = await revision({ message: "same", revId: "same00000001" }, { config: project.config });
      vi.setSystemTime(new Date("2026-12-03T23:01:22.700Z"));
      const second = await revision({ message: "same", revId: "Same00000002" }, { config: project.config });
      expect(first.parents).toEqual([]);
      expect(second.parents).toEqual(["same00000001"]);
    } finally {
      vi.useRealTimers();
    }
    expect(readdirSync(project.dir).sort()).toEqual(["20261203230122_same.ts", "20261203230122_same_same00000002.ts"]);
  });
});

describe("merge", () => {
  it("with a single head refuses instead of writing a one-parent merge", async () => {
    const project = createProject();
    project.add({ id: "root00000001", message: "root", up: "" });
    const error = await failure(revision({ message: "merge", parents: ["heads"] }, { config: project.config }));
    expect(error.code).toBe("RETORT_INVALID_MERGE");
    expect(error.message).toBe(`Nothing to merge: "heads" names only root00000001; a merge joins two or more revisions.`);
    expect(error.hint).toBe('There is a single head, so no merge is needed: `retort revision -m "…"` adds the next revision.');
    expect(readdirSync(project.dir)).toHaveLength(1);
  });

  it("of a revision that is not a head needs --splice", async () => {
    const project = createProject();
    project.add({ id: "root00000001", message: "root", up: "" });
    project.add({ id: "left00000002", parents: ["root00000001"], message: "left", up: "" });
    project.add({ id: "left00000003", parents: ["left00000002"], message: "left 2", up: "" });
    project.add({ id: "rght00000002", parents: ["root00000001"], message: "right", up: "" });
    const error = await failure(revision({ message: "merge", parents: ["left00000002", "rght00000002"] }, { config: project.config }));
    expect(error.code).toBe("RETORT_INVALID_MERGE");
    expect(error.message).toBe("Cannot merge left00000002: not a head (revisions already build on it).");
    expect(error.hint).toMatch(/--splice/);
    const spliced = await revision({ message: "merge", parents: ["left00000002", "rght00000002"], splice: true }, { config: project.config });
    expect(spliced.parents).toEqual(["left00000002", "rght00000002"]);
    const heads = await revision({ message: "merge heads", parents: ["heads"] }, { config: project.config });
    expect(heads.parents.sort()).toEqual(["left00000003", spliced.revision].sort());
  });
});
