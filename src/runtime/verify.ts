/**
 * `retort verify` and `retort rehash`: the rule "never modify an applied migration", checked and,
 * when an edit is deliberate, accepted on the record. The history table keeps the checksum each
 * revision's file had when it ran; verify lists every applied revision whose file changed or
 * disappeared (doctor reports the same findings, from here); rehash records the file's new
 * checksum in a `rehashed` row with the reason, who accepted it and when, after which verify,
 * current and upgrade no longer complain about it.
 */
import { execFileSync } from "node:child_process";
import { userInfo } from "node:os";
import { dirname } from "node:path";
import { quoteLiteral } from "../dialects/sql-text.js";
import type { Connection } from "../dialects/driver.js";
import { RetortError } from "../errors.js";
import { resolveDatabaseUrl } from "../env/config.js";
import { redactUrl } from "../env/url.js";
import { appliedRevisions, resolveRevision, type RevisionGraph } from "../script/index.js";
import { familyOf } from "../schema/snapshot.js";
import { configOf, scripts, withDatabase, withMigrationContext, type CommandOptions } from "./api.js";
import { archivedRevisions, replacedBy, squashAccepts } from "./squash-archive.js";
import { readVersionState } from "./status.js";
import { HISTORY_TABLE } from "./version-table.js";

export interface AppliedFileProblem {
  revision: string;
  /** "changed": the file differs from what ran; "missing": no file defines the revision any more. */
  problem: "changed" | "missing";
  /** The file now (absent when missing). */
  file?: string;
  /** Checksum recorded when it ran (or was last rehashed). */
  recorded: string | null;
  /** Checksum of the file now. */
  current?: string;
}

/**
 * Applied revisions whose file changed since it ran, or is gone, in the order they are listed in
 * the history. A revision a squash replaced is checked against its archived file (see
 * squash-archive.ts) while there is one, and accepted once the archive is deleted. Nothing when
 * the database was never migrated.
 */
export async function appliedFileProblems(conn: Connection, graph: RevisionGraph, heads: readonly string[]): Promise<AppliedFileProblem[]> {
  let rows: Array<{ revision: string; checksum: string | null; direction: string }>;
  try {
    // The latest run (or rehash) of each revision says whether it is applied and with which file.
    ({ rows } = await conn.query(
      `SELECT revision, checksum, direction FROM ${HISTORY_TABLE} WHERE id IN (SELECT max(id) FROM ${HISTORY_TABLE} WHERE outcome IN ('applied', 'rehashed') GROUP BY revision) ORDER BY id`,
    ));
  } catch {
    return []; // never migrated: no history table
  }
  const applied = appliedRevisions(graph, heads.filter((id) => graph.has(id)));
  const squashes = replacedBy(graph);
  const problems: AppliedFileProblem[] = [];
  for (const row of rows) {
    if (row.direction !== "up") continue;
    const id = String(row.revision);
    const recorded = row.checksum === null ? null : String(row.checksum);
    const revision = graph.get(id);
    if (revision) {
      if (!applied.has(id) || recorded === null || recorded === revision.checksum || squashAccepts(revision, recorded)) continue;
      problems.push({ revision: id, problem: "changed", file: revision.path, recorded, current: revision.checksum });
      continue;
    }
    const squash = squashes.get(id);
    if (!squash) {
      problems.push({ revision: id, problem: "missing", recorded });
      continue;
    }
    // Replaced by a squash: checked against its archived file while there is one.
    const archived = archivedRevisions(dirname(squash.path)).get(id);
    if (archived && recorded !== null && recorded !== archived.checksum) problems.push({ revision: id, problem: "changed", file: archived.path, recorded, current: archived.checksum });
  }
  return problems;
}

export interface VerifyResult {
  url: string;
  heads: string[];
  problems: AppliedFileProblem[];
  ok: boolean;
}

/** `retort verify`: every applied migration whose file changed or disappeared (ok when none). Read-only. */
export async function verify(options: CommandOptions = {}): Promise<VerifyResult> {
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const url = options.database ? `open ${options.database.dialect} database` : redactUrl(resolveDatabaseUrl({ ...options, config: loaded }));
  return withDatabase(loaded, options, async (conn, dialect) => {
    const state = await readVersionState(conn, familyOf(dialect));
    const problems = await appliedFileProblems(conn, graph, state.heads);
    return { url, heads: state.heads, problems, ok: problems.length === 0 };
  });
}

/** One line per problem, for people (verify, doctor). */
export function describeProblem(problem: AppliedFileProblem): string {
  return problem.problem === "missing"
    ? `applied revision ${problem.revision} has no migration file any more`
    : `${problem.file} (${problem.revision}) changed since it was applied`;
}

/** Who accepts an edit: the git user when there is one, and the OS user. */
export function actorName(cwd: string): string {
  const git = (key: string) => {
    try {
      return execFileSync("git", ["config", key], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "";
    }
  };
  let os = process.env.USER ?? process.env.USERNAME ?? "";
  try {
    os = userInfo().username || os;
  } catch {
    // No passwd entry (some containers): keep the environment's name.
  }
  const name = git("user.name");
  const email = git("user.email");
  const gitUser = name || email ? `${name}${email ? ` <${email}>` : ""}`.trim() : "";
  return [gitUser, os ? `os:${os}` : ""].filter(Boolean).join(" ") || "unknown";
}

export interface RehashResult {
  url: string;
  revision: string;
  file: string;
  previous: string | null;
  checksum: string;
  reason: string;
  actor: string;
  at: string;
}

/**
 * `retort rehash <rev> --reason "…"`: accept the edit of an applied migration. Records the file's
 * checksum now in a `rehashed` history row with the reason, the actor and the time; the earlier
 * rows stay, so the history shows what ran and what was accepted later.
 */
export async function rehash(target: string, spec: { reason: string; actor?: string }, options: CommandOptions = {}): Promise<RehashResult> {
  const reason = spec.reason.trim();
  if (reason === "") {
    throw new RetortError("RETORT_USAGE", "retort rehash needs a reason: it is recorded with the new checksum", { hint: 'retort rehash <rev> --reason "fixed a typo in a comment"' });
  }
  const loaded = await configOf(options);
  const { graph } = scripts(loaded);
  const revision = resolveRevision(graph, target);
  if (!revision) throw new RetortError("RETORT_UNKNOWN_REVISION", `rehash needs a revision, not base`, { hint: "Name the edited revision: retort verify lists them." });
  const actor = spec.actor ?? actorName(loaded.root);
  return withMigrationContext(loaded, options, async ({ conn, executor, url }) => {
    const heads = await executor.currentHeads();
    const applied = appliedRevisions(graph, heads.filter((id) => graph.has(id)));
    const recorded = (await executor.appliedChecksums()).get(revision.revision);
    if (!applied.has(revision.revision) || recorded === undefined) {
      throw new RetortError("RETORT_USAGE", `${revision.revision} (${revision.path}) is not applied to this database, so there is no checksum to update`, {
        hint: "Rehash only accepts edits of applied revisions; a pending revision may be edited freely.",
        details: { revision: revision.revision },
      });
    }
    if (recorded === revision.checksum) {
      throw new RetortError("RETORT_USAGE", `${revision.path} (${revision.revision}) has not changed since it was applied: nothing to rehash`, { details: { revision: revision.revision } });
    }
    const at = new Date().toISOString();
    await conn.query(
      `INSERT INTO ${HISTORY_TABLE} (revision, direction, checksum, started_at, finished_at, duration_ms, outcome, steps_done, reason, actor) VALUES (` +
        [quoteLiteral(revision.revision), "'up'", quoteLiteral(revision.checksum), quoteLiteral(at), quoteLiteral(at), "0", "'rehashed'", "0", quoteLiteral(reason), quoteLiteral(actor)].join(", ") +
        ")",
    );
    return { url: redactUrl(url), revision: revision.revision, file: revision.path, previous: recorded === "" ? null : recorded, checksum: revision.checksum, reason, actor, at };
    // Only an applied revision can be rehashed: a database that is not there has none, and is not made.
  }, { mustExist: true });
}
