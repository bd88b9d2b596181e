/**
 * The live database (`retort lint --url`): the size of each table a finding touches, the server
 * version, validated NOT NULL checks, and transactions open for long; and the grading of
 * findings by that size.
 *
 * The duration model is deliberately simple, and documented so its numbers can be judged: a
 * lock held for a catalog change lasts no measurable time; a scan reads the table at
 * `scanMBps` (default 200 MB/s); a rewrite writes the table and its indexes again at
 * `rewriteMBps` (default 50 MB/s); an index build reads and sorts the table at `indexMBps`
 * (default 40 MB/s). Rows come from pg_class.reltuples (what ANALYZE and autovacuum keep); a
 * table never analyzed is estimated at 100 bytes a row from its size.
 */
import type { Connection } from "../dialects/driver.js";
import { requireRule } from "./rules.js";
import { LOCK_BLOCKS, type Finding, type Impact, type LintSettings } from "./types.js";

export interface TableStats {
  reltuples: number;
  tableBytes: number;
  indexBytes: number;
}

export interface LongTransaction {
  pid: number;
  seconds: number;
  state: string;
  query: string;
}

export interface LiveFacts {
  /** Major version of the server (15 for 15.4). */
  serverVersion: number;
  tables: Map<string, TableStats>;
  longTransactions: LongTransaction[];
  /** "table.column" with a validated CHECK (column IS NOT NULL). */
  notNullChecks: Set<string>;
  /** The table of each index asked about (findings on an index name only are graded by it). */
  indexTables: Map<string, string>;
}

const BYTES_PER_ROW_UNANALYZED = 100;
const MB = 1024 * 1024;
export const DEFAULT_THROUGHPUT = { scanMBps: 200, rewriteMBps: 50, indexMBps: 40 };
export const DEFAULT_SMALL_TABLE_ROWS = 10_000;
export const DEFAULT_LONG_TRANSACTION_SECONDS = 60;

/** The server's major version (15 for 15.4). */
export async function readServerVersion(conn: Connection): Promise<number> {
  const version = await conn.query<{ server_version_num: string }>("SHOW server_version_num");
  return Math.floor(Number(version.rows[0]?.server_version_num) / 10000);
}

export async function readLiveFacts(conn: Connection, tablesAsked: readonly string[], options: { schema: string; longTransactionSeconds: number; indexes?: readonly string[] }): Promise<LiveFacts> {
  const serverVersion = await readServerVersion(conn);
  const indexRows = options.indexes?.length
    ? (await conn.query<{ indexname: string; tablename: string }>("SELECT indexname, tablename FROM pg_indexes WHERE schemaname = $1 AND indexname = ANY($2::text[])", [options.schema, [...options.indexes]])).rows
    : [];
  const indexTables = new Map(indexRows.map((row) => [row.indexname, row.tablename]));
  const tables = [...new Set([...tablesAsked, ...indexTables.values()])];
  const stats = await conn.query<{ name: string; reltuples: number; table_bytes: number; index_bytes: number }>(
    `SELECT c.relname AS name, c.reltuples::float8 AS reltuples, pg_table_size(c.oid)::float8 AS table_bytes, pg_indexes_size(c.oid)::float8 AS index_bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'm') AND c.relname = ANY($2::text[])`,
    [options.schema, [...tables]],
  );
  const checks = await conn.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_constraintdef(k.oid) AS def
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'c' AND k.convalidated AND n.nspname = $1 AND c.relname = ANY($2::text[])`,
    [options.schema, [...tables]],
  );
  const open = await conn.query<{ pid: number; seconds: number; state: string | null; query: string | null }>(
    `SELECT pid, extract(epoch FROM now() - xact_start)::float8 AS seconds, state, left(query, 80) AS query
       FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND now() - xact_start > make_interval(secs => $1)
      ORDER BY xact_start`,
    [options.longTransactionSeconds],
  );
  const notNullChecks = new Set<string>();
  for (const row of checks.rows) {
    const column = /^CHECK \(\(?"?([^"\s()]+)"? IS NOT NULL\)?\)$/.exec(row.def)?.[1];
    if (column) notNullChecks.add(`${row.name}.${column}`);
  }
  return {
    serverVersion,
    tables: new Map(stats.rows.map((row) => [row.name, { reltuples: Number(row.reltuples), tableBytes: Number(row.table_bytes), indexBytes: Number(row.index_bytes) }])),
    longTransactions: open.rows.map((row) => ({ pid: Number(row.pid), seconds: Math.round(Number(row.seconds)), state: row.state ?? "", query: (row.query ?? "").replace(/\s+/g, " ") })),
    notNullChecks,
    indexTables,
  };
}

/** The impact of a finding's lock on its table, by the duration model above. */
export function impactOf(finding: Finding, facts: LiveFacts, settings: LintSettings): Impact | undefined {
  if (!finding.lock || !finding.table) return undefined;
  const { mode, work } = finding.lock;
  const stats = facts.tables.get(finding.table);
  const smallRows = settings.smallTableRows ?? DEFAULT_SMALL_TABLE_ROWS;
  const throughput = { ...DEFAULT_THROUGHPUT, ...settings.throughput };
  const base = { table: finding.table, lock: mode, blocks: LOCK_BLOCKS[mode], work };
  if (!stats) return { ...base, rows: 0, rowsEstimated: "statistics", tableBytes: 0, indexBytes: 0, rowsTouched: 0, estimatedSeconds: 0, grade: "missing" };
  const analyzed = stats.reltuples >= 0 && !(stats.reltuples === 0 && stats.tableBytes > 8192);
  const rows = Math.round(analyzed ? stats.reltuples : stats.tableBytes / BYTES_PER_ROW_UNANALYZED);
  const seconds =
    work === "catalog"
      ? 0
      : work === "scan"
        ? stats.tableBytes / MB / throughput.scanMBps
        : work === "rewrite"
          ? (stats.tableBytes + stats.indexBytes) / MB / throughput.rewriteMBps
          : stats.tableBytes / MB / throughput.indexMBps;
  return {
    ...base,
    rows,
    rowsEstimated: analyzed ? "statistics" : "size",
    tableBytes: stats.tableBytes,
    indexBytes: stats.indexBytes,
    rowsTouched: work === "catalog" ? 0 : rows,
    estimatedSeconds: Math.round(seconds * 100) / 100,
    grade: rows === 0 ? "empty" : rows < smallRows ? "small" : "large",
  };
}

/**
 * Grades a finding by its table: a locking problem on an empty or small table is reported as
 * info (the lock is over before anyone notices); one over a configured budget becomes an error.
 */
export function gradeFinding(finding: Finding, facts: LiveFacts, settings: LintSettings): Finding {
  const impact = impactOf(finding, facts, settings);
  if (!impact) return finding;
  const graded: Finding = { ...finding, impact };
  const rule = requireRule(finding.rule);
  if (rule.category === "locking" && rule.id !== "require-timeout-settings" && (impact.grade === "empty" || impact.grade === "small")) graded.severity = "info";
  const exceeded = budgetExceeded(impact, settings);
  if (exceeded) {
    graded.severity = "error";
    graded.budget = exceeded;
  }
  return graded;
}

function budgetExceeded(impact: Impact, settings: LintSettings): string | undefined {
  const budgets = settings.budgets ?? {};
  const blocksApp = impact.lock !== "SHARE UPDATE EXCLUSIVE";
  if (budgets.accessExclusiveRows !== undefined && impact.lock === "ACCESS EXCLUSIVE" && impact.rowsTouched > budgets.accessExclusiveRows) {
    return `budget accessExclusiveRows (${budgets.accessExclusiveRows.toLocaleString("en-US")}) exceeded: ACCESS EXCLUSIVE held over ${impact.rowsTouched.toLocaleString("en-US")} rows`;
  }
  if (budgets.blockingWritesRows !== undefined && blocksApp && impact.rowsTouched > budgets.blockingWritesRows) {
    return `budget blockingWritesRows (${budgets.blockingWritesRows.toLocaleString("en-US")}) exceeded: writes blocked over ${impact.rowsTouched.toLocaleString("en-US")} rows`;
  }
  if (budgets.lockSeconds !== undefined && blocksApp && impact.estimatedSeconds > budgets.lockSeconds) {
    return `budget lockSeconds (${budgets.lockSeconds}) exceeded: the lock is held about ${impact.estimatedSeconds} s`;
  }
  return undefined;
}
