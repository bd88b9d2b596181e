/** The example's models: authors and their posts. */
import { t, table } from "../../../src/index.js"; // a real project: "retort-db"

export const authors = table("authors", {
  id: t.integer().primaryKey(),
  email: t.text().unique(),
  name: t.text(),
});

export const posts = table("posts", {
  id: t.integer().primaryKey(),
  authorId: t.integer().references(() => authors.id, { onDelete: "cascade" }),
  title: t.text(),
  published: t.boolean().default(false),
});
