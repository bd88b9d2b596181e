/**
 * A migration using every data operation, written with the `op` API as a user would, and a
 * reversible variant (no bulkInsert / addEnumValue; data goes in through execute with reverseSql).
 */
import { enumColumn, type MigrationOps } from "../../src/operations/api.js";
import { index, sql, t, unique } from "../../src/index.js";
import type { Schema, TableSchema } from "../../src/schema/snapshot.js";

function base(op: MigrationOps): void {
  op.createEnum("mood", ["happy", "sad"]);
  op.createTable(
    "guilds",
    {
      id: t.bigint().identity().primaryKey(),
      name: t.varchar(100),
      settings: t.jsonb().default({ theme: "dark" }),
      createdAt: t.timestamptz().defaultNow(),
    },
    (c) => [unique(c.name)],
    { comment: "Discord servers" },
  );
  op.createTable(
    "members",
    {
      id: t.bigint().identity().primaryKey(),
      guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
      nickname: t.text().nullable(),
      mood: enumColumn("mood").default("happy"),
      xp: t.integer().default(0),
    },
    (c) => [index(c.guild_id)],
  );
}

function changes(op: MigrationOps): void {
  op.addColumn("members", "bio", t.text().nullable());
  op.addColumn("members", "level", t.integer().default(1));
  op.addColumn("members", "joined_at", t.timestamptz().defaultNow());
  op.renameColumn("members", "bio", "about");
  op.alterColumn("members", "xp", { type: t.bigint(), using: "xp::bigint" });
  op.alterColumn("members", "about", { default: "hi", comment: "free text" });
  op.alterColumn("members", "level", { nullable: true });
  op.createIndex("ix_members_lower_nickname", "members", [sql`lower(nickname)`], { where: "nickname IS NOT NULL" });
  op.createIndex(null, "members", ["guild_id", { column: "xp", order: "desc" }]);
  op.addUnique(null, "members", ["guild_id", "nickname"]);
  op.addCheck("ck_members_xp_positive", "members", "xp >= 0");
  op.createTable("roles", { id: t.integer().primaryKey(), guild_id: t.bigint().nullable(), label: t.varchar(40) });
  op.addForeignKey(null, "roles", "guild_id", "guilds", "id", { onDelete: "set null", notValid: true });
  op.validateConstraint("fk_roles_guild_id_guilds", "roles");
}

function tail(op: MigrationOps): void {
  op.renameEnumValue("mood", "sad", "blue");
  op.renameTable("roles", "guild_roles");
  op.dropConstraint("ck_members_xp_positive", "members");
  op.dropIndex("ix_members_lower_nickname");
  op.dropColumn("members", "about");
  op.createTable("tags", { label: t.text(), guild_id: t.bigint() });
  op.addPrimaryKey(null, "tags", ["label", "guild_id"]);
  op.execute("INSERT INTO tags (label, guild_id) VALUES ('x', 1)", [], { reverseSql: "DELETE FROM tags WHERE label = 'x'" });
  op.dropTable("tags");
  op.createEnum("unused", ["a"]);
  op.dropEnum("unused");
  // Nothing on SQLite; the runner of backends.test.ts has PGlite load these two bundles.
  op.createExtension("citext");
  op.createExtension("pg_trgm");
  op.dropExtension("citext");
}

/** Every data operation kind, with rows in the tables while they change. */
export function fullScenario(op: MigrationOps): void {
  base(op);
  op.bulkInsert("guilds", [{ name: "alpha" }, { name: "beta", settings: { theme: "light" } }]);
  op.bulkInsert("members", [
    { guild_id: 1n, nickname: "ann", mood: "sad", xp: 10 },
    { guild_id: 1n, nickname: null, xp: 5 },
    { guild_id: 2n, nickname: "bob", mood: "happy", xp: 7 },
  ]);
  changes(op);
  op.addEnumValue("mood", "angry", { after: "happy" });
  tail(op);
}

/** The same without the irreversible operations. */
export function reversibleScenario(op: MigrationOps): void {
  base(op);
  op.execute("INSERT INTO guilds (id, name) VALUES (1, 'alpha'), (2, 'beta')", [], { reverseSql: "DELETE FROM guilds" });
  op.execute("INSERT INTO members (guild_id, nickname, mood, xp) VALUES (1, 'ann', 'sad', 10), (1, NULL, 'happy', 5), (2, 'bob', 'happy', 7)", [], {
    reverseSql: "DELETE FROM members",
  });
  changes(op);
  tail(op);
}

/** A snapshot with its lists in name order, for comparing schemas that differ only in order (re-added columns go last). */
export function canonical(schema: Schema): Schema {
  const byName = <T extends { name: string }>(items: readonly T[]) => [...items].sort((a, b) => a.name.localeCompare(b.name));
  const table = (t: TableSchema): TableSchema => ({
    ...t,
    columns: byName(t.columns),
    uniques: byName(t.uniques),
    indexes: byName(t.indexes),
    foreignKeys: byName(t.foreignKeys),
    checks: byName(t.checks),
  });
  return { tables: byName(schema.tables).map(table), enums: byName(schema.enums) };
}
