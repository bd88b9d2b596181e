import type { Kysely } from "kysely";
import { describe, expectTypeOf, it } from "vitest";
import type { Database, DB, Insert, Row, Update } from "../src/index.js";
import * as schema from "../examples/community-bot/schema.js";
import type { GuildSettings, Profile } from "../examples/community-bot/schema.js";

type Member = Row<typeof schema.members>;

describe("model types", () => {
  it("rows carry the right value types and nullability", () => {
    expectTypeOf<Member>().toEqualTypeOf<{
      id: string;
      guildId: bigint;
      userId: bigint;
      nickname: string | null;
      role: "owner" | "admin" | "member";
      xp: number;
      profile: Profile;
      createdAt: Date;
      updatedAt: Date;
      deletedAt: Date | null;
    }>();
    expectTypeOf<Row<typeof schema.guilds>["settings"]>().toEqualTypeOf<GuildSettings>();
    expectTypeOf<Row<typeof schema.starboardEntries>["score"]>().toEqualTypeOf<string>();
    expectTypeOf<Row<typeof schema.reminders>["id"]>().toEqualTypeOf<bigint>();
    expectTypeOf<Row<typeof schema.moderationCases>["id"]>().toEqualTypeOf<number>();
  });

  it("insert requires exactly the NOT NULL columns without a default", () => {
    type Required<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];
    expectTypeOf<Required<Insert<typeof schema.members>>>().toEqualTypeOf<"guildId" | "userId">();
    expectTypeOf<Required<Insert<typeof schema.guilds>>>().toEqualTypeOf<"id" | "name">();
    expectTypeOf<Required<Insert<typeof schema.moderationCases>>>().toEqualTypeOf<"guildId" | "targetId" | "kind">();
    expectTypeOf<{ guildId: 1n; userId: 2n }>().toExtend<Insert<typeof schema.members>>();
    expectTypeOf<{ guildId: 1n }>().not.toExtend<Insert<typeof schema.members>>();
    expectTypeOf<Insert<typeof schema.members>["nickname"]>().toEqualTypeOf<string | null | undefined>();
  });

  it("update makes every column optional", () => {
    expectTypeOf<{}>().toExtend<Update<typeof schema.members>>();
    expectTypeOf<Update<typeof schema.members>["xp"]>().toEqualTypeOf<number | undefined>();
  });

  it("controllers reject unknown columns and wrong types at compile time", () => {
    const db = {} as Database<typeof schema>;
    // @ts-expect-error: "nick" is not a column
    void db.models.members.create({ guildId: 1n, userId: 1n, nick: "x" });
    // @ts-expect-error: guildId is a bigint
    void db.models.members.create({ guildId: 1, userId: 1n });
    // @ts-expect-error: not an enum value
    void db.models.members.update("id", { role: "emperor" });
    // @ts-expect-error: unknown filter column
    void db.models.members.find({ where: { nick: "x" } });
    // @ts-expect-error: filter value of the wrong type
    void db.models.members.find({ where: { xp: { gte: "10" } } });
    expectTypeOf(db.models.members.get).returns.resolves.toEqualTypeOf<Member | undefined>();
  });

  it("relations loaded with `with` are typed", () => {
    const db = {} as Database<typeof schema>;
    const guilds = db.models.guilds.find({ with: { members: { with: { cases: true } } } });
    expectTypeOf(guilds).resolves.items.toHaveProperty("members");
    type Loaded = Awaited<typeof guilds>[number];
    expectTypeOf<Loaded["members"][number]["nickname"]>().toEqualTypeOf<string | null>();
    expectTypeOf<Loaded["members"][number]["cases"][number]["kind"]>().toEqualTypeOf<"warn" | "mute" | "kick" | "ban" | "unban">();
    const cases = db.models.moderationCases.find({ with: { moderator: true } });
    type Moderator = Awaited<typeof cases>[number]["moderator"];
    expectTypeOf<null>().toExtend<Moderator>(); // one() may find nothing
    expectTypeOf<NonNullable<Moderator>>().toExtend<Member>();
    expectTypeOf<Member>().toExtend<NonNullable<Moderator>>();
    // @ts-expect-error: no such relation
    void db.models.guilds.find({ with: { nope: true } });
  });

  it("the Kysely instance is typed from the models, with database names", () => {
    const kysely = {} as Kysely<DB<typeof schema>>;
    const query = kysely.selectFrom("members").select(["guild_id", "deleted_at", "role"]);
    expectTypeOf<Awaited<ReturnType<typeof query.executeTakeFirstOrThrow>>>().toEqualTypeOf<{
      guild_id: bigint;
      deleted_at: Date | null;
      role: "owner" | "admin" | "member";
    }>();
    // @ts-expect-error: TypeScript keys are not database names
    void kysely.selectFrom("members").select(["guildId"]);
    // @ts-expect-error: enums, relations are not tables
    void kysely.selectFrom("guildRole");
    expectTypeOf<Database<typeof schema>["kysely"]>().toEqualTypeOf<Kysely<DB<typeof schema>>>();
  });
});
