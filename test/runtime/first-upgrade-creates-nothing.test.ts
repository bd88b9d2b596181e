/**
 * A SQLite file or PGlite folder that is not there yet is created by opening it. A first run that
 * cannot succeed (an unknown target, a migration module that does not load, a model file it imports
 * that throws) is refused before opening, so it leaves nothing behind: nothing is created, rather
 * than created and deleted (another process may have opened the same new file meanwhile).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { current, downgrade, stamp, upgrade } from "../../src/index.js";
import { rehash } from "../../src/runtime/verify.js";
import { createProject, failure, runCli, type Project } from "./project.js";

function twoRevisions(project: Project): string {
  project.add({ id: "aaaa00000001", message: "guilds", up: `op.createTable("guilds", { id: t.integer().primaryKey() });`, down: `op.dropTable("guilds");` });
  return project.add({ id: "bbbb00000002", parents: ["aaaa00000001"], message: "members", up: `op.createTable("members", { id: t.integer().primaryKey() });`, down: `op.dropTable("members");` });
}

const freshFolder = () => mkdtempSync(join(tmpdir(), "retort-fresh-"));

describe.each([
  { dialect: "sqlite", url: (folder: string) => `sqlite:${join(folder, "new.db")}` },
  { dialect: "pglite", url: (folder: string) => `pglite:${join(folder, "newdir")}` },
])("a failed first run on a new $dialect database", ({ url: urlIn }) => {
  it("an unknown target (upgrade, stamp) or a module that fails to load creates no file", async () => {
    const project = createProject();
    const second = twoRevisions(project);
    const folder = freshFolder();
    const url = urlIn(folder);
    const options = { config: project.config, url };

    expect((await failure(upgrade("zzzz9999", options))).code).toBe("RETORT_UNKNOWN_REVISION");
    expect((await failure(upgrade("+3", options))).code).toBe("RETORT_UNKNOWN_REVISION");
    expect((await failure(stamp("zzzz9999", options))).code).toBe("RETORT_UNKNOWN_REVISION");
    expect((await failure(downgrade("aaaa00000001", options))).code).toBe("RETORT_DATABASE_NOT_FOUND");
    expect((await failure(rehash("aaaa00000001", { reason: "typo" }, options))).code).toBe("RETORT_DATABASE_NOT_FOUND");
    // The second revision's module throws on import: the run would need it, so it is loaded first.
    writeFileSync(second, `throw new Error("broken on purpose");\n`, { flag: "a" });
    const broken = await failure(upgrade("head", options));
    expect(broken.code).toBe("RETORT_BAD_MIGRATION_FILE");
    expect(broken.message).toContain("broken on purpose");
    expect(readdirSync(folder)).toEqual([]);

    // Up to the first revision, which loads: the database is made and migrated.
    expect((await upgrade("aaaa00000001", options)).to).toEqual(["aaaa00000001"]);
    expect((await current(options)).heads.map((h) => h.revision)).toEqual(["aaaa00000001"]);
  }, 120_000);
});

describe("a failed first run through the CLI", () => {
  it("a migration importing a models file that throws creates no SQLite file; exit 1 with the cause", async () => {
    const project = createProject();
    mkdirSync(join(project.root, "src"));
    writeFileSync(join(project.root, "src", "schema.mjs"), `throw new Error("models do not load");\n`);
    const file = project.add({ id: "aaaa00000001", message: "guilds", up: `op.createTable("guilds", { id: t.integer().primaryKey() });` });
    writeFileSync(file, `import "../../src/schema.mjs";\n`, { flag: "a" });
    const config = join(project.root, "retort.config.mjs");
    writeFileSync(config, `export default ${JSON.stringify({ migrations: { directory: project.dir, importFrom: project.config.config.migrations!.importFrom } })};\n`);
    const db = join(freshFolder(), "new.db");

    const result = await runCli(config, ["--url", `sqlite:${db}`, "upgrade", "head"]);
    expect(result.code).toBe(1);
    expect(result.err).toContain("RETORT_BAD_MIGRATION_FILE");
    expect(result.err).toContain("models do not load");
    expect(existsSync(db)).toBe(false);

    const stamped = await runCli(config, ["--url", `sqlite:${db}`, "stamp", "nope"]);
    expect(stamped.code).toBe(1);
    expect(stamped.err).toContain("RETORT_UNKNOWN_REVISION");
    expect(existsSync(db)).toBe(false);
  }, 60_000);
});
