import { defineMigration } from "../../../../src/index.js";
import { t } from "../../../../src/index.js";

export default defineMigration({
  revision: "9c4d1e7a0b22",
  parents: ["6a0e3c2b9f01"],
  message: "posts",
  createdAt: "2026-12-01T09:30:00.000Z",

  async upgrade(op) {
    op.createTable("posts", {
      id: t.integer().primaryKey(),
      author_id: t.integer().references("authors.id", { onDelete: "cascade" }),
      title: t.text(),
      published: t.boolean().default(false),
    });
  },

  async downgrade(op) {
    op.dropTable("posts");
  },
});
