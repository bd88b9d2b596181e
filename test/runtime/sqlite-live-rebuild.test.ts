/**
 * A SQLite table rebuild on a live database starts from the table as it is: what raw SQL added
 * (a column, an index) survives a later rebuild, and what cannot be carried over is refused by name.
 */
import { describe, expect, it } from "vitest";
import { current, isRetortError, migrationSql, upgrade, type CommandOptions } from "../../src/index.js";
import { createProject, query, sqliteFileUrl } from "./project.js";

describe("SQLite rebuilds start from the table as it is", () => {
  it("a column and an index added with op.execute survive a later alterColumn rebuild, with their data", async () => {
    const project = createProject();
    project.add({ id: "base00000001", message: "things", up: `op.createTable("things", { id: t.integer().primaryKey(), name: t.text() });\nop.execute("INSERT INTO things VALUES (1, 'a'), (2, 'b')");` });
    project.add({
      id: "rawx00000002",
      parents: ["base00000001"],
      message: "raw column and index",
      up: [
        `op.execute("ALTER TABLE things ADD COLUMN extra TEXT");`,
        `op.execute("UPDATE things SET extra = 'x' || id");`,
        `op.execute("CREATE INDEX ix_things_extra ON things (extra)");`,
        `op.execute("CREATE TRIGGER things_touch AFTER UPDATE ON things BEGIN SELECT 1; END");`,
      ].join("\n"),
    });
    project.add({ id: "rebu00000003", parents: ["rawx00000002"], message: "name nullable", up: `op.alterColumn("things", "name", { nullable: true });` });
    const url = sqliteFileUrl();
    const options: CommandOptions = { config: project.config, url };
    await upgrade("head", options);
    expect(await query(url, "SELECT id, name, extra FROM things ORDER BY id")).toEqual([
      { id: 1, name: "a", extra: "x1" },
      { id: 2, name: "b", extra: "x2" },
    ]);
    expect(await query(url, "SELECT name, \"notnull\" FROM pragma_table_info('things') ORDER BY cid")).toEqual([
      { name: "id", notnull: 1 },
      { name: "name", notnull: 0 },
      { name: "extra", notnull: 0 },
    ]);
    expect(await query(url, "SELECT type, name FROM sqlite_master WHERE tbl_name = 'things' AND name NOT LIKE 'sqlite_%' ORDER BY name")).toEqual([
      { type: "table", name: "things" },
      { type: "trigger", name: "things_touch" },
      { type: "index", name: "ix_things_extra" },
    ].sort((a, b) => (a.name < b.name ? -1 : 1)));
    // Offline SQL has no database to look at: it is the fold's rebuild (without "extra").
    const script = await migrationSql("up", "rawx00000002:rebu00000003", { config: project.config, dialect: "sqlite" });
    expect(script).toContain('CREATE TABLE "_retort_tmp_things"');
    expect(script).not.toContain('"extra"');
  });

  it("refuses, naming it, an index the migrations did not create on a column the rebuild drops; nothing changes", async () => {
    const project = createProject();
    project.add({
      id: "base00000001",
      message: "things",
      // The comment makes dropColumn a rebuild (SQLite's DROP COLUMN would cut it).
      up: `op.createTable("things", { id: t.integer().primaryKey(), name: t.text(), note: t.text().nullable().comment("why") });\nop.execute("INSERT INTO things (id, name) VALUES (1, 'a')");`,
    });
    project.add({ id: "rawx00000002", parents: ["base00000001"], message: "raw index", up: `op.execute("CREATE INDEX ix_raw_name ON things (name)");` });
    project.add({ id: "drop00000003", parents: ["rawx00000002"], message: "drop name", up: `op.dropColumn("things", "name");` });
    const url = sqliteFileUrl();
    const options: CommandOptions = { config: project.config, url };
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    expect((error as Error).message).toContain('index "ix_raw_name" (not created by the migrations) uses column "name", which this operation drops: it cannot be carried over');
    expect((error as { details: Record<string, unknown> }).details).toMatchObject({ causeCode: "RETORT_INVALID_OPERATION", currentHeads: ["rawx00000002"] });
    expect((error as { hint: string }).hint).toContain('Drop index "ix_raw_name" first');
    expect((await current(options)).heads.map((head) => head.revision)).toEqual(["rawx00000002"]);
    expect(await query(url, "SELECT id, name FROM things")).toEqual([{ id: 1, name: "a" }]);
    expect(await query(url, "SELECT name FROM sqlite_master WHERE name = 'ix_raw_name'")).toEqual([{ name: "ix_raw_name" }]);
  });
});
