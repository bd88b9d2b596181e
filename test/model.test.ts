import { describe, expect, it } from "vitest";
import {
  RetortError,
  check,
  contentId,
  enumType,
  index,
  parseDatabaseUrl,
  primaryKey,
  schemaFromModels,
  snakeCase,
  sql,
  t,
  table,
  unique,
  uuidv7,
} from "../src/index.js";
import * as schema from "../examples/community-bot/schema.js";

const snapshot = schemaFromModels(schema);
const tableOf = (name: string) => snapshot.tables.find((t) => t.name === name)!;

describe("models → schema snapshot", () => {
  it("maps camelCase keys to snake_case columns exactly", () => {
    expect(tableOf("members").columns.map((c) => c.name)).toEqual([
      "id", "guild_id", "user_id", "nickname", "role", "xp", "profile", "created_at", "updated_at", "deleted_at",
    ]);
    expect(snakeCase("remindAt")).toBe("remind_at");
    expect(snakeCase("userID")).toBe("user_i_d"); // one documented rule, no guessing: use .name() for acronyms
  });

  it("names constraints by the convention", () => {
    const members = tableOf("members");
    expect(members.primaryKey).toEqual({ name: "pk_members", columns: ["id"] });
    expect(members.uniques).toEqual([{ name: "uq_members_guild_id_user_id", columns: ["guild_id", "user_id"] }]);
    expect(members.foreignKeys).toEqual([
      { name: "fk_members_guild_id_guilds", columns: ["guild_id"], refTable: "guilds", refColumns: ["id"], onDelete: "cascade", onUpdate: "no action" },
    ]);
    expect(members.checks).toEqual([{ name: "ck_members_xp", expression: "xp >= 0" }]);
    expect(members.indexes).toEqual([
      { name: "uq_members_guild_id_nickname", elements: [{ column: "guild_id" }, { column: "nickname" }], unique: true, where: "deleted_at IS NULL" },
      { name: "ix_members_guild_id_xp", elements: [{ column: "guild_id" }, { column: "xp" }], unique: false },
      { name: "ix_members_lower_nickname", elements: [{ expression: "lower(nickname)" }], unique: false },
      { name: "ix_members_profile", elements: [{ column: "profile" }], unique: false, using: "gin" },
    ]);
    expect(tableOf("starboard_entries").primaryKey).toEqual({ name: "pk_starboard_entries", columns: ["guild_id", "message_id"] });
    expect(tableOf("moderation_cases").checks.map((c) => c.name)).toContain("ck_moderation_cases_expiry_after_creation");
    expect(snapshot.enums).toEqual([
      { name: "guild_role", values: ["owner", "admin", "member"] },
      { name: "case_kind", values: ["warn", "mute", "kick", "ban", "unban"] },
    ]);
  });

  it("keeps explicit names (a team adopting an existing database keeps its names)", () => {
    const legacy = table(
      "Legacy",
      {
        userId: t.integer().name("UserID").primaryKey(),
        email: t.text().unique("users_email_key"),
        score: t.integer().check("score > 0", "positive").index({ name: "score_idx" }),
      },
      (c) => [index(c.email).name("email_idx"), check("sane", sql`${c.score} < 1000`).name("legacy_sane")],
    );
    const [shape] = schemaFromModels([legacy]).tables;
    expect(shape!.columns.map((c) => c.name)).toEqual(["UserID", "email", "score"]);
    expect(shape!.uniques[0]!.name).toBe("users_email_key");
    expect(shape!.indexes.map((i) => i.name)).toEqual(["score_idx", "email_idx"]);
    expect(shape!.checks).toEqual([
      { name: "positive", expression: "score > 0" },
      { name: "legacy_sane", expression: '"score" < 1000' },
    ]);
  });

  it("truncates names past 63 bytes with a stable hash", () => {
    const long = table("a_table_with_a_really_quite_long_name_for_testing", {
      id: t.integer().primaryKey(),
      anotherVeryLongColumnNameThatGoesOnAndOn: t.integer(),
    }, (c) => [unique(c.id, c.anotherVeryLongColumnNameThatGoesOnAndOn)]);
    const name = schemaFromModels([long]).tables[0]!.uniques[0]!.name;
    expect(Buffer.byteLength(name)).toBe(63);
    expect(name).toMatch(/^uq_a_table_with_a_really_quite_long_name_for_testing_i_[0-9a-f]{8}$/);
    expect(schemaFromModels([long]).tables[0]!.uniques[0]!.name).toBe(name);
  });

  it("renders defaults as neutral data", () => {
    const guilds = tableOf("guilds");
    expect(guilds.columns.find((c) => c.name === "settings")!.default).toEqual({ kind: "literal", value: {} });
    expect(guilds.columns.find((c) => c.name === "created_at")!.default).toEqual({ kind: "now" });
    expect(tableOf("moderation_cases").columns[0]).toEqual({ name: "id", type: { kind: "integer" }, nullable: false, serial: true });
  });

  it("rejects broken models with a clear error", () => {
    const orphan = table("orphans", { id: t.integer().primaryKey(), parentId: t.integer().references(() => schema.guilds.id as never) });
    expect(() => schemaFromModels([orphan])).toThrow(/orphans\.parent_id references table "guilds", which is not among the models given/);
    expect(() => table("x", { aB: t.text(), a_b: t.text() })).toThrow(/both map to database column "a_b"/);
    expect(() => t.text().defaultNow()).toThrow(RetortError);
    expect(() => enumType("e", ["a", "a"])).toThrow(/enum "e": the label "a" is listed twice/);
    const clash = table("y", { id: t.integer().primaryKey() }, (c) => [primaryKey(c.id).name("pk_guilds")]);
    expect(() => schemaFromModels([schema.guilds, clash])).toThrow(/"pk_guilds" is used twice/);
  });
});

describe("ids", () => {
  it("uuidv7 is a sortable version-7 UUID", () => {
    const ids = Array.from({ length: 1000 }, () => uuidv7());
    expect(ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(1000);
    const ms = parseInt(ids[0]!.replace(/-/g, "").slice(0, 12), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5000);
  });

  it("contentId is content-addressed blake2b", () => {
    expect(contentId("snip", "hello")).toBe(contentId("snip", "hello"));
    expect(contentId("snip", "hello")).not.toBe(contentId("snip", "hello!"));
    expect(contentId("doc", { b: 1, a: 2 })).toBe(contentId("doc", { a: 2, b: 1 }));
    // BLAKE2b-128 of "abc" (RFC 7693 parameters, 16-byte digest).
    expect(contentId("x", "abc")).toBe("x_cf4ab791c62b8d2b2109c90275287816");
    expect(() => contentId("Bad Prefix", "x")).toThrow(/prefix/);
  });
});

describe("database URLs", () => {
  it("parses every accepted form", () => {
    expect(parseDatabaseUrl("postgres://u:p@localhost:5432/db")).toEqual({
      dialect: "postgres",
      url: "postgres://u:***@localhost:5432/db",
      connection: { host: "localhost", port: 5432, user: "u", database: "db", sslmode: "prefer", pooler: "none", url: "postgres://u:***@localhost:5432/db" },
    });
    expect(parseDatabaseUrl("pglite:memory")).toEqual({ dialect: "pglite" });
    expect(parseDatabaseUrl("pglite:.retort/dev")).toEqual({ dialect: "pglite", dataDir: ".retort/dev" });
    expect(parseDatabaseUrl("sqlite::memory:")).toEqual({ dialect: "sqlite", filename: ":memory:" });
    expect(parseDatabaseUrl("sqlite:./data/app.db")).toEqual({ dialect: "sqlite", filename: "./data/app.db" });
  });

  it("a bad URL lists the accepted forms and never shows the password", () => {
    let error: RetortError | undefined;
    try {
      parseDatabaseUrl("mysql://root:hunter2@db/app");
    } catch (e) {
      error = e as RetortError;
    }
    expect(error?.code).toBe("RETORT_BAD_URL");
    expect(error?.message).toBe('Cannot use database URL "mysql://root:***@db/app": the scheme is not one Retort knows.');
    expect(error?.hint).toContain("pglite:memory");
    expect(error?.hint).toContain("sqlite:<file>");
    expect(JSON.stringify(error)).not.toContain("hunter2");
  });
});
