/**
 * A throwaway project with models, one migration and seed files, for the seeds tests: users
 * (timestamps, a natural key), posts (a composite natural key) and a test-only fixture.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "../../src/index.js";
import { createProject, SOURCE_INDEX, type Project } from "../runtime/project.js";

const lib = JSON.stringify(SOURCE_INDEX);

export const SCHEMA = `import { t, table, timestamps, unique } from ${lib};
export const users = table("users", { id: t.uuid().primaryKey(), email: t.text().unique(), name: t.text(), age: t.integer(), ...timestamps() });
export const posts = table("posts", { id: t.uuid().primaryKey(), authorId: t.uuid().references(() => users.id), title: t.text(), words: t.integer() }, (p) => [unique(p.authorId, p.title)]);
`;

export const USERS_SEED = `import { defineSeed } from ${lib};
import * as schema from "../schema.ts";

export default defineSeed<typeof schema>({
  run: async ({ models, seedRows, random }) => {
    const people = Array.from({ length: 6 }, () => {
      const name = random.name();
      return { id: random.uuid(), email: random.email(name), name, age: random.int(18, 90) };
    });
    await seedRows(models.users, people, { key: ["email"] });
  },
});
`;

export const POSTS_SEED = `import { defineSeed } from ${lib};
import * as schema from "../schema.ts";

export default defineSeed<typeof schema>({
  run: async ({ models, kysely, seedRows, random }) => {
    const authors = await kysely.selectFrom("users").select(["id"]).where("email", "not like", "fixture%").orderBy("email").execute();
    const posts = authors.flatMap((author) => random.sample(["hello", "notes", "ideas", "plans"], 2).map((title) => ({ id: random.uuid(), authorId: author.id, title, words: random.int(10, 500) })));
    await seedRows(models.posts, posts, { key: ["authorId", "title"] });
  },
});
`;

export const FIXTURE_SEED = `import { defineSeed } from ${lib};
import * as schema from "../schema.ts";

export default defineSeed<typeof schema>({
  environments: ["test"],
  run: async ({ seedRows, models }) => {
    await seedRows(models.users, [{ id: "00000000-0000-4000-8000-000000000001", email: "fixture@example.com", name: "Fixture", age: 30 }], { key: ["email"] });
  },
});
`;

/** Line 7 throws, after the seed created a row. */
export const BROKEN_SEED = `import { defineSeed } from ${lib};
import * as schema from "../schema.ts";

export default defineSeed<typeof schema>({
  run: async ({ models }) => {
    await models.users.create({ id: "00000000-0000-4000-8000-0000000000bb", email: "broken@example.com", name: "Broken", age: 1 });
    throw new Error("the seed found a problem");
  },
});
`;

export interface SeedProject extends Project {
  seeds: string;
}

export function seedProject(seeds: Record<string, string> = { "01_users.ts": USERS_SEED, "02_posts.ts": POSTS_SEED, "03_fixtures.ts": FIXTURE_SEED }): SeedProject {
  const project = createProject();
  writeFileSync(join(project.root, "schema.ts"), SCHEMA);
  const seedsDir = join(project.root, "seeds");
  mkdirSync(seedsDir);
  for (const [name, text] of Object.entries(seeds)) writeFileSync(join(seedsDir, name), text);
  writeFileSync(
    join(project.root, "retort.config.mjs"),
    `export default ${JSON.stringify({ models: "./schema.ts", migrations: { importFrom: SOURCE_INDEX } })};\n`,
  );
  project.config.config.models = "./schema.ts";
  project.config.file = join(project.root, "retort.config.mjs");
  project.add({
    id: "seed00000001",
    up: `op.createTable("users", { id: t.uuid().primaryKey(), email: t.text().unique(), name: t.text(), age: t.integer(), createdAt: t.timestamptz().defaultNow(), updatedAt: t.timestamptz().defaultNow() });
op.createTable("posts", { id: t.uuid().primaryKey(), authorId: t.uuid().references("users.id"), title: t.text(), words: t.integer() }, (p) => [unique(p.authorId, p.title)]);`,
    down: `op.dropTable("posts");\nop.dropTable("users");`,
  });
  return { ...project, seeds: seedsDir };
}

/** Per table: row count and a SHA-256 of every row (all columns, ordered by key); `without` leaves columns out. */
export async function checksums(url: string, without: string[] = []): Promise<Record<"users" | "posts", { rows: number; sha256: string }>> {
  const db = await connect(url);
  try {
    const out = {} as Record<"users" | "posts", { rows: number; sha256: string }>;
    for (const table of ["users", "posts"] as const) {
      const { rows } = await db.query(`SELECT * FROM ${table} ORDER BY id`);
      const kept = rows.map((row) => Object.fromEntries(Object.entries(row).filter(([column]) => !without.includes(column))));
      const text = JSON.stringify(kept, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
      out[table] = { rows: rows.length, sha256: createHash("sha256").update(text).digest("hex") };
    }
    return out;
  } finally {
    await db.close();
  }
}

/** Line 7 violates the unique email (a database error, raised inside Retort's driver). */
export const DUPLICATE_SEED = `import { defineSeed } from ${lib};
import * as schema from "../schema.ts";

export default defineSeed<typeof schema>({
  run: async ({ models }) => {
    await models.users.create({ id: "00000000-0000-4000-8000-0000000000c1", email: "twice@example.com", name: "One", age: 1 });
    await models.users.create({ id: "00000000-0000-4000-8000-0000000000c2", email: "twice@example.com", name: "Two", age: 2 });
  },
});
`;
