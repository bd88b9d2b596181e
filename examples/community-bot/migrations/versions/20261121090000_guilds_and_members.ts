import { defineMigration } from "../../../../src/index.js";
import { enumColumn, index, sql, t, unique } from "../../../../src/index.js";

export default defineMigration({
  revision: "3b1f0c9a2d10",
  parents: [],
  message: "guilds and members",
  createdAt: "2026-11-21T09:00:00.000Z",

  async upgrade(op) {
    op.createEnum("guild_role", ["owner", "admin", "member"]);
    op.createTable("guilds", {
      id: t.bigint().primaryKey(),
      name: t.varchar(100),
      settings: t.jsonb().default({}),
      created_at: t.timestamptz().defaultNow(),
      updated_at: t.timestamptz().defaultNow(),
    });
    op.createTable(
      "members",
      {
        id: t.uuid().primaryKey(),
        guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
        user_id: t.bigint(),
        nickname: t.text().nullable(),
        role: enumColumn("guild_role").default("member"),
        xp: t.integer().default(0).check("xp >= 0"),
        profile: t.jsonb().default({}),
        created_at: t.timestamptz().defaultNow(),
        updated_at: t.timestamptz().defaultNow(),
        deleted_at: t.timestamptz().nullable(),
      },
      (m) => [
        unique(m.guild_id, m.nickname).where(sql`deleted_at IS NULL`),
        unique(m.guild_id, m.user_id),
        index(m.guild_id, m.xp),
        index(sql`lower(nickname)`),
        index(m.profile).using("gin"),
      ],
    );
  },

  async downgrade(op) {
    op.dropTable("members");
    op.dropTable("guilds");
    op.dropEnum("guild_role");
  },
});
