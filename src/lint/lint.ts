/**
 * Linting a list of revision files: each module is loaded and its upgrade() recorded (with which
 * op call recorded which operations, for line numbers), reduced to actions, checked, then the
 * project's rule levels, the live database's grading and the file's suppressions are applied.
 */
import { readFileSync } from "node:fs";
import { basename, relative } from "node:path";
import { compileAhead, importModule } from "../env/import-module.js";
import { createOpRecorder, type MigrationOps } from "../operations/api.js";
import type { Op } from "../operations/types.js";
import type { ScriptHeader } from "../script/header.js";
import { isDefinedMigration } from "../script/migration.js";
import { loadPostgresParser } from "../sql/parser.js";
import { RangeState, checkUnit, type RawFinding, type UnitAction } from "./checks.js";
import { actionsFromCalls, type RecordedCall } from "./from-ops.js";
import { gradeFinding, type LiveFacts } from "./live.js";
import { requireRule } from "./rules.js";
import { callLines, readMigrationSource, sqlLine, type MigrationSource } from "./source.js";
import { applySuppressions } from "./suppress.js";
import type { Finding, LintSettings, Severity } from "./types.js";

export const DEFAULT_POSTGRES_VERSION = 14;

export interface LintOptions {
  /** Lint configuration (the config's `lint` key). */
  settings?: LintSettings;
  /** Tables created by earlier revisions in the list count as new (the list is deployed together). */
  rangeScope?: boolean;
  /** migrations.transaction is "all" (one transaction around the whole run). */
  wholeRunTransaction?: boolean;
  /** Paths in findings are relative to this folder (default: as given). */
  root?: string;
  /** The live database (--url): its version, and its facts for the tables findings touch; findings are graded by table size. */
  live?: { serverVersion: number; read(tables: string[], indexes: string[]): Promise<LiveFacts> };
  /**
   * Revisions before the linted ones (already deployed): read for what they tell about the schema
   * (column types, validated checks, enum values), never reported on; their tables are not new.
   */
  context?: readonly ScriptHeader[];
  /** Checksums recorded when each revision was applied (--url): edited files are reported. */
  appliedChecksums?: ReadonlyMap<string, string>;
}

export interface LintReport {
  findings: Finding[];
  files: number;
  errors: number;
  warnings: number;
  infos: number;
  postgresVersion: number;
}

/** A migration module's upgrade and downgrade, recorded call by call. */
async function record(file: ScriptHeader): Promise<{ upgrade: RecordedCall[]; downgradeOps: number; downgradeError?: string; lockTimeout?: string } | { error: string }> {
  let module: unknown;
  try {
    module = await importModule(file.path, { default: true });
  } catch (error) {
    return { error: `could not load the migration: ${(error as Error).message}` };
  }
  if (!isDefinedMigration(module)) return { error: "the file does not export default defineMigration({ … })" };
  const run = async (fn: (op: MigrationOps) => unknown): Promise<RecordedCall[]> => {
    const { op, ops } = createOpRecorder();
    const calls: RecordedCall[] = [];
    // The op object is frozen: wrap each method in a new object that notes what the call recorded.
    const tracked = Object.fromEntries(
      Object.entries(op).map(([method, value]) => [
        method,
        typeof value !== "function"
          ? value
          : (...args: unknown[]) => {
              const before = ops.length;
              const result = (value as (...a: unknown[]) => unknown).apply(op, args);
              calls.push({ method, ops: ops.slice(before) as Op[] });
              return result;
            },
      ]),
    ) as unknown as MigrationOps;
    await fn(tracked);
    return calls;
  };
  let upgrade: RecordedCall[];
  try {
    upgrade = await run((op) => module.upgrade(op));
  } catch (error) {
    return { error: `recording the operations of upgrade() failed: ${(error as Error).message}` };
  }
  // A downgrade that throws is a way of saying "irreversible": no downgrade, not a broken file.
  let downgradeOps = 0;
  let downgradeError: string | undefined;
  try {
    downgradeOps = (await run((op) => module.downgrade(op))).reduce((n, call) => n + call.ops.length, 0);
  } catch (error) {
    downgradeError = (error as Error).message;
  }
  // A revision may declare `lockTimeout: "5s"`: the runner sets it for each of its transactions.
  const lockTimeout = (module as { lockTimeout?: unknown }).lockTimeout;
  return { upgrade, downgradeOps, ...(downgradeError !== undefined ? { downgradeError } : {}), ...(typeof lockTimeout === "string" ? { lockTimeout } : {}) };
}

const FILE_NAME = /^\d{14}_[a-z0-9_]+\.(?:ts|mts|js|mjs)$/;

export async function lintRevisions(revisions: readonly ScriptHeader[], options: LintOptions = {}): Promise<LintReport> {
  const settings = options.settings ?? {};
  const postgresVersion = settings.postgresVersion ?? options.live?.serverVersion ?? DEFAULT_POSTGRES_VERSION;
  // One compiler run for every file (what the runtime's preload does): far faster than one by one.
  const [parser] = await Promise.all([loadPostgresParser(), compileAhead([...(options.context ?? []), ...revisions].map((r) => r.path))]);
  const range = new RangeState();
  const checked: Array<{ raw: RawFinding[]; source: MigrationSource; where: { file: string; revision: string } }> = [];
  for (const revision of options.context ?? []) {
    const recorded = await record(revision);
    if ("error" in recorded) continue;
    const source = readMigrationSource(readFileSync(revision.path, "utf8"));
    checkUnit({ file: revision.path, revision: revision.revision, transactional: revision.transactional, actions: unitActions(recorded.upgrade, source, parser) }, range, { postgresVersion, rangeScope: true });
  }
  range.newTables.clear();
  range.newIndexes.clear();
  range.newEnums.clear();
  for (const revision of revisions) {
    const file = options.root ? relative(options.root, revision.path) : revision.path;
    const where = { file, revision: revision.revision };
    const text = readFileSync(revision.path, "utf8");
    const source = readMigrationSource(text);
    const raw: RawFinding[] = [];
    const project = (rule: string, message: string, line?: number) => raw.push({ rule, severity: requireRule(rule).severity, message, ...where, ...(line !== undefined ? { line } : {}), alternative: requireRule(rule).alternative });

    const recorded = await record(revision);
    if ("error" in recorded) {
      project("invalid-migration", `${file}: ${recorded.error}`);
    } else {
      const units = unitActions(recorded.upgrade, source, parser);
      raw.push(...checkUnit({ ...where, transactional: revision.transactional, actions: units, ...(recorded.lockTimeout !== undefined ? { lockTimeout: recorded.lockTimeout } : {}) }, range, { postgresVersion, rangeScope: options.rangeScope === true, wholeRunTransaction: options.wholeRunTransaction === true }));
      const upgradeOps = recorded.upgrade.reduce((n, call) => n + call.ops.length, 0);
      if (recorded.downgradeError !== undefined) project("missing-downgrade", `downgrade() of ${revision.revision} throws (${recorded.downgradeError}): the revision cannot be rolled back`, source.downgradeCalls[0]?.line);
      else if (upgradeOps > 0 && recorded.downgradeOps === 0) project("missing-downgrade", `downgrade() of ${revision.revision} records no operation: the revision cannot be rolled back`, source.downgradeCalls[0]?.line);
    }
    if (!FILE_NAME.test(basename(revision.path))) project("migration-file-name", `${basename(revision.path)} is not named <yyyymmddHHMMSS>_<description>.ts`);
    const applied = options.appliedChecksums?.get(revision.revision);
    if (applied !== undefined && applied !== "" && applied !== revision.checksum) project("edited-after-applied", `${file} changed after revision ${revision.revision} was applied to the database`);

    checked.push({ raw, source, where });
  }
  const tables = [...new Set(checked.flatMap((c) => c.raw.map((f) => f.table).filter((t): t is string => t !== undefined)))];
  const indexes = [...new Set(checked.flatMap((c) => c.raw.map((f) => f.index).filter((i): i is string => i !== undefined)))];
  const live = options.live ? await options.live.read(tables, indexes) : undefined;
  // A finding that named only an index is about the index's table.
  if (live) for (const { raw } of checked) for (const f of raw) if (f.table === undefined && f.index !== undefined && live.indexTables.has(f.index)) f.table = live.indexTables.get(f.index)!;
  const findings: Finding[] = [];
  for (const { raw, source, where } of checked) {
    // A NOT NULL the live database already proves with a validated CHECK is no finding (Postgres 12+).
    const proven = (f: RawFinding) => f.rule === "adding-not-nullable-field" && postgresVersion >= 12 && f.column !== undefined && live?.notNullChecks.has(`${f.table}.${f.column}`);
    findings.push(...finish(raw.filter((f) => !proven(f)), source, where, settings, live));
  }
  if (live && live.longTransactions.length > 0) {
    const blocked = findings.find((f) => f.lock && f.lock.mode !== "SHARE UPDATE EXCLUSIVE");
    if (blocked) {
      const list = live.longTransactions.map((t) => `pid ${t.pid} open ${t.seconds} s (${t.state || "?"}: ${t.query})`).join("; ");
      const rule = requireRule("long-running-transaction");
      const level = levelOf(rule.id, settings);
      if (level !== "off") {
        findings.push({ rule: rule.id, severity: level, message: `${live.longTransactions.length} transaction(s) are open for long: ${list}; the locks of this migration would queue behind them`, file: blocked.file, revision: blocked.revision, alternative: rule.alternative });
      }
    }
  }
  const count = (severity: Severity) => findings.filter((f) => f.severity === severity).length;
  return { findings, files: revisions.length, errors: count("error"), warnings: count("warning"), infos: count("info"), postgresVersion };
}

/** Actions with their lines: op calls are matched to the call sites of the file's upgrade(). */
function unitActions(calls: readonly RecordedCall[], source: MigrationSource, parser: Awaited<ReturnType<typeof loadPostgresParser>>): UnitAction[] {
  const sites = callLines(calls.map((call) => call.method), source.upgradeCalls);
  return actionsFromCalls(calls, parser).map(({ action, sql, sqlOffset }) => {
    const site = sites[action.call];
    const line = sql !== undefined ? sqlLine(source, site, sql, sqlOffset ?? 0) : site?.line;
    return { action, ...(line !== undefined ? { line } : {}), ...(site ? { callLine: site.line } : {}) };
  });
}

function levelOf(rule: string, settings: LintSettings): Severity | "off" {
  return settings.rules?.[rule] ?? requireRule(rule).severity;
}

/** Project levels, then the live grading, then the file's suppressions. */
function finish(raw: RawFinding[], source: MigrationSource, where: { file: string; revision: string }, settings: LintSettings, live: LiveFacts | undefined): Finding[] {
  const leveled: RawFinding[] = [];
  for (const finding of raw) {
    const level = levelOf(finding.rule, settings);
    if (level === "off") continue;
    const graded = live ? gradeFinding({ ...finding, severity: level }, live, settings) : { ...finding, severity: level };
    leveled.push({ ...graded, ...(finding.callLine !== undefined ? { callLine: finding.callLine } : {}) });
  }
  const checked = new Set<RawFinding>(leveled);
  const out: Finding[] = [];
  for (const finding of applySuppressions(leveled, source.comments, where)) {
    const { callLine: _callLine, column: _column, index: _index, ...plain } = finding;
    // Findings about the suppressions themselves are made there: their level is applied here.
    const level = levelOf(finding.rule, settings);
    if (checked.has(finding)) out.push(plain);
    else if (level !== "off") out.push({ ...plain, severity: level });
  }
  return out;
}
