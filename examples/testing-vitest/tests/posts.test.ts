import { expect } from "vitest";
import { publishAll, signUp } from "../src/blog.js";
import { test } from "./fixtures.js";

test("publishAll publishes an author's drafts", async ({ db }) => {
  await signUp(db, { id: 7, email: "grace@example.com", name: "Grace" }, ["One", "Two", "Three"]);
  expect(await publishAll(db, 7)).toBe(3);
  expect(await db.models.posts.count({ published: true })).toBe(3);
});

test("createMany in bulk inside the test's transaction", async ({ db }) => {
  const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, authorId: 1, title: `post ${i}` }));
  expect(await db.models.posts.createMany(rows)).toBe(1000);
  expect(await db.models.posts.count()).toBe(1000);
});

test("and nothing of it is left", async ({ db }) => {
  expect(await db.models.posts.count()).toBe(0);
});

test("the file has a database of its own", async ({ database }) => {
  console.log(`database of posts.test.ts: ${database.url}`);
  expect(await database.models.authors.count()).toBe(1);
});
