/** The code under test: it opens its own transactions, as production code does. */
import type { Database } from "../../../src/index.js"; // a real project: "retort-db"
import type * as schema from "./schema.js";

type Db = Database<typeof schema>;

/** Create an author with their first posts, all or nothing. */
export async function signUp(db: Db, author: { id: number; email: string; name: string }, titles: string[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.models.authors.create(author);
    await tx.models.posts.createMany(titles.map((title, i) => ({ id: author.id * 1000 + i, authorId: author.id, title })));
  });
}

/** Publish every draft of an author; returns how many. */
export async function publishAll(db: Db, authorId: number): Promise<number> {
  return db.transaction((tx) => tx.models.posts.updateMany({ authorId, published: false }, { published: true }));
}
