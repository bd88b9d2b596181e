/**
 * Reading where a database stands without the migration lock and without creating anything:
 * what `current` (and `history --indicate-current`, `drift`, `check --url`) need while another
 * process may be migrating. Only committed rows are seen, so a revision running inside its
 * transaction shows as the lock holder, not as a row; one that records progress as it goes
 * (steps outside a transaction) shows its "running" row with the steps done so far.
 */
import type { Connection } from "../dialects/driver.js";
import type { SqlFamily } from "../schema/snapshot.js";
import { checksumListDigest } from "../script/index.js";
import { quoteLiteral } from "../dialects/sql-text.js";
import { HISTORY_TABLE, VERSION_TABLE } from "./version-table.js";
import type { DigestMemo } from "./digest-memo.js";

export interface UnfinishedRevision {
  revision: string;
  direction: "up" | "down";
  /** "running": in progress now, or stopped by a crash; "failed": stopped by an error after some steps committed. */
  outcome: "running" | "failed";
  /** Steps committed so far: a rerun resumes after them. */
  stepsDone: number;
  /** Steps in the revision when it ran (absent for rows an older Retort wrote). */
  totalSteps: number | undefined;
  startedAt: string;
}

export interface VersionState {
  /** False when Retort never migrated this database (no version table): it is at base. */
  initialized: boolean;
  heads: string[];
  unfinished: UnfinishedRevision[];
}

async function tablesExist(conn: Connection, family: SqlFamily): Promise<boolean> {
  if (family === "postgres") {
    const { rows } = await conn.query<{ found: boolean }>(`SELECT to_regclass('${VERSION_TABLE}') IS NOT NULL AND to_regclass('${HISTORY_TABLE}') IS NOT NULL AS found`);
    return rows[0]?.found === true;
  }
  const { rows } = await conn.query<{ n: number }>(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('${VERSION_TABLE}', '${HISTORY_TABLE}')`);
  return Number(rows[0]?.n) === 2;
}

/** A run that committed some of its steps and not the rest (a resumed run starts after them). */
export const STOPPED_PART_WAY = `outcome <> 'applied' AND steps_done > 0`;

/** A run that ended without finishing: still running (or killed), or failed after committing steps. */
const UNFINISHED = `outcome = 'running' OR (${STOPPED_PART_WAY})`;

/**
 * The history rows matching `condition` that are the last of their revision and direction (the
 * last row tells how the latest run ended), in id order, with `id, revision, direction` and
 * `columns`. Such rows are rare, and a plain scan finds them: grouping the whole table to find
 * every revision's last row sorts it (10–20 ms at 10,000 rows, on every no-op). Whether each is
 * the last is then asked for their revisions alone. Not one correlated query: with the table's
 * default statistics, Postgres costs that form high enough to JIT-compile it (~170 ms).
 */
export async function latestRowsWhere<Row extends Record<string, unknown>>(query: (sql: string) => Promise<{ rows: Row[] }>, columns: string, condition: string): Promise<Row[]> {
  const candidates = (await query(`SELECT id, revision, direction, ${columns} FROM ${HISTORY_TABLE} WHERE ${condition} ORDER BY id`)).rows;
  if (candidates.length === 0) return [];
  const revisions = [...new Set(candidates.map((row) => String(row.revision)))];
  const { rows } = await query(`SELECT revision, direction, max(id) AS latest FROM ${HISTORY_TABLE} WHERE revision IN (${revisions.map(quoteLiteral).join(", ")}) GROUP BY revision, direction`);
  // ids compared as text: a Postgres bigint arrives as a string, a SQLite integer as a number.
  const last = new Set(rows.map((row) => `${String(row.revision)}\n${String(row.direction)}\n${String(row.latest)}`));
  return candidates.filter((row) => last.has(`${String(row.revision)}\n${String(row.direction)}\n${String(row.id)}`));
}

export async function readVersionState(conn: Connection, family: SqlFamily): Promise<VersionState> {
  if (!(await tablesExist(conn, family))) return { initialized: false, heads: [], unfinished: [] };
  const heads = (await conn.query<{ version_num: string }>(`SELECT version_num FROM ${VERSION_TABLE}`)).rows.map((row) => String(row.version_num)).sort();
  // steps_total came later: a history table written by an older Retort lacks it (and a read creates nothing).
  type Row = { revision: string; direction: string; outcome: string; steps_done: number; steps_total: number | null; started_at: unknown };
  const read = (total: string) => latestRowsWhere<Row>((sql) => conn.query<Row>(sql), `outcome, steps_done, ${total} AS steps_total, started_at`, UNFINISHED);
  const rows = await read("steps_total").catch(() => read("NULL"));
  const unfinished = rows.map((row) => ({
    revision: String(row.revision),
    direction: row.direction === "down" ? ("down" as const) : ("up" as const),
    stepsDone: Number(row.steps_done),
    totalSteps: row.steps_total === null || row.steps_total === undefined ? undefined : Number(row.steps_total),
    outcome: row.outcome === "running" ? ("running" as const) : ("failed" as const),
    startedAt: row.started_at instanceof Date ? row.started_at.toISOString() : String(row.started_at),
  }));
  return { initialized: true, heads, unfinished };
}

/**
 * The latest checksum per revision applied upward (or rehashed) as "<revision> <checksum>" lines
 * sorted by revision, aggregated by the database into one text value: at 10,000 revisions one
 * value costs a fraction of 10,000 rows. How it picks the latest row is each engine's cheapest
 * form (measured at 10,000 rows: a third of `id IN (SELECT max(id) … GROUP BY revision)`):
 * Postgres sorts once for DISTINCT ON; SQLite gives the bare columns of a max() aggregate from the
 * row holding the max. Sorted by bytes (COLLATE "C"; SQLite's default), as JavaScript sorts
 * ASCII ids. The aggregate takes the rows in the subquery's order (on Postgres a second sort
 * inside it cost half the query again; SQLite before 3.44 has no ORDER BY in group_concat); were
 * that order ever not kept, only the digest's shortcut would be missed.
 */
function checksumListSql(family: SqlFamily): string {
  const applied = `direction = 'up' AND outcome IN ('applied', 'rehashed')`;
  return family === "postgres"
    ? `SELECT string_agg(revision || ' ' || coalesce(checksum, ''), chr(10))
       FROM (SELECT DISTINCT ON (revision COLLATE "C") revision, checksum FROM ${HISTORY_TABLE} WHERE ${applied} ORDER BY revision COLLATE "C", id DESC) AS latest`
    : `SELECT group_concat(revision || ' ' || coalesce(checksum, ''), char(10))
       FROM (SELECT revision, checksum, max(id) FROM ${HISTORY_TABLE} WHERE ${applied} GROUP BY revision ORDER BY revision)`;
}

/** The checksum list as one text ("" when nothing was applied). */
async function readChecksumList(conn: Connection, family: SqlFamily): Promise<string> {
  const { rows } = await conn.query<{ list: unknown }>(`SELECT (${checksumListSql(family)}) AS list`);
  const list = rows[0]?.list;
  return typeof list === "string" ? list : "";
}

/** The checksum each applied revision's file had when it last ran upward, or was last rehashed (to notice edited files). */
export async function readAppliedChecksums(conn: Connection, family: SqlFamily): Promise<Map<string, string>> {
  return (await readAppliedChecksumList(conn, family)).checksums;
}

/** The same checksums, with the list they were read from (checksumListDigest(list) is the database's digest). */
export async function readAppliedChecksumList(conn: Connection, family: SqlFamily): Promise<{ checksums: Map<string, string>; list: string }> {
  const list = await readChecksumList(conn, family);
  const checksums = new Map<string, string>();
  if (list === "") return { checksums, list };
  for (const line of list.split("\n")) {
    const space = line.lastIndexOf(" ");
    checksums.set(line.slice(0, space), line.slice(space + 1));
  }
  return { checksums, list };
}

/**
 * Postgres family: the history table's rows as one text: their count, the last id, and the sum of
 * a 64-bit hash of each row's id and of the columns the checksum list reads (revision, direction,
 * outcome, checksum; all in the table's first release, so an older Retort's table has them).
 * Equal fingerprints mean the same rows as far as the list goes (a hash sum colliding aside, with
 * count and last id equal too), so the same digest: a scan and a hash per row, without the digest's sort and text aggregation
 * (4 ms against 20 ms at 10,000 rows). hashtextextended is Postgres 11 and later; a server that
 * hashed differently would only miss the memo.
 */
const HISTORY_FINGERPRINT_SQL = `SELECT count(*) || ' ' || coalesce(max(id), 0) || ' ' || coalesce(sum(hashtextextended(
    id || ' ' || revision || ' ' || direction || ' ' || outcome || ' ' || coalesce(checksum, '-'), 0)), 0)
  FROM ${HISTORY_TABLE}`;

/**
 * checksumListDigest of the same list: equal to the cached graph summary's when every revision
 * ran with the checksum its file has now. A server hashes it itself, so the list (~80 bytes per
 * revision) never crosses the network; with a memo, a history fingerprinted before is not hashed
 * again (see HISTORY_FINGERPRINT_SQL).
 */
export async function readAppliedChecksumDigest(conn: Connection, family: SqlFamily, memo?: DigestMemo): Promise<string> {
  if (family === "postgres") {
    const digestSql = `encode(sha256(convert_to(coalesce((${checksumListSql(family)}), ''), 'UTF8')), 'hex')`;
    if (!memo) {
      const { rows } = await conn.query<{ digest: string }>(`SELECT ${digestSql} AS digest`);
      return String(rows[0]?.digest);
    }
    const seen = memo.get(String((await conn.query<{ fingerprint: string }>(`SELECT (${HISTORY_FINGERPRINT_SQL}) AS fingerprint`)).rows[0]?.fingerprint));
    if (seen !== undefined) return seen;
    // Both from one snapshot, so the digest remembered is the one of the rows fingerprinted.
    const { rows } = await conn.query<{ fingerprint: string; digest: string }>(`SELECT (${HISTORY_FINGERPRINT_SQL}) AS fingerprint, ${digestSql} AS digest`);
    const digest = String(rows[0]?.digest);
    memo.remember(String(rows[0]?.fingerprint), digest);
    return digest;
  }
  return checksumListDigest(await readChecksumList(conn, family));
}
