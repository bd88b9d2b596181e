/**
 * The rules at work: one pass over the actions of each migration, in order, keeping what the
 * migration (and, for an explicit range, the revisions before it in the range) has done so far:
 * tables created (never flagged for locking: nobody uses them yet), timeouts set, constraints
 * added NOT VALID, NOT NULL checks validated, an explicit transaction open.
 */
import { requireRule } from "./rules.js";
import type { Action, ColumnFacts, Finding, LockFacts } from "./types.js";
import { AUDIT_TABLE } from "../model/audit-log.js";

export interface UnitAction {
  action: Action;
  /** Line of the statement (raw SQL: inside the op.execute text). */
  line?: number;
  /** Line of the op call (suppressions are written above it). */
  callLine?: number;
}

/** One migration, reduced to actions. */
export interface LintUnit {
  file: string;
  revision: string;
  transactional: boolean;
  actions: UnitAction[];
  /** The revision's declared `lockTimeout` (the runner sets it in each of its transactions). */
  lockTimeout?: string;
}

/** A finding before config and suppressions are applied: it knows the line of its op call. */
export type RawFinding = Finding & { callLine?: number; column?: string; index?: string };

/** What revisions earlier in the range did, for the ones after them. */
export class RangeState {
  /** Tables and indexes created by the revisions checked so far (new when the range is deployed together). */
  readonly newTables = new Set<string>();
  readonly newIndexes = new Set<string>();
  readonly newEnums = new Set<string>();
  /** table → columns with a validated CHECK (col IS NOT NULL). */
  readonly validatedNotNull = new Map<string, Set<string>>();
  /** constraint name → the column its CHECK (col IS NOT NULL) covers. */
  readonly notNullChecks = new Map<string, { table: string; column: string }>();
  readonly enumValues = new Map<string, string[]>();
  /** "table.column" → type facts seen for it (to tell whether a type change rewrites). */
  readonly columns = new Map<string, ColumnFacts>();
}

export interface CheckOptions {
  postgresVersion: number;
  /** Tables created by earlier revisions of the range count as new (an explicit range is deployed together). */
  rangeScope: boolean;
  /** migrations.transaction is "all": the whole run is one transaction, which no CONCURRENTLY step can join. */
  wholeRunTransaction?: boolean;
}

const MAX_IDENTIFIER_BYTES = 63;

/** Whether a type change keeps the stored bytes (no rewrite): longer or unlimited varchar, varchar → text, wider numeric. */
function binaryCompatible(from: ColumnFacts | undefined, to: ColumnFacts): boolean {
  if (!from) return false;
  if (from.type === "varchar" && to.type === "varchar") return to.length === undefined || (from.length !== undefined && to.length >= from.length);
  if (from.type === "varchar" && to.type === "text") return true;
  if (from.type === "text" && to.type === "varchar" && to.length === undefined) return true;
  if (from.type === "numeric" && to.type === "numeric") return to.length === undefined || (from.length !== undefined && to.length >= from.length && (to.scale ?? 0) === (from.scale ?? 0));
  return from.type === to.type && from.length === to.length && from.scale === to.scale;
}

export function checkUnit(unit: LintUnit, range: RangeState, options: CheckOptions): RawFinding[] {
  const findings: RawFinding[] = [];
  // What earlier revisions did is known either way; whether their tables count as new depends on the scope.
  const state = range;
  const createdHere = new Set<string>();
  const indexesHere = new Set<string>();
  const notValidHere = new Set<string>();
  const rewrittenCalls = new Set<number>();
  const settings = new Set<string>();
  if (unit.lockTimeout !== undefined && !/^0+\s*(ms|s|min)?$/.test(unit.lockTimeout.trim())) settings.add("lock_timeout");
  let timeoutReported = false;
  let openTransaction: UnitAction | undefined;

  const isNew = (table: string | undefined) => table !== undefined && (createdHere.has(table) || (options.rangeScope && state.newTables.has(table)));
  const isNewIndex = (name: string) => indexesHere.has(name) || (options.rangeScope && state.newIndexes.has(name));
  const enumsHere = new Set<string>();
  const isNewEnum = (name: string) => enumsHere.has(name) || (options.rangeScope && state.newEnums.has(name));

  const report = (rule: string, at: UnitAction, message: string, extra: { table?: string; lock?: LockFacts; column?: string; index?: string } = {}) => {
    const definition = requireRule(rule);
    const lock = extra.lock ?? definition.lock;
    findings.push({
      rule,
      severity: definition.severity,
      message,
      file: unit.file,
      revision: unit.revision,
      ...(at.line !== undefined ? { line: at.line } : {}),
      ...(at.callLine !== undefined ? { callLine: at.callLine } : {}),
      operation: at.action.description,
      ...(extra.table ? { table: extra.table } : {}),
      ...(extra.column ? { column: extra.column } : {}),
      ...(extra.index ? { index: extra.index } : {}),
      ...(lock ? { lock } : {}),
      alternative: definition.alternative,
      ...(definition.snippet ? { snippet: definition.snippet } : {}),
    });
  };

  /** Any lock on an existing table that blocks the app: lock_timeout must be set before it. */
  const blocking = (at: UnitAction, table: string) => {
    const local = unit.transactional ? settings.has("local:lock_timeout") : false;
    if (timeoutReported || settings.has("lock_timeout") || local) return;
    timeoutReported = true;
    const missing = ["lock_timeout", ...(settings.has("statement_timeout") || (unit.transactional && settings.has("local:statement_timeout")) ? [] : ["statement_timeout"])];
    report("require-timeout-settings", at, `${at.action.description} waits for a lock on ${table} with no ${missing.join(" or ")} set: while it waits, every query on ${table} queues behind it`, { table });
  };

  const typeRules = (at: UnitAction, table: string, column: ColumnFacts) => {
    // Retort's own audit table: its types are chosen for bulk writes (json, a short varchar) and are not the project's to change.
    if (table === AUDIT_TABLE) return;
    const where = `${table}.${column.name}`;
    const key = column.primaryKey || column.serial || column.identity || column.references !== undefined;
    if (key && column.type === "int4") report("prefer-bigint-over-int", at, `${where} is a 32-bit integer key (${column.typeText}); it runs out at 2,147,483,647`, { table });
    if (key && column.type === "int2") report("prefer-bigint-over-smallint", at, `${where} is a 16-bit integer key (${column.typeText}); it runs out at 32,767`, { table });
    if (column.serial) report("prefer-identity", at, `${where} is a serial column; use an identity column`, { table });
    if (column.type === "varchar" && column.length !== undefined) report("prefer-text-field", at, `${where} is ${column.typeText}; changing the limit later can rewrite the table`, { table });
    if (column.type === "bpchar") report("ban-char-field", at, `${where} is ${column.typeText}`, { table });
    if (column.type === "timestamp") report("prefer-timestamptz", at, `${where} is timestamp without time zone`, { table });
    if (column.type === "json") report("prefer-jsonb", at, `${where} is json; jsonb can be indexed and compared`, { table });
  };

  const names = (at: UnitAction, list: readonly string[]) => {
    for (const name of list) {
      const bytes = Buffer.byteLength(name, "utf8");
      if (bytes > MAX_IDENTIFIER_BYTES) report("identifier-too-long", at, `"${name}" is ${bytes} bytes long; Postgres cuts it to ${MAX_IDENTIFIER_BYTES}`);
    }
  };

  const concurrentInTransaction = (at: UnitAction, what: string) => {
    if (!at.action.raw) {
      // op API: Retort runs CONCURRENTLY steps outside the transaction, unless the whole run is one.
      if (options.wholeRunTransaction) report("ban-concurrent-index-creation-in-transaction", at, `${what}: with migrations.transaction "all" the whole run is one transaction, and Retort refuses a step that cannot run inside one`);
      return;
    }
    if (unit.transactional) report("ban-concurrent-index-creation-in-transaction", at, `${what} runs inside the revision's transaction and fails there`);
    else if (openTransaction) report("ban-concurrent-index-creation-in-transaction", at, `${what} runs inside the transaction the SQL opened with BEGIN and fails there`);
  };

  const robust = (at: UnitAction, ok: boolean | undefined, what: string) => {
    if (at.action.raw && !unit.transactional && !ok) report("prefer-robust-stmts", at, `${what} fails when the revision is run again after a failure part-way`);
  };

  for (const at of unit.actions) {
    const action = at.action;
    switch (action.kind) {
      case "createTable":
        createdHere.add(action.table);
        state.newTables.add(action.table);
        for (const index of action.indexes) {
          indexesHere.add(index);
          state.newIndexes.add(index);
        }
        for (const column of action.columns) {
          typeRules(at, action.table, column);
          state.columns.set(`${action.table}.${column.name}`, column);
        }
        names(at, action.names);
        break;
      case "addColumn": {
        const { table, column } = action;
        typeRules(at, table, column);
        names(at, [column.name]);
        state.columns.set(`${table}.${column.name}`, column);
        if (isNew(table)) break;
        blocking(at, table);
        if (column.serial || column.identity) {
          rewrittenCalls.add(action.call);
          report("adding-serial-primary-key-field", at, `${table}.${column.name} is ${column.serial ? "a serial" : "an identity"} column: every existing row of ${table} gets a number, so the table is rewritten under an ACCESS EXCLUSIVE lock`, { table });
        } else if (column.generatedStored) {
          report("adding-field-with-default", at, `${table}.${column.name} is a stored generated column: it is computed for every existing row, rewriting ${table} under an ACCESS EXCLUSIVE lock`, { table });
        } else if (column.volatileDefault) {
          report("adding-field-with-default", at, `${table}.${column.name} defaults to ${column.volatileDefault}, which is volatile: every existing row gets its own value, rewriting ${table} under an ACCESS EXCLUSIVE lock`, { table });
        } else if (column.hasDefault && options.postgresVersion < 11) {
          report("adding-field-with-default", at, `${table}.${column.name} has a default: before Postgres 11 (target ${options.postgresVersion}) that rewrites ${table} under an ACCESS EXCLUSIVE lock`, { table });
        } else if (column.notNull && !column.hasDefault) {
          report("adding-required-field", at, `${table}.${column.name} is NOT NULL without a default: adding it fails as soon as ${table} has a row`, { table, lock: { mode: "ACCESS EXCLUSIVE", work: "catalog" } });
        }
        break;
      }
      case "alterType": {
        const { table, column, to } = action;
        const key = `${table}.${column}`;
        const from = action.from ?? state.columns.get(key);
        const known = state.columns.get(key);
        typeRules(at, table, { ...(known ?? {}), ...to, name: column, notNull: known?.notNull ?? false, hasDefault: known?.hasDefault ?? false });
        state.columns.set(key, { ...(known ?? to), ...to });
        if (isNew(table)) break;
        blocking(at, table);
        if (!binaryCompatible(from, to)) {
          const change = from ? `from ${from.typeText} to ${to.typeText}` : `to ${to.typeText}`;
          report("changing-column-type", at, `${key} changes type ${change}: ${table} is rewritten and its indexes rebuilt under an ACCESS EXCLUSIVE lock`, { table });
        }
        break;
      }
      case "setNotNull": {
        const { table, column } = action;
        if (isNew(table)) break;
        blocking(at, table);
        const proven = options.postgresVersion >= 12 && state.validatedNotNull.get(table)?.has(column);
        if (!proven) report("adding-not-nullable-field", at, `SET NOT NULL on ${table}.${column} reads every row of ${table} under an ACCESS EXCLUSIVE lock${options.postgresVersion >= 12 ? ` (no validated CHECK (${column} IS NOT NULL) proves it first)` : ""}`, { table, column });
        break;
      }
      case "dropNotNull":
        if (isNew(action.table)) break;
        blocking(at, action.table);
        report("ban-drop-not-null", at, `${action.table}.${action.column} may now be NULL; readers of the old schema assume it never is`, { table: action.table });
        break;
      case "createIndex": {
        const { table, name } = action;
        names(at, name ? [name] : []);
        state.newIndexes.add(name);
        indexesHere.add(name);
        if (action.concurrently) {
          concurrentInTransaction(at, `CREATE INDEX CONCURRENTLY ${name}`);
          robust(at, action.ifNotExists, `CREATE INDEX CONCURRENTLY ${name} without IF NOT EXISTS`);
          break;
        }
        if (isNew(table)) break;
        blocking(at, table);
        report("require-concurrent-index-creation", at, `index ${name || "(unnamed)"} is built without CONCURRENTLY: writes to ${table} wait for the whole build`, { table });
        break;
      }
      case "dropIndex": {
        const { name, table } = action;
        if (action.concurrently) {
          concurrentInTransaction(at, `DROP INDEX CONCURRENTLY ${name}`);
          robust(at, action.ifExists, `DROP INDEX CONCURRENTLY ${name} without IF EXISTS`);
          break;
        }
        if (isNewIndex(name) || isNew(table)) break;
        if (table) blocking(at, table);
        report("require-concurrent-index-deletion", at, `index ${name} is dropped without CONCURRENTLY: it takes an ACCESS EXCLUSIVE lock on ${table ?? "its table"}`, table ? { table } : { index: name });
        break;
      }
      case "reindex":
        if (action.concurrently) {
          concurrentInTransaction(at, `REINDEX CONCURRENTLY ${action.target}`);
          break;
        }
        if (isNew(action.table) || isNewIndex(action.target)) break;
        report("require-concurrent-reindex", at, `REINDEX ${action.target} without CONCURRENTLY blocks writes${action.table ? ` to ${action.table}` : " to its table"} while it rebuilds`, action.table ? { table: action.table } : { index: action.target });
        break;
      case "addConstraint": {
        const { table, name, constraint } = action;
        names(at, name ? [name] : []);
        if (action.notNullColumn) {
          state.notNullChecks.set(name, { table, column: action.notNullColumn });
          // Added valid, it proves the column has no NULL at once.
          if (!action.notValid) state.validatedNotNull.set(table, new Set([...(state.validatedNotNull.get(table) ?? []), action.notNullColumn]));
        }
        if (action.notValid) notValidHere.add(name);
        if (isNew(table)) break;
        blocking(at, table);
        if (constraint === "foreign-key" && !action.notValid) {
          report("adding-foreign-key-constraint", at, `foreign key ${name} checks every row of ${table} while writes to ${table} and ${action.refTable ?? "the referenced table"} wait`, { table });
        } else if (constraint === "check" && !action.notValid) {
          report("constraint-missing-not-valid", at, `CHECK ${name} is added without NOT VALID: every row of ${table} is checked under an ACCESS EXCLUSIVE lock`, { table });
        } else if (constraint === "unique" && !action.usingIndex) {
          report("disallowed-unique-constraint", at, `UNIQUE ${name} builds its index under an ACCESS EXCLUSIVE lock on ${table}`, { table });
        } else if (constraint === "primary-key" && !action.usingIndex && !rewrittenCalls.has(action.call)) {
          report("adding-primary-key-constraint", at, `primary key ${name} builds its index under an ACCESS EXCLUSIVE lock on ${table}`, { table });
        }
        break;
      }
      case "validateConstraint": {
        const { table, name } = action;
        const covered = state.notNullChecks.get(name);
        if (covered) {
          const columns = state.validatedNotNull.get(covered.table) ?? new Set<string>();
          columns.add(covered.column);
          state.validatedNotNull.set(covered.table, columns);
        }
        if (isNew(table)) break;
        if (notValidHere.has(name) && unit.transactional) {
          report("constraint-missing-not-valid", at, `${name} is added NOT VALID and validated in the same transaction: the lock taken by the ADD is held through the validation's scan of ${table}`, { table, lock: { mode: "ACCESS EXCLUSIVE", work: "scan" } });
        }
        break;
      }
      case "renameColumn": {
        const { table, from, to } = action;
        names(at, [to]);
        const known = state.columns.get(`${table}.${from}`);
        if (known) state.columns.set(`${table}.${to}`, { ...known, name: to });
        if (isNew(table)) break;
        blocking(at, table);
        report("renaming-column", at, `${table}.${from} is renamed to ${to}: the running app's queries naming ${from} fail`, { table });
        break;
      }
      case "renameTable": {
        const { from, to } = action;
        names(at, [to]);
        if (createdHere.has(from)) createdHere.add(to);
        if (state.newTables.has(from)) state.newTables.add(to);
        const known = [...state.columns.entries()].filter(([key]) => key.startsWith(`${from}.`));
        for (const [key, column] of known) state.columns.set(`${to}.${key.slice(from.length + 1)}`, column);
        if (isNew(from)) break;
        blocking(at, from);
        report("renaming-table", at, `table ${from} is renamed to ${to}: the running app's queries on ${from} fail`, { table: from });
        break;
      }
      case "dropColumn":
        if (isNew(action.table)) break;
        blocking(at, action.table);
        report("ban-drop-column", at, `column ${action.table}.${action.column} is dropped: its data is lost and the running app's queries naming it fail`, { table: action.table });
        break;
      case "dropTable":
        for (const table of action.tables) {
          if (isNew(table)) continue;
          blocking(at, table);
          report("ban-drop-table", at, `table ${table} is dropped with its data`, { table });
        }
        break;
      case "dropExtension":
        report("ban-drop-extension", at, `extension ${action.name} is dropped: the functions, types and operator classes it provides go away for the running app`);
        break;
      case "dropDatabase":
        report("ban-drop-database", at, `database ${action.name} is dropped`);
        break;
      case "truncate":
        if (action.cascade) report("ban-truncate-cascade", at, `TRUNCATE ${action.tables.join(", ")} CASCADE also empties every table referencing ${action.tables.length === 1 ? "it" : "them"}`, action.tables[0] ? { table: action.tables[0] } : {});
        break;
      case "createDomain":
        if (action.constrained) report("ban-create-domain-with-constraint", at, `domain ${action.name} is created with a CHECK`);
        break;
      case "alterDomainAddConstraint":
        report("ban-alter-domain-with-add-constraint", at, `a constraint is added to domain ${action.name}: every column using it is checked`);
        break;
      case "setting":
        if (action.value !== "0") settings.add(action.name);
        break;
      case "transaction":
        if (unit.transactional) {
          report("transaction-nesting", at, `${action.statement.toUpperCase()} inside a revision Retort already runs in a transaction`);
        } else if (action.statement === "begin") {
          openTransaction = at;
        } else openTransaction = undefined;
        break;
      case "createEnum": {
        names(at, [action.name]);
        const before = state.enumValues.get(`dropped:${action.name}`);
        const removed = before?.filter((value) => !action.values.includes(value)) ?? [];
        if (removed.length > 0 && !isNewEnum(action.name)) report("ban-enum-value-removal", at, `enum ${action.name} is re-created without ${removed.map((v) => `'${v}'`).join(", ")}`);
        state.enumValues.set(action.name, [...action.values]);
        if (!before) {
          enumsHere.add(action.name);
          state.newEnums.add(action.name);
        }
        break;
      }
      case "dropEnum": {
        const values = action.values ?? state.enumValues.get(action.name);
        if (values) state.enumValues.set(`dropped:${action.name}`, values);
        break;
      }
      case "addEnumValue": {
        const values = state.enumValues.get(action.enum);
        if (values) values.push(action.value);
        if (!action.positioned && !isNewEnum(action.enum)) report("require-enum-value-ordering", at, `'${action.value}' is appended to enum ${action.enum} without BEFORE or AFTER`);
        break;
      }
      case "renameEnumValue":
        if (isNewEnum(action.enum)) break;
        report("renaming-enum-value", at, `enum ${action.enum} value '${action.from}' is renamed to '${action.to}': the running app still uses '${action.from}'`);
        break;
      case "deleteEnumValue":
        report("ban-enum-value-removal", at, "the SQL edits pg_enum directly: rows holding a removed value become unreadable");
        break;
      case "rewriteTable":
        if (isNew(action.table)) break;
        blocking(at, action.table);
        report("prefer-repack", at, `${action.how} rewrites ${action.table} under an ACCESS EXCLUSIVE lock`, { table: action.table });
        break;
      case "catalogChange":
        if (!isNew(action.table)) blocking(at, action.table);
        break;
      case "unparsed":
        report("invalid-migration", at, `the raw SQL is not valid Postgres: ${action.reason}`);
        break;
      case "identifier":
        names(at, [action.name]);
        break;
    }
  }
  if (openTransaction) report("ban-uncommitted-transaction", openTransaction, "BEGIN in the raw SQL is never followed by COMMIT");
  return findings;
}
