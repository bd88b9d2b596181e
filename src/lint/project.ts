/**
 * `retort lint [range] [--url]` as a library function: which revisions to lint, the project's
 * `lint` settings, and with a database its statistics, pending revisions and applied checksums.
 *
 * The revisions:
 * - `<from>:<to>`: what `<to>` adds to `<from>` (the revisions after `<from>` up to `<to>`, as a
 *   pull request's base and head); `base:<to>` is everything up to `<to>`. Tables created
 *   anywhere in the range count as new: the range is deployed together.
 * - one revision (id, prefix, label, head): that revision alone.
 * - nothing: every revision, each judged on its own; with a database, the pending ones.
 *
 * The history table belongs to the runtime, which sits above this folder: a caller with a
 * database passes how to read it (`history`), as the CLI does.
 */
import { existsSync } from "node:fs";
import type { Connection } from "../dialects/driver.js";
import { openDriver } from "../dialects/open.js";
import { loadConfig, migrationsDirectory, resolveDatabaseUrl, type LoadedConfig } from "../env/config.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError, didYouMean } from "../errors.js";
import { EMPTY_SCHEMA, familyOf, type SqlFamily } from "../schema/snapshot.js";
import { RevisionGraph, assertLinear, loadScriptDirectory, resolveTarget, upgradePlan, type Revision } from "../script/index.js";
import { DEFAULT_LONG_TRANSACTION_SECONDS, readLiveFacts, readServerVersion } from "./live.js";
import { lintRevisions, type LintReport } from "./lint.js";
import { RULES, ruleById } from "./rules.js";
import type { LintSettings } from "./types.js";

/** How to read what the runtime recorded in the database (its version and history tables). */
export interface HistoryReader {
  /**
   * The revisions the database is at and the checksum each applied revision's file had when it
   * ran (both empty when it was never migrated).
   */
  read(conn: Connection, family: SqlFamily): Promise<{ heads: string[]; appliedChecksums: Map<string, string> }>;
}

export interface LintProjectOptions {
  /** A loaded config, or the config file to load (default: retort.config.* in cwd). */
  config?: LoadedConfig | string;
  cwd?: string;
  /** A revision, or a `<from>:<to>` range. */
  range?: string;
  /** Read statistics, pending revisions and checksums from this database (Postgres). */
  url?: string;
  env?: string;
  /** Required with `url`. */
  history?: HistoryReader;
  /** Overrides the config's lint.postgresVersion. */
  postgresVersion?: number;
}

export interface ProjectLintReport extends LintReport {
  /** The revisions linted, in order. */
  revisions: string[];
  /** The database the statistics came from (password hidden). */
  database?: { url: string; serverVersion: number; pending: boolean };
}

export async function lintProject(options: LintProjectOptions = {}): Promise<ProjectLintReport> {
  const loaded = typeof options.config === "object" ? options.config : await loadConfig(options.config, options.cwd);
  const dir = migrationsDirectory(loaded);
  if (!existsSync(dir)) {
    throw new RetortError("RETORT_CONFIG", `No migrations folder ${dir}: nothing to lint.`, { hint: "Run `retort init`, or point --config at the project's config.", details: { folder: dir } });
  }
  const graph = new RevisionGraph(loadScriptDirectory(dir).revisions);
  // migrations.linear: a second head is refused here as in revision, merge and upgrade.
  if (loaded.config.migrations?.linear) assertLinear(graph, "lint");
  const settings: LintSettings = { ...loaded.config.lint, ...(options.postgresVersion !== undefined ? { postgresVersion: options.postgresVersion } : {}) };
  refuseUnknownRules(settings);
  const selected = selectRevisions(graph, options.range);
  const wholeRunTransaction = loaded.config.migrations?.transaction === "all";
  if (!options.url) {
    const report = await lintRevisions(selected.revisions, { settings, rangeScope: selected.rangeScope, root: loaded.root, context: contextOf(graph, selected.revisions), wholeRunTransaction });
    return { ...report, revisions: selected.revisions.map((r) => r.revision) };
  }

  const target = parseDatabaseUrl(resolveDatabaseUrl({ url: options.url, ...(options.env ? { env: options.env } : {}), config: loaded }));
  if (familyOf(target.dialect) !== "postgres" || target.dialect === "pglite") {
    throw new RetortError("RETORT_UNSUPPORTED", `retort lint --url reads Postgres statistics; ${redactUrl(options.url)} is ${target.dialect}`, { hint: "Point --url at the Postgres server the migrations will run on (a replica or a copy will do)." });
  }
  if (!options.history) throw new Error("lintProject: a HistoryReader is needed with url");
  const driver = await openDriver(target, EMPTY_SCHEMA, { mustExist: true, poolSize: 1 });
  try {
    const conn = await driver.acquire();
    try {
      const history = await options.history.read(conn, "postgres");
      const heads = history.heads.filter((id) => graph.has(id));
      const applied = history.appliedChecksums;
      // Without a range: the pending revisions, deployed together.
      const chosen = options.range === undefined || options.range.trim() === "" ? { revisions: upgradePlan(graph, heads, "heads"), rangeScope: true } : selected;
      // Applied revisions are checked for edits whatever the range.
      const appliedEdited = [...applied.keys()].filter((id) => graph.has(id) && !chosen.revisions.some((r) => r.revision === id) && applied.get(id) !== graph.require(id).checksum).map((id) => graph.require(id));
      const serverVersion = await readServerVersion(conn);
      const live = {
        serverVersion,
        read: (tables: string[], indexes: string[]) => readLiveFacts(conn, tables, { schema: loaded.config.schemas?.[0] ?? "public", longTransactionSeconds: settings.longTransactionSeconds ?? DEFAULT_LONG_TRANSACTION_SECONDS, indexes }),
      };
      const report = await lintRevisions(chosen.revisions, { settings, rangeScope: chosen.rangeScope, root: loaded.root, live, appliedChecksums: applied, context: contextOf(graph, chosen.revisions), wholeRunTransaction });
      // Applied revisions outside the range are reported for their edit only: what they do has run.
      const edited = appliedEdited.length === 0 ? undefined : await lintRevisions(graph.sortTopologically(appliedEdited.map((r) => r.revision)), { settings, root: loaded.root, appliedChecksums: applied });
      const findings = [...(edited?.findings.filter((f) => f.rule === "edited-after-applied") ?? []), ...report.findings];
      return {
        ...report,
        findings,
        errors: findings.filter((f) => f.severity === "error").length,
        warnings: findings.filter((f) => f.severity === "warning").length,
        revisions: chosen.revisions.map((r) => r.revision),
        database: { url: redactUrl(options.url), serverVersion, pending: chosen !== selected },
      };
    } finally {
      conn.release();
    }
  } finally {
    await driver.close();
  }
}

/** The revisions before the linted ones, in order: what the database already has when they run. */
function contextOf(graph: RevisionGraph, revisions: readonly Revision[]): Revision[] {
  const linted = new Set(revisions.map((r) => r.revision));
  return graph.sortTopologically([...graph.ancestors(linted)].filter((id) => !linted.has(id)));
}

function selectRevisions(graph: RevisionGraph, range: string | undefined): { revisions: Revision[]; rangeScope: boolean } {
  const inOrder = (ids: Iterable<string>) => graph.sortTopologically(ids);
  if (range === undefined || range.trim() === "") return { revisions: inOrder(graph.revisions.map((r) => r.revision)), rangeScope: false };
  const colon = range.indexOf(":");
  if (colon === -1) return { revisions: resolveTarget(graph, range.trim(), []), rangeScope: false };
  const fromText = range.slice(0, colon).trim();
  const toText = range.slice(colon + 1).trim();
  const to = toText === "" ? [...graph.heads] : resolveTarget(graph, toText, []);
  const from = fromText === "" || fromText === "base" ? [] : resolveTarget(graph, fromText, []);
  const upper = graph.ancestors(to.map((r) => r.revision));
  const lower = from.length ? graph.ancestors(from.map((r) => r.revision)) : new Set<string>();
  return { revisions: inOrder([...upper].filter((id) => !lower.has(id))), rangeScope: true };
}

/** lint.rules naming no rule (a typo) would leave the rule meant at its default without a word. */
function refuseUnknownRules(settings: LintSettings): void {
  const unknown = Object.keys(settings.rules ?? {}).filter((id) => ruleById(id) === undefined);
  if (unknown.length === 0) return;
  const ids = RULES.map((rule) => rule.id);
  const named = unknown.map((id) => `"${id}"${didYouMean(id, ids) ? ` (did you mean "${didYouMean(id, ids)}"?)` : ""}`);
  throw new RetortError("RETORT_CONFIG", `lint.rules in the config names no lint rule: ${named.join(", ")}.`, {
    hint: "`retort lint --rules` lists the rule ids; levels are error, warning, info or off.",
    details: { unknown },
  });
}
