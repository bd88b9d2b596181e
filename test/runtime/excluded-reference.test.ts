/**
 * A model whose foreign key references a table the config's `tables` selection leaves out:
 * autogenerate and check cannot write or compare a key to a table they do not see. They said
 * "a bug in the differ"; now RETORT_EXCLUDED_REFERENCE names the model, column and table. A key
 * the migrations head already has (the table was excluded later) still compares equal.
 */
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/index.js";
import { autogenerate, check } from "../../src/runtime/schema-commands.js";
import { SOURCE_INDEX, createProject, failure } from "./project.js";

const MODELS = `import { table, t } from ${JSON.stringify(SOURCE_INDEX)};
export const users = table("users", { id: t.integer().primaryKey() });
export const posts = table("posts", { id: t.integer().primaryKey(), authorId: t.integer().references(() => users.id) });
`;

function excluding(): { config: LoadedConfig; dir: string; add: ReturnType<typeof createProject>["add"] } {
  const project = createProject();
  writeFileSync(join(project.root, "models.ts"), MODELS);
  const config: LoadedConfig = { ...project.config, file: join(project.root, "retort.config.ts"), config: { ...project.config.config, models: "./models.ts", tables: { exclude: ["users"] } } };
  return { config, dir: project.dir, add: project.add };
}

describe("a model referencing an excluded table", () => {
  it("autogenerate and check refuse with RETORT_EXCLUDED_REFERENCE naming the model, column and table; nothing is written", async () => {
    const { config, dir } = excluding();
    for (const run of [() => autogenerate({ message: "init" }, { config, dialect: "sqlite" }), () => check({ config, dialect: "sqlite" })]) {
      const refused = await failure(run());
      expect(refused.code).toBe("RETORT_EXCLUDED_REFERENCE");
      expect(refused.message).toBe(
        'model posts (table "posts", ./models.ts): column "author_id" references table "users" (foreign key "fk_posts_author_id_users"), which the config\'s `tables` selection leaves out. Retort cannot write or check a foreign key to a table it does not read.',
      );
      expect(refused.hint).toContain('Add "users" to the selection (take it out of tables.exclude');
      expect(refused.hint).toContain("or take the reference out of the model.");
      expect(refused.details.references).toEqual([{ table: "posts", model: "posts", foreignKey: "fk_posts_author_id_users", columns: ["author_id"], refTable: "users", excluded: true }]);
    }
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);

  it("a key the migrations head already has compares equal: check passes, autogenerate has nothing to write", async () => {
    const { config, add } = excluding();
    add({
      id: "aaaa00000001",
      message: "users and posts",
      up: `op.createTable("users", { id: t.integer().primaryKey() });\nop.createTable("posts", { id: t.integer().primaryKey(), author_id: t.integer().references("users.id") });`,
    });
    expect((await check({ config, dialect: "sqlite" })).ok).toBe(true);
    expect((await autogenerate({ message: "nothing" }, { config, dialect: "sqlite" })).path).toBeUndefined();
  }, 60_000);
});
