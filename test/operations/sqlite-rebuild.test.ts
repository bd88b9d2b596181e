/**
 * SQLite table rebuilds keep data: the parent of an ON DELETE CASCADE foreign key is rebuilt
 * without deleting a child row; a rebuild that would leave a dangling reference is aborted by
 * PRAGMA foreign_key_check and leaves the database as it was; triggers and views survive; types
 * convert with the rows, and values that cannot convert stop the migration.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createSqliteDriver } from "../../src/dialects/sqlite/driver.js";
import type { Driver } from "../../src/dialects/driver.js";
import { t } from "../../src/index.js";
import { createOpRecorder, enumColumn, type MigrationOps } from "../../src/operations/api.js";
import { applyOperations } from "../../src/operations/apply.js";
import { compileOperation } from "../../src/operations/compile.js";
import type { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";
import { expected, normalize, observe, runSteps, type Backend } from "./support.js";

let driver: Driver;
let schema: Schema;
const backend = (): Backend => ({ dialect: "sqlite", driver, reset: async () => {}, close: () => driver.close() });

function record(build: (op: MigrationOps) => void): Op[] {
  const { op, ops } = createOpRecorder();
  build(op);
  return ops;
}

/** Compile and run each operation in its own transaction, as the runtime does per migration. */
async function migrate(build: (op: MigrationOps) => void): Promise<void> {
  for (const operation of record(build)) {
    await runSteps(driver, compileOperation(operation, "sqlite", schema));
    schema = applyOperations(schema, [operation]);
  }
}

/** All the operations in ONE transaction (one migration). */
async function migrateTogether(build: (op: MigrationOps) => void): Promise<void> {
  const ops = record(build);
  const steps = [];
  let current = schema;
  for (const operation of ops) {
    steps.push(...compileOperation(operation, "sqlite", current));
    current = applyOperations(current, [operation]);
  }
  await runSteps(driver, steps);
  schema = current;
}

async function rows(sql: string): Promise<unknown[][]> {
  const result = await driver.query<Record<string, unknown>>(sql);
  return result.rows.map((row) => Object.values(row).map((value) => (typeof value === "bigint" ? Number(value) : value)));
}

async function dump(): Promise<string> {
  const { rows: master } = await driver.query<{ sql: string | null }>("SELECT sql FROM sqlite_master ORDER BY name");
  return JSON.stringify([master, await rows("SELECT * FROM guilds ORDER BY id"), await rows("SELECT * FROM members ORDER BY id")]);
}

beforeEach(async () => {
  driver = createSqliteDriver(":memory:", { schema: EMPTY_SCHEMA });
  schema = EMPTY_SCHEMA;
  await migrate((op) => {
    op.createTable("guilds", { id: t.integer().primaryKey(), name: t.text().nullable(), code: t.varchar(10).nullable() });
    op.createTable("members", {
      id: t.integer().primaryKey(),
      guild_id: t.integer().references("guilds.id", { onDelete: "cascade" }),
      nickname: t.text(),
    });
    op.bulkInsert("guilds", [
      { id: 1, name: "alpha", code: "a" },
      { id: 2, name: "beta", code: "b" },
    ]);
    op.bulkInsert("members", [
      { id: 1, guild_id: 1, nickname: "ann" },
      { id: 2, guild_id: 1, nickname: "bob" },
      { id: 3, guild_id: 2, nickname: "cat" },
    ]);
  });
});

afterEach(async () => {
  await driver.close();
});

describe("rebuilding the parent of an ON DELETE CASCADE foreign key", () => {
  it("keeps every child row (alterColumn nullability, addCheck, addUnique, dropColumn with an index)", async () => {
    await migrate((op) => {
      op.alterColumn("guilds", "name", { nullable: false });
      op.addCheck("ck_guilds_name_length", "guilds", "length(name) > 0");
      op.addUnique(null, "guilds", "code");
      op.createIndex(null, "guilds", ["code"]);
      op.dropColumn("guilds", "code");
    });
    expect(await rows("SELECT id, guild_id, nickname FROM members ORDER BY id")).toEqual([
      [1, 1, "ann"],
      [2, 1, "bob"],
      [3, 2, "cat"],
    ]);
    expect(await rows("SELECT id, name FROM guilds ORDER BY id")).toEqual([
      [1, "alpha"],
      [2, "beta"],
    ]);
    expect(normalize(await observe(backend()))).toEqual(normalize(expected(schema, "sqlite")));
    // The foreign key still points at the rebuilt table and still cascades.
    expect((await driver.query("PRAGMA foreign_keys")).rows).toEqual([{ foreign_keys: 1 }]);
    await driver.query("DELETE FROM guilds WHERE id = 1");
    expect(await rows("SELECT id FROM members ORDER BY id")).toEqual([[3]]);
    await expect(driver.query("INSERT INTO members (id, guild_id, nickname) VALUES (9, 42, 'x')")).rejects.toThrow(/FOREIGN KEY/);
  });

  it("refuses to rebuild when foreign keys are still on (an executor that ignores the flag), deleting nothing", async () => {
    const before = await dump();
    const steps = compileOperation(record((op) => op.alterColumn("guilds", "name", { nullable: false }))[0]!, "sqlite", schema);
    expect(steps.every((step) => step.foreignKeysOff)).toBe(true);
    // Run the steps with foreign keys ON, inside a transaction, ignoring the flags.
    const conn = await driver.acquire();
    try {
      await conn.query("BEGIN");
      await expect(
        (async () => {
          for (const step of steps) await conn.query(step.sql, step.params);
        })(),
      ).rejects.toThrow(/foreign_keys must be OFF/);
      await conn.query("ROLLBACK");
    } finally {
      conn.release();
    }
    expect(await dump()).toBe(before);
  });

  it("aborts a rebuild that would leave a dangling reference and leaves the database unchanged", async () => {
    const before = await dump();
    // In one migration, foreign keys are off for the whole transaction: this DELETE does not cascade,
    // so members 1 and 2 would point at nothing once guilds is rebuilt.
    await expect(
      migrateTogether((op) => {
        op.execute("DELETE FROM guilds WHERE id = 1");
        op.alterColumn("guilds", "name", { nullable: false });
      }),
    ).rejects.toThrow(/foreign_key_check\("members"\) found 2 violation/);
    expect(await dump()).toBe(before);
  });

  it("aborts adding a foreign key that existing rows violate, leaving the table as it was", async () => {
    await migrate((op) => {
      op.createTable("bans", { id: t.integer().primaryKey(), guild_id: t.integer() });
      op.bulkInsert("bans", [{ id: 1, guild_id: 1 }, { id: 2, guild_id: 77 }]);
    });
    const master = await rows("SELECT sql FROM sqlite_master WHERE name = 'bans'");
    await expect(migrate((op) => op.addForeignKey(null, "bans", "guild_id", "guilds", "id"))).rejects.toThrow(/foreign_key_check\("bans"\) found 1 violation/);
    expect(await rows("SELECT sql FROM sqlite_master WHERE name = 'bans'")).toEqual(master);
    expect(await rows("SELECT id, guild_id FROM bans ORDER BY id")).toEqual([
      [1, 1],
      [2, 77],
    ]);
  });
});

describe("what a rebuild keeps and converts", () => {
  it("keeps the table's triggers and the views that read it", async () => {
    await driver.query("CREATE TABLE audit (note TEXT)");
    await driver.query("CREATE TRIGGER guilds_audit AFTER INSERT ON guilds BEGIN INSERT INTO audit VALUES ('new ' || NEW.name); END");
    await driver.query("CREATE VIEW guild_names AS SELECT name FROM guilds");
    await migrate((op) => op.alterColumn("guilds", "name", { nullable: false, default: "unnamed" }));
    await driver.query("INSERT INTO guilds (id) VALUES (3)");
    expect(await rows("SELECT note FROM audit")).toEqual([["new unnamed"]]);
    expect(await rows("SELECT name FROM guild_names ORDER BY name")).toEqual([["alpha"], ["beta"], ["unnamed"]]);
  });

  it("converts text to integer with the rows, and stops on a value that is not a number", async () => {
    await migrate((op) => {
      op.createTable("scores", { id: t.integer().primaryKey(), points: t.text().nullable() });
      op.bulkInsert("scores", [
        { id: 1, points: "10" },
        { id: 2, points: " -3 " },
        { id: 3, points: null },
      ]);
      op.alterColumn("scores", "points", { type: t.integer() });
    });
    expect(await rows("SELECT points, typeof(points) FROM scores ORDER BY id")).toEqual([
      [10, "integer"],
      [-3, "integer"],
      [null, "null"],
    ]);

    await migrate((op) => {
      op.createTable("labels", { id: t.integer().primaryKey(), value: t.text() });
      op.bulkInsert("labels", [{ id: 1, value: "12" }, { id: 2, value: "twelve" }]);
    });
    await expect(migrate((op) => op.alterColumn("labels", "value", { type: t.integer() }))).rejects.toThrow(/cannot convert "labels"."value" value "twelve" to integer/);
    expect(await rows("SELECT value, typeof(value) FROM labels ORDER BY id")).toEqual([
      ["12", "text"],
      ["twelve", "text"],
    ]);
  });

  it("converts booleans, timestamps and numbers both ways", async () => {
    await migrate((op) => {
      op.createTable("mixed", { id: t.integer().primaryKey(), flag: t.text(), at: t.text(), n: t.integer(), d: t.timestamptz() });
      op.bulkInsert("mixed", [{ id: 1, flag: "yes", at: "2024-01-02 03:04:05", n: 1, d: "2024-05-06T00:00:00.000Z" }]);
      op.alterColumn("mixed", "flag", { type: t.boolean() });
      op.alterColumn("mixed", "at", { type: t.timestamptz() });
      op.alterColumn("mixed", "n", { type: t.boolean() });
      op.alterColumn("mixed", "d", { type: t.date() });
    });
    expect(await rows("SELECT flag, at, n, d FROM mixed")).toEqual([[true, new Date("2024-01-02T03:04:05.000Z"), true, "2024-05-06"]]);
    await migrate((op) => op.alterColumn("mixed", "flag", { type: t.text() }));
    expect(await rows("SELECT flag FROM mixed")).toEqual([["true"]]);
  });

  it("refuses a type change SQLite cannot convert, at compile time", async () => {
    await migrate((op) => op.createTable("docs", { id: t.integer().primaryKey(), body: t.jsonb() }));
    const [operation] = record((op) => op.alterColumn("docs", "body", { type: t.bytea() }));
    expect(() => compileOperation(operation!, "sqlite", schema)).toThrow(/no automatic conversion of "docs"."body" from jsonb to bytea/);
  });

  it("adds a column with a non-constant default by rebuilding, filling existing rows", async () => {
    await migrate((op) => op.addColumn("members", "joined_at", t.timestamptz().defaultNow()));
    const { rows: joined } = await driver.query<{ joined_at: Date }>("SELECT joined_at FROM members");
    expect(joined).toHaveLength(3);
    for (const row of joined) expect(Date.now() - new Date(row.joined_at).getTime()).toBeLessThan(60_000);
  });

  it("compiles what SQLite can do directly without a rebuild", async () => {
    const direct = record((op) => {
      op.addColumn("members", "bio", t.text().nullable());
      op.addColumn("members", "level", t.integer().default(1));
      op.createIndex(null, "members", ["nickname"]);
      op.renameColumn("members", "nickname", "nick");
      op.dropIndex("ix_members_nickname");
      op.dropColumn("members", "bio");
      op.renameTable("members", "people");
    });
    let current = schema;
    for (const operation of direct) {
      const steps = compileOperation(operation, "sqlite", current);
      expect(steps.map((step) => step.sql)).toHaveLength(1);
      expect(steps[0]!.foreignKeysOff).toBeUndefined();
      await runSteps(driver, steps);
      current = applyOperations(current, [operation]);
    }
    expect(normalize(await observe(backend()))).toEqual(normalize(expected(current, "sqlite")));
  });

  it("renames a varchar column and its table, rebuilding so the synthetic CHECKs carry the new names", async () => {
    await migrate((op) => {
      op.renameColumn("guilds", "code", "short_code");
      op.renameTable("guilds", "servers");
    });
    expect(normalize(await observe(backend()))).toEqual(normalize(expected(schema, "sqlite")));
    expect(await rows("SELECT sql FROM sqlite_master WHERE name = 'servers'")).toEqual([[expect.stringContaining('"ck_servers_short_code_varchar"')]]);
    expect(await rows("SELECT sql FROM sqlite_master WHERE name = 'members'")).toEqual([[expect.stringContaining('REFERENCES "servers"')]]);
    expect(await rows("SELECT count(*) FROM members")).toEqual([[3]]);
  });

  it("enum changes rebuild every table using the enum and rewrite renamed labels", async () => {
    await migrate((op) => {
      op.createEnum("role", ["owner", "member"]);
      op.addColumn("members", "role", enumColumn("role").default("member"));
      op.createTable("invites", { id: t.integer().primaryKey(), role: enumColumn("role") });
      op.bulkInsert("invites", [{ id: 1, role: "owner" }]);
      op.execute("UPDATE members SET role = 'owner' WHERE id = 1");
      op.addEnumValue("role", "guest");
      op.renameEnumValue("role", "owner", "admin");
    });
    expect(await rows("SELECT role FROM members ORDER BY id")).toEqual([["admin"], ["member"], ["member"]]);
    expect(await rows("SELECT role FROM invites")).toEqual([["admin"]]);
    await driver.query("INSERT INTO invites (id, role) VALUES (2, 'guest')");
    await expect(driver.query("INSERT INTO invites (id, role) VALUES (3, 'owner')")).rejects.toThrow(/CHECK/);
    expect(schema.tables.find((table) => table.name === "members")!.columns.find((c) => c.name === "role")!.default).toEqual({ kind: "literal", value: "member" });
    expect(normalize(await observe(backend()))).toEqual(normalize(expected(schema, "sqlite")));
  });
});
