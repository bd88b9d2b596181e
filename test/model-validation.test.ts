/**
 * Models are validated before any SQL: each mistake is RETORT_INVALID_MODEL naming the table and
 * the column, raised when the models are read (table() or schemaFromModels), so connect, sql,
 * create-all, check and autogenerate all stop there, with no driver error and no stack trace.
 * createAll over existing tables is RETORT_TABLE_EXISTS, on every backend, before anything is made.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { check, connect, createAll, enumType, foreignKey, index, isRetortError, RetortError, schemaFromModels, t, table, unique, type Database } from "../src/index.js";
import { createTempDatabase, postgresReachable, type TempDatabase } from "./support/postgres.js";

/** The RetortError `fn` throws (fails the test when it throws nothing or something else). */
function errorOf(fn: () => unknown): RetortError {
  try {
    fn();
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error("expected a RetortError, nothing was thrown");
}

const guilds = table("guilds", { id: t.bigint().primaryKey(), slug: t.text().unique(), name: t.text(), region: t.text(), shard: t.integer() }, (g) => [
  unique(g.region, g.shard),
  unique(g.name).where("region <> 'eu'"),
]);

describe("foreign keys", () => {
  it("must target the primary key or a unique key of the target table", () => {
    const members = table("members", { id: t.uuid().primaryKey(), guildName: t.text().references(() => guilds.name) });
    const error = errorOf(() => schemaFromModels({ guilds, members }));
    expect(error.code).toBe("RETORT_INVALID_MODEL");
    expect(error.message).toBe('table "members", column "guild_name" references "guilds"(name), which is neither the primary key nor a unique key of "guilds"');
    expect(error.hint).toBe('Reference a key of "guilds": (id) or (slug) or (region, shard); or make (name) unique there.');
    expect(error.details).toMatchObject({ table: "members", columns: ["guild_name"], refTable: "guilds", refColumns: ["name"] });
  });

  it("accept the primary key, a unique column and a composite unique key (in any order); a partial unique index is no key", () => {
    const ok = table("ok", { id: t.uuid().primaryKey(), guildId: t.bigint().references(() => guilds.id), slug: t.text().references(() => guilds.slug), shard: t.integer(), region: t.text() }, (o) => [
      foreignKey([o.shard, o.region], () => [guilds.shard, guilds.region]),
    ]);
    expect(schemaFromModels({ guilds, ok }).tables[1]!.foreignKeys.map((fk) => fk.refColumns)).toEqual([["id"], ["slug"], ["shard", "region"]]);
    const partial = table("partial", { id: t.uuid().primaryKey(), name: t.text().references(() => guilds.name) });
    expect(errorOf(() => schemaFromModels({ guilds, partial })).message).toContain("neither the primary key nor a unique key");
  });

  it("must have the type of the column they reference", () => {
    const members = table("members", { id: t.uuid().primaryKey(), guildId: t.integer().references("guilds.id") });
    const error = errorOf(() => schemaFromModels({ guilds, members }));
    expect(error.code).toBe("RETORT_INVALID_MODEL");
    expect(error.message).toBe('table "members", column "guild_id": "members"."guild_id" is integer but references "guilds"."id", which is bigint');
    expect(error.hint).toBe('Give "guild_id" the type of the column it references (bigint).');
  });

  it("must name a column that exists", () => {
    const members = table("members", { id: t.uuid().primaryKey(), guildId: t.bigint().references("guilds.uid") });
    expect(errorOf(() => schemaFromModels({ guilds, members })).message).toBe('table "members", column "guild_id" references "guilds"."uid", which is not a column of "guilds"');
  });
});

describe("enums", () => {
  it("reject a default that is not one of the labels", () => {
    const role = enumType("role", ["owner", "member"]);
    const error = errorOf(() => table("members", { id: t.uuid().primaryKey(), role: role.column().default("boss" as "owner") }));
    expect(error.message).toBe('table "members", column "role": the default "boss" is not a label of enum "role" (owner, member)');
    expect(error.details).toMatchObject({ table: "members", column: "role", default: "boss" });
  });

  it("reject empty and duplicate labels, naming the duplicate", () => {
    expect(errorOf(() => enumType("role", ["owner", "", "member"])).message).toBe('enum "role": a label is empty');
    expect(errorOf(() => enumType("role", ["owner", "member", "owner"])).message).toBe('enum "role": the label "owner" is listed twice');
    expect(errorOf(() => enumType("role", [] as unknown as ["x"])).message).toBe('enum "role": an enum needs at least one label');
  });
});

describe("defaults", () => {
  it("must fit the column's type; the message names table, column and value, not internal JSON", () => {
    const integer = errorOf(() => table("members", { id: t.uuid().primaryKey(), xp: t.integer().default("ten" as unknown as number) }));
    expect(integer.code).toBe("RETORT_INVALID_MODEL");
    expect(integer.message).toMatch(/^table "members", column "xp": the default "ten" does not fit the integer column \(.+\)$/);
    expect(integer.message).not.toContain("kind");
    const cases: Array<[string, () => unknown]> = [
      ["flag", () => t.boolean().default("yes" as unknown as boolean)],
      ["born", () => t.date().default("24 Feb" as string)],
      ["code", () => t.varchar(3).default("abcd")],
      ["at", () => t.timestamptz().default("not a date" as unknown as Date)],
      ["big", () => t.bigint().default(1.5 as unknown as bigint)],
      ["id2", () => t.uuid().default("123")],
      ["price", () => t.numeric(4, 2).default("123.456")],
    ];
    for (const [key, column] of cases) {
      const error = errorOf(() => table("things", { id: t.uuid().primaryKey(), [key]: column() as ReturnType<typeof t.text> }));
      expect(error.message, key).toMatch(new RegExp(`^table "things", column "${key}": the default .+ does not fit`));
    }
  });

  it("accept values of the column's type", () => {
    const fine = table("fine", {
      id: t.uuid().primaryKey().default("0190a5c6-3b5e-7c1d-9a4f-2b6e8d0c1a2b"),
      big: t.bigint().default(9007199254740993n),
      at: t.timestamptz().default(new Date("2024-01-01T00:00:00Z")),
      price: t.numeric(10, 2).default("12.50"),
      bytes: t.bytea().default(new Uint8Array([1, 2])),
      data: t.jsonb<{ a: number }>().default({ a: 1 }),
      tags: t.textArray().default(["a"]),
      note: t.text().nullable().default(null as unknown as string),
    });
    expect(schemaFromModels({ fine }).tables[0]!.columns).toHaveLength(8);
  });
});

describe("names", () => {
  const long = "a".repeat(64);
  it("longer than 63 bytes are rejected with the byte count (Postgres would cut them)", () => {
    expect(errorOf(() => table(long, { id: t.integer().primaryKey() })).message).toBe(`table "${long}": the name "${long}" is 64 bytes long; Postgres allows at most 63`);
    const column = errorOf(() => table("users", { id: t.integer().primaryKey(), x: t.text().name(long) }));
    expect(column.message).toBe(`table "users", column "${long}": the name "${long}" is 64 bytes long; Postgres allows at most 63`);
    expect(column.details).toMatchObject({ table: "users", column: long, bytes: 64 });
    // Bytes, not characters: 32 two-byte letters are 64 bytes.
    expect(errorOf(() => table("users", { id: t.integer().primaryKey(), x: t.text().name("é".repeat(32)) })).message).toContain("is 64 bytes long");
    const index = table("users", { id: t.integer().primaryKey(), email: t.text().unique(`uq_${long}`) });
    expect(errorOf(() => schemaFromModels({ index })).message).toBe(`table "users", constraint/index "uq_${long}": the name "uq_${long}" is 67 bytes long; Postgres allows at most 63`);
    expect(errorOf(() => enumType(long, ["a"])).message).toContain("is 64 bytes long");
  });

  it("that are empty are rejected (Postgres refuses them; SQLite would make a column named \"\")", () => {
    expect(errorOf(() => table("", { id: t.integer().primaryKey() })).message).toBe(`table "": the name is empty`);
    expect(errorOf(() => table("a", { id: t.integer().primaryKey(), v: t.integer().name("") })).message).toBe(`table "a", column of key "v": the name is empty`);
    const named = table("a", { id: t.integer().primaryKey(), v: t.integer().unique("") });
    expect(errorOf(() => schemaFromModels({ named })).message).toContain("the name is empty");
  });

  it("an empty check expression is rejected with its table and check", () => {
    const checked = table("scores", { id: t.integer().primaryKey(), v: t.integer().check("") });
    expect(errorOf(() => schemaFromModels({ checked })).message).toBe(`table "scores", check "ck_scores_v": the expression is empty`);
    const named = table("scores", { id: t.integer().primaryKey(), v: t.integer() }, () => [check("positive", "  ")]);
    expect(errorOf(() => schemaFromModels({ named })).code).toBe("RETORT_INVALID_MODEL");
  });

  it("an index or constraint naming a column the table does not have (a typo in a JavaScript models file) is named, not a TypeError", () => {
    const typo = table("posts", { id: t.integer().primaryKey(), title: t.text() }, (p) => [index((p as unknown as Record<string, never>).titel!)]);
    const error = errorOf(() => schemaFromModels({ typo }));
    expect(error.code).toBe("RETORT_INVALID_MODEL");
    expect(error.message).toBe(`table "posts": an index or constraint names undefined, not one of the table's columns`);
    expect(error.hint).toContain("the columns are id, title");
    const typoKey = table("posts", { id: t.integer().primaryKey(), title: t.text() }, (p) => [unique((p as unknown as Record<string, never>).titel!, p.id)]);
    expect(errorOf(() => schemaFromModels({ typoKey })).code).toBe("RETORT_INVALID_MODEL");
  });

  it("of 63 bytes, and conventional names cut with a hash, are accepted", () => {
    const name = "b".repeat(63);
    const ok = table(name, { id: t.integer().primaryKey(), [name]: t.text().unique() });
    const [schema] = schemaFromModels({ ok }).tables;
    expect(schema!.name).toBe(name);
    expect(Buffer.byteLength(schema!.uniques[0]!.name)).toBe(63);
  });
});

describe("a table with no columns", () => {
  it("is rejected when the models are read", () => {
    const empty = table("empty", {});
    const error = errorOf(() => schemaFromModels({ empty }));
    expect(error.code).toBe("RETORT_INVALID_MODEL");
    expect(error.message).toBe('table "empty" has no columns');
  });
});

describe("every entry point stops at the model, before any SQL", () => {
  const exec = promisify(execFile);
  const ROOT = resolve(import.meta.dirname, "..");
  const project = mkdtempSync(join(tmpdir(), "retort-invalid-model-"));
  mkdirSync(join(project, "migrations", "versions"), { recursive: true });
  writeFileSync(join(project, "retort.config.ts"), `export default { models: "./schema.ts", migrations: { directory: "migrations/versions" } };\n`);
  writeFileSync(
    join(project, "schema.ts"),
    `import { t, table } from ${JSON.stringify(join(ROOT, "src", "index.ts"))};
export const guilds = table("guilds", { id: t.bigint().primaryKey(), name: t.text() });
export const members = table("members", { id: t.uuid().primaryKey(), guildName: t.text().references(() => guilds.name) });
`,
  );
  const MESSAGE = 'table "members", column "guild_name" references "guilds"(name), which is neither the primary key nor a unique key of "guilds"';

  async function retort(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await exec(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", "main.ts"), ...args], { cwd: project, timeout: 120_000, env: { ...process.env, NO_COLOR: "1" } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  const commands: Array<[string, string[]]> = [
    ["sql", ["sql", "schema.ts", "--dialect", "postgres"]],
    ["create-all", ["create-all", "schema.ts", "--url", "sqlite:./app.db"]],
    ["check", ["check"]],
    ["revision --autogenerate", ["revision", "--autogenerate", "-m", "first"]],
  ];
  for (const [name, args] of commands) {
    it(`${name}: exit 1, RETORT_INVALID_MODEL, no stack trace, nothing written`, async () => {
      const result = await retort(...args);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("RETORT_INVALID_MODEL");
      expect(result.stderr).toContain(MESSAGE);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      expect(result.stdout).not.toContain("CREATE TABLE");
      expect(readdirSync(join(project, "migrations", "versions"))).toEqual([]);
      expect(existsSync(join(project, "app.db"))).toBe(false);
    });
  }

  it("connect() throws it before opening the database", async () => {
    const { guilds: g, members } = await import(join(project, "schema.ts"));
    await expect(connect("sqlite::memory:", { schema: { g, members } })).rejects.toMatchObject({ code: "RETORT_INVALID_MODEL", message: MESSAGE });
  });
});

describe("createAll over existing tables", () => {
  const notes = table("notes", { id: t.integer().primaryKey(), body: t.text() });
  const tags = table("tags", { id: t.integer().primaryKey(), noteId: t.integer().references(() => notes.id) });
  const mood = enumType("mood", ["happy", "sad"]);
  const diary = table("diary", { id: t.integer().primaryKey(), mood: mood.column() });
  let temp: TempDatabase | undefined;
  afterAll(async () => temp?.drop());

  const backends: Array<[string, () => Promise<string | undefined>]> = [
    ["sqlite", async () => `sqlite:${join(mkdtempSync(join(tmpdir(), "retort-exists-")), "app.db")}`],
    ["pglite", async () => `pglite:${join(mkdtempSync(join(tmpdir(), "retort-exists-")), "db")}`],
    ["postgres", async () => ((await postgresReachable()) ? (temp = await createTempDatabase()).url : undefined)],
  ];
  for (const [name, urlOf] of backends) {
    it(`is RETORT_TABLE_EXISTS naming them, and creates nothing [${name}]`, async (context) => {
      const url = await urlOf();
      if (url === undefined) return context.skip();
      const first: Database<any> = await connect(url, { schema: { notes } });
      await createAll(first);
      await first.models.notes!.create({ id: 1, body: "kept" });
      await first.close();
      const db: Database<any> = await connect(url, { schema: { notes, tags } });
      try {
        const error = await createAll(db).then(
          () => undefined,
          (thrown: unknown) => thrown,
        );
        expect(error).toBeInstanceOf(RetortError);
        expect(error).toMatchObject({ code: "RETORT_TABLE_EXISTS", message: 'createAll: the database already has table "notes"; nothing was created' });
        const tables =
          name === "sqlite"
            ? await db.query<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            : await db.query<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1");
        expect(tables.rows.map((row) => row.name)).toEqual(["notes"]);
        expect(await db.models.notes!.count()).toBe(1);
      } finally {
        await db.close();
      }
    });
  }

  it("names an existing enum type on Postgres-family backends [pglite]", async () => {
    const db = await connect("pglite:memory", { schema: { diary } });
    await db.query("CREATE TYPE mood AS ENUM ('happy')");
    await expect(createAll(db)).rejects.toMatchObject({ code: "RETORT_TABLE_EXISTS", message: 'createAll: the database already has type "mood"; nothing was created' });
    await db.close();
  });
});

