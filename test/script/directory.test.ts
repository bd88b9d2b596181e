import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadScriptDirectory } from "../../src/script/directory.js";
import { renderMigration } from "../../src/script/template.js";
import { retortError, tempDir, writeMigrations } from "./helpers.js";

const migration = (revision: string, parents: string[], minute: number) => ({
  revision,
  parents,
  message: `step ${revision}`,
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
});

describe("loadScriptDirectory", () => {
  it("reads the header of every .ts/.js/.mjs file directly in the folder, sorted by name", () => {
    const dir = writeMigrations([migration("aaaa00000002", ["aaaa00000001"], 2), migration("aaaa00000001", [], 1)]);
    writeFileSync(join(dir, "20260101000300_third.mjs"), renderMigration(migration("aaaa00000003", ["aaaa00000002"], 3)));
    writeFileSync(join(dir, "20260101000400_fourth.js"), renderMigration(migration("aaaa00000004", ["aaaa00000003"], 4)));
    writeFileSync(join(dir, "types.d.ts"), "export {};");
    writeFileSync(join(dir, "README.md"), "# notes");
    writeFileSync(join(dir, ".#20260101000500_lock.ts"), "editor lock file");
    mkdirSync(join(dir, "sub.ts"));
    mkdirSync(join(dir, "nested"));
    writeFileSync(join(dir, "nested", "20260101000600_nested.ts"), renderMigration(migration("aaaa00000006", [], 6)));

    const { dir: read, revisions: scripts } = loadScriptDirectory(dir);
    expect(read).toBe(dir);
    expect(scripts.map((s) => s.revision)).toEqual(["aaaa00000001", "aaaa00000002", "aaaa00000003", "aaaa00000004"]);
    expect(scripts.map((s) => s.path)).toEqual([
      join(dir, "20260101000100_step_aaaa00000001.ts"),
      join(dir, "20260101000200_step_aaaa00000002.ts"),
      join(dir, "20260101000300_third.mjs"),
      join(dir, "20260101000400_fourth.js"),
    ]);
    expect(scripts[1]).toMatchObject({ parents: ["aaaa00000001"], message: "step aaaa00000002" });
  });

  it("an empty folder has no scripts", () => {
    expect(loadScriptDirectory(tempDir()).revisions).toEqual([]);
  });

  it("a missing folder says so and suggests retort init", () => {
    const dir = join(tempDir(), "migrations", "versions");
    const error = retortError("RETORT_BAD_MIGRATION_FILE", () => loadScriptDirectory(dir));
    expect(error.message).toBe(`The migrations directory ${dir} does not exist.`);
    expect(error.hint).toContain("retort init");
  });

  it("a file where the folder should be", () => {
    const file = join(tempDir(), "versions");
    writeFileSync(file, "");
    expect(retortError("RETORT_BAD_MIGRATION_FILE", () => loadScriptDirectory(file)).message).toBe(`The migrations directory ${file} is not a directory.`);
  });

  it("a duplicate revision id names both files", () => {
    const dir = writeMigrations([migration("aaaa00000001", [], 1)]);
    writeFileSync(join(dir, "20260101000900_copy.ts"), renderMigration(migration("aaaa00000001", [], 9)));
    const error = retortError("RETORT_DUPLICATE_REVISION", () => loadScriptDirectory(dir));
    const first = join(dir, "20260101000100_step_aaaa00000001.ts");
    const second = join(dir, "20260101000900_copy.ts");
    expect(error.message).toBe(`Revision aaaa00000001 is defined twice: in ${first} and in ${second}.`);
    expect(error.hint).toMatch(/Give one of the two files a new `revision`/);
    expect(error.details).toEqual({ revision: "aaaa00000001", files: [first, second] });
  });

  it("a bad file names the file", () => {
    const dir = writeMigrations([migration("aaaa00000001", [], 1)]);
    writeFileSync(join(dir, "20260101000200_broken.ts"), "export default {};");
    expect(retortError("RETORT_BAD_MIGRATION_FILE", () => loadScriptDirectory(dir)).message).toContain(join(dir, "20260101000200_broken.ts"));
  });
});
