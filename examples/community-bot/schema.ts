/**
 * The models of a community bot (a Discord-style moderation and utility bot): guilds, their
 * members, moderation cases, text snippets, reminders and a starboard.
 */
import {
  check,
  contentId,
  enumType,
  index,
  primaryKey,
  relations,
  softDelete,
  sql,
  t,
  table,
  timestamps,
  unique,
  uuidv7,
} from "../../src/index.js";

export interface GuildSettings {
  prefix?: string;
  modLogChannelId?: string;
  starboard?: { channelId: string; threshold: number };
}

export interface Profile {
  bio?: string;
  pronouns?: string;
  links?: string[];
}

export const guildRole = enumType("guild_role", ["owner", "admin", "member"]);
export const caseKind = enumType("case_kind", ["warn", "mute", "kick", "ban", "unban"]);

export const guilds = table("guilds", {
  id: t.bigint().primaryKey(), // app-provided snowflake ids
  name: t.varchar(100),
  settings: t.jsonb<GuildSettings>().default({}),
  ...timestamps(),
});

export const members = table(
  "members",
  {
    id: t.uuid().primaryKey().defaultFn(uuidv7),
    guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),
    userId: t.bigint(),
    nickname: t.text().nullable(),
    role: guildRole.column().default("member"),
    xp: t.integer().default(0).check("xp >= 0"),
    profile: t.jsonb<Profile>().default({}),
    ...timestamps(),
    ...softDelete(),
  },
  (m) => [
    unique(m.guildId, m.nickname).where(sql`deleted_at IS NULL`), // partial unique
    unique(m.guildId, m.userId),
    index(m.guildId, m.xp), // compound
    index(sql`lower(nickname)`), // expression
    index(m.profile).using("gin"), // GIN on a jsonb column
  ],
);

export const moderationCases = table(
  "moderation_cases",
  {
    id: t.serial().primaryKey(),
    guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),
    targetId: t.uuid().references(() => members.id, { onDelete: "cascade" }),
    moderatorId: t.uuid().references(() => members.id, { onDelete: "set null" }).nullable(),
    kind: caseKind.column(),
    reason: t.text().nullable(),
    evidence: t.jsonb<{ messageIds: string[]; attachments?: string[] }>().default({ messageIds: [] }),
    expiresAt: t.timestamptz().nullable(),
    ...timestamps(),
  },
  (c) => [index(c.guildId, c.createdAt), check("expiry_after_creation", sql`expires_at IS NULL OR expires_at > created_at`)],
);

export const snippets = table(
  "snippets",
  {
    id: t.text().primaryKey().defaultFn(() => contentId("snip", uuidv7())),
    guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),
    name: t.varchar(50),
    content: t.text(),
    uses: t.integer().default(0),
    authorId: t.uuid().references(() => members.id, { onDelete: "set null" }).nullable(),
    ...timestamps(),
  },
  (s) => [unique(s.guildId, sql`lower(name)`).name("uq_snippets_guild_id_lower_name")],
);

export const reminders = table(
  "reminders",
  {
    id: t.bigserial().primaryKey(),
    memberId: t.uuid().references(() => members.id, { onDelete: "cascade" }),
    remindAt: t.timestamptz(),
    message: t.text(),
    delivered: t.boolean().default(false),
    ...timestamps(),
  },
  (r) => [index(r.remindAt).where(sql`delivered = false`)],
);

export const starboardEntries = table(
  "starboard_entries",
  {
    messageId: t.bigint(),
    guildId: t.bigint().references(() => guilds.id, { onDelete: "cascade" }),
    authorId: t.uuid().references(() => members.id, { onDelete: "cascade" }),
    stars: t.smallint().default(1),
    score: t.numeric(10, 2).default("0.00"),
    ...timestamps(),
  },
  (s) => [primaryKey(s.guildId, s.messageId), index(s.guildId, s.stars)],
  { comment: "Messages that reached the starboard threshold" },
);

export const guildRelations = relations(guilds, ({ many }) => ({
  members: many(members),
  cases: many(moderationCases),
  snippets: many(snippets),
}));

export const memberRelations = relations(members, ({ one, many }) => ({
  guild: one(guilds),
  cases: many(moderationCases, { via: moderationCases.targetId }),
  reminders: many(reminders),
}));

export const caseRelations = relations(moderationCases, ({ one }) => ({
  target: one(members, { via: moderationCases.targetId }),
  moderator: one(members, { via: moderationCases.moderatorId }),
}));
