import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareSchemas } from "../../src/autogenerate/compare.js";
import { loadHints, mergeHints, parseRenameFlag } from "../../src/autogenerate/renames.js";
import { downgradeOperations, jsValue, renderMigrationBodies, renderOperations } from "../../src/autogenerate/render.js";
import { check, enumType, index, primaryKey, sql, t, table, unique } from "../../src/index.js";
import type { Op } from "../../src/operations/types.js";
import { schemaFromModels } from "../../src/schema/from-models.js";
import { EMPTY_SCHEMA, type Schema } from "../../src/schema/snapshot.js";
import * as exampleModels from "../../examples/community-bot/schema.js";
import { canonicalSchema } from "./arbitraries.js";
import { fold, plainOps, recordRendered } from "./support.js";

/** Render ops from→to, run the rendered file, and check it records exactly the compared ops. */
async function renderedRoundTrip(from: Schema, to: Schema, renames = {}) {
  const result = compareSchemas(from, to, { dialect: "postgres", renames });
  expect(result.decisions).toEqual([]);
  const bodies = renderMigrationBodies(result.ops, { from });
  const recorded = await recordRendered(bodies);
  const canon = (ops: unknown[]) =>
    (ops as Array<Record<string, unknown>>).map((op) => (op.kind === "createTable" ? { ...op, table: canonicalSchema({ tables: [op.table as never], enums: [] }).tables[0] } : op));
  expect(canon(plainOps(recorded.up, from))).toEqual(canon(plainOps(result.ops, from)));
  const after = fold(from, recorded.up);
  expect(compareSchemas(after, to, { dialect: "postgres" }).ops).toEqual([]);
  expect(compareSchemas(fold(after, recorded.down), from, { dialect: "postgres" }).ops).toEqual([]);
  return { ...bodies, text: recorded.text };
}

describe("renderOperations: the house style", () => {
  it("writes the example project's first migration as a person would", () => {
    const result = compareSchemas(EMPTY_SCHEMA, schemaFromModels(exampleModels), { dialect: "postgres" });
    const { body, imports } = renderOperations(result.ops);
    expect(imports).toEqual(["check", "enumColumn", "index", "primaryKey", "sql", "t", "unique"]);
    expect(body).toContain(`op.createTable("guilds", {
  id: t.bigint().primaryKey(),
  name: t.varchar(100),
  settings: t.jsonb().default({}),
  created_at: t.timestamptz().defaultNow(),
  updated_at: t.timestamptz().defaultNow(),
});`);
    expect(body).toContain(`    guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),`);
    expect(body).toContain(`    role: enumColumn("guild_role").default("member"),`);
    expect(body).toContain(`    xp: t.integer().default(0).check(sql\`xp >= 0\`),`);
    expect(body).toContain(`    unique(m.guild_id, m.nickname).where(sql\`deleted_at IS NULL\`),`);
    expect(body).toContain(`    id: t.serial().primaryKey(),`);
    expect(body).toContain(`    evidence: t.jsonb().default({ messageIds: [] }),`);
    expect(body).toContain(`    check("expiry_after_creation", sql\`expires_at IS NULL OR expires_at > created_at\`),`);
    expect(body).toContain(`  (s) => [primaryKey(s.guild_id, s.message_id), index(s.guild_id, s.stars)],\n  { comment: "Messages that reached the starboard threshold" },`);
    expect(body).toContain(`    score: t.numeric(10, 2).default("0.00"),`);
  });

  it("names things only where they differ from the convention", () => {
    const to = schemaFromModels([
      table(
        "t",
        { id: t.text(), a: t.text().unique("a_key"), b: t.integer().index({ name: "b_idx" }), c: t.integer().check(sql`c > 0`, "c_positive") },
        (x) => [primaryKey(x.id).name("t_pkey"), unique(x.a, x.b).name("ab"), index(sql`lower(a)`).name("lower_a"), check("weird", sql`b < 10`).name("weird_check")],
      ),
    ]);
    const { body } = renderOperations(compareSchemas(EMPTY_SCHEMA, to, { dialect: "postgres" }).ops);
    expect(body).toContain(`a: t.text().unique("a_key"),`);
    expect(body).toContain(`b: t.integer().index({ name: "b_idx" }),`);
    expect(body).toContain(`primaryKey(c.id).name("t_pkey")`);
    expect(body).toContain(`unique(c.a, c.b).name("ab")`);
    expect(body).toContain(`index(sql\`lower(a)\`).name("lower_a")`);
    expect(body).toContain(`check("c_positive", sql\`c > 0\`)`);
    expect(body).toContain(`check("weird_check", sql\`b < 10\`).name("weird_check")`);
  });

  it("marks destructive operations", () => {
    const from = schemaFromModels([table("t", { id: t.text().primaryKey(), xp: t.bigint(), old: t.text() }), table("gone", { id: t.text().primaryKey() })]);
    const to = schemaFromModels([table("t", { id: t.text().primaryKey(), xp: t.integer() })]);
    const bodies = renderMigrationBodies(compareSchemas(from, to, { dialect: "postgres" }).ops, { from });
    expect(bodies.upgrade).toBe(
      [
        `// DESTRUCTIVE: drops table "gone" and all its rows`,
        `op.dropTable("gone");`,
        ``,
        `// DESTRUCTIVE: drops column "t"."old" and its values`,
        `op.dropColumn("t", "old");`,
        ``,
        `// DESTRUCTIVE: narrows "t"."xp" from bigint to integer: values that do not fit fail or are cut`,
        `op.alterColumn("t", "xp", { type: t.integer() });`,
      ].join("\n"),
    );
    expect(bodies.destructive).toEqual([
      'dropTable gone: drops table "gone" and all its rows',
      'dropColumn t.old: drops column "t"."old" and its values',
      'alterColumn t.xp (type): narrows "t"."xp" from bigint to integer: values that do not fit fail or are cut',
    ]);
    expect(bodies.downgrade).toContain(`// Restores column "t"."old"; its values are not restored.\nop.addColumn("t", "old", t.text());`);
    expect(bodies.downgrade).toContain(`// Restores table "gone"; its rows are not restored.\nop.createTable("gone", {`);
    expect(bodies.downgrade).toContain(`// Values the upgrade changed or cut when narrowing "t"."xp" are not restored.\nop.alterColumn("t", "xp", { type: t.bigint(), using: "\\"xp\\"::bigint" });`);
  });

  it("an irreversible operation makes the downgrade throw, naming it", () => {
    const ops: Op[] = [{ kind: "execute", sql: "UPDATE t SET a = 1" }];
    const bodies = renderMigrationBodies(ops);
    expect(bodies.upgrade).toBe("op.execute(sql`UPDATE t SET a = 1`);");
    expect(bodies.downgrade).toMatch(/^\/\/ execute UPDATE t SET a = 1 has no reverse: raw SQL has no known reverse\n\/\/ Give the undoing SQL.*\nthrow new Error\("irreversible: execute UPDATE t SET a = 1"\);$/);
    expect(() => downgradeOperations(ops)).toThrow(/cannot be reversed/);
  });

  it("escapes what must be escaped in sql`…` and JS strings", () => {
    const { body } = renderOperations([
      { kind: "execute", sql: "SELECT '`${x}' || E'\\\\n'", reverseSql: "SELECT 1" },
      { kind: "createEnum", enum: { name: "q\"uote", values: ["it's", "back\\slash"] } },
    ]);
    expect(body).toBe(['op.execute(sql`SELECT \'\\`\\${x}\' || E\'\\\\\\\\n\'`, { reverseSql: sql`SELECT 1` });', 'op.createEnum("q\\"uote", ["it\'s", "back\\\\slash"]);'].join("\n"));
    expect(jsValue(JSON.parse('{ "__proto__": 1, "a-b": [1, { "c": null }], "ok": "x" }'))).toBe('{ ["__proto__"]: 1, "a-b": [1, { c: null }], ok: "x" }');
  });
});

describe("rendered migrations record exactly the compared operations", () => {
  it("the example project from nothing, and back", async () => {
    const { text } = await renderedRoundTrip(EMPTY_SCHEMA, schemaFromModels(exampleModels));
    expect(text).toMatch(/import \{ check, enumColumn, index, primaryKey, sql, t, unique \} from/);
  });

  it("every kind of change (columns, defaults, keys, indexes, checks, foreign keys, enums, renames)", async () => {
    const mood = enumType("mood", ["happy", "sad"]);
    const from = schemaFromModels([
      mood,
      table("guilds", { id: t.bigint().primaryKey(), name: t.varchar(100), legacy: t.text().nullable() }),
      table(
        "members",
        {
          id: t.uuid().primaryKey().defaultRandom(),
          guild_id: t.bigint().references("guilds.id"),
          nick: t.text().nullable(),
          xp: t.integer().default(0),
          feeling: mood.column().default("sad"),
          data: t.jsonb().default({}),
          seen: t.date().nullable(),
        },
        (m) => [index(m.guild_id, m.xp), check("xp_positive", sql`xp >= 0`)],
      ),
    ]);
    const mood2 = enumType("mood", ["meh", "happy", "sad", "glad"]);
    const tier = enumType("tier", ["free", "pro"]);
    const servers = table("servers", { id: t.bigint().primaryKey(), name: t.varchar(200), "Weird Name": t.text().nullable().name("Weird Name") }, undefined, { renamedFrom: "guilds" });
    const to = schemaFromModels([
      mood2,
      tier,
      servers,
      table(
        "members",
        {
          id: t.uuid().primaryKey().defaultRandom(),
          guild_id: t.bigint().references(() => servers.id, { onDelete: "cascade" }),
          nickname: t.text().nullable().renamedFrom("nick"),
          xp: t.bigint().default(10n),
          feeling: mood2.column().default("glad"),
          data: t.jsonb().default({ theme: "dark", "x-y": [1, 2] }),
          seen: t.timestamptz().nullable().defaultNow(),
          plan: tier.column().default("free"),
          joined: t.timestamp().default(new Date("2024-01-02T03:04:05.000Z")),
          avatar: t.bytea().nullable().default(new Uint8Array([0, 255])),
          tags: t.textArray().default(["a"]),
        },
        (m) => [index(m.guild_id, m.xp).where(sql`xp > 0`), unique(m.nickname), check("xp_positive", sql`xp > 0`), index(m.data).using("gin")],
      ),
      table("audit", { id: t.bigserial().primaryKey(), member_id: t.uuid().references("members.id", { onDelete: "set null" }).nullable(), at: t.timestamptz().defaultNow() }),
    ]);
    const { upgrade, downgrade } = await renderedRoundTrip(from, to, { notRenames: ["guilds.legacy"] });
    expect(upgrade).toContain(`op.renameTable("guilds", "servers");`);
    expect(upgrade).toContain(`op.renameColumn("members", "nick", "nickname");`);
    expect(upgrade).toContain(`op.addEnumValue("mood", "meh", { before: "happy" });`);
    expect(upgrade).toContain(`op.alterColumn("members", "seen", { type: t.timestamptz(), default: serverDefault.now });`);
    expect(upgrade).toContain(`op.addColumn("servers", "Weird Name", t.text().nullable());`);
    expect(upgrade).toContain(`op.addColumn("members", "joined", t.timestamp().default(new Date("2024-01-02T03:04:05.000Z")));`);
    expect(upgrade).toContain(`op.addColumn("members", "avatar", t.bytea().nullable().default(Buffer.from("00ff", "hex")));`);
    expect(downgrade).toContain(`op.renameTable("servers", "guilds");`);
    expect(downgrade).toMatch(/Removes 'meh', 'glad' from enum "mood"|Removes 'glad' from enum "mood"/);
  });

  it("an enum value removal and its downgrade", async () => {
    const make = (values: [string, ...string[]]) => schemaFromModels([enumType("mood", values), table("t", { id: t.text().primaryKey(), m: enumType("mood", values).column().default("a") })]);
    const { upgrade, downgrade } = await renderedRoundTrip(make(["a", "b", "c"]), make(["a", "c"]));
    expect(upgrade).toBe(
      [
        `op.alterColumn("t", "m", { type: t.text() });`,
        `op.dropEnum("mood");`,
        `op.createEnum("mood", ["a", "c"]);`,
        ``,
        `// DESTRUCTIVE: narrows "t"."m" from text to enum mood: rows holding other values make it fail`,
        `op.alterColumn("t", "m", { type: enumColumn("mood"), using: "m::mood" });`,
      ].join("\n"),
    );
    expect(downgrade).toContain(`op.createEnum("mood", ["a", "b", "c"]);`);
  });

  it("conventional names cut to 63 bytes with a hash are still conventional", async () => {
    const long = "a_table_with_a_really_quite_remarkably_long_name_for_testing";
    const parent = table("parents_with_long_names_too", { id: t.bigint().primaryKey() });
    const to = schemaFromModels([
      parent,
      table(
        long,
        { id: t.bigint().primaryKey(), another_long_column_name: t.text().unique(), parents_with_long_names_too_id: t.bigint().references(() => parent.id) },
        (c) => [index(c.another_long_column_name, c.id), check("another_long_column_name_not_empty", sql`another_long_column_name <> ''`)],
      ),
    ]);
    expect(to.tables[1]!.indexes[0]!.name).toMatch(/_[0-9a-f]{8}$/);
    const { upgrade } = await renderedRoundTrip(EMPTY_SCHEMA, to);
    expect(upgrade).not.toMatch(/[{,] name: "/);
    // A hashed check name does not tell its suffix back, so only the check keeps an explicit name.
    expect(upgrade.match(/\.name\(/g)).toHaveLength(1);
    expect(upgrade).toContain(`index(a.another_long_column_name, a.id),`);
  });

  it("composite foreign keys, bare unique indexes and odd names come after createTable", async () => {
    const parent = table("parent", { x: t.bigint(), y: t.text() }, (c) => [primaryKey(c.x, c.y)]);
    const to: Schema = schemaFromModels([
      parent,
      table("kid", { id: t.text().primaryKey(), x: t.bigint(), y: t.text(), "order": t.date().nullable() }, (c) => [index(c.order).where(sql`"order" IS NOT NULL`)]),
    ]);
    to.tables[1]!.foreignKeys.push({ name: "fk_kid_x_y_parent", columns: ["x", "y"], refTable: "parent", refColumns: ["x", "y"], onDelete: "cascade", onUpdate: "no action" });
    to.tables[1]!.indexes.push({ name: "uq_kid_y", elements: [{ column: "y" }], unique: true });
    to.tables[1]!.columns.push({ name: "d", type: { kind: "date" }, nullable: true, default: { kind: "now" } });
    const { upgrade } = await renderedRoundTrip(EMPTY_SCHEMA, to);
    expect(upgrade).toContain(`op.createIndex(null, "kid", ["y"], { unique: true });`);
    expect(upgrade).toContain(`op.addForeignKey(null, "kid", ["x", "y"], "parent", ["x", "y"], { onDelete: "cascade" });`);
    expect(upgrade).toContain(`d: t.date().nullable().default(sql\`now()\`),`);
  });
});

describe("rename hints", () => {
  it("parses flags", () => {
    expect(parseRenameFlag("table", "a=b")).toEqual({ from: "a", to: "b" });
    expect(parseRenameFlag("column", "members.nick=nickname")).toEqual({ table: "members", from: "nick", to: "nickname" });
    expect(parseRenameFlag("column", "members.nick=members.nickname")).toEqual({ table: "members", from: "nick", to: "nickname" });
    expect(parseRenameFlag("enumValue", "mood.sad=unhappy")).toEqual({ enum: "mood", from: "sad", to: "unhappy" });
    expect(() => parseRenameFlag("column", "nick=nickname")).toThrow(/expected table.old=new/);
    expect(() => parseRenameFlag("table", "a")).toThrow(/expected old=new/);
    expect(() => parseRenameFlag("column", "a.b=c.d")).toThrow(/same table/);
  });

  it("loads a hints file and merges sources", async () => {
    const dir = mkdtempSync(join(tmpdir(), "retort-hints-"));
    const good = join(dir, "hints.json");
    writeFileSync(good, JSON.stringify({ tables: { a: "b" }, columns: { "t.x": "y" }, notRenames: ["t.z"] }));
    expect(await loadHints(good)).toEqual({ tables: { a: "b" }, columns: { "t.x": "y" }, notRenames: ["t.z"] });
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ colums: {} }));
    await expect(loadHints(bad)).rejects.toThrow(/unknown key\(s\) "colums"/);
    writeFileSync(bad, JSON.stringify({ columns: { x: "y" } }));
    await expect(loadHints(bad)).rejects.toThrow(/must be given as "table.column"/);
    writeFileSync(bad, "{");
    await expect(loadHints(bad)).rejects.toThrow(/not valid JSON/);
    await expect(loadHints(join(dir, "missing.json"))).rejects.toThrow(/does not exist/);
    expect(mergeHints({ tables: { a: "b" } }, { tables: { a: "c" }, notRenames: ["x"] })).toEqual({ tables: { a: "c" }, columns: {}, enumValues: {}, notRenames: ["x"], using: {}, recreate: [] });
    // Type changes without a cast: a USING expression or drop-and-add, per "table.column".
    writeFileSync(good, JSON.stringify({ using: { "t.c": "NULL" }, recreate: ["t.d"] }));
    expect(await loadHints(good)).toEqual({ using: { "t.c": "NULL" }, recreate: ["t.d"] });
    writeFileSync(bad, JSON.stringify({ recreate: ["d"] }));
    await expect(loadHints(bad)).rejects.toThrow(/"recreate" must be a list of "table.column"/);
  });
});
