/**
 * withRollback on each backend: a test's writes are invisible to the next, transactions the code
 * under test opens become savepoints (commit and roll back as in production, inside the outer
 * one), and createMany's bulk path (COPY on Postgres and PGlite) runs inside it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, prepareTestTemplate, withRollback, type TestDatabase } from "../../src/testing/index.js";
import { t, table } from "../../src/index.js";
import { postgresReachable } from "../support/postgres.js";
import { dropTemplates, notesProject, testServerUrl } from "./support.js";

const notes = table("notes", { id: t.integer().primaryKey(), body: t.text() });
const tags = table("tags", { id: t.integer().primaryKey(), name: t.text().unique() });
const schema = { notes, tags };

const postgresUp = await postgresReachable();
const backends = [
  { name: "sqlite", url: () => "sqlite::memory:", skip: false },
  { name: "pglite", url: () => "pglite:memory", skip: false },
  { name: "postgres", url: () => testServerUrl(), skip: !postgresUp },
];

for (const backend of backends) {
  describe.skipIf(backend.skip)(`withRollback on ${backend.name}`, () => {
    let db: TestDatabase<typeof schema>;
    const options = { config: notesProject().config, url: backend.url(), schema };
    beforeAll(async () => {
      db = await createTestDatabase(options);
    });
    afterAll(async () => {
      await db?.drop();
      if (backend.name === "postgres") await dropTemplates([(await prepareTestTemplate(options)).template]);
    });

    it("a test's writes are gone for the next test; fn's result comes back", async () => {
      const seen = await withRollback(db, async (tx) => {
        await tx.models.notes.create({ id: 1, body: "first test" });
        return tx.models.notes.count();
      });
      expect(seen).toBe(1);
      const next = await withRollback(db, (tx) => tx.models.notes.find());
      expect(next).toEqual([]);
      expect(await db.models.notes.count()).toBe(0);
    });

    it("a failing test's error comes out and its writes are gone", async () => {
      await expect(
        withRollback(db, async (tx) => {
          await tx.models.notes.create({ id: 2, body: "then a failure" });
          throw new Error("assertion failed");
        }),
      ).rejects.toThrow("assertion failed");
      expect(await db.models.notes.count()).toBe(0);
    });

    it("transactions inside become savepoints: a committed one stays for the test, a failed one is undone", async () => {
      await withRollback(db, async (tx) => {
        await tx.transaction(async (inner) => {
          await inner.models.tags.create({ id: 1, name: "kept" });
          // Two levels down, a failure caught by the code under test.
          await expect(
            inner.transaction(async (deeper) => {
              await deeper.models.tags.create({ id: 2, name: "undone" });
              await deeper.models.tags.create({ id: 3, name: "kept" }); // unique violation
            }),
          ).rejects.toMatchObject({ code: "RETORT_UNIQUE_VIOLATION" });
        });
        // The outer transaction is still usable after the inner failure.
        expect((await tx.models.tags.find({ orderBy: { id: "asc" } })).map((row) => row.name)).toEqual(["kept"]);
      });
      expect(await db.models.tags.count()).toBe(0);
    });

    it("createMany (COPY on Postgres and PGlite) inside it: loaded for the test, gone after; an invalid batch loads nothing", async () => {
      const rows = Array.from({ length: 500 }, (_, i) => ({ id: i + 1, body: `row ${i}` }));
      await withRollback(db, async (tx) => {
        expect(await tx.models.notes.createMany(rows)).toBe(500);
        expect(await tx.models.notes.count()).toBe(500);
        await expect(tx.models.notes.createMany([{ id: 1000, body: "x" }, { id: 1, body: "duplicate" }])).rejects.toMatchObject({ code: "RETORT_UNIQUE_VIOLATION" });
        expect(await tx.models.notes.count()).toBe(500);
      });
      expect(await db.models.notes.count()).toBe(0);
    });
  });
}
