/**
 * The where-based controller methods compile once per query shape into a (named) prepared
 * statement: these tests check that a shape reused with other values still returns the right
 * rows, that the cache stays bounded, and that updateMany/deleteMany refuse a filter that sets no
 * condition unless told `{ all: true }`.
 */
import { expect, it, onTestFinished } from "vitest";
import * as schema from "../examples/community-bot/schema.js";
import { SHAPE_STATEMENT_LIMIT } from "../src/db/table-info.js";
import { describeBackends } from "./support/backends.js";

const GUILD = 1n;

describeBackends("query shapes", { schema }, (ctx) => {
  const m = () => ctx.db.models;
  /** user000…user009 with xp 0, 10, …, 90; every third has no nickname; user005 is an admin. */
  const seed = async () => {
    await m().guilds.create({ id: GUILD, name: "g" });
    await m().guilds.create({ id: 2n, name: "other" });
    return m().members.createMany(
      Array.from({ length: 10 }, (_, i) => ({
        guildId: GUILD,
        userId: BigInt(i + 1),
        nickname: i % 3 === 0 ? null : `user${String(i).padStart(3, "0")}`,
        xp: i * 10,
        role: i === 5 ? ("admin" as const) : ("member" as const),
      })),
      { returning: true },
    );
  };
  const userIds = (rows: Array<{ userId: bigint }>) => rows.map((r) => Number(r.userId)).sort((a, b) => a - b);

  it("one shape run with different values returns each call's rows, from one cached statement", async () => {
    await seed();
    const before = m().members.info.shapes.size;
    for (const [min, expected] of [
      [50, [6, 7, 8, 9, 10]],
      [80, [9, 10]],
      [0, [1, 2, 3]],
      [1000, []],
    ] as const) {
      const rows = await m().members.find({ where: { xp: { gte: min } }, orderBy: { userId: "asc" }, limit: 3 });
      expect(userIds(rows)).toEqual(expected.slice(0, 3));
    }
    expect(m().members.info.shapes.size).toBe(before + 1);
    // findOne and count of the same filter are shapes of their own, each reused too.
    expect((await m().members.findOne({ where: { xp: { gte: 85 } } }))?.userId).toBe(10n);
    expect((await m().members.findOne({ where: { xp: { gte: 75 } }, orderBy: { xp: "desc" } }))?.userId).toBe(10n);
    expect(await m().members.count({ xp: { gte: 50 } })).toBe(5);
    expect(await m().members.count({ xp: { gte: 95 } })).toBe(0);
    expect(m().members.info.shapes.size).toBe(before + 4);
  });

  it("null and non-null values of one field give the right rows in any order", async () => {
    await seed();
    const nickname = async (value: string | null) => userIds(await m().members.find({ where: { nickname: value } }));
    expect(await nickname("user001")).toEqual([2]);
    expect(await nickname(null)).toEqual([1, 4, 7, 10]);
    expect(await nickname("user002")).toEqual([3]);
    expect(userIds(await m().members.find({ where: { nickname: { eq: null } } }))).toEqual([1, 4, 7, 10]);
    expect(userIds(await m().members.find({ where: { nickname: { ne: null } } }))).toEqual([2, 3, 5, 6, 8, 9]);
    // ne keeps rows where the column is NULL (they are not equal to the value).
    expect(userIds(await m().members.find({ where: { nickname: { ne: "user001" } } }))).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(userIds(await m().members.find({ where: { nickname: { isNull: true } } }))).toEqual([1, 4, 7, 10]);
    expect(userIds(await m().members.find({ where: { nickname: { isNull: false }, xp: { lt: 30 } } }))).toEqual([2, 3]);
  });

  it("in-lists of every length, empty ones included, on several column types", async () => {
    const members = await seed();
    const xpIn = async (list: number[]) => userIds(await m().members.find({ where: { xp: { in: list } } }));
    expect(await xpIn([10, 20])).toEqual([2, 3]);
    expect(await xpIn([])).toEqual([]);
    expect(await xpIn([90])).toEqual([10]);
    expect(await xpIn([0, 10, 20, 30, 999])).toEqual([1, 2, 3, 4]);
    expect(await xpIn([])).toEqual([]);
    expect(await m().members.count({ xp: { notIn: [] } })).toBe(10);
    expect(await m().members.count({ xp: { notIn: [0, 10] } })).toBe(8);
    // NOT IN leaves out rows whose column is NULL, as SQL does, on every backend.
    expect(await m().members.count({ nickname: { notIn: ["user001"] } })).toBe(5);
    expect(userIds(await m().members.find({ where: { userId: { in: [3n, 4n] } } }))).toEqual([3, 4]);
    expect(userIds(await m().members.find({ where: { id: { in: [members[0]!.id, members[9]!.id] } } }))).toEqual([1, 10]);
    expect(userIds(await m().members.find({ where: { role: { in: ["admin", "owner"] } } }))).toEqual([6]);
    expect(await m().members.count({ role: { notIn: ["member"] } })).toBe(1);
    // Timestamps: values with millisecond precision, as a Date holds them.
    const expiry = (n: number) => new Date(Date.UTC(2030, 0, n, 12, 0, 0, 123));
    for (const n of [1, 2, 3]) await m().moderationCases.create({ guildId: GUILD, targetId: members[0]!.id, kind: "warn", expiresAt: expiry(n) });
    const expiring = async (list: Date[]) => (await m().moderationCases.find({ where: { expiresAt: { in: list } }, orderBy: { expiresAt: "asc" } })).map((c) => c.expiresAt);
    expect(await expiring([expiry(3), expiry(1), expiry(9)])).toEqual([expiry(1), expiry(3)]);
    expect(await expiring([expiry(2)])).toEqual([expiry(2)]);
    expect(await m().moderationCases.count({ expiresAt: { notIn: [expiry(2)] } })).toBe(2);
  });

  it("every operator and combination returns the right rows", async () => {
    await seed();
    const ids = async (where: Record<string, unknown>) => userIds(await m().members.find({ where: where as never }));
    expect(await ids({ xp: { gt: 70 } })).toEqual([9, 10]);
    expect(await ids({ xp: { gte: 70, lt: 90 } })).toEqual([8, 9]);
    expect(await ids({ xp: { lte: 10 } })).toEqual([1, 2]);
    expect(await ids({ nickname: { like: "user00%" } })).toEqual([2, 3, 5, 6, 8, 9]);
    expect(await ids({ nickname: { like: "USER%" } })).toEqual([]);
    expect(await ids({ nickname: { ilike: "USER00_" } })).toEqual([2, 3, 5, 6, 8, 9]);
    expect(await ids({ or: [{ xp: 0 }, { xp: 90 }, { nickname: "user005" }] })).toEqual([1, 6, 10]);
    expect(await ids({ and: [{ xp: { gt: 10 } }, { xp: { lt: 40 } }] })).toEqual([3, 4]);
    expect(await ids({ not: { xp: { lt: 80 } } })).toEqual([9, 10]);
    expect(await ids({ not: { or: [{ nickname: null }, { xp: { gt: 20 } }] } })).toEqual([2, 3]);
    expect(await ids({ or: [{ and: [{ xp: { gte: 10 } }, { xp: { lte: 20 } }] }, { role: "admin" }] })).toEqual([2, 3, 6]);
    expect(await ids({ xp: { gte: 10 }, or: [{ nickname: null }, { userId: 2n }] })).toEqual([2, 4, 7, 10]);
    // Conditions that are empty: no restriction for and/{}; nothing for or: [] and not: {}.
    expect(await ids({ and: [] })).toHaveLength(10);
    expect(await ids({ xp: undefined })).toHaveLength(10);
    expect(await ids({ or: [] })).toEqual([]);
    expect(await ids({ not: {} })).toEqual([]);
    expect(await ids({ or: [{}, { xp: 0 }] })).toHaveLength(10);
    // offset without limit, limit with offset, soft-delete scope in the same shapes.
    expect(userIds(await m().members.find({ orderBy: { xp: "desc" }, offset: 8 }))).toEqual([1, 2]);
    expect((await m().members.find({ orderBy: { xp: "desc" }, limit: 2, offset: 1 })).map((r) => r.xp)).toEqual([80, 70]);
    await m().members.delete((await m().members.findOne({ where: { userId: 10n } }))!.id);
    expect(await ids({ xp: { gt: 70 } })).toEqual([9]);
    expect(userIds(await m().members.withDeleted().find({ where: { xp: { gt: 70 } } }))).toEqual([9, 10]);
    expect(userIds(await m().members.onlyDeleted().find({ where: { xp: { gt: 70 } } }))).toEqual([10]);
  });

  it("query() gives a Kysely builder with the same filter and scope", async () => {
    await seed();
    const rows = await m().members.query({ xp: { in: [10, 20, 30] }, nickname: { ne: "user001" } }).select(["user_id"]).orderBy("user_id").execute();
    expect(rows.map((r) => Number(r.user_id))).toEqual([3, 4]);
    expect(await m().members.query().select(["user_id"]).execute()).toHaveLength(10);
  });

  it("paginate reuses its shapes across pages and cursors", async () => {
    await seed();
    const seen: number[] = [];
    for await (const page of m().members.pages({ limit: 3, where: { xp: { gte: 20 } }, orderBy: { xp: "desc" } })) seen.push(...page.map((r) => r.xp));
    expect(seen).toEqual([90, 80, 70, 60, 50, 40, 30, 20]);
    const offsetPage = await m().members.paginate({ page: 2, perPage: 4, where: { xp: { gte: 20 } } });
    expect(offsetPage).toMatchObject({ total: 8, page: 2, perPage: 4, pageCount: 2 });
    expect(offsetPage.items).toHaveLength(4);
  });

  it("statement names are unique across models and shapes", async () => {
    await seed();
    await m().guilds.find({ where: { id: { gte: 1n } }, limit: 5 });
    await m().members.find({ where: { id: { gte: "00000000-0000-0000-0000-000000000000" } }, limit: 5 });
    await m().guilds.count({ id: 1n });
    await m().members.count({ id: { in: [] } });
    const names = [...m().guilds.info.shapes.values(), ...m().members.info.shapes.values()];
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63);
  });

  it(`the shape cache stops naming statements at ${SHAPE_STATEMENT_LIMIT} per model and still answers`, async () => {
    await seed();
    const info = m().members.info;
    onTestFinished(() => info.shapes.clear()); // the other tests start below the limit again
    await ctx.db.transaction(async (tx) => {
      // `or` lists of growing length: a new shape each, more than the limit.
      for (let k = 1; k <= SHAPE_STATEMENT_LIMIT + 5; k++) {
        const or = Array.from({ length: k }, (_, i) => ({ userId: BigInt((i % 10) + 1) }));
        expect(await tx.models.members.count({ or })).toBe(Math.min(k, 10));
      }
      expect(info.shapes.size).toBe(SHAPE_STATEMENT_LIMIT);
      if (ctx.name === "postgres") {
        // On the server, this connection holds no more named statements than the cache.
        const { rows } = await tx.query<{ n: string }>("SELECT count(*) AS n FROM pg_prepared_statements WHERE name LIKE 'rt_members_%'");
        expect(Number(rows[0]!.n)).toBeLessThanOrEqual(SHAPE_STATEMENT_LIMIT + info.statements.size);
        const cached = new Set(info.shapes.values());
        const { rows: named } = await tx.query<{ name: string }>("SELECT name FROM pg_prepared_statements WHERE name LIKE 'rt_members_count_%'");
        expect(named.length).toBeGreaterThan(0);
        for (const { name } of named) expect(cached.has(name)).toBe(true);
      }
    });
  });

  it("a find on the Postgres server runs as a named prepared statement", async () => {
    if (ctx.name !== "postgres") return;
    await seed();
    await ctx.db.transaction(async (tx) => {
      await tx.models.members.find({ where: { guildId: GUILD, xp: { in: [10, 20] } }, orderBy: { id: "asc" }, limit: 100 });
      const text = [...m().members.info.shapes.keys()].find((sql) => sql.includes("= ANY($2)") && sql.includes("LIMIT $3"))!;
      expect(text).toContain('"guild_id" = $1');
      const { rows } = await tx.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE name = $1", [m().members.info.shapes.get(text)]);
      expect(rows.map((r) => r.statement)).toEqual([text]);
    });
  });

  // ---- the bulk-write guard -------------------------------------------------------------------

  it("updateMany and deleteMany refuse a filter that sets no condition, and change nothing", async () => {
    await seed();
    for (const where of [{}, { nickname: undefined }, { and: [] }]) {
      await expect(m().members.updateMany(where, { xp: 1 })).rejects.toMatchObject({
        code: "RETORT_INVALID_QUERY",
        message: expect.stringMatching(/^members\.updateMany\(\): the filter sets no condition \(.*\), so it would update every row of members$/),
        hint: expect.stringContaining("members.updateMany({ all: true }, values)"),
      });
      await expect(m().members.deleteMany(where)).rejects.toMatchObject({
        code: "RETORT_INVALID_QUERY",
        message: expect.stringContaining("so it would delete every row of members"),
        hint: expect.stringContaining("members.deleteMany({ all: true })"),
      });
    }
    await expect(m().members.deleteMany(undefined as never)).rejects.toMatchObject({ code: "RETORT_INVALID_QUERY" });
    await expect(m().members.updateMany({ nickname: undefined }, { xp: 1 })).rejects.toMatchObject({ message: expect.stringContaining("{ nickname: undefined }") });
    expect(await m().members.count({ xp: 1 })).toBe(0);
    expect(await m().members.count()).toBe(10);
    // `all` takes no company.
    await expect(m().members.deleteMany({ all: true, xp: 0 } as never)).rejects.toMatchObject({
      code: "RETORT_INVALID_QUERY",
      hint: expect.stringContaining("{ all: true }"),
    });
    await expect(m().members.deleteMany({ all: false } as never)).rejects.toMatchObject({ code: "RETORT_INVALID_QUERY" });
    expect(await m().members.count()).toBe(10);
  });

  it("{ all: true } updates and deletes every row in scope; a filter that matches nothing is fine", async () => {
    await seed();
    expect(await m().members.deleteMany({ or: [] })).toBe(0);
    expect(await m().members.updateMany({ all: true }, { xp: 5 })).toBe(10);
    expect(await m().members.count({ xp: 5 })).toBe(10);
    await m().members.delete((await m().members.findOne({ where: { userId: 1n } }))!.id);
    // Soft delete: every live row, the one already deleted untouched.
    expect(await m().members.deleteMany({ all: true })).toBe(9);
    expect(await m().members.count()).toBe(0);
    expect(await m().members.withDeleted().count()).toBe(10);
    expect(await m().members.onlyDeleted().deleteMany({ all: true })).toBe(10);
    expect(await m().members.withDeleted().count()).toBe(0);
    expect(await m().guilds.deleteMany({ all: true })).toBe(2);
    expect(await m().guilds.count()).toBe(0);
  });
});
