import { defineMigration } from "../../../../src/index.js";
import { t } from "../../../../src/index.js";

export default defineMigration({
  revision: "6a0e3c2b9f01",
  parents: [],
  message: "authors",
  createdAt: "2026-12-01T09:00:00.000Z",

  async upgrade(op) {
    op.createTable("authors", {
      id: t.integer().primaryKey(),
      email: t.text().unique(),
      name: t.text(),
    });
  },

  async downgrade(op) {
    op.dropTable("authors");
  },
});
