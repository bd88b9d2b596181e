import { expect, it } from "vitest";
import { isRetortError, type CursorPage, type Row } from "../src/index.js";
import * as schema from "../examples/community-bot/schema.js";
import { describeBackends } from "./support/backends.js";

const GUILD = 1n;

describeBackends("controllers", { schema }, (ctx) => {
  const m = () => ctx.db.models;
  const seed = async (count: number) => {
    await m().guilds.create({ id: GUILD, name: "Retort HQ" });
    return m().members.createMany(
      Array.from({ length: count }, (_, i) => ({ guildId: GUILD, userId: BigInt(i + 1), nickname: `user${String(i).padStart(3, "0")}`, xp: i * 10 })),
      { returning: true },
    );
  };

  it("create applies server and client defaults and returns the stored row", async () => {
    const guild = await m().guilds.create({ id: GUILD, name: "g" });
    expect(guild.settings).toEqual({});
    expect(guild.createdAt).toBeInstanceOf(Date);
    const member = await m().members.create({ guildId: GUILD, userId: 1n });
    expect(member.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/); // uuidv7
    expect(member).toMatchObject({ role: "member", xp: 0, profile: {}, nickname: null, deletedAt: null });
    const snippet = await m().snippets.create({ guildId: GUILD, name: "faq", content: "…" });
    expect(snippet.id).toMatch(/^snip_[0-9a-f]{32}$/);
  });

  it("get, getOrThrow, find, findOne, count, exists", async () => {
    const members = await seed(5);
    expect(await m().members.get(members[2]!.id)).toEqual(members[2]);
    expect(await m().members.get("0190f8a2-7b3c-7d4e-8f00-000000000000")).toBeUndefined();
    await expect(m().members.getOrThrow("0190f8a2-7b3c-7d4e-8f00-000000000000")).rejects.toMatchObject({ code: "RETORT_NOT_FOUND" });
    const found = await m().members.find({ where: { xp: { gte: 20 } }, orderBy: { xp: "desc" }, limit: 2 });
    expect(found.map((r) => r.xp)).toEqual([40, 30]);
    expect((await m().members.findOne({ where: { nickname: "user001" } }))?.userId).toBe(2n);
    expect(await m().members.count({ xp: { in: [0, 10, 999] } })).toBe(2);
    expect(await m().members.count({ xp: { in: [] } })).toBe(0);
    expect(await m().members.exists({ nickname: { like: "user00%" } })).toBe(true);
    expect(await m().members.exists({ nickname: { like: "USER%" } })).toBe(false); // like is case-sensitive everywhere
    expect(await m().members.count({ nickname: { ilike: "USER%" } })).toBe(5);
    expect(await m().members.count({ or: [{ xp: 0 }, { xp: 40 }] })).toBe(2);
    expect(await m().members.count({ not: { xp: { lt: 30 } } })).toBe(2);
    expect(await m().members.count({ nickname: null })).toBe(0);
    expect(await m().members.count({ nickname: { isNull: false }, xp: { ne: 0 } })).toBe(4);
    expect((await m().members.find({ orderBy: { xp: "asc" }, offset: 3 })).map((r) => r.xp)).toEqual([30, 40]);
  });

  it("unknown columns in filters are clear errors", async () => {
    await expect(m().members.find({ where: { nick: "x" } as never })).rejects.toMatchObject({
      code: "RETORT_INVALID_QUERY",
      message: '"nick" is not a column of members',
    });
  });

  it("update sets updatedAt and returns the row; updateMany counts", async () => {
    const [first] = await seed(3);
    await new Promise((r) => setTimeout(r, 15));
    const updated = await m().members.update(first!.id, { xp: 500, nickname: "boss" });
    expect(updated).toMatchObject({ xp: 500, nickname: "boss" });
    expect(updated.updatedAt.getTime()).toBeGreaterThan(first!.updatedAt.getTime());
    expect(updated.createdAt).toEqual(first!.createdAt);
    expect(await m().members.updateMany({ xp: { lt: 100 } }, { role: "admin" })).toBe(2);
    expect(await m().members.count({ role: "admin" })).toBe(2);
    await expect(m().members.update("0190f8a2-7b3c-7d4e-8f00-000000000000", { xp: 1 })).rejects.toMatchObject({ code: "RETORT_NOT_FOUND" });
  });

  it("upsert inserts, then updates on the unique key (including a partial unique index)", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    const a = await m().members.upsert({ guildId: GUILD, userId: 9n, xp: 1 }, { on: ["guildId", "userId"], update: ["xp"] });
    const b = await m().members.upsert({ guildId: GUILD, userId: 9n, xp: 2 }, { on: ["guildId", "userId"], update: ["xp"] });
    expect(b.id).toBe(a.id);
    expect(b.xp).toBe(2);
    expect(await m().members.count()).toBe(1);
    const g = await m().guilds.upsert({ id: GUILD, name: "renamed" });
    expect(g.name).toBe("renamed");
    const s1 = await m().members.upsert({ guildId: GUILD, userId: 10n, nickname: "nick", xp: 5 }, { on: ["guildId", "nickname"], update: ["xp"] });
    const s2 = await m().members.upsert({ guildId: GUILD, userId: 11n, nickname: "nick", xp: 6 }, { on: ["guildId", "nickname"], update: ["xp"] });
    expect(s2.id).toBe(s1.id);
    expect(s2.xp).toBe(6);
  });

  it("soft delete hides rows, restore brings them back, hardDelete removes them", async () => {
    const [a, b] = await seed(2);
    const deleted = await m().members.delete(a!.id);
    expect(deleted.deletedAt).toBeInstanceOf(Date);
    expect(await m().members.get(a!.id)).toBeUndefined();
    expect(await m().members.count()).toBe(1);
    expect(await m().members.withDeleted().count()).toBe(2);
    expect((await m().members.onlyDeleted().find()).map((r) => r.id)).toEqual([a!.id]);
    await expect(m().members.delete(a!.id)).rejects.toMatchObject({ code: "RETORT_NOT_FOUND", hint: expect.stringContaining("withDeleted") });
    expect((await m().members.restore(a!.id)).deletedAt).toBeNull();
    expect(await m().members.count()).toBe(2);
    expect(await m().members.deleteMany({ userId: b!.userId })).toBe(1);
    expect(await m().members.count()).toBe(1);
    await m().members.hardDelete(b!.id);
    expect(await m().members.withDeleted().count()).toBe(1);
    // A model without softDelete() deletes for real.
    await m().reminders.create({ memberId: a!.id, remindAt: new Date(), message: "hi" });
    const [reminder] = await m().reminders.find();
    await m().reminders.delete(reminder!.id);
    expect(await m().reminders.count()).toBe(0);
  });

  it("composite primary keys address rows by object", async () => {
    const [a] = await seed(1);
    await m().starboardEntries.create({ guildId: GUILD, messageId: 100n, authorId: a!.id, score: "9.5" });
    const entry = await m().starboardEntries.get({ guildId: GUILD, messageId: 100n });
    expect(entry?.score).toBe("9.50");
    expect((await m().starboardEntries.update({ guildId: GUILD, messageId: 100n }, { stars: 3 })).stars).toBe(3);
  });

  it("keyset pagination walks every row once, in order, across equal sort values", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    await m().members.createMany(Array.from({ length: 23 }, (_, i) => ({ guildId: GUILD, userId: BigInt(i), xp: i % 4 })));
    const seen: Array<[number, string]> = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page: CursorPage<Row<typeof schema.members>> = await m().members.paginate({ limit: 5, after, orderBy: { xp: "desc" } });
      seen.push(...page.items.map((r) => [r.xp, r.id] as [number, string]));
      after = page.nextCursor;
      pages++;
    } while (after);
    expect(pages).toBe(5);
    expect(seen).toHaveLength(23);
    expect(new Set(seen.map(([, id]) => id)).size).toBe(23);
    const sorted = [...seen].sort((x, y) => y[0] - x[0] || (x[1] < y[1] ? 1 : -1));
    expect(seen).toEqual(sorted);
    const walked: string[] = [];
    for await (const items of m().members.pages({ limit: 7, orderBy: { xp: "desc" } })) walked.push(...items.map((r) => r.id));
    expect(walked).toEqual(seen.map(([, id]) => id));
    await expect(m().members.paginate({ limit: 5, after: "garbage" })).rejects.toMatchObject({ code: "RETORT_INVALID_CURSOR" });
  });

  it("offset pagination reports the total", async () => {
    await seed(12);
    const page = await m().members.paginate({ page: 3, perPage: 5, orderBy: { xp: "asc" } });
    expect(page).toMatchObject({ total: 12, page: 3, perPage: 5, pageCount: 3 });
    expect(page.items.map((r) => r.xp)).toEqual([100, 110]);
  });

  it("transactions commit, roll back, and nest with savepoints", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    await ctx.db.transaction(async (tx) => {
      await tx.models.members.create({ guildId: GUILD, userId: 1n });
      await expect(
        tx.transaction(async (inner) => {
          await inner.models.members.create({ guildId: GUILD, userId: 2n });
          throw new Error("inner fails");
        }),
      ).rejects.toThrow("inner fails");
      await tx.models.members.create({ guildId: GUILD, userId: 3n });
    });
    expect((await m().members.find({ orderBy: { userId: "asc" } })).map((r) => r.userId)).toEqual([1n, 3n]);
    await expect(
      ctx.db.transaction(async (tx) => {
        await tx.models.members.create({ guildId: GUILD, userId: 4n });
        await tx.kysely.updateTable("guilds").set({ name: "changed" }).execute();
        throw new Error("outer fails");
      }),
    ).rejects.toThrow("outer fails");
    expect(await m().members.count()).toBe(2);
    expect((await m().guilds.get(GUILD))?.name).toBe("g");
  });

  it("the Kysely instance has transactions and savepoints, any savepoint name", async () => {
    const trx = await ctx.db.kysely.startTransaction().execute();
    await trx.insertInto("guilds").values({ id: 7n, name: "kept" }).execute();
    const sp = await trx.savepoint("inner").execute(); // a reserved word: names are quoted
    await sp.insertInto("guilds").values({ id: 8n, name: "undone" }).execute();
    await sp.rollbackToSavepoint("inner").execute();
    await trx.commit().execute();
    expect((await m().guilds.find({ orderBy: { id: "asc" } })).map((g) => g.id)).toEqual([7n]);
  });

  it("validation reports every field error at once and writes nothing", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    const bad = [
      { guildId: GUILD, userId: 1n },
      { guildId: GUILD, userId: 2n, xp: 1.5, role: "emperor", nickname: 7 },
      { guildId: "1", userId: 3n, surprise: true },
    ];
    const error = await m().members.createMany(bad as never).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_VALIDATION")).toBe(true);
    const issues = (error as { details: { issues: Array<{ path: unknown[] }> } }).details.issues.map((i) => i.path.join("."));
    expect(issues.sort()).toEqual(["1.nickname", "1.role", "1.xp", "2.guildId", "2.surprise"]);
    expect((error as Error).message).toContain('must be one of "owner", "admin", "member"');
    expect(await m().members.count()).toBe(0);
    await expect(m().guilds.create({ id: 2n, name: "x".repeat(101) })).rejects.toMatchObject({
      code: "RETORT_VALIDATION",
      message: expect.stringContaining("name: must be at most 100 characters"),
    });
  });

  it("createMany bulk path inserts every row and keeps server defaults", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    const rows = Array.from({ length: 2000 }, (_, i) => ({ guildId: GUILD, userId: BigInt(i), nickname: i % 2 ? `tab\there ${i}` : null, profile: { bio: `line\nbreak ${i}` } }));
    expect(await m().members.createMany(rows)).toBe(2000);
    expect(await m().members.count()).toBe(2000);
    const one = await m().members.findOne({ where: { userId: 1n } });
    expect(one).toMatchObject({ nickname: "tab\there 1", profile: { bio: "line\nbreak 1" }, role: "member", xp: 0 });
    expect(one?.createdAt).toBeInstanceOf(Date);
  });

  it("createMany: an invalid row deep in a bulk load writes nothing and reports every problem", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    const rows: Array<Record<string, unknown>> = Array.from({ length: 30_000 }, (_, i) => ({ guildId: GUILD, userId: BigInt(i) }));
    rows[20_000] = { guildId: GUILD, userId: 20_000n, xp: "lots" };
    rows[29_999] = { guildId: GUILD };
    const error = await m().members.createMany(rows as never).catch((e: unknown) => e);
    expect(isRetortError(error, "RETORT_VALIDATION")).toBe(true);
    expect((error as { details: { issues: Array<{ path: unknown[] }> } }).details.issues.map((i) => i.path.join("."))).toEqual(["20000.xp", "29999.userId"]);
    expect(await m().members.count()).toBe(0);
    // The connection that carried the abandoned load is healthy.
    expect(await m().members.createMany([{ guildId: GUILD, userId: 1n }])).toBe(1);
  });

  it("createMany: rows giving different columns keep their server defaults", async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    const count = await m().members.createMany([
      { guildId: GUILD, userId: 1n },
      { guildId: GUILD, userId: 2n, xp: 50, role: "admin" },
      { guildId: GUILD, userId: 3n },
    ]);
    expect(count).toBe(3);
    const rows = await m().members.find({ orderBy: { userId: "asc" } });
    expect(rows.map((r) => [r.userId, r.xp, r.role])).toEqual([[1n, 0, "member"], [2n, 50, "admin"], [3n, 0, "member"]]);
  });

  it("loads relations in batches: one query per relation level, no N+1", async () => {
    await m().guilds.createMany([{ id: 1n, name: "a" }, { id: 2n, name: "b" }, { id: 3n, name: "empty" }]);
    const members = await m().members.createMany(
      Array.from({ length: 30 }, (_, i) => ({ guildId: BigInt((i % 2) + 1), userId: BigInt(i) })),
      { returning: true },
    );
    for (const member of members.slice(0, 10)) await m().moderationCases.create({ guildId: member.guildId, targetId: member.id, kind: "warn" });
    ctx.queries.length = 0;
    const guilds = await m().guilds.find({ orderBy: { id: "asc" }, with: { members: { with: { cases: true } } } });
    expect(ctx.queries).toHaveLength(3); // guilds, members, cases
    expect(guilds.map((g) => g.members.length)).toEqual([15, 15, 0]);
    expect(guilds.flatMap((g) => g.members).reduce((n, mem) => n + mem.cases.length, 0)).toBe(10);
    ctx.queries.length = 0;
    const cases = await m().moderationCases.find({ with: { target: { with: { guild: true } }, moderator: true } });
    // cases, their targets, the targets' guilds; every moderator is null, so that level needs no query.
    expect(ctx.queries).toHaveLength(3);
    expect(cases.every((c) => c.target?.guild?.id === c.guildId)).toBe(true);
    expect(cases.every((c) => c.moderator === null)).toBe(true);
  });
});
