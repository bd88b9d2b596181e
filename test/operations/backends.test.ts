/**
 * Every operation compiled and run on each real backend (SQLite in memory, PGlite in memory, the
 * Postgres server): after each operation the database must show what the fold says; the reverse
 * operations must bring it back, step by step, to an empty database; data must survive.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createOpRecorder } from "../../src/operations/api.js";
import { applyOperation, applyOperations } from "../../src/operations/apply.js";
import { compileOperation } from "../../src/operations/compile.js";
import { reverseOperations } from "../../src/operations/reverse.js";
import { Op } from "../../src/operations/types.js";
import { EMPTY_SCHEMA, type Dialect, type Schema } from "../../src/schema/snapshot.js";
import { canonical, fullScenario, reversibleScenario } from "./scenario.js";
import { expected, normalize, observe, openBackend, perform, postgresUp, runSteps, type Backend } from "./support.js";

const DIALECTS: Dialect[] = ["sqlite", "pglite", "postgres"];

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresUp)(`operations on ${dialect}`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await openBackend(dialect);
      // The scenarios create these (the migration runner loads them by itself; these tests run steps directly).
      await backend.driver.loadExtensions?.(["citext", "pg_trgm"]);
    }, 30_000);
    afterAll(async () => {
      await backend?.close();
    });
    beforeEach(async () => {
      await backend.reset();
    });

    const matchesFold = async (schema: Schema, after: string) => {
      expect(normalize(await observe(backend)), `database vs fold after ${after}`).toEqual(normalize(expected(schema, dialect)));
    };

    it("runs every operation, and after each one the database matches the fold", async () => {
      const { op, ops } = createOpRecorder();
      fullScenario(op);
      const kinds = new Set(ops.map((o) => o.kind));
      expect(Op.kinds.filter((kind) => kind !== "run" && !kinds.has(kind))).toEqual([]);

      let schema = EMPTY_SCHEMA;
      for (const operation of ops) {
        schema = await perform(backend, schema, operation);
        await matchesFold(schema, Op.describe(operation));
      }

      const { rows: members } = await backend.driver.query<{ nickname: string | null; mood: string; xp: unknown; level: unknown }>(
        "SELECT nickname, mood, xp, level FROM members ORDER BY id",
      );
      expect(members.map((m) => [m.nickname, m.mood, Number(m.xp), Number(m.level)])).toEqual([
        ["ann", "blue", 10, 1],
        [null, "happy", 5, 1],
        ["bob", "happy", 7, 1],
      ]);
      const { rows: guilds } = await backend.driver.query<{ name: string; settings: unknown }>("SELECT name, settings FROM guilds ORDER BY id");
      expect(guilds.map((g) => [g.name, typeof g.settings === "string" ? JSON.parse(g.settings) : g.settings])).toEqual([
        ["alpha", { theme: "dark" }],
        ["beta", { theme: "light" }],
      ]);

      // The constraints the operations added are enforced.
      await expect(backend.driver.query("INSERT INTO members (guild_id, nickname) VALUES (1, 'ann')")).rejects.toThrow();
      await expect(backend.driver.query("INSERT INTO members (guild_id, nickname) VALUES (99, 'zed')")).rejects.toThrow();
      await expect(backend.driver.query("INSERT INTO members (guild_id, nickname, mood) VALUES (1, 'cat', 'sad')")).rejects.toThrow();
      await backend.driver.query("INSERT INTO members (guild_id, nickname, mood) VALUES (1, 'cat', 'angry')");
      await expect(backend.driver.query("INSERT INTO guild_roles (id, guild_id, label) VALUES (1, 99, 'x')")).rejects.toThrow();
      // ON DELETE CASCADE still works after every rebuild of members.
      await backend.driver.query("DELETE FROM guilds WHERE name = 'alpha'");
      const { rows: left } = await backend.driver.query<{ nickname: string | null }>("SELECT nickname FROM members ORDER BY id");
      expect(left.map((m) => m.nickname)).toEqual(["bob"]);
    });

    it("reverses every operation back to an empty database, matching the fold at each step", async () => {
      const { op, ops } = createOpRecorder();
      reversibleScenario(op);
      const schemas: Schema[] = [EMPTY_SCHEMA];
      for (const operation of ops) schemas.push(await perform(backend, schemas.at(-1)!, operation));

      const downgrade = reverseOperations(ops, EMPTY_SCHEMA);
      let schema = schemas.at(-1)!;
      for (const [i, operation] of downgrade.entries()) {
        schema = await perform(backend, schema, operation);
        await matchesFold(schema, `reverse ${Op.describe(operation)}`);
        expect(canonical(schema), `fold after reversing ${Op.describe(operation)}`).toEqual(canonical(schemas[ops.length - 1 - i]!));
      }
      expect(schema).toEqual(EMPTY_SCHEMA);
      expect(normalize(await observe(backend))).toEqual({ tables: {}, enums: {}, extensions: [] });
    });

    it("round-trips each operation alone: op, then its reverse, then op again", async () => {
      const { op, ops } = createOpRecorder();
      reversibleScenario(op);
      let schema = EMPTY_SCHEMA;
      for (const operation of ops) {
        const [reversed] = reverseOperations([operation], schema);
        const after = await perform(backend, schema, operation);
        const back = await perform(backend, after, reversed!);
        expect(canonical(back), `reverse of ${Op.describe(operation)}`).toEqual(canonical(schema));
        await matchesFold(back, `reverse of ${Op.describe(operation)}`);
        schema = await perform(backend, back, operation);
      }
    });

    it("changes a column's type with rows in the table", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      op.createTable("scores", { id: t.integer().primaryKey(), points: t.integer(), label: t.text().nullable() });
      op.bulkInsert("scores", [
        { id: 1, points: 2147483647, label: "12" },
        { id: 2, points: -5, label: " 40 " },
        { id: 3, points: 0, label: null },
      ]);
      op.alterColumn("scores", "points", { type: t.bigint(), using: "points::bigint" });
      op.alterColumn("scores", "label", { type: t.integer(), using: "trim(label)::integer" });
      const schema = applyOperations(EMPTY_SCHEMA, ops);
      let current = EMPTY_SCHEMA;
      for (const operation of ops) current = await perform(backend, current, operation);
      expect(current).toEqual(schema);
      await backend.driver.query("UPDATE scores SET points = points + 1 WHERE id = 1");
      const { rows } = await backend.driver.query<{ points: unknown; label: unknown }>("SELECT points, label FROM scores ORDER BY id");
      expect(rows.map((row) => [BigInt(row.points as bigint), row.label === null ? null : Number(row.label)])).toEqual([
        [2147483648n, 12],
        [-5n, 40],
        [0n, null],
      ]);
      await matchesFold(schema, "the type changes");
    });

    it("adds and renames enum values with rows using them", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      const { enumColumn } = await import("../../src/operations/api.js");
      op.createEnum("status", ["active", "banned"]);
      op.createTable("accounts", { id: t.integer().primaryKey(), status: enumColumn("status").default("active") });
      op.bulkInsert("accounts", [
        { id: 1, status: "active" },
        { id: 2, status: "banned" },
      ]);
      op.addEnumValue("status", "muted", { before: "banned" });
      op.renameEnumValue("status", "banned", "suspended");
      let schema = EMPTY_SCHEMA;
      for (const operation of ops) schema = await perform(backend, schema, operation);
      expect(schema.enums).toEqual([{ name: "status", values: ["active", "muted", "suspended"] }]);
      await backend.driver.query("INSERT INTO accounts (id, status) VALUES (3, 'muted')");
      await expect(backend.driver.query("INSERT INTO accounts (id, status) VALUES (4, 'banned')")).rejects.toThrow();
      const { rows } = await backend.driver.query<{ status: string }>("SELECT status FROM accounts ORDER BY id");
      expect(rows.map((row) => row.status)).toEqual(["active", "suspended", "muted"]);
      await matchesFold(schema, "the enum changes");
    });

    it("inserts rows of every type with bulkInsert", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      op.createTable("everything", {
        id: t.uuid().primaryKey(),
        big: t.bigint().nullable(),
        price: t.numeric(10, 2).nullable(),
        flag: t.boolean().nullable(),
        at: t.timestamptz().nullable(),
        day: t.date().nullable(),
        doc: t.jsonb().nullable(),
        blob: t.bytea().nullable(),
        tags: t.textArray().nullable(),
      });
      op.bulkInsert("everything", [
        {
          id: "0190c5a8-0000-7000-8000-000000000001",
          big: 9007199254740993n,
          price: "12.50",
          flag: true,
          at: new Date("2024-05-06T07:08:09.123Z"),
          day: "2024-05-06",
          doc: { a: [1, "two", null] },
          blob: new Uint8Array([0, 255, 16]),
          tags: ["x", 'quo"te', "back\\slash"],
        },
        { id: "0190c5a8-0000-7000-8000-000000000002" },
      ]);
      let schema = EMPTY_SCHEMA;
      for (const operation of ops) schema = await perform(backend, schema, operation);
      const { rows } = await backend.driver.query<Record<string, unknown>>("SELECT * FROM everything ORDER BY id");
      const first = rows[0]!;
      const json = (value: unknown) => (typeof value === "string" ? JSON.parse(value) : value);
      expect(BigInt(first.big as bigint)).toBe(9007199254740993n);
      expect(Number(first.price)).toBe(12.5);
      expect(Boolean(Number(first.flag === true ? 1 : first.flag))).toBe(true);
      expect(new Date(first.at as string | Date).toISOString()).toBe("2024-05-06T07:08:09.123Z");
      expect(first.day).toBe("2024-05-06");
      expect(json(first.doc)).toEqual({ a: [1, "two", null] });
      expect([...(first.blob as Uint8Array)]).toEqual([0, 255, 16]);
      expect(json(first.tags)).toEqual(["x", 'quo"te', "back\\slash"]);
      expect(rows[1]!.big).toBeNull();
    });

    it("refuses a bulkInsert value that does not fit its column, before running anything", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      op.createTable("blobs", { id: t.integer().primaryKey(), data: t.bytea() });
      op.bulkInsert("blobs", [{ id: 1, data: "not hex" }]);
      const schema = applyOperation(EMPTY_SCHEMA, ops[0]!);
      expect(() => compileOperation(ops[1]!, dialect, schema)).toThrow(/row 1, column "data".*not a valid bytea/);
    });

    it("runs execute with parameters", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      op.createTable("notes", { id: t.integer().primaryKey(), body: t.text() });
      op.execute(dialect === "sqlite" ? "INSERT INTO notes (id, body) VALUES (?, ?)" : "INSERT INTO notes (id, body) VALUES ($1, $2)", [1, "it's"]);
      let schema = EMPTY_SCHEMA;
      for (const operation of ops) schema = await perform(backend, schema, operation);
      const { rows } = await backend.driver.query<{ body: string }>("SELECT body FROM notes");
      expect(rows).toEqual([{ body: "it's" }]);
    });

    it("leaves the database unchanged when a step fails", async () => {
      const { op, ops } = createOpRecorder();
      const { t } = await import("../../src/index.js");
      op.createTable("people", { id: t.integer().primaryKey(), nickname: t.text().nullable() });
      op.bulkInsert("people", [{ id: 1, nickname: null }]);
      let schema = EMPTY_SCHEMA;
      for (const operation of ops) schema = await perform(backend, schema, operation);
      const { op: op2, ops: more } = createOpRecorder();
      op2.alterColumn("people", "nickname", { nullable: false });
      await expect(runSteps(backend.driver, compileOperation(more[0]!, dialect, schema))).rejects.toThrow();
      await matchesFold(schema, "the failed alterColumn");
      const { rows } = await backend.driver.query("SELECT id FROM people");
      expect(rows).toHaveLength(1);
    });
  });
}
