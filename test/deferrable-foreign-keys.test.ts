/**
 * Deferrable foreign keys (`deferrable: "deferred" | "immediate"`), what Django creates for every
 * key: the database really checks an initially-deferred key at COMMIT, on every backend; the
 * snapshot, the DDL, introspection, autogenerate and the renderers carry the setting.
 */
import { expect, it, describe } from "vitest";
import { compareSchemas } from "../src/autogenerate/compare.js";
import { renderMigrationBodies } from "../src/autogenerate/render.js";
import { renderModels } from "../src/autogenerate/render-models.js";
import { foreignKey, isRetortError, t, table, type RetortError } from "../src/index.js";
import { postgresDdl } from "../src/dialects/postgres/ddl.js";
import { sqliteDdl } from "../src/dialects/sqlite/ddl.js";
import { Op } from "../src/operations/types.js";
import { schemaFromModels } from "../src/schema/from-models.js";
import { describeBackends } from "./support/backends.js";
import { createOnBackend, introspectBackend, openBackend, postgresUp } from "./operations/support.js";

const authors = table("authors", { id: t.bigint().primaryKey(), name: t.text() });
const books = table("books", {
  id: t.bigint().primaryKey(),
  authorId: t.bigint().references(() => authors.id, { deferrable: "deferred" }),
  editorId: t.bigint().nullable().references(() => authors.id, { onDelete: "set null", deferrable: "immediate", name: "fk_books_editor" }),
  reviewerId: t.bigint().nullable().references(() => authors.id, { name: "fk_books_reviewer" }),
});
const schema = { authors, books };

async function failure(promise: Promise<unknown>): Promise<RetortError | Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the transaction to fail");
}

describeBackends("deferrable foreign keys are checked when the database says", { schema }, (ctx) => {
  it("an initially deferred key: a child inserted before its parent commits", async () => {
    await ctx.db.transaction(async (tx) => {
      await tx.query(`INSERT INTO books (id, author_id) VALUES (1, 10)`);
      await tx.query(`INSERT INTO authors (id, name) VALUES (10, 'Ada')`);
    });
    expect((await ctx.db.query(`SELECT author_id FROM books`)).rows.map((row) => Number(row.author_id))).toEqual([10]);
  });

  it("an initially deferred key with no parent by commit: the commit fails and nothing is kept", async () => {
    const error = await failure(
      ctx.db.transaction(async (tx) => {
        await tx.query(`INSERT INTO books (id, author_id) VALUES (2, 20)`);
      }),
    );
    expect(isRetortError(error, "RETORT_FOREIGN_KEY_VIOLATION")).toBe(true);
    expect(Number((await ctx.db.query(`SELECT count(*) AS n FROM books`)).rows[0]!.n)).toBe(0);
    // The connection is usable again (SQLite keeps a transaction open after a failed COMMIT).
    await ctx.db.transaction(async (tx) => tx.query(`INSERT INTO authors (id, name) VALUES (20, 'x')`));
  });

  it("a key that is not deferrable (and one initially immediate) fails at the statement", async () => {
    await ctx.db.query(`INSERT INTO authors (id, name) VALUES (1, 'Ada')`);
    for (const column of ["reviewer_id", "editor_id"]) {
      const error = await failure(
        ctx.db.transaction(async (tx) => {
          await tx.query(`INSERT INTO books (id, author_id, ${column}) VALUES (3, 1, 30)`);
          await tx.query(`INSERT INTO authors (id, name) VALUES (30, 'late')`);
        }),
      );
      expect(isRetortError(error, "RETORT_FOREIGN_KEY_VIOLATION")).toBe(true);
    }
  });
});

describe("deferrable foreign keys in the snapshot, DDL, diffs and renderers", () => {
  const snapshot = schemaFromModels(schema);
  const fks = snapshot.tables.find((table) => table.name === "books")!.foreignKeys;

  it("the models give the snapshot's deferrable, absent when not deferrable", () => {
    expect(fks.map((fk) => [fk.name, fk.deferrable])).toEqual([
      ["fk_books_author_id_authors", "deferred"],
      ["fk_books_editor", "immediate"],
      ["fk_books_reviewer", undefined],
    ]);
    expect(() => schemaFromModels({ authors, bad: table("bad", { id: t.bigint().primaryKey(), a: t.bigint().references(() => authors.id, { deferrable: true as never }) }) })).toThrow(
      /bad\.a: deferrable must be "immediate" or "deferred" \(got true\)/,
    );
    const composite = table("pairs", { a: t.bigint(), b: t.bigint() }, (c) => [foreignKey([c.a], () => [authors.id], { deferrable: "deferred" })]);
    expect(schemaFromModels({ authors, composite }).tables.find((table) => table.name === "pairs")!.foreignKeys[0]!.deferrable).toBe("deferred");
  });

  it("DDL on both families says DEFERRABLE INITIALLY …", () => {
    for (const ddl of [postgresDdl, sqliteDdl]) {
      const sql = ddl.createSchema(snapshot).join("\n");
      expect(sql).toContain(`REFERENCES "authors" ("id") DEFERRABLE INITIALLY DEFERRED`);
      expect(sql).toContain(`REFERENCES "authors" ("id") ON DELETE SET NULL DEFERRABLE INITIALLY IMMEDIATE`);
      expect(sql).not.toMatch(/"fk_books_reviewer"[^\n]*DEFERRABLE/);
    }
  });

  it("a changed deferrability is a diff (drop and add the key), rendered and reversed", () => {
    const before = schemaFromModels({ authors, books: table("books", { id: t.bigint().primaryKey(), authorId: t.bigint().references(() => authors.id) }) });
    const after = schemaFromModels({ authors, books: table("books", { id: t.bigint().primaryKey(), authorId: t.bigint().references(() => authors.id, { deferrable: "deferred" }) }) });
    const result = compareSchemas(before, after, { dialect: "postgres" });
    expect(result.ops.map((op) => Op.describe(op))).toEqual([
      expect.stringContaining("fk_books_author_id_authors"),
      expect.stringContaining("fk_books_author_id_authors"),
    ]);
    const bodies = renderMigrationBodies(before, after, { dialect: "postgres" });
    expect(bodies.upgrade).toContain(`op.dropConstraint("fk_books_author_id_authors", "books");\nop.addForeignKey(null, "books", "author_id", "authors", "id", { deferrable: "deferred" });`);
    expect(bodies.downgrade).toContain(`op.addForeignKey(null, "books", "author_id", "authors", "id");`);
    expect(compareSchemas(after, after, { dialect: "postgres" }).ops).toEqual([]);
  });

  it("pull's models say deferrable, and load back to the same snapshot", () => {
    const text = renderModels(snapshot);
    expect(text).toContain(`.references(() => authors.id, { deferrable: "deferred" })`);
    expect(text).toContain(`{ onDelete: "set null", deferrable: "immediate", name: "fk_books_editor" }`);
  });

  for (const dialect of ["sqlite", "pglite", ...(postgresUp ? ["postgres" as const] : [])] as const) {
    it(`introspection reads it back exactly [${dialect}]`, async () => {
      const backend = await openBackend(dialect);
      try {
        await createOnBackend(backend, snapshot);
        const live = await introspectBackend(backend);
        expect(live.tables.find((table) => table.name === "books")!.foreignKeys.map((fk) => [fk.name, fk.deferrable])).toEqual(fks.map((fk) => [fk.name, fk.deferrable]));
        expect(compareSchemas(live, snapshot, { dialect }).ops.filter((op) => op.kind === "addForeignKey" || op.kind === "dropConstraint")).toEqual([]);
      } finally {
        await backend.close();
      }
    });
  }
});
