/**
 * Safe autogenerate, the files it writes: for tables that exist before the migration, Postgres
 * gets CONCURRENTLY indexes, NOT VALID + VALIDATE, NOT NULL through a validated check, a backfill
 * (or a stub that fails) for NOT NULL columns, transactional: false where a step must commit on its
 * own, and lockTimeout; new tables keep the plain form; safe: false and SQLite keep the old form.
 */
import { describe, expect, it } from "vitest";
import { isRetortError, migrationSql } from "../../src/index.js";
import { check } from "../../src/runtime/schema-commands.js";
import { headerExtras, modelProject, upgradeBody } from "./safe-support.js";

const BEFORE = `export const teams = table("teams", { id: t.bigint().primaryKey() });
export const users = table("users", { id: t.bigint().primaryKey(), email: t.text().nullable(), age: t.integer().nullable(), teamId: t.bigint().nullable() });`;

/** Every change on the existing table "users", plus a new table "tags" with its own index, unique and foreign key. */
const AFTER = `export const teams = table("teams", { id: t.bigint().primaryKey() });
export const users = table("users", { id: t.bigint().primaryKey(), email: t.text(), age: t.integer().nullable().check(sql\`age >= 0\`), teamId: t.bigint().nullable().references("teams.id"), nickname: t.text() }, (u) => [index(u.email)]);
export const tags = table("tags", { id: t.bigint().primaryKey(), userId: t.bigint().references("users.id").index(), name: t.text() }, (g) => [unique(g.name)]);`;

/** The op.* statements of a body, one per entry (comments and blank lines left out). */
function statements(body: string): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let depth = 0;
  for (const line of body.split("\n")) {
    const trimmed = line.trim();
    if (depth === 0 && (trimmed === "" || trimmed.startsWith("//"))) continue;
    current.push(trimmed.startsWith("//") ? "" : trimmed);
    depth += (line.match(/[({[]/g) ?? []).length - (line.match(/[)}\]]/g) ?? []).length;
    if (depth === 0) {
      out.push(current.filter((part) => part !== "").join(" "));
      current = [];
    }
  }
  return out;
}

describe("safe autogenerate (Postgres)", () => {
  it("existing table: concurrent index, NOT VALID + validate, NOT NULL through a check, a failing backfill stub; the new table stays plain", async () => {
    const project = modelProject({ dialect: "postgres" });
    const first = await project.generate(BEFORE);
    // Nothing existed before: the first migration is the plain form.
    expect(headerExtras(first.text)).toEqual([]);
    expect(first.text).not.toMatch(/concurrently|notValid|validateConstraint/);

    const result = await project.generate(AFTER);
    expect(headerExtras(result.text)).toEqual(["transactional: false,", 'lockTimeout: "5s",']);
    expect(statements(upgradeBody(result.text))).toEqual([
      'op.addCheck("ck_users_email_not_null", "users", sql`email IS NOT NULL`, { notValid: true });',
      'op.validateConstraint("ck_users_email_not_null", "users");',
      'op.alterColumn("users", "email", { nullable: false });',
      'op.dropConstraint("ck_users_email_not_null", "users");',
      'op.addColumn("users", "nickname", t.text().nullable());',
      'op.run("backfill users.nickname", async (db) => { throw new Error("fill in the backfill for users.nickname"); });',
      'op.addCheck("ck_users_nickname_not_null", "users", sql`nickname IS NOT NULL`, { notValid: true });',
      'op.validateConstraint("ck_users_nickname_not_null", "users");',
      'op.alterColumn("users", "nickname", { nullable: false });',
      'op.dropConstraint("ck_users_nickname_not_null", "users");',
      'op.createIndex(null, "users", ["email"], { concurrently: true });',
      'op.addCheck("ck_users_age", "users", sql`age >= 0`, { notValid: true });',
      'op.validateConstraint("ck_users_age", "users");',
      // New table: plain, with its index, unique and foreign key inline.
      'op.createTable("tags", { id: t.bigint().primaryKey(), user_id: t.bigint().references("users.id").index(), name: t.text().unique(), });',
      'op.addForeignKey(null, "users", "team_id", "teams", "id", { notValid: true });',
      'op.validateConstraint("fk_users_team_id_teams", "users");',
    ]);
    expect(result.text).toContain("// lockTimeout 5s: a step that waits longer than that for a table lock fails");
    expect(result.text).toContain("so run `retort upgrade` again (at a quieter time) and it resumes there.");
    expect(result.warnings).toEqual([
      `users.nickname is NOT NULL without a server default on an existing table: the migration has an op.run stub that fails ("fill in the backfill for users.nickname") until you write it, or generate again with --backfill 'users.nickname=<SQL>'`,
    ]);
    // The downgrade drops the index concurrently too.
    expect(result.text).toContain('op.dropIndex("ix_users_email", { table: "users", concurrently: true });');
  }, 60_000);

  it("--backfill fills the column (an expression, or a whole UPDATE); the fold matches the models afterwards", async () => {
    const project = modelProject({ dialect: "postgres" });
    await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() });`);
    const models = `export const users = table("users", { id: t.bigint().primaryKey(), name: t.text(), slug: t.text() });`;
    const expression = await project.generate(models, { backfill: { "": "lower(name)" }, revId: "expr_backfill" });
    expect(statements(upgradeBody(expression.text))).toEqual([
      'op.addColumn("users", "slug", t.text().nullable());',
      'op.execute(sql`UPDATE users SET slug = (lower(name)) WHERE slug IS NULL`);',
      'op.addCheck("ck_users_slug_not_null", "users", sql`slug IS NOT NULL`, { notValid: true });',
      'op.validateConstraint("ck_users_slug_not_null", "users");',
      'op.alterColumn("users", "slug", { nullable: false });',
      'op.dropConstraint("ck_users_slug_not_null", "users");',
    ]);
    expect(expression.warnings).toEqual([]);
    expect((await check({ ...project.options, dialect: "postgres" })).ok).toBe(true);

    // A second project: a whole statement is used as written, keyed by its column.
    const other = modelProject({ dialect: "postgres" });
    await other.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() });`);
    const statement = await other.generate(models, { backfill: { "users.slug": "UPDATE users SET slug = 'u' || id WHERE slug IS NULL" } });
    expect(statements(upgradeBody(statement.text))[1]).toBe("op.execute(sql`UPDATE users SET slug = 'u' || id WHERE slug IS NULL`);");

    // --backfill without a column when two columns need one is refused.
    const two = modelProject({ dialect: "postgres" });
    await two.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() });`);
    const ambiguous = await two.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text(), slug: t.text(), nick: t.text() });`, { backfill: { "": "lower(name)" } }).catch((error: unknown) => error);
    expect(isRetortError(ambiguous, "RETORT_USAGE")).toBe(true);
    expect((ambiguous as Error).message).toBe("--backfill without a column applies to the one NOT NULL column added to an existing table, but this migration adds 2 (users.slug, users.nick)");
    expect((ambiguous as { hint: string }).hint).toBe("Name the column: --backfill 'users.slug=<SQL>' (once per column).");

    // --backfill naming a column that needs none is refused.
    const third = modelProject({ dialect: "postgres" });
    await third.generate(`export const users = table("users", { id: t.bigint().primaryKey(), name: t.text() });`);
    const wrong = await third.generate(models, { backfill: { "users.name": "1" } }).catch((error: unknown) => error);
    expect(isRetortError(wrong, "RETORT_USAGE")).toBe(true);
    expect((wrong as Error).message).toBe("--backfill names users.name, which is not a NOT NULL column without a default added to an existing table in this migration");
    expect((wrong as { hint: string }).hint).toBe("Columns that need a backfill here: users.slug.");
  }, 60_000);

  it("a NOT NULL column with a server default is added as it is (no rewrite since Postgres 11); lockTimeout comes from the config; a transactional revision keeps its transaction; unique through USING INDEX", async () => {
    const project = modelProject({ dialect: "postgres", autogenerate: { lockTimeout: "2s" } });
    await project.generate(`export const users = table("users", { id: t.bigint().primaryKey() });`);
    const result = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), score: t.integer().default(0), code: t.text().nullable() }, (u) => [index(u.score), unique(u.code)]);`);
    expect(headerExtras(result.text)).toEqual(['lockTimeout: "2s",']);
    expect(statements(upgradeBody(result.text))).toEqual([
      'op.addColumn("users", "score", t.integer().default(0));',
      'op.addColumn("users", "code", t.text().nullable());',
      // A unique constraint takes over a unique index built concurrently.
      'op.createIndex(null, "users", ["code"], { unique: true, concurrently: true });',
      "op.execute(sql`ALTER TABLE users ADD CONSTRAINT uq_users_code UNIQUE USING INDEX uq_users_code`, { reverseSql: sql`ALTER TABLE users DROP CONSTRAINT uq_users_code` });",
      'op.createIndex(null, "users", ["score"], { concurrently: true });',
    ]);
    expect(result.text).toContain("back with the rest of the revision, so run `retort upgrade` again (at a quieter time).");
    // The fold reads USING INDEX: the migrations head is the models, without an ephemeral database.
    const head = await check(project.options);
    expect(head).toMatchObject({ ok: true, source: "fold" });
    // The offline script carries the lock timeout into each transaction.
    const script = await migrationSql("up", "head", project.options);
    expect(script).toContain(`BEGIN;\nSET LOCAL lock_timeout = '2s';\n-- addColumn users.score\nALTER TABLE "users" ADD COLUMN "score"`);
    expect(script).toContain(`CREATE UNIQUE INDEX CONCURRENTLY "uq_users_code" ON "users" ("code");\nBEGIN;\nSET LOCAL lock_timeout = '2s';`);
  }, 60_000);

  it("a volatile default is not added with the column (that rewrites the table): bare column, default, fill, NOT NULL; a type change says to use --expand-contract", async () => {
    const project = modelProject({ dialect: "postgres" });
    await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), score: t.integer() });`);
    const result = await project.generate(`export const users = table("users", { id: t.bigint().primaryKey(), score: t.bigint(), token: t.uuid().defaultRandom() });`);
    expect(statements(upgradeBody(result.text))).toEqual([
      'op.alterColumn("users", "score", { type: t.bigint() });',
      'op.addColumn("users", "token", t.uuid().nullable());',
      'op.alterColumn("users", "token", { default: serverDefault.randomUuid });',
      "op.execute(sql`UPDATE users SET token = DEFAULT WHERE token IS NULL`);",
      'op.addCheck("ck_users_token_not_null", "users", sql`token IS NOT NULL`, { notValid: true });',
      'op.validateConstraint("ck_users_token_not_null", "users");',
      'op.alterColumn("users", "token", { nullable: false });',
      'op.dropConstraint("ck_users_token_not_null", "users");',
    ]);
    expect(result.text).toContain('// The type change of "users"."score" may rewrite the table under ACCESS EXCLUSIVE; on a busy table, generate it with --expand-contract instead.');
    expect((await check(project.options)).ok).toBe(true);
  }, 60_000);

  it("safe: false writes the old form", async () => {
    const project = modelProject({ dialect: "postgres", autogenerate: { safe: false } });
    await project.generate(BEFORE);
    const result = await project.generate(AFTER);
    expect(headerExtras(result.text)).toEqual([]);
    expect(statements(upgradeBody(result.text))).toEqual([
      'op.alterColumn("users", "email", { nullable: false });',
      'op.addColumn("users", "nickname", t.text());',
      'op.createIndex(null, "users", ["email"]);',
      'op.addCheck("ck_users_age", "users", sql`age >= 0`);',
      'op.createTable("tags", { id: t.bigint().primaryKey(), user_id: t.bigint().references("users.id").index(), name: t.text().unique(), });',
      'op.addForeignKey(null, "users", "team_id", "teams", "id");',
    ]);
    expect(result.warnings).toEqual([]);
  }, 60_000);

  it("SQLite output is unchanged by the setting", async () => {
    const bodies: string[] = [];
    for (const safe of [true, false]) {
      const project = modelProject({ dialect: "sqlite", autogenerate: { safe } });
      await project.generate(BEFORE);
      const result = await project.generate(AFTER);
      expect(headerExtras(result.text)).toEqual([]);
      bodies.push(result.text.slice(result.text.indexOf("async upgrade")));
    }
    expect(bodies[0]).toBe(bodies[1]);
    expect(bodies[0]).not.toMatch(/concurrently|notValid|validateConstraint|op\.run/);
  }, 60_000);
});
