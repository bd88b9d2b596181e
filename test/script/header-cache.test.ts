import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScriptDirectory } from "../../src/script/directory.js";
import { checksumListDigest, openFolderGraph } from "../../src/script/folder-graph.js";
import { renderMigration } from "../../src/script/template.js";
import { retortError, tempDir, writeMigrations } from "./helpers.js";

const migration = (revision: string, parents: string[], minute: number, message = `step ${revision}`) => ({
  revision,
  parents,
  message,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
});

interface CacheColumns {
  writtenAt: number;
  names: string[];
  message: string[];
}

/** The cache file is two JSON lines, the index (writtenAt) and the columns (names, message…): here as one object. */
function readCache(file: string): CacheColumns {
  const [index, columns] = readFileSync(file, "utf8").split("\n");
  return { ...JSON.parse(columns!), writtenAt: JSON.parse(index!).writtenAt };
}

function writeCache(file: string, cache: CacheColumns): void {
  const [index] = readFileSync(file, "utf8").split("\n");
  const { writtenAt, ...columns } = cache;
  writeFileSync(file, `${JSON.stringify({ ...JSON.parse(index!), writtenAt })}\n${JSON.stringify(columns)}`);
}

/** Change the cached message of file `name` (a marker only the cache holds). */
function setCachedMessage(cache: CacheColumns, name: string, message: string): void {
  const i = cache.names.indexOf(name);
  expect(i).toBeGreaterThanOrEqual(0);
  cache.message[i] = message;
}

/** Pretend the cache was written long after the files: its entries are then trusted. */
function ageCache(file: string, edit: (cache: CacheColumns) => void = () => {}): void {
  const cache = readCache(file);
  cache.writtenAt = Date.now() + 60_000;
  edit(cache);
  writeCache(file, cache);
}

describe("header cache", () => {
  const setup = () => {
    const dir = writeMigrations([migration("bbbb00000001", [], 1), migration("bbbb00000002", ["bbbb00000001"], 2)]);
    const cacheFile = join(tempDir(), "cache", "headers.json");
    return { dir, cacheFile, files: readdirSync(dir).sort() };
  };

  it("gives the same headers and checksums as reading the files, and writes the cache", () => {
    const { cacheFile } = setup();
    // Branch labels and depends-on, empty and not (the cache writes an empty list as 0).
    const dir = writeMigrations([
      migration("bbbb00000001", [], 1),
      { ...migration("bbbb00000002", ["bbbb00000001"], 2), branchLabels: ["billing"] },
      { ...migration("bbbb00000003", ["bbbb00000001"], 3), dependsOn: ["bbbb00000002"] },
    ]);
    const plain = loadScriptDirectory(dir).revisions;
    expect(loadScriptDirectory(dir, { cacheFile }).revisions).toEqual(plain);
    expect(existsSync(cacheFile)).toBe(true);
    ageCache(cacheFile);
    const cached = loadScriptDirectory(dir, { cacheFile }).revisions;
    expect(cached).toEqual(plain);
    expect(cached.map((r) => [r.branchLabels, r.dependsOn])).toEqual([[[], []], [["billing"], []], [[], ["bbbb00000002"]]]);
  });

  it("serves an unchanged file from the cache, and rereads it as soon as it is touched", () => {
    const { dir, cacheFile, files } = setup();
    loadScriptDirectory(dir, { cacheFile });
    // A marker only the cache holds shows where the header came from.
    ageCache(cacheFile, (cache) => setCachedMessage(cache, files[0]!, "from the cache"));
    expect(loadScriptDirectory(dir, { cacheFile }).revisions[0]!.message).toBe("from the cache");

    // Same content, same mtime put back: ctime still moves, so the file is read again.
    const path = join(dir, files[0]!);
    const { atime, mtime } = statSync(path);
    utimesSync(path, atime, mtime);
    expect(loadScriptDirectory(dir, { cacheFile }).revisions[0]!.message).toBe("step bbbb00000001");
  });

  it("sees an edit that keeps the file's size and mtime (the checksum changes)", () => {
    const { dir, cacheFile, files } = setup();
    const path = join(dir, files[1]!);
    const before = loadScriptDirectory(dir, { cacheFile }).revisions[1]!;
    ageCache(cacheFile);
    const { atime, mtime, size } = statSync(path);
    writeFileSync(path, renderMigration(migration("bbbb00000002", ["bbbb00000001"], 2, "step bbbb0000000X")));
    utimesSync(path, atime, mtime);
    expect(statSync(path).size).toBe(size);
    const after = loadScriptDirectory(dir, { cacheFile }).revisions[1]!;
    expect(after.message).toBe("step bbbb0000000X");
    expect(after.checksum).not.toBe(before.checksum);
  });

  it("does not trust files changed just before the scan that cached them (same clock tick)", () => {
    const { dir, cacheFile, files } = setup();
    loadScriptDirectory(dir, { cacheFile });
    const cache = readCache(cacheFile);
    setCachedMessage(cache, files[0]!, "stale");
    writeCache(cacheFile, cache);
    expect(loadScriptDirectory(dir, { cacheFile }).revisions[0]!.message).toBe("step bbbb00000001");
  });

  it("forgets deleted files and reads new ones", () => {
    const { dir, cacheFile, files } = setup();
    loadScriptDirectory(dir, { cacheFile });
    ageCache(cacheFile);
    writeFileSync(join(dir, "20260101000300_third.ts"), renderMigration(migration("bbbb00000003", ["bbbb00000002"], 3)));
    expect(loadScriptDirectory(dir, { cacheFile }).revisions.map((r) => r.revision)).toEqual(["bbbb00000001", "bbbb00000002", "bbbb00000003"]);
    const entries = () => readCache(cacheFile).names.sort();
    expect(entries()).toEqual([...files, "20260101000300_third.ts"].sort());
    writeFileSync(join(dir, files[0]!), ""); // emptied: a broken file is reported, not served from the cache
    expect(retortError("RETORT_BAD_MIGRATION_FILE", () => loadScriptDirectory(dir, { cacheFile })).message).toContain(files[0]!);
  });

  it("a corrupt or unwritable cache only costs time", () => {
    const { dir, cacheFile } = setup();
    const plain = loadScriptDirectory(dir).revisions;
    loadScriptDirectory(dir, { cacheFile });
    writeFileSync(cacheFile, "{ not json");
    expect(loadScriptDirectory(dir, { cacheFile }).revisions).toEqual(plain);
    // Valid JSON whose columns do not line up is ignored too.
    ageCache(cacheFile, (cache) => cache.message.pop());
    expect(loadScriptDirectory(dir, { cacheFile }).revisions).toEqual(plain);
    const blocked = join(tempDir(), "a-file");
    writeFileSync(blocked, "");
    expect(loadScriptDirectory(dir, { cacheFile: join(blocked, "headers.json") }).revisions).toEqual(plain);
  });

  it("summarises the graph for the next run while no file changes, and never after a change or a failed build", async () => {
    const { dir, cacheFile, files } = setup();
    expect(await openFolderGraph(dir, { cacheFile }).summary()).toBeUndefined();
    const graph = openFolderGraph(dir, { cacheFile }).graph();
    // Written within the clock's granularity of the files: not trusted yet.
    expect(await openFolderGraph(dir, { cacheFile }).summary()).toBeUndefined();
    ageCache(cacheFile);
    const lines = graph.revisions.map((r) => `${r.revision} ${r.checksum}`).sort();
    expect(await openFolderGraph(dir, { cacheFile }).summary()).toEqual({
      heads: [{ revision: "bbbb00000002", message: "step bbbb00000002" }],
      appliedDigest: checksumListDigest(lines.join("\n")),
    });

    // Same content and mtime put back: ctime moves, the summary is not trusted, the rebuild writes it again.
    const path = join(dir, files[0]!);
    const { atime, mtime } = statSync(path);
    utimesSync(path, atime, mtime);
    const touched = openFolderGraph(dir, { cacheFile });
    expect(await touched.summary()).toBeUndefined();
    touched.graph();
    ageCache(cacheFile);
    expect((await openFolderGraph(dir, { cacheFile }).summary())?.heads).toEqual([{ revision: "bbbb00000002", message: "step bbbb00000002" }]);

    // Digests of databases found in agreement are kept while the graph stays the same (a rebuild included).
    const agreeing = openFolderGraph(dir, { cacheFile });
    agreeing.graph();
    agreeing.acceptDigest("d1");
    agreeing.acceptDigest("d2");
    agreeing.acceptDigest("d1");
    openFolderGraph(dir, { cacheFile }).graph();
    ageCache(cacheFile);
    expect((await openFolderGraph(dir, { cacheFile }).summary())?.consistentDigests).toEqual(["d2", "d1"]);

    // A summary of the wrong shape (a damaged file) only costs time.
    const [index, columns] = readFileSync(cacheFile, "utf8").split("\n");
    const parsed = JSON.parse(index!) as { summary: object };
    for (const summary of [{ heads: 5 }, { ...parsed.summary, consistentDigests: [7] }]) {
      writeFileSync(cacheFile, `${JSON.stringify({ ...parsed, summary })}\n${columns}`);
      expect(await openFolderGraph(dir, { cacheFile }).summary()).toBeUndefined();
    }
    expect(openFolderGraph(dir, { cacheFile }).graph().heads.map((r) => r.revision)).toEqual(["bbbb00000002"]);

    // A revision whose parent is missing: the build fails, and the cache keeps no summary.
    writeFileSync(join(dir, "20260101000300_third.ts"), renderMigration(migration("bbbb00000003", ["nothere00001"], 3)));
    expect(retortError("RETORT_MISSING_PARENT", () => openFolderGraph(dir, { cacheFile }).graph()).message).toContain("nothere00001");
    ageCache(cacheFile);
    expect(await openFolderGraph(dir, { cacheFile }).summary()).toBeUndefined();
  });
});
