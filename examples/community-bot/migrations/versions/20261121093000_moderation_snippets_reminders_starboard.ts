import { defineMigration } from "../../../../src/index.js";
import { check, enumColumn, index, primaryKey, sql, t, unique } from "../../../../src/index.js";

export default defineMigration({
  revision: "8e4a7d2c5f31",
  parents: ["3b1f0c9a2d10"],
  message: "moderation, snippets, reminders, starboard",
  createdAt: "2026-11-21T09:30:00.000Z",

  async upgrade(op) {
    op.createEnum("case_kind", ["warn", "mute", "kick", "ban", "unban"]);
    op.createTable(
      "moderation_cases",
      {
        id: t.serial().primaryKey(),
        guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
        target_id: t.uuid().references("members.id", { onDelete: "cascade" }),
        moderator_id: t.uuid().references("members.id", { onDelete: "set null" }).nullable(),
        kind: enumColumn("case_kind"),
        reason: t.text().nullable(),
        evidence: t.jsonb().default({ messageIds: [] }),
        expires_at: t.timestamptz().nullable(),
        created_at: t.timestamptz().defaultNow(),
        updated_at: t.timestamptz().defaultNow(),
      },
      (c) => [index(c.guild_id, c.created_at), check("expiry_after_creation", sql`expires_at IS NULL OR expires_at > created_at`)],
    );
    op.createTable(
      "snippets",
      {
        id: t.text().primaryKey(),
        guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
        name: t.varchar(50),
        content: t.text(),
        uses: t.integer().default(0),
        author_id: t.uuid().references("members.id", { onDelete: "set null" }).nullable(),
        created_at: t.timestamptz().defaultNow(),
        updated_at: t.timestamptz().defaultNow(),
      },
      (s) => [unique(s.guild_id, sql`lower(name)`).name("uq_snippets_guild_id_lower_name")],
    );
    op.createTable(
      "reminders",
      {
        id: t.bigserial().primaryKey(),
        member_id: t.uuid().references("members.id", { onDelete: "cascade" }),
        remind_at: t.timestamptz(),
        message: t.text(),
        delivered: t.boolean().default(false),
        created_at: t.timestamptz().defaultNow(),
        updated_at: t.timestamptz().defaultNow(),
      },
      (r) => [index(r.remind_at).where(sql`delivered = false`)],
    );
    op.createTable(
      "starboard_entries",
      {
        message_id: t.bigint(),
        guild_id: t.bigint().references("guilds.id", { onDelete: "cascade" }),
        author_id: t.uuid().references("members.id", { onDelete: "cascade" }),
        stars: t.smallint().default(1),
        score: t.numeric(10, 2).default("0.00"),
        created_at: t.timestamptz().defaultNow(),
        updated_at: t.timestamptz().defaultNow(),
      },
      (s) => [primaryKey(s.guild_id, s.message_id), index(s.guild_id, s.stars)],
      { comment: "Messages that reached the starboard threshold" },
    );
  },

  async downgrade(op) {
    op.dropTable("starboard_entries");
    op.dropTable("reminders");
    op.dropTable("snippets");
    op.dropTable("moderation_cases");
    op.dropEnum("case_kind");
  },
});
