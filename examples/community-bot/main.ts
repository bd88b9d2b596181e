/**
 * `npm run demo`: the community bot's data layer end to end, on embedded Postgres (PGlite, in
 * memory) unless DATABASE_URL names another database (postgres://…, pglite:<dir>, sqlite:<file>).
 * Applies the migrations, inserts, queries with relations, paginates, soft-deletes, and prints
 * what it did.
 */
import { fileURLToPath } from "node:url";
import { connect, current, dropAll, isRetortError, loadConfig, redactUrl, revisionGraph, upgrade } from "../../src/index.js";
import * as schema from "./schema.js";

// A user error (a missing or unreachable database, say) is reported as the CLI reports it:
// what went wrong and what to do, no stack trace. Anything else is a bug and shows its stack.
process.on("uncaughtException", (error) => {
  console.error(isRetortError(error) ? `error ${error.code}: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ""}` : error);
  process.exit(1);
});

const url = process.env.DATABASE_URL ?? "pglite:memory";
const started = performance.now();
let statements = 0;
const say = (line: string) => console.log(line);

const db = await connect(url, { schema, onQuery: () => statements++ });
try {
  say(`Retort demo on ${redactUrl(url)} (${db.dialect})`);

  if (db.target.dialect !== "pglite" || db.target.dataDir !== undefined) {
    // A database that outlives the demo: start it from scratch each run.
    await dropAll(db);
    await db.query("DROP TABLE IF EXISTS retort_version");
    await db.query("DROP TABLE IF EXISTS retort_migrations");
  }
  // The app migrates through its own connection at startup (the only way into an in-memory database).
  const config = await loadConfig(fileURLToPath(new URL("./retort.config.ts", import.meta.url)));
  const migrated = await upgrade("head", { config, database: db });
  say(`• migrations: applied ${migrated.revisions.length} revisions (${migrated.from.join(", ") || "base"} -> ${migrated.to.join(", ")}): ${db.schema.tables.length} tables, ${db.schema.enums.length} enums`);
  for (const head of (await current({ config, database: db })).heads) say(`• current: ${head.revision}${head.isHead ? " (head)" : ""} ${head.message}`);
  for (const revision of (await revisionGraph({ config })).history()) {
    say(`• history: ${revision.parents.join(", ") || "<base>"} -> ${revision.revision}, ${revision.message}`);
  }

  const { guilds, members, moderationCases, snippets, reminders, starboardEntries } = db.models;
  const hq = await guilds.create({ id: 1_178_923_456_789_012_345n, name: "Retort HQ", settings: { prefix: "!", starboard: { channelId: "42", threshold: 3 } } });
  const lab = await guilds.create({ id: 1_178_923_456_789_012_346n, name: "The Lab" });
  say(`• guilds: ${hq.name} (id ${hq.id}, past 2^53 and exact), ${lab.name}`);

  const names = ["ada", "grace", "linus", "margaret", "ken", "barbara", "dennis", "radia", "edsger", "frances", "alan", "donald"];
  const count = await members.createMany(
    names.map((nickname, i) => ({ guildId: i % 3 === 2 ? lab.id : hq.id, userId: BigInt(1000 + i), nickname, xp: (i * 37) % 100, role: i === 0 ? "owner" : "member" })),
  );
  say(`• members: ${count} inserted in one bulk load`);

  const ada = (await members.findOne({ where: { nickname: "ada" } }))!;
  const ken = (await members.findOne({ where: { nickname: { ilike: "KEN" } } }))!;
  await moderationCases.create({ guildId: hq.id, targetId: ken.id, moderatorId: ada.id, kind: "warn", reason: "spam", evidence: { messageIds: ["9001", "9002"] } });
  await moderationCases.create({ guildId: hq.id, targetId: ken.id, moderatorId: ada.id, kind: "mute", expiresAt: new Date(Date.now() + 3_600_000) });
  await snippets.create({ guildId: hq.id, name: "Rules", content: "Be kind.", authorId: ada.id });
  await reminders.create({ memberId: ada.id, remindAt: new Date(Date.now() + 86_400_000), message: "Ship the release" });
  await starboardEntries.create({ guildId: hq.id, messageId: 555n, authorId: ken.id, stars: 4, score: "4.75" });
  say(`• moderation: 2 cases against ${ken.nickname}; snippet "Rules"; a reminder; a starboard entry`);

  try {
    await snippets.create({ guildId: hq.id, name: "RULES", content: "dup" });
  } catch (error) {
    if (!isRetortError(error, "RETORT_UNIQUE_VIOLATION")) throw error;
    say(`• duplicate snippet refused: ${error.code} on ${error.details.constraint} (names are unique per guild, case-insensitively)`);
  }
  try {
    await members.create({ guildId: hq.id, userId: 1 as never, nickname: 42 as never, role: "king" as never });
  } catch (error) {
    if (!isRetortError(error, "RETORT_VALIDATION")) throw error;
    const issues = error.details.issues as Array<{ path: string[] }>;
    say(`• invalid member refused before any SQL, ${issues.length} problems reported at once: ${issues.map((i) => i.path.join(".")).join(", ")}`);
  }

  const loaded = await guilds.find({ orderBy: { name: "asc" }, with: { members: { orderBy: { xp: "desc" }, with: { cases: true } } } });
  for (const guild of loaded) {
    const top = guild.members[0];
    say(`• ${guild.name}: ${guild.members.length} members, top ${top?.nickname} (${top?.xp} xp), ${guild.members.reduce((n, m) => n + m.cases.length, 0)} cases`);
  }

  let page = 0;
  for await (const items of members.pages({ limit: 5, orderBy: { xp: "desc" } })) {
    say(`• leaderboard page ${++page} (keyset cursor): ${items.map((m) => `${m.nickname}:${m.xp}`).join(", ")}`);
  }

  await members.update(ken.id, { xp: 99, profile: { bio: "reformed" } });
  await members.delete(ken.id);
  const live = await members.count();
  const all = await members.withDeleted().count();
  say(`• soft-deleted ${ken.nickname}: ${live} live members, ${all} including deleted`);
  await members.restore(ken.id);
  say(`• restored ${ken.nickname}: ${await members.count()} live members`);

  const offset = await members.paginate({ page: 2, perPage: 5, orderBy: { nickname: "asc" } });
  say(`• page 2 of ${offset.pageCount} by name (${offset.total} total): ${offset.items.map((m) => m.nickname).join(", ")}`);

  const raw = await db.kysely
    .selectFrom("moderation_cases")
    .select(["kind", db.kysely.fn.countAll<bigint>().as("n")])
    .groupBy("kind")
    .orderBy("kind")
    .execute();
  say(`• typed Kysely query: cases by kind ${raw.map((r) => `${r.kind}=${r.n}`).join(", ")}`);

  say(`Done: ${statements} SQL statements in ${Math.round(performance.now() - started)} ms.`);
} finally {
  await db.close();
}
