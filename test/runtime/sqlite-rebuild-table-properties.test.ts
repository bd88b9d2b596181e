/**
 * A SQLite rebuild keeps what the table has beyond Retort's snapshot — column collations, generated
 * columns, STRICT, WITHOUT ROWID, the AUTOINCREMENT counter — or refuses, naming it, before the
 * revision changes anything. The tables are an adopted database's (`retort baseline`), as an outside
 * tester found them losing these properties.
 */
import { describe, expect, it } from "vitest";
import { current, isRetortError, upgrade, type CommandOptions, type RetortError } from "../../src/index.js";
import { baseline } from "../../src/runtime/baseline.js";
import { createProject, query, sqliteFileUrl } from "./project.js";

/** A database made by hand from `statements`, baselined, and a revision `up` on top (not run). */
async function adopted(statements: readonly string[], up: string): Promise<{ url: string; options: CommandOptions }> {
  const project = createProject();
  const url = sqliteFileUrl();
  for (const statement of statements) await query(url, statement);
  await baseline({ message: "adopted", revId: "base00000001" }, { config: project.config, url });
  project.add({ id: "chng00000002", parents: ["base00000001"], message: "change", up });
  return { url, options: { config: project.config, url } };
}

/** The RetortError an insert fails with (SQLite's constraint errors come translated). */
async function rejected(url: string, sql: string): Promise<string> {
  const error = await query(url, sql).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (error === undefined) throw new Error(`expected ${sql} to be rejected`);
  return error.message;
}

const tableSql = async (url: string, name: string) => String((await query(url, `SELECT sql FROM sqlite_master WHERE name = '${name}'`))[0]?.sql);

describe("SQLite rebuilds keep the table's own properties", () => {
  it("COLLATE NOCASE and AUTOINCREMENT survive a rebuild: a case-variant duplicate is still rejected, a deleted id is not reused", async () => {
    const { url, options } = await adopted(
      [
        "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE COLLATE NOCASE, age INTEGER CHECK (age >= 0))",
        "INSERT INTO users (email, age) VALUES ('a@x.com', 1), ('b@x.com', 2), ('c@x.com', 3)",
        "DELETE FROM users WHERE id = 3",
      ],
      `op.dropConstraint("ck_users_age", "users");\nop.addCheck("ck_users_age", "users", "age >= 18 OR age < 18");`,
    );
    await upgrade("head", options);
    expect(await tableSql(url, "users")).toContain('"email" TEXT COLLATE NOCASE NOT NULL');
    expect(await query(url, "SELECT id, email, age FROM users ORDER BY id")).toEqual([
      { id: 1, email: "a@x.com", age: 1 },
      { id: 2, email: "b@x.com", age: 2 },
    ]);
    expect(await rejected(url, "INSERT INTO users (email, age) VALUES ('A@X.COM', 5)")).toMatch(/unique/i);
    // AUTOINCREMENT: 3 was handed out before the rebuild, so the next row gets 4.
    await query(url, "INSERT INTO users (email, age) VALUES ('d@x.com', 4)");
    expect(await query(url, "SELECT id FROM users WHERE email = 'd@x.com'")).toEqual([{ id: 4 }]);
  });

  it("a generated column stays generated (VIRTUAL and STORED): not copied into, and computed for old and new rows", async () => {
    const { url, options } = await adopted(
      [
        "CREATE TABLE users (id INTEGER PRIMARY KEY)",
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT NOT NULL, slug TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL, size INTEGER AS (length(title)) STORED)",
        "INSERT INTO users VALUES (1)",
        "INSERT INTO posts (id, user_id, title) VALUES (1, 1, 'Hello World')",
      ],
      `op.alterColumn("posts", "title", { type: t.varchar(200) });`,
    );
    await upgrade("head", options);
    expect(await query(url, "SELECT name, hidden FROM pragma_table_xinfo('posts') WHERE hidden <> 0 ORDER BY cid")).toEqual([
      { name: "slug", hidden: 2 },
      { name: "size", hidden: 3 },
    ]);
    await query(url, "INSERT INTO posts (id, user_id, title) VALUES (2, 1, 'New POST')");
    expect(await query(url, "SELECT id, title, slug, size FROM posts ORDER BY id")).toEqual([
      { id: 1, title: "Hello World", slug: "hello world", size: 11 },
      { id: 2, title: "New POST", slug: "new post", size: 8 },
    ]);
    // The change itself was made: title is varchar(200) now.
    expect(await rejected(url, `INSERT INTO posts (id, user_id, title) VALUES (3, 1, '${"x".repeat(201)}')`)).toMatch(/ck_posts_title_varchar/);
  });

  it("STRICT and WITHOUT ROWID survive a rebuild: text is still refused in an INTEGER column, the table still has no rowid", async () => {
    const { url, options } = await adopted(
      [
        "CREATE TABLE strict_t (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, r REAL) STRICT",
        "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID",
        "INSERT INTO strict_t (id, n) VALUES (1, 10)",
        "INSERT INTO kv VALUES ('a', X'01')",
      ],
      `op.alterColumn("strict_t", "r", { default: 1.5 });\nop.addColumn("kv", "n", t.integer().default(sql\`(1 + 1)\`));`,
    );
    await upgrade("head", options);
    expect(await query(url, "SELECT name, wr, strict FROM pragma_table_list WHERE name IN ('kv', 'strict_t') ORDER BY name")).toEqual([
      { name: "kv", wr: 1, strict: 0 },
      { name: "strict_t", wr: 0, strict: 1 },
    ]);
    expect(await rejected(url, "INSERT INTO strict_t (id, n) VALUES (2, 'abc')")).toMatch(/cannot store TEXT value in INTEGER column/);
    await query(url, "INSERT INTO strict_t (id, n) VALUES (2, 20)");
    expect(await query(url, "SELECT id, n, r FROM strict_t ORDER BY id")).toEqual([
      { id: 1, n: 10, r: null },
      { id: 2, n: 20, r: 1.5 },
    ]);
    expect(await query(url, "SELECT k, n FROM kv")).toEqual([{ k: "a", n: 2 }]);
    expect(await rejected(url, "SELECT rowid FROM kv")).toMatch(/no such column: rowid/);
  });
});

describe("SQLite rebuilds refuse what they cannot carry, before changing anything", () => {
  /** Upgrading fails with RETORT_INVALID_OPERATION (inside RETORT_MIGRATION_FAILED); the database stays at the baseline. */
  async function refused(setup: readonly string[], up: string, table: string): Promise<RetortError> {
    const { url, options } = await adopted(setup, up);
    const before = await tableSql(url, table);
    const error = await upgrade("head", options).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_MIGRATION_FAILED")).toBe(true);
    expect((error as RetortError).details).toMatchObject({ causeCode: "RETORT_INVALID_OPERATION", currentHeads: ["base00000001"] });
    expect((await current(options)).heads.map((head) => head.revision)).toEqual(["base00000001"]);
    expect(await tableSql(url, table)).toBe(before);
    return error as RetortError;
  }

  it("a STRICT table given a type STRICT does not accept (varchar)", async () => {
    const error = await refused(["CREATE TABLE strict_t (id INTEGER PRIMARY KEY, name TEXT) STRICT", "INSERT INTO strict_t VALUES (1, 'a')"], `op.alterColumn("strict_t", "name", { type: t.varchar(20) });`, "strict_t");
    expect(error.message).toContain('rebuild "strict_t": the table is STRICT, which accepts only the column types INT, INTEGER, REAL, TEXT, BLOB, ANY, and column "name" would be declared VARCHAR(20)');
    expect(error.hint).toContain("without STRICT");
  });

  it("a change to a generated column, and a generated column using a column the operation drops", async () => {
    const posts = "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT NOT NULL, slug TEXT GENERATED ALWAYS AS (lower(title)) VIRTUAL)";
    const changed = await refused([posts], `op.alterColumn("posts", "slug", { nullable: false });`, "posts");
    expect(changed.message).toContain('column "slug" is a generated column (GENERATED ALWAYS AS (lower(title)) VIRTUAL), and this operation changes it');
    const uses = await refused([posts], `op.dropColumn("posts", "title");`, "posts");
    expect(uses.message).toContain('generated column "slug" (GENERATED ALWAYS AS (lower(title)) VIRTUAL) uses column "title", which this operation drops');
  });

  it("a WITHOUT ROWID table losing its primary key", async () => {
    const error = await refused(["CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID"], `op.dropConstraint("pk_kv", "kv");`, "kv");
    expect(error.message).toContain("the table is WITHOUT ROWID, which needs a primary key");
  });

  it("a DEFERRABLE INITIALLY DEFERRED foreign key survives a rebuild, still checked at commit", async () => {
    const { url, options } = await adopted(
      ["CREATE TABLE p (id INTEGER PRIMARY KEY)", "CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED, n INTEGER)"],
      `op.alterColumn("c", "n", { nullable: false });`,
    );
    await upgrade("head", options);
    expect(await tableSql(url, "c")).toContain("DEFERRABLE INITIALLY DEFERRED");
    // The child before its parent, in one transaction: checked at COMMIT, when the parent exists.
    await query(url, "BEGIN; INSERT INTO c (id, p_id, n) VALUES (1, 7, 0); INSERT INTO p (id) VALUES (7); COMMIT;");
    expect(await query(url, "SELECT p_id FROM c")).toEqual([{ p_id: 7 }]);
  });

  it("clauses the snapshot has no place for: ON CONFLICT, COLLATE in a key", async () => {
    const conflict = await refused(["CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE ON CONFLICT REPLACE, n INTEGER)"], `op.alterColumn("t", "n", { nullable: false });`, "t");
    expect(conflict.message).toContain('the table has ON CONFLICT REPLACE on UNIQUE of column "email", which Retort\'s rebuild cannot carry over');
    const key = await refused(["CREATE TABLE k (a TEXT, n INTEGER, PRIMARY KEY (a COLLATE NOCASE))"], `op.alterColumn("k", "n", { nullable: false });`, "k");
    expect(key.message).toContain('COLLATE NOCASE on "a" in a key\'s column list');
  });
});
