/**
 * Safe autogenerate (Postgres, PGlite): operations on a table that exists before the migration
 * are rewritten into forms that do not hold a long lock on it, so the running app's queries do
 * not queue behind the migration:
 *
 * - indexes are built and dropped CONCURRENTLY (outside the transaction; the executor resumes a
 *   build that died);
 * - unique constraints take over a unique index built CONCURRENTLY (ADD CONSTRAINT … USING INDEX);
 * - foreign keys and checks are added NOT VALID (a short lock, no scan), then validated as a step
 *   of their own (the scan holds only SHARE UPDATE EXCLUSIVE, which reads and writes pass);
 * - NOT NULL on an existing column goes through CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET
 *   NOT NULL (Postgres 12+ skips its scan thanks to the validated check), then the check is dropped;
 * - a column with a volatile default (gen_random_uuid()…) is added bare, given the default, filled;
 * - a NOT NULL column without a server default is added nullable, filled by a backfill (given with
 *   `--backfill`, else a generated op.run stub that fails until it is written), then made NOT NULL
 *   as above.
 *
 * Tables created in the same migration keep the plain form: nobody uses them yet. Every step on
 * an existing table runs under the revision's `lockTimeout` (see runtime/executor.ts): a step that
 * would wait longer for its lock fails instead of blocking the queries queued behind it.
 */
import { RetortError } from "../errors.js";
import { applyOperation } from "../operations/apply.js";
import type { AddColumnOp, AlterColumnOp, Op, RunOp } from "../operations/types.js";
import { constraintName } from "../schema/naming.js";
import type { CheckSchema, ColumnSchema, Schema } from "../schema/snapshot.js";
import { printIdentifier } from "./normalize.js";
import { jsKey, type RenderItem } from "./render.js";

/** Default `lock_timeout` of generated migrations. */
export const DEFAULT_LOCK_TIMEOUT = "5s";

export interface SafeSettings {
  /** The revision's lock_timeout (a Postgres duration: "5s", "500ms", "1min"). */
  lockTimeout: string;
  /** Backfills for NOT NULL columns added to existing tables: "table.column" → SQL (an expression for the value, or a whole statement). */
  backfills?: Readonly<Record<string, string>>;
}

/** What the rewrite found, for the file header and the console. */
export interface SafeReport {
  /** A step must commit on its own (a VALIDATE after its NOT VALID): the revision runs without one transaction around it. */
  separateTransactions: boolean;
  /** Some step locks a table that exists before the migration: the revision gets a lock_timeout. */
  locksExisting: boolean;
  /** "table.column" of each generated backfill stub (the migration fails there until it is written). */
  stubs: string[];
  /** "table.column" of each --backfill used. */
  backfilled: string[];
}

const STATEMENT = /^\s*(update|insert|delete|with|do|call|select)\b/i;

/** A --backfill value that is a whole statement (run as it is), not an expression for the column's value. */
export function isBackfillStatement(sql: string): boolean {
  return STATEMENT.test(sql);
}

/**
 * The rewrite for `renderMigrationBodies(ops, { rewrite })`: the upgrade gets every safe form;
 * the downgrade (which starts from the schema after the upgrade) gets the lock-related ones.
 */
export function safeRewrite(ops: readonly Op[], from: Schema, settings: SafeSettings): { rewrite: { upgrade(items: RenderItem[]): RenderItem[]; downgrade(items: RenderItem[]): RenderItem[] }; report: SafeReport } {
  const report: SafeReport = { separateTransactions: false, locksExisting: false, stubs: [], backfilled: [] };
  const backfills = resolveBackfills(ops, from, settings.backfills ?? {});
  let after = from;
  try {
    for (const op of ops) after = applyOperation(after, op);
  } catch {
    after = from; // the downgrade then treats every table it touches as existing, which is the safe side
  }
  return {
    report,
    rewrite: {
      upgrade: (items) => new SafeWriter(from, report, backfills, true).items(items),
      downgrade: (items) => new SafeWriter(after, report, {}, false).items(items),
    },
  };
}

/** The NOT NULL columns without a server default added to existing tables. */
function columnsNeedingBackfill(ops: readonly Op[], from: Schema): string[] {
  const existing = new Set(from.tables.map((table) => table.name));
  const out: string[] = [];
  for (const op of ops) {
    trackTables(existing, op);
    if (op.kind === "addColumn" && existing.has(op.table) && needsBackfill(op.column)) out.push(`${op.table}.${op.column.name}`);
  }
  return out;
}

/** --backfill values keyed by column: "table.column=SQL", or plain SQL when one column needs it. */
function resolveBackfills(ops: readonly Op[], from: Schema, given: Readonly<Record<string, string>>): Record<string, string> {
  const needed = columnsNeedingBackfill(ops, from);
  const out: Record<string, string> = {};
  for (const [key, sql] of Object.entries(given)) {
    const column = key === "" ? needed[0] : key;
    if (key === "" && needed.length !== 1) {
      throw new RetortError("RETORT_USAGE", `--backfill without a column applies to the one NOT NULL column added to an existing table, but this migration adds ${needed.length === 0 ? "none" : `${needed.length} (${needed.join(", ")})`}`, {
        hint: needed.length === 0 ? "Leave out --backfill: no added column needs one." : `Name the column: --backfill '${needed[0]}=<SQL>' (once per column).`,
        details: { columns: needed },
      });
    }
    if (!needed.includes(column!)) {
      throw new RetortError("RETORT_USAGE", `--backfill names ${column}, which is not a NOT NULL column without a default added to an existing table in this migration`, {
        hint: needed.length ? `Columns that need a backfill here: ${needed.join(", ")}.` : "Leave out --backfill: no added column needs one.",
        details: { column, columns: needed },
      });
    }
    out[column!] = sql;
  }
  return out;
}

/** A NOT NULL column that existing rows cannot fill by themselves (no default, not generated). */
function needsBackfill(column: ColumnSchema): boolean {
  return !column.nullable && column.default === undefined && column.identity === undefined && column.serial !== true;
}

/** Functions whose value changes per row: a default calling one cannot be stored once for the existing rows. */
const VOLATILE = /\b(gen_random_uuid|uuid_generate_v[14]|random|clock_timestamp|timeofday|nextval)\s*\(/i;

/** A server default Postgres must compute per row (ADD COLUMN with it rewrites the table). */
function volatileDefault(column: ColumnSchema): boolean {
  const value = column.default;
  if (value === undefined || column.identity !== undefined || column.serial === true) return false;
  return value.kind === "random-uuid" || (value.kind === "sql" && VOLATILE.test(value.sql));
}

/** Keeps `existing` (tables that were there before the migration) up to date over `op`. */
function trackTables(existing: Set<string>, op: Op): void {
  if (op.kind === "createTable") existing.delete(op.table.name);
  else if (op.kind === "dropTable") existing.delete(op.name);
  else if (op.kind === "renameTable" && existing.delete(op.from)) existing.add(op.to);
}

/** The table an operation locks, when it works on one. */
function tableOf(op: Op, schema: Schema): string | undefined {
  switch (op.kind) {
    case "createTable":
      return op.table.name;
    case "dropTable":
      return op.name;
    case "renameTable":
      return op.from;
    case "dropIndex":
      return op.table ?? schema.tables.find((table) => table.indexes.some((index) => index.name === op.name))?.name;
    case "createEnum":
    case "dropEnum":
    case "addEnumValue":
    case "renameEnumValue":
    case "createExtension":
    case "dropExtension":
    case "execute":
    case "run":
      return undefined;
    default:
      return op.table;
  }
}

class SafeWriter {
  private readonly existing: Set<string>;

  constructor(
    private schema: Schema,
    private readonly report: SafeReport,
    private readonly backfills: Readonly<Record<string, string>>,
    private readonly upgrade: boolean,
  ) {
    this.existing = new Set(schema.tables.map((table) => table.name));
  }

  items(items: readonly RenderItem[]): RenderItem[] {
    const out: RenderItem[] = [];
    for (const item of items) {
      const table = tableOf(item.op, this.schema);
      const rewritten = table !== undefined && this.existing.has(table) && item.op.kind !== "dropTable" ? this.rewrite(item.op) : [{ op: item.op }];
      // The upgrade decides: a migration that only creates tables gets no lock_timeout for its downgrade's drops.
      if (this.upgrade && table !== undefined && this.existing.has(table)) this.report.locksExisting = true;
      if (item.comments?.length) rewritten[0] = { ...rewritten[0]!, comments: [...item.comments, ...(rewritten[0]!.comments ?? [])] };
      out.push(...rewritten);
      trackTables(this.existing, item.op);
      try {
        this.schema = applyOperation(this.schema, item.op);
      } catch {
        // a hand-made state the fold cannot follow: table lookups fall back to the op's own names
      }
    }
    return out;
  }

  /** The safe form of one operation on an existing table. */
  private rewrite(op: Op): RenderItem[] {
    switch (op.kind) {
      case "createIndex":
        return op.concurrently ? [{ op }] : [{ op: { ...op, concurrently: true }, comments: ["Built CONCURRENTLY (outside the transaction): reads and writes go on while it builds."] }];
      case "dropIndex":
        return op.concurrently ? [{ op }] : [{ op: { ...op, concurrently: true } }];
      case "addForeignKey":
        if (op.notValid) return [{ op }];
        this.report.separateTransactions = true;
        return [
          { op: { ...op, notValid: true }, comments: ["NOT VALID: existing rows are checked by the next step, which does not block writes."] },
          { op: { kind: "validateConstraint", table: op.table, name: op.foreignKey.name } },
        ];
      case "addCheck":
        if (op.notValid) return [{ op }];
        this.report.separateTransactions = true;
        return [
          { op: { ...op, notValid: true }, comments: ["NOT VALID: existing rows are checked by the next step, which does not block writes."] },
          { op: { kind: "validateConstraint", table: op.table, name: op.check.name } },
        ];
      case "addUnique": {
        // ADD CONSTRAINT … UNIQUE builds its index under ACCESS EXCLUSIVE: build it CONCURRENTLY first,
        // then the constraint takes it over (a short lock, no scan).
        const name = op.unique.name;
        const table = printIdentifier(op.table);
        return [
          {
            op: { kind: "createIndex", table: op.table, index: { name, elements: op.unique.columns.map((column) => ({ column })), unique: true }, concurrently: true },
            comments: [`The unique constraint ${name} from an index built CONCURRENTLY (reads and writes go on while it builds).`],
          },
          { op: { kind: "execute", sql: `ALTER TABLE ${table} ADD CONSTRAINT ${printIdentifier(name)} UNIQUE USING INDEX ${printIdentifier(name)}`, reverseSql: `ALTER TABLE ${table} DROP CONSTRAINT ${printIdentifier(name)}` } },
        ];
      }
      case "alterColumn":
        return this.alterColumn(op);
      case "addColumn":
        if (this.upgrade && needsBackfill(op.column)) return this.addWithBackfill(op);
        return this.upgrade && volatileDefault(op.column) ? this.addWithVolatileDefault(op) : [{ op }];
      default:
        return [{ op }];
    }
  }

  /** SET NOT NULL goes through a validated check; the rest of the change stays as it was. */
  private alterColumn(op: AlterColumnOp): RenderItem[] {
    const typeNote: RenderItem["comments"] =
      op.type !== undefined ? [`The type change of "${op.table}"."${op.name}" may rewrite the table under ACCESS EXCLUSIVE; on a busy table, generate it with --expand-contract instead.`] : undefined;
    if (op.nullable !== false) return [{ op, ...(typeNote ? { comments: typeNote } : {}) }];
    const { nullable: _nullable, previous, ...rest } = op;
    const { nullable: _was, ...previousRest } = previous ?? {};
    const others = (["type", "default", "comment", "serial"] as const).some((field) => op[field] !== undefined);
    const out: RenderItem[] = [];
    if (others) out.push({ op: { ...rest, ...(previous ? { previous: previousRest } : {}) }, ...(typeNote ? { comments: typeNote } : {}) });
    out.push(...this.setNotNull(op.table, op.name));
    return out;
  }

  /** CHECK (col IS NOT NULL) NOT VALID, VALIDATE, SET NOT NULL, drop the check. */
  private setNotNull(table: string, column: string): RenderItem[] {
    this.report.separateTransactions = true;
    const check: CheckSchema = { name: constraintName.check(table, `${column}_not_null`), expression: `${printIdentifier(column)} IS NOT NULL` };
    return [
      {
        op: { kind: "addCheck", table, check, notValid: true },
        comments: [`NOT NULL on "${table}"."${column}" without a long lock: a NOT VALID check, validated without blocking writes; SET NOT NULL then`, "uses the validated check instead of scanning the table (Postgres 12+), and the check is dropped."],
      },
      { op: { kind: "validateConstraint", table, name: check.name } },
      { op: { kind: "alterColumn", table, name: column, nullable: false, previous: { nullable: true } } },
      { op: { kind: "dropConstraint", table, name: check.name, previous: { check } } },
    ];
  }

  /**
   * A volatile default (gen_random_uuid(), clock_timestamp()…) makes ADD COLUMN rewrite the whole
   * table under ACCESS EXCLUSIVE: add the column bare, set the default (new rows only), fill the
   * existing rows with it, then NOT NULL through a validated check.
   */
  private addWithVolatileDefault(op: AddColumnOp): RenderItem[] {
    const { default: value, ...bare } = op.column;
    const column = printIdentifier(op.column.name);
    const out: RenderItem[] = [
      {
        op: { ...op, column: { ...bare, nullable: true } },
        comments: [`"${op.table}.${op.column.name}" has a volatile default (adding it with the column would rewrite the table): added bare, then the default, then the rows are filled.`],
      },
      { op: { kind: "alterColumn", table: op.table, name: op.column.name, default: value!, previous: { default: null } } },
      { op: { kind: "execute", sql: `UPDATE ${printIdentifier(op.table)} SET ${column} = DEFAULT WHERE ${column} IS NULL` } },
    ];
    if (!op.column.nullable) out.push(...this.setNotNull(op.table, op.column.name));
    return out;
  }

  /** Add nullable, fill every row, then NOT NULL through a validated check. */
  private addWithBackfill(op: AddColumnOp): RenderItem[] {
    const key = `${op.table}.${op.column.name}`;
    const given = this.backfills[key];
    const column = printIdentifier(op.column.name);
    const out: RenderItem[] = [
      {
        op: { ...op, column: { ...op.column, nullable: true } },
        comments: [`"${key}" is NOT NULL without a server default: added nullable, filled, then made NOT NULL.`],
      },
    ];
    if (given !== undefined) {
      this.report.backfilled.push(key);
      const sql = isBackfillStatement(given) ? given.trim() : `UPDATE ${printIdentifier(op.table)} SET ${column} = (${given.trim()}) WHERE ${column} IS NULL`;
      out.push({ op: { kind: "execute", sql } });
    } else {
      this.report.stubs.push(key);
      const stub: RunOp = { kind: "run", description: `backfill ${key}`, fn: async () => undefined };
      out.push({
        op: stub,
        comments: [`Fill in the backfill for ${key}: every existing row needs a value before NOT NULL is set`, `(or generate again with --backfill '${key}=<SQL>').`],
        code: [
          `op.run(${JSON.stringify(`backfill ${key}`)}, async (db) => {`,
          `  // e.g. await db.updateTable(${JSON.stringify(op.table)}).set({ ${jsKey(op.column.name)}: … }).where(${JSON.stringify(op.column.name)}, "is", null).execute();`,
          `  throw new Error(${JSON.stringify(`fill in the backfill for ${key}`)});`,
          "});",
        ],
      });
    }
    out.push(...this.setNotNull(op.table, op.column.name));
    return out;
  }
}
