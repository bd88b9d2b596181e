/** migrations.linear: revision, merge and upgrade refuse a second head with RETORT_NOT_LINEAR, naming the heads. */
import { describe, expect, it } from "vitest";
import { revision, upgrade } from "../../src/index.js";
import { assertLinear, RevisionGraph, loadScriptDirectory } from "../../src/script/index.js";
import { createProject, failure, query, sqliteFileUrl } from "../runtime/project.js";

describe("migrations.linear", () => {
  it("refuses a second head in revision (splice), merge and upgrade, and allows the line", async () => {
    const project = createProject({ linear: true });
    const options = { config: project.config };
    project.add({ id: "lin000000001", message: "first", up: `op.createTable("a", { id: t.integer().primaryKey() });`, down: `op.dropTable("a");` });
    project.add({ id: "lin000000002", parents: ["lin000000001"], message: "second", up: `op.createTable("b", { id: t.integer().primaryKey() });`, down: `op.dropTable("b");` });

    // On the head: fine.
    const made = await revision({ message: "third", revId: "lin000000003" }, options);
    expect(made.parents).toEqual(["lin000000002"]);
    // From the middle, on purpose: would be a second head.
    const splice = await failure(revision({ message: "side", revId: "lin0000000x1", head: "lin000000001", splice: true }, options));
    expect(splice.code).toBe("RETORT_NOT_LINEAR");
    expect(splice.message).toContain("lin000000003");
    expect(splice.message).toContain("lin0000000x1");
    expect(splice.details.heads).toEqual(["lin000000003", "lin0000000x1"]);

    // A branch arrives anyway (say, from git): upgrade and merge refuse, naming both heads.
    project.add({ id: "lin0000000b2", parents: ["lin000000001"], message: "teammate's branch", up: `op.createTable("c", { id: t.integer().primaryKey() });`, down: `op.dropTable("c");` });
    const url = sqliteFileUrl();
    const up = await failure(upgrade("heads", { ...options, url }));
    expect(up.code).toBe("RETORT_NOT_LINEAR");
    expect(up.details.heads).toEqual(expect.arrayContaining(["lin000000003", "lin0000000b2"]));
    expect(up.message).toContain("teammate's branch");
    expect(await query(url, "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('a', 'b', 'c')")).toEqual([]);
    const merged = await failure(revision({ message: "merge", parents: ["heads"] }, options));
    expect(merged.code).toBe("RETORT_NOT_LINEAR");
    expect((await failure(revision({ message: "more" }, options))).code).toBe("RETORT_NOT_LINEAR");

    // The exported check, as the linter calls it.
    const graph = new RevisionGraph(loadScriptDirectory(project.dir).revisions);
    expect(() => assertLinear(graph, "lint")).toThrow(/lint finds 2 heads/);

    // Without the setting, the same graph upgrades (both heads).
    const free = createProject();
    free.add({ id: "fre000000001", message: "first", up: `op.createTable("a", { id: t.integer().primaryKey() });`, down: `op.dropTable("a");` });
    free.add({ id: "fre000000002", parents: ["fre000000001"], message: "x", up: `op.createTable("b", { id: t.integer().primaryKey() });`, down: `op.dropTable("b");` });
    free.add({ id: "fre000000003", parents: ["fre000000001"], message: "y", up: `op.createTable("c", { id: t.integer().primaryKey() });`, down: `op.dropTable("c");` });
    await upgrade("heads", { config: free.config, url: sqliteFileUrl() });
  });
});
