import { describe, expect } from "vitest";
import { signUp } from "../src/blog.js";
import { test } from "./fixtures.js";

describe("authors", () => {
  test("the seed is there, at the migrations' head", async ({ db }) => {
    expect(await db.models.authors.find()).toEqual([{ id: 1, email: "editor@example.com", name: "The Editor" }]);
    expect((await db.query("SELECT version_num FROM retort_version")).rows).toEqual([{ version_num: "9c4d1e7a0b22" }]);
  });

  test("signUp writes an author and posts (its transaction is a savepoint here)", async ({ db }) => {
    await signUp(db, { id: 2, email: "ada@example.com", name: "Ada" }, ["Notes", "More notes"]);
    expect(await db.models.posts.count({ authorId: 2 })).toBe(2);
  });

  test("the previous test's writes are gone", async ({ db }) => {
    expect(await db.models.authors.count()).toBe(1);
    expect(await db.models.posts.count()).toBe(0);
  });

  test("a failed signUp leaves nothing, and the test goes on", async ({ db }) => {
    await expect(signUp(db, { id: 3, email: "editor@example.com", name: "Same email" }, ["x"])).rejects.toMatchObject({ code: "RETORT_UNIQUE_VIOLATION" });
    expect(await db.models.authors.count()).toBe(1);
  });

  test("the file has a database of its own", async ({ database }) => {
    expect(database.url).toMatch(/_test$|^pglite:|^sqlite:/);
    console.log(`database of authors.test.ts: ${database.url}`);
    if (process.env.FAIL_ON_PURPOSE === "1") expect("this test").toBe("failing on purpose");
  });
});
