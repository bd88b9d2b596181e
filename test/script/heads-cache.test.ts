/** The startup heads cache: trusted only for the same names, folder and head files. */
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cachedHeads, loadScriptDirectory, RevisionGraph, saveHeads } from "../../src/script/index.js";
import { createProject } from "../runtime/project.js";

describe("heads cache", () => {
  it("answers for an unchanged folder; a new file, an edited head or an old cache is a miss", async () => {
    const project = createProject();
    project.add({ id: "aaaa00000001", message: "one", up: "" });
    const head = project.add({ id: "aaaa00000002", parents: ["aaaa00000001"], message: "two", up: "" });
    const cacheFile = join(mkdtempSync(join(tmpdir(), "heads-")), "heads.json");
    const save = () => saveHeads(project.dir, cacheFile, new RevisionGraph(loadScriptDirectory(project.dir).revisions));

    save();
    // Written within 2 s of the files: not trusted yet (a later write in the same clock tick would not show).
    expect(cachedHeads(project.dir, cacheFile)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    save();
    expect(cachedHeads(project.dir, cacheFile)).toEqual(["aaaa00000002"]);

    appendFileSync(head, "\n// edited\n");
    expect(cachedHeads(project.dir, cacheFile)).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 2100));
    save();
    expect(cachedHeads(project.dir, cacheFile)).toEqual(["aaaa00000002"]);

    project.add({ id: "aaaa00000003", parents: ["aaaa00000002"], message: "three", up: "" });
    expect(cachedHeads(project.dir, cacheFile)).toBeUndefined();
    writeFileSync(cacheFile, "{ not json");
    expect(cachedHeads(project.dir, cacheFile)).toBeUndefined();
  }, 20_000);
});
