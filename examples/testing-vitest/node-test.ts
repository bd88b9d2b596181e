/**
 * The same helpers under `node:test`, without vitest:
 *   node --import tsx --test examples/testing-vitest/node-test.ts
 * One database for the file (a clone at the migrations' head with the test seed), a transaction
 * rolled back around each test. Without TEST_DATABASE_URL, the test environment's default: embedded
 * PGlite, started from a snapshot cached under .retort/cache/testing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createTestDatabase, withRollback, type TestDatabase } from "../../src/testing/index.js"; // a real project: "retort-db/testing"
import { publishAll, signUp } from "./src/blog.js";
import type * as schema from "./src/schema.js";
import { options } from "./tests/options.js";

let database: TestDatabase<typeof schema>;
before(async () => {
  database = await createTestDatabase(options);
});
after(async () => {
  await database.drop();
});

test("signUp and publishAll, inside a transaction rolled back afterwards", () =>
  withRollback(database, async (db) => {
    await signUp(db, { id: 5, email: "lin@example.com", name: "Lin" }, ["A", "B"]);
    assert.equal(await publishAll(db, 5), 2);
  }));

test("the previous test left nothing but the seed", () =>
  withRollback(database, async (db) => {
    assert.equal(await db.models.posts.count(), 0);
    assert.deepEqual(
      (await db.models.authors.find()).map((author) => author.email),
      ["editor@example.com"],
    );
  }));
