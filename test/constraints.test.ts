import { expect, it } from "vitest";
import { isRetortError, type RetortError } from "../src/index.js";
import * as schema from "../examples/community-bot/schema.js";
import { describeBackends } from "./support/backends.js";

async function violation(promise: Promise<unknown>): Promise<RetortError> {
  try {
    await promise;
  } catch (error) {
    if (isRetortError(error)) return error;
    throw error;
  }
  throw new Error("expected a constraint violation, but the write succeeded");
}

describeBackends("constraints are enforced by the database and mapped", { schema }, (ctx) => {
  const guild = () => ctx.db.models.guilds.create({ id: 1n, name: "g" });

  it("unique constraint → RETORT_UNIQUE_VIOLATION with constraint and columns", async () => {
    await guild();
    await ctx.db.models.members.create({ guildId: 1n, userId: 7n });
    const error = await violation(ctx.db.models.members.create({ guildId: 1n, userId: 7n }));
    expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
    expect(error.details).toMatchObject({ table: "members", constraint: "uq_members_guild_id_user_id", columns: ["guild_id", "user_id"] });
    expect(error.message).toContain("uq_members_guild_id_user_id");
  });

  it("primary key → RETORT_UNIQUE_VIOLATION naming pk_<table>", async () => {
    await guild();
    const error = await violation(guild());
    expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
    expect(error.details).toMatchObject({ table: "guilds", constraint: "pk_guilds", columns: ["id"] });
  });

  it("partial unique index applies only to live rows", async () => {
    await guild();
    const ada = await ctx.db.models.members.create({ guildId: 1n, userId: 1n, nickname: "ada" });
    const error = await violation(ctx.db.models.members.create({ guildId: 1n, userId: 2n, nickname: "ada" }));
    expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
    expect(error.details.constraint).toBe("uq_members_guild_id_nickname");
    await ctx.db.models.members.delete(ada.id); // soft delete frees the nickname
    await expect(ctx.db.models.members.create({ guildId: 1n, userId: 2n, nickname: "ada" })).resolves.toMatchObject({ nickname: "ada" });
  });

  it("expression unique index (lower(name)) is case-insensitive", async () => {
    await guild();
    await ctx.db.models.snippets.create({ guildId: 1n, name: "Rules", content: "be nice" });
    const error = await violation(ctx.db.models.snippets.create({ guildId: 1n, name: "RULES", content: "x" }));
    expect(error.code).toBe("RETORT_UNIQUE_VIOLATION");
    expect(error.details.constraint).toBe("uq_snippets_guild_id_lower_name");
  });

  it("foreign key → RETORT_FOREIGN_KEY_VIOLATION", async () => {
    const error = await violation(ctx.db.models.members.create({ guildId: 404n, userId: 1n }));
    expect(error.code).toBe("RETORT_FOREIGN_KEY_VIOLATION");
    expect(error.hint).toBeTruthy();
  });

  it("not null → RETORT_NOT_NULL_VIOLATION naming the column", async () => {
    // Validation catches nulls first, so go around it with Kysely to reach the database itself.
    const error = await violation(ctx.db.kysely.insertInto("guilds").values({ id: 2n, name: null as never }).execute());
    expect(error.code).toBe("RETORT_NOT_NULL_VIOLATION");
    expect(error.details).toMatchObject({ table: "guilds", column: "name" });
  });

  it("check constraint → RETORT_CHECK_VIOLATION naming ck_<table>_<name>", async () => {
    await guild();
    const error = await violation(ctx.db.kysely.insertInto("members").values({ id: "0190f8a2-7b3c-7d4e-8f00-123456789abc", guild_id: 1n, user_id: 1n, xp: -5 }).execute());
    expect(error.code).toBe("RETORT_CHECK_VIOLATION");
    expect(error.details.constraint).toBe("ck_members_xp");
  });

  it("enum membership is enforced by the database too", async () => {
    await guild();
    const insert = ctx.db.kysely
      .insertInto("members")
      .values({ id: "0190f8a2-7b3c-7d4e-8f00-123456789abd", guild_id: 1n, user_id: 1n, role: "emperor" as never })
      .execute();
    if (ctx.name === "sqlite") {
      // SQLite has no enum type: a CHECK constraint stands in for it.
      const error = await violation(insert);
      expect(error.code).toBe("RETORT_CHECK_VIOLATION");
    } else {
      await expect(insert).rejects.toThrow(/invalid input value for enum guild_role: "emperor"/);
    }
  });

  it("ON DELETE CASCADE removes children", async () => {
    await guild();
    const m = await ctx.db.models.members.create({ guildId: 1n, userId: 1n });
    await ctx.db.models.moderationCases.create({ guildId: 1n, targetId: m.id, kind: "warn" });
    await ctx.db.models.guilds.hardDelete(1n);
    expect(await ctx.db.models.members.withDeleted().count()).toBe(0);
    expect(await ctx.db.models.moderationCases.count()).toBe(0);
  });
});
