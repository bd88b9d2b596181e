/**
 * What only the Postgres family does: statements outside the transaction (CONCURRENTLY indexes,
 * ALTER TYPE … ADD VALUE), NOT VALID constraints validated later, USING on type changes. Run on
 * PGlite and on the Postgres server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { t } from "../../src/index.js";
import { createOpRecorder, enumColumn, serverDefault, type MigrationOps } from "../../src/operations/api.js";
import { applyOperation } from "../../src/operations/apply.js";
import { compileOperation } from "../../src/operations/compile.js";
import type { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";
import { expected, normalize, observe, openBackend, postgresUp, runSteps, type Backend } from "./support.js";

for (const dialect of ["pglite", "postgres"] as const) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`postgres-family operations on ${dialect}`, () => {
    let backend: Backend;
    let schema: Schema;
    beforeAll(async () => {
      backend = await openBackend(dialect);
    }, 30_000);
    afterAll(async () => {
      await backend?.close();
    });
    beforeEach(async () => {
      await backend.reset();
      schema = EMPTY_SCHEMA;
      await migrate((op) => {
        op.createTable("guilds", { id: t.integer().primaryKey(), name: t.text() });
        op.createTable("members", { id: t.integer().primaryKey(), guild_id: t.integer(), xp: t.text() });
        op.bulkInsert("guilds", [{ id: 1, name: "alpha" }]);
        op.bulkInsert("members", [
          { id: 1, guild_id: 1, xp: "10" },
          { id: 2, guild_id: 5, xp: "20" },
        ]);
      });
    });

    function record(build: (op: MigrationOps) => void): Op[] {
      const { op, ops } = createOpRecorder();
      build(op);
      return ops;
    }

    async function migrate(build: (op: MigrationOps) => void): Promise<void> {
      for (const operation of record(build)) {
        await runSteps(backend.driver, compileOperation(operation, dialect, schema));
        schema = applyOperation(schema, operation);
      }
    }

    it("creates and drops an index CONCURRENTLY outside the transaction", async () => {
      const [create] = record((op) => op.createIndex(null, "members", ["guild_id"], { concurrently: true }));
      const steps = compileOperation(create!, dialect, schema);
      expect(steps).toEqual([
        { sql: 'CREATE INDEX CONCURRENTLY "ix_members_guild_id" ON "members" ("guild_id")', description: "createIndex ix_members_guild_id on members", outsideTransaction: true },
      ]);
      await migrate((op) => op.createIndex(null, "members", ["guild_id"], { concurrently: true, unique: false }));
      const { rows } = await backend.driver.query("SELECT indexname FROM pg_indexes WHERE indexname = 'ix_members_guild_id'");
      expect(rows).toHaveLength(1);
      const [drop] = record((op) => op.dropIndex("ix_members_guild_id", { concurrently: true }));
      expect(compileOperation(drop!, dialect, schema)).toEqual([
        { sql: 'DROP INDEX CONCURRENTLY "ix_members_guild_id"', description: "dropIndex ix_members_guild_id", outsideTransaction: true },
      ]);
      await migrate((op) => op.dropIndex("ix_members_guild_id", { concurrently: true }));
      expect(normalize(await observe(backend))).toEqual(normalize(expected(schema, dialect)));
    });

    it("adds a NOT VALID foreign key over orphan rows, and validating it then fails", async () => {
      await migrate((op) => op.addForeignKey(null, "members", "guild_id", "guilds", "id", { notValid: true }));
      await expect(backend.driver.query("INSERT INTO members (id, guild_id, xp) VALUES (3, 9, '1')")).rejects.toThrow();
      await expect(migrate((op) => op.validateConstraint("fk_members_guild_id_guilds", "members"))).rejects.toThrow(/fk_members_guild_id_guilds/);
      await backend.driver.query("DELETE FROM members WHERE guild_id = 5");
      await migrate((op) => op.validateConstraint("fk_members_guild_id_guilds", "members"));
      const { rows } = await backend.driver.query<{ convalidated: boolean }>("SELECT convalidated FROM pg_constraint WHERE conname = 'fk_members_guild_id_guilds'");
      expect(rows).toEqual([{ convalidated: true }]);
    });

    it("adds a NOT VALID check and validates it", async () => {
      await migrate((op) => op.addCheck("ck_members_xp_small", "members", "length(xp) < 2", { notValid: true }));
      await expect(migrate((op) => op.validateConstraint("ck_members_xp_small", "members"))).rejects.toThrow();
      await backend.driver.query("UPDATE members SET xp = '1'");
      await migrate((op) => op.validateConstraint("ck_members_xp_small", "members"));
    });

    it("changes a type with USING, keeping the default", async () => {
      await migrate((op) => op.alterColumn("members", "xp", { default: "0" }));
      await migrate((op) => op.alterColumn("members", "xp", { type: t.integer(), using: "xp::integer", default: 0 }));
      await backend.driver.query("INSERT INTO members (id, guild_id) VALUES (3, 1)");
      const { rows } = await backend.driver.query<{ xp: number }>("SELECT xp FROM members ORDER BY id");
      expect(rows.map((row) => row.xp)).toEqual([10, 20, 0]);
      expect(normalize(await observe(backend))).toEqual(normalize(expected(schema, dialect)));
    });

    it("sets a server default of now() and a comment", async () => {
      await migrate((op) => {
        op.addColumn("members", "seen_at", t.timestamptz().nullable());
        op.alterColumn("members", "seen_at", { default: serverDefault.now, comment: "last seen" });
      });
      await backend.driver.query("INSERT INTO members (id, guild_id, xp) VALUES (3, 1, '0')");
      const { rows } = await backend.driver.query<{ seen_at: Date | null; comment: string }>(
        "SELECT seen_at, col_description('members'::regclass, 3 + 1) AS comment FROM members WHERE id = 3",
      );
      expect(rows[0]!.seen_at).toBeInstanceOf(Date);
      expect(rows[0]!.comment).toBe("last seen");
    });

    it("adds an enum value outside the transaction (IF NOT EXISTS: a rerun is harmless), then uses it", async () => {
      await migrate((op) => {
        op.createEnum("mood", ["happy"]);
        op.addColumn("members", "mood", enumColumn("mood").default("happy"));
      });
      const [add] = record((op) => op.addEnumValue("mood", "sad", { before: "happy" }));
      const steps = compileOperation(add!, dialect, schema);
      expect(steps).toEqual([{ sql: `ALTER TYPE "mood" ADD VALUE IF NOT EXISTS 'sad' BEFORE 'happy'`, description: "addEnumValue mood 'sad'", outsideTransaction: true }]);
      await runSteps(backend.driver, steps);
      await runSteps(backend.driver, steps);
      schema = applyOperation(schema, add!);
      await backend.driver.query("UPDATE members SET mood = 'sad' WHERE id = 1");
      await migrate((op) => op.renameEnumValue("mood", "sad", "blue"));
      const { rows } = await backend.driver.query<{ mood: string }>("SELECT mood FROM members ORDER BY id");
      expect(rows.map((row) => row.mood)).toEqual(["blue", "happy"]);
      expect(normalize(await observe(backend))).toEqual(normalize(expected(schema, dialect)));
    });
  });
}
