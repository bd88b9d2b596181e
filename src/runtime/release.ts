/**
 * The gate of expand/contract pairs. A contract revision (`contractOf: "<expand>"`) drops what the
 * old version of the app still reads, so `upgrade` runs it only once the expand revision is
 * released: `retort release <expand>` records that the app deployed after the expand no longer
 * needs the old columns, in `retort_releases` (one row per released revision, with who and when).
 *
 * The config can open the gate instead (migrations.released: "all", a list, or a function), and
 * a database upgraded from base is never held: no app has run against its old columns.
 */
import { userInfo } from "node:os";
import type { Connection } from "../dialects/driver.js";
import { quoteLiteral } from "../dialects/sql-text.js";
import { RetortError } from "../errors.js";
import type { LoadedConfig } from "../env/config.js";
import type { SqlFamily } from "../schema/snapshot.js";
import { appliedRevisions, resolveRevision } from "../script/index.js";
import type { PlannedRevision } from "./plan.js";
import { RELEASE_TABLE } from "./version-table.js";


export function createReleaseTableSql(family: SqlFamily): string {
  const time = family === "postgres" ? "TIMESTAMPTZ" : "TEXT";
  return `CREATE TABLE IF NOT EXISTS ${RELEASE_TABLE} (revision VARCHAR(64) NOT NULL PRIMARY KEY, released_at ${time} NOT NULL, released_by TEXT)`;
}

/** Revisions recorded as released (none when the table does not exist yet). */
export async function releasedRevisions(conn: Connection, family: SqlFamily): Promise<Set<string>> {
  const exists =
    family === "postgres"
      ? `SELECT to_regclass(${quoteLiteral(RELEASE_TABLE)}) IS NOT NULL AS present`
      : `SELECT count(*) > 0 AS present FROM sqlite_master WHERE type = 'table' AND name = ${quoteLiteral(RELEASE_TABLE)}`;
  const { rows } = await conn.query(exists);
  const present = rows[0]?.present;
  if (present !== true && Number(present) !== 1) return new Set();
  const released = await conn.query(`SELECT revision FROM ${RELEASE_TABLE}`);
  return new Set(released.rows.map((row) => String(row.revision)));
}

/** Whether the config opens the gate of `expand`. */
async function releasedByConfig(loaded: LoadedConfig, expand: string): Promise<boolean> {
  const released = loaded.config.migrations?.released;
  if (released === undefined) return false;
  if (released === "all") return true;
  if (Array.isArray(released)) return released.includes(expand);
  return (await released(expand)) === true;
}

/**
 * The part of an upgrade plan that may run: everything before the first contract revision whose
 * expand is not released, and the error to raise once that part is done (undefined: all of it).
 */
export async function gateContracts(
  plan: PlannedRevision[],
  context: { loaded: LoadedConfig; conn: Connection; family: SqlFamily; startHeads: readonly string[] },
): Promise<{ plan: PlannedRevision[]; held?: RetortError }> {
  const contracts = plan.filter((revision) => revision.direction === "up" && revision.contractOf !== undefined);
  // A database upgraded from base: no app ever ran against the old columns.
  if (contracts.length === 0 || context.startHeads.length === 0) return { plan };
  const released = await releasedRevisions(context.conn, context.family);
  for (const contract of contracts) {
    const expand = contract.contractOf!;
    if (released.has(expand) || (await releasedByConfig(context.loaded, expand))) continue;
    const at = plan.indexOf(contract);
    return {
      plan: plan.slice(0, at),
      held: new RetortError(
        "RETORT_CONTRACT_NOT_RELEASED",
        `Revision ${contract.file.revision} (${contract.file.message}) is the contract of expand revision ${expand}: it drops what the app deployed before ${expand} still uses, and ${expand} is not released. The upgrade stopped before it${at > 0 ? ` (the ${at} revision(s) before it ran)` : ""}.`,
        {
          hint: `Once every running instance of the app is the version deployed after ${expand}, run \`retort release ${expand}\`, then \`retort upgrade\` again (or open the gate in the config: migrations.released).`,
          details: { contract: contract.file.revision, expand, file: contract.file.path },
        },
      ),
    };
  }
  return { plan };
}

export interface ReleaseResult {
  revision: string;
  releasedAt: string;
  releasedBy: string;
  /** false when it was released before (the first record is kept). */
  recorded: boolean;
}

/**
 * `retort release <rev>`: record the expand revision as deployed. It must be applied on the
 * database (releasing what has not run would let the contract run before its expand).
 */
export async function recordRelease(
  target: string,
  context: { loaded: LoadedConfig; conn: Connection; family: SqlFamily; graph: import("../script/index.js").RevisionGraph; heads: readonly string[] },
): Promise<ReleaseResult> {
  const revision = resolveRevision(context.graph, target);
  if (!revision) throw new RetortError("RETORT_UNKNOWN_REVISION", `release needs a revision, got ${JSON.stringify(target)} (base)`, { hint: "Name the expand revision: retort release <rev>." });
  const applied = appliedRevisions(context.graph, context.heads.filter((id) => context.graph.has(id)));
  if (!applied.has(revision.revision)) {
    throw new RetortError("RETORT_RELEASE_REFUSED", `Revision ${revision.revision} is not applied on this database (it is at ${context.heads.join(", ") || "base"}), so it cannot be released`, {
      hint: `Upgrade to it first (\`retort upgrade ${revision.revision}\`), deploy the app that uses the new columns, then release it.`,
      details: { revision: revision.revision, current: [...context.heads] },
    });
  }
  await context.conn.query(createReleaseTableSql(context.family));
  const existing = await context.conn.query(`SELECT released_at, released_by FROM ${RELEASE_TABLE} WHERE revision = ${quoteLiteral(revision.revision)}`);
  if (existing.rows[0]) {
    const row = existing.rows[0];
    return { revision: revision.revision, releasedAt: new Date(String(row.released_at instanceof Date ? row.released_at.toISOString() : row.released_at)).toISOString(), releasedBy: String(row.released_by ?? ""), recorded: false };
  }
  const releasedAt = new Date().toISOString();
  const releasedBy = releaser();
  await context.conn.query(`INSERT INTO ${RELEASE_TABLE} (revision, released_at, released_by) VALUES (${quoteLiteral(revision.revision)}, ${quoteLiteral(releasedAt)}, ${quoteLiteral(releasedBy)})`);
  return { revision: revision.revision, releasedAt, releasedBy, recorded: true };
}

/** Who runs the command: $RETORT_USER, else the OS user. */
function releaser(): string {
  if (process.env.RETORT_USER) return process.env.RETORT_USER;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}
