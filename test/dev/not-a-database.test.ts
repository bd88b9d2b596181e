/**
 * A pglite: or sqlite: URL that names something other than a database (a typo such as
 * `pglite:.` or `sqlite:./notes.txt`): Retort neither creates a database inside it nor deletes
 * or replaces it (wipe, reset, restore --clean); a real database, an empty folder or file and a
 * new path are used as before.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { backup, restore } from "../../src/backup/commands.js";
import { dropDatabase } from "../../src/dev/databases.js";
import { fileDatabaseContents } from "../../src/dialects/file-database.js";
import { upgrade } from "../../src/index.js";
import { backupProject } from "../backup/support.js";
import { failure } from "../runtime/project.js";

const scratch = () => mkdtempSync(join(tmpdir(), "retort-not-a-db-"));

/** A folder holding someone's work. */
function projectFolder(): string {
  const dir = join(scratch(), "src");
  mkdirSync(dir);
  writeFileSync(join(dir, "app.ts"), "export const precious = 1;\n");
  return dir;
}

describe("paths that are not databases", () => {
  it("tells a database from an empty path and from anything else", () => {
    const dir = scratch();
    writeFileSync(join(dir, "notes.txt"), "precious\n");
    writeFileSync(join(dir, "empty.db"), "");
    expect(fileDatabaseContents("sqlite", join(dir, "none.db"))).toBe("nothing");
    expect(fileDatabaseContents("pglite", join(dir, "notes.txt", "data"))).toBe("nothing");
    expect(fileDatabaseContents("sqlite", join(dir, "empty.db"))).toBe("empty");
    expect(fileDatabaseContents("sqlite", join(dir, "notes.txt"))).toBe("other");
    expect(fileDatabaseContents("sqlite", dir)).toBe("other");
    expect(fileDatabaseContents("pglite", join(dir, "notes.txt"))).toBe("other");
    expect(fileDatabaseContents("pglite", projectFolder())).toBe("other");
    mkdirSync(join(dir, "fresh"));
    expect(fileDatabaseContents("pglite", join(dir, "fresh"))).toBe("empty");
  });

  it("wipe and reset (dropDatabase) refuse a folder or file that is no database, and leave it whole", async () => {
    const folder = projectFolder();
    const refused = await failure(dropDatabase(`pglite:${folder}`));
    expect(refused.code).toBe("RETORT_NOT_A_DATABASE");
    expect(refused.message).toContain(folder);
    expect(readFileSync(join(folder, "app.ts"), "utf8")).toBe("export const precious = 1;\n");

    const notes = join(scratch(), "notes.txt");
    writeFileSync(notes, "precious\n");
    expect((await failure(dropDatabase(`sqlite:${notes}`))).code).toBe("RETORT_NOT_A_DATABASE");
    expect(readFileSync(notes, "utf8")).toBe("precious\n");
  });

  it("upgrade does not make a PGlite cluster inside a folder of other files, nor a SQLite database of a text file", async () => {
    const project = backupProject();
    const folder = projectFolder();
    const refused = await failure(upgrade("head", { config: project.config, url: `pglite:${folder}` }));
    expect(refused.code).toBe("RETORT_NOT_A_DATABASE");
    expect(readdirSync(folder)).toEqual(["app.ts"]);

    const notes = join(scratch(), "notes.txt");
    writeFileSync(notes, "precious\n");
    await failure(upgrade("head", { config: project.config, url: `sqlite:${notes}` }));
    expect(readFileSync(notes, "utf8")).toBe("precious\n");
  });

  it("restore --clean refuses to replace a folder or file that is no database; real ones are restored as before", async () => {
    const project = backupProject();
    const source = `pglite:${join(scratch(), "data")}`;
    await upgrade("head", { config: project.config, url: source });
    const out = scratch();
    const taken = await backup({ url: source, out, root: project.root });
    const folder = projectFolder();
    const options = { source: taken.file!, root: project.root, environment: "development", config: project.config, clean: true };
    expect((await failure(restore({ ...options, url: `pglite:${folder}` }))).code).toBe("RETORT_NOT_A_DATABASE");
    expect(readdirSync(folder)).toEqual(["app.ts"]);

    const sqliteSource = `sqlite:${join(scratch(), "app.db")}`;
    await upgrade("head", { config: project.config, url: sqliteSource });
    const sqliteBackup = await backup({ url: sqliteSource, out, root: project.root });
    const notes = join(scratch(), "notes.txt");
    writeFileSync(notes, "precious\n");
    expect((await failure(restore({ ...options, source: sqliteBackup.file!, url: `sqlite:${notes}` }))).code).toBe("RETORT_NOT_A_DATABASE");
    expect(readFileSync(notes, "utf8")).toBe("precious\n");

    // A real database at the target is replaced as before.
    const target = `pglite:${join(scratch(), "target")}`;
    await restore({ ...options, url: target });
    await restore({ ...options, url: target });
    expect(existsSync(join(target.slice("pglite:".length), "PG_VERSION"))).toBe(true);
  }, 120_000);
});
