import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { connect, current, downgrade, isRetortError, upgrade, type CommandOptions } from "../../src/index.js";
import { createTempDatabase, postgresReachable } from "../support/postgres.js";
import { createProject, query } from "./project.js";

const postgresUp = await postgresReachable();

describe("SQLite table rebuilds through the runtime", () => {
  it("rebuilding a parent table keeps every child row that references it with ON DELETE CASCADE", async () => {
    const project = createProject();
    project.add({
      id: "base00000001",
      message: "guilds and members",
      up: [
        `op.createTable("guilds", { id: t.integer().primaryKey(), name: t.varchar(100) });`,
        `op.createTable("members", { id: t.integer().primaryKey(), guild_id: t.integer().references("guilds.id", { onDelete: "cascade" }) });`,
        `op.bulkInsert("guilds", [{ id: 1, name: "a" }, { id: 2, name: "b" }]);`,
        `op.bulkInsert("members", [{ id: 1, guild_id: 1 }, { id: 2, guild_id: 1 }, { id: 3, guild_id: 2 }]);`,
        `op.createTable("audit", { note: t.text() });`,
        `op.execute("CREATE TRIGGER guilds_audit AFTER UPDATE ON guilds BEGIN INSERT INTO audit (note) VALUES ('renamed ' || NEW.name); END");`,
      ].join("\n"),
    });
    // Each of these can only be done on SQLite by rebuilding "guilds".
    project.add({
      id: "rebu00000002",
      parents: ["base00000001"],
      message: "rebuild guilds",
      up: [`op.alterColumn("guilds", "name", { nullable: true });`, `op.addCheck("ck_guilds_name_length", "guilds", "length(name) > 0");`].join("\n"),
      down: [`op.dropConstraint("ck_guilds_name_length", "guilds");`, `op.alterColumn("guilds", "name", { nullable: false });`].join("\n"),
    });
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-rebuild-")), "app.db")}`;
    const options: CommandOptions = { config: project.config, url };
    await upgrade("head", options);
    expect(await query(url, "SELECT id, guild_id FROM members ORDER BY id")).toEqual([
      { id: 1, guild_id: 1 },
      { id: 2, guild_id: 1 },
      { id: 3, guild_id: 2 },
    ]);
    expect((await query(url, "SELECT sql FROM sqlite_master WHERE name = 'guilds'"))[0]!.sql).toContain("ck_guilds_name_length");
    // The rebuild dropped the old table; its trigger was recreated on the new one.
    await query(url, "UPDATE guilds SET name = 'z' WHERE id = 2");
    expect(await query(url, "SELECT note FROM audit")).toEqual([{ note: "renamed z" }]);
    // Foreign keys are on again and still cascade.
    await query(url, "PRAGMA foreign_keys = ON");
    const db = await connect(url, { schema: {} });
    await db.query("DELETE FROM guilds WHERE id = 1");
    expect((await db.query("SELECT count(*) AS n FROM members")).rows[0]!.n).toBe(1);
    await db.close();
    await downgrade("base00000001", options);
    expect((await current(options)).heads.map((h) => h.revision)).toEqual(["base00000001"]);
  });

  it("a rebuild that would leave a dangling foreign key aborts and changes nothing", async () => {
    const project = createProject();
    project.add({
      id: "base00000001",
      message: "tables",
      up: [
        `op.createTable("guilds", { id: t.integer().primaryKey(), name: t.text() });`,
        `op.createTable("members", { id: t.integer().primaryKey(), guild_id: t.integer().references("guilds.id") });`,
      ].join("\n"),
    });
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-rebuild-")), "app.db")}`;
    const options: CommandOptions = { config: project.config, url };
    await upgrade("head", options);
    // A row whose parent does not exist, written with foreign keys off (as legacy data can be).
    const db = await connect(url, { schema: {} });
    await db.query("PRAGMA foreign_keys = OFF");
    await db.query("INSERT INTO members (id, guild_id) VALUES (1, 99)");
    await db.close();
    project.add({ id: "rebu00000002", parents: ["base00000001"], message: "rebuild members", up: `op.alterColumn("members", "guild_id", { nullable: true });` });
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/dangling foreign key/);
    expect((await current(options)).heads.map((h) => h.revision)).toEqual(["base00000001"]);
    expect((await query(url, "SELECT sql FROM sqlite_master WHERE name = 'members'"))[0]!.sql).toContain('"guild_id" INTEGER NOT NULL');
    expect(await query(url, "SELECT id, guild_id FROM members")).toEqual([{ id: 1, guild_id: 99 }]);
  });
});

describe("data migrations", () => {
  it("op.run gets a Kysely handle on the migration's transaction, in order with the other operations", async () => {
    const project = createProject();
    project.add({
      id: "data00000001",
      message: "seed with code",
      up: [
        `op.createTable("settings", { key: t.text().primaryKey(), value: t.text() });`,
        `op.run("seed defaults", async (db) => { await db.insertInto("settings").values([{ key: "prefix", value: "!" }, { key: "lang", value: "en" }]).execute(); });`,
        `op.addColumn("settings", "note", t.text().nullable());`,
      ].join("\n"),
    });
    const url = `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-data-")), "app.db")}`;
    await upgrade("head", { config: project.config, url });
    expect(await query(url, "SELECT key, value, note FROM settings ORDER BY key")).toEqual([
      { key: "lang", value: "en", note: null },
      { key: "prefix", value: "!", note: null },
    ]);
  });
});

describe.skipIf(!postgresUp)("Postgres specifics", () => {
  it("CREATE INDEX CONCURRENTLY runs outside the transaction, and a failure there is reported and resumed", async () => {
    const temp = await createTempDatabase();
    try {
      const project = createProject();
      project.add({
        id: "tabl00000001",
        message: "table",
        up: `op.createTable("events", { id: t.integer().primaryKey(), name: t.text() });\nop.execute("INSERT INTO events VALUES (1, 'a'), (2, 'a')");`,
      });
      project.add({
        id: "conc00000002",
        parents: ["tabl00000001"],
        message: "concurrent indexes",
        up: [
          `op.createIndex("ix_events_name", "events", ["name"], { concurrently: true });`,
          `op.createIndex("uq_events_name", "events", ["name"], { unique: true, concurrently: true });`,
        ].join("\n"),
      });
      const options: CommandOptions = { config: project.config, url: temp.url };
      const error = await upgrade("head", options).catch((e: unknown) => e);
      expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
      expect((error as Error).message).toContain("uq_events_name");
      expect((error as { hint: string }).hint).toContain("resume");
      // The first index was built outside a transaction and stays; progress is recorded.
      expect(await query(temp.url, "SELECT indexname FROM pg_indexes WHERE tablename = 'events' ORDER BY 1")).toContainEqual({ indexname: "ix_events_name" });
      expect((await query(temp.url, "SELECT steps_done, outcome FROM retort_migrations WHERE revision = 'conc00000002' ORDER BY id DESC LIMIT 1"))[0]).toEqual({
        steps_done: 1,
        outcome: "failed",
      });
      // Fix the data (and the invalid index the failed build left), run again: it resumes after the done step.
      await query(temp.url, "UPDATE events SET name = 'b' WHERE id = 2");
      await query(temp.url, "DROP INDEX IF EXISTS uq_events_name");
      await upgrade("head", options);
      expect((await current(options)).heads.map((h) => h.revision)).toEqual(["conc00000002"]);
      const indexes = await query(temp.url, "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '%events_name' ORDER BY 1");
      expect(indexes).toEqual([
        { name: "ix_events_name", valid: true },
        { name: "uq_events_name", valid: true },
      ]);
    } finally {
      await temp.drop();
    }
  });
});
