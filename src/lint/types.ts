/**
 * The shapes the linter works with. A migration is reduced to `Action`s (what each operation or
 * raw SQL statement does to the database, in Postgres terms), rules look at actions, and each
 * problem becomes a `Finding` carrying the rule's lock facts and, with a live database, the
 * size of the table it touches.
 */

import type { LintRuleLevel } from "../env/config.js";

export type Severity = Exclude<LintRuleLevel, "off">;
/** What a rule's configured level may be: a severity, or "off". */
export type RuleLevel = LintRuleLevel;

/** Postgres table lock modes, weakest first (what each blocks: see LOCK_BLOCKS). */
export type LockMode = "SHARE UPDATE EXCLUSIVE" | "SHARE" | "SHARE ROW EXCLUSIVE" | "ACCESS EXCLUSIVE";

/** What the statement does while it holds the lock: nothing (catalog only), read every row, write every row again, or build an index. */
export type LockWork = "catalog" | "scan" | "rewrite" | "index-build";

/** What other sessions cannot do while the lock is held. */
export const LOCK_BLOCKS: Record<LockMode, "nothing the app does" | "writes" | "reads and writes"> = {
  "SHARE UPDATE EXCLUSIVE": "nothing the app does",
  SHARE: "writes",
  "SHARE ROW EXCLUSIVE": "writes",
  "ACCESS EXCLUSIVE": "reads and writes",
};

export interface LockFacts {
  mode: LockMode;
  work: LockWork;
}

/** Postgres major versions a rule applies to (inclusive; open ends when absent), and how the version matters. */
export interface VersionRange {
  from?: number;
  until?: number;
  note?: string;
}

export type RuleCategory = "locking" | "compatibility" | "types" | "transactions" | "project";

export interface RuleDefinition {
  /** kebab-case, stable: used in suppressions, config and reports. */
  id: string;
  category: RuleCategory;
  severity: Severity;
  /** One line: what is wrong. */
  title: string;
  /** The lock the flagged statement takes, when it is about locking. */
  lock?: LockFacts;
  /** Postgres versions the problem exists on (absent: every version; where it depends on the version, the check says so). */
  versions?: VersionRange;
  /** Why it hurts. */
  explanation: string;
  /** What to do instead. */
  alternative: string;
  /** A ready migration snippet of the safe form. */
  snippet?: string;
  /** Needs a database (--url) to be checked. */
  needsDatabase?: boolean;
}

/** A column as the rules see it, from a Retort column or a SQL column definition. */
export interface ColumnFacts {
  name: string;
  /** Postgres' internal type name: int2, int4, int8, varchar, bpchar, text, timestamp, timestamptz, json, jsonb, … */
  type: string;
  /** As written, for messages: "varchar(20)", "integer". */
  typeText: string;
  /** varchar(n) / char(n) length, numeric precision. */
  length?: number;
  scale?: number;
  notNull: boolean;
  hasDefault: boolean;
  /** The default is volatile (or a function not known to be stable): every row gets its own value. */
  volatileDefault?: string;
  generatedStored?: boolean;
  /** serial / bigserial / smallserial (a sequence default). */
  serial?: boolean;
  identity?: boolean;
  primaryKey?: boolean;
  /** References another table (a foreign key column). */
  references?: string;
  unique?: boolean;
}

interface ActionBase {
  /** Index of the op call in the upgrade function (suppressions and line numbers follow it). */
  call: number;
  /** Line of the statement itself (raw SQL: the statement inside the op.execute text). */
  line?: number;
  /** Op.describe(), or the statement kind for raw SQL. */
  description: string;
  /** From op.execute's raw SQL. */
  raw?: boolean;
}

/** What an operation or statement does, in Postgres terms. */
export type Action = ActionBase &
  (
    | { kind: "createTable"; table: string; columns: ColumnFacts[]; names: string[]; indexes: string[] }
    | { kind: "addColumn"; table: string; column: ColumnFacts }
    | { kind: "alterType"; table: string; column: string; to: ColumnFacts; from?: ColumnFacts; using?: boolean }
    | { kind: "setNotNull"; table: string; column: string }
    | { kind: "dropNotNull"; table: string; column: string }
    | { kind: "createIndex"; table: string; name: string; concurrently: boolean; unique: boolean; ifNotExists?: boolean }
    | { kind: "dropIndex"; name: string; table?: string; concurrently: boolean; ifExists?: boolean }
    | { kind: "reindex"; target: string; table?: string; concurrently: boolean }
    | { kind: "addConstraint"; table: string; constraint: "foreign-key" | "check" | "unique" | "primary-key" | "exclusion"; name: string; notValid: boolean; usingIndex: boolean; refTable?: string; notNullColumn?: string }
    | { kind: "validateConstraint"; table: string; name: string }
    | { kind: "renameColumn"; table: string; from: string; to: string }
    | { kind: "renameTable"; from: string; to: string }
    | { kind: "dropColumn"; table: string; column: string; ifExists?: boolean }
    | { kind: "dropTable"; tables: string[]; ifExists?: boolean }
    | { kind: "dropDatabase"; name: string }
    | { kind: "truncate"; tables: string[]; cascade: boolean }
    | { kind: "createDomain"; name: string; constrained: boolean }
    | { kind: "alterDomainAddConstraint"; name: string }
    | { kind: "setting"; name: string; value?: string }
    | { kind: "transaction"; statement: "begin" | "commit" | "rollback" }
    | { kind: "createEnum"; name: string; values: string[] }
    | { kind: "dropEnum"; name: string; values?: string[] }
    | { kind: "addEnumValue"; enum: string; value: string; positioned: boolean }
    | { kind: "renameEnumValue"; enum: string; from: string; to: string }
    | { kind: "deleteEnumValue" }
    | { kind: "dropExtension"; name: string }
    | { kind: "rewriteTable"; table: string; how: string }
    | { kind: "identifier"; name: string; what: string }
    | { kind: "catalogChange"; table: string }
    | { kind: "unparsed"; reason: string }
  );

export type ActionKind = Action["kind"];

/** The table a finding's lock falls on, sized from the live database (`--url`). */
export interface Impact {
  table: string;
  /** Estimated live rows (pg_class.reltuples; from the size when the table was never analyzed). */
  rows: number;
  rowsEstimated: "statistics" | "size";
  tableBytes: number;
  indexBytes: number;
  lock: LockMode;
  blocks: (typeof LOCK_BLOCKS)[LockMode];
  work: LockWork;
  /** Rows read or written again while the lock is held (0 for catalog-only changes). */
  rowsTouched: number;
  /** Seconds the lock is held by the model in live.ts. */
  estimatedSeconds: number;
  /** "missing": the table is not in the database (created by an earlier pending revision). */
  grade: "missing" | "empty" | "small" | "large";
}

export interface Finding {
  rule: string;
  severity: Severity;
  message: string;
  /** The migration file (as listed by the script directory). */
  file: string;
  revision: string;
  line?: number;
  /** The operation it is about. */
  operation?: string;
  table?: string;
  lock?: LockFacts;
  impact?: Impact;
  /** Set when a configured budget is exceeded (the finding is then an error). */
  budget?: string;
  /** What to do instead, and a snippet. */
  alternative?: string;
  snippet?: string;
}

export type { LintBudgets, LintSettings } from "../env/config.js";
