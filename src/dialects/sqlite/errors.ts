/**
 * SQLite constraint errors → RetortError. SQLite's messages name columns or a constraint but not
 * always both, and a foreign-key failure names nothing; the schema snapshot (and, for foreign
 * keys, the statement that failed) fills in the rest. Messages name tables, constraints and
 * columns, never row values.
 */
import { RetortError } from "../../errors.js";
import type { ForeignKeySchema, Schema, TableSchema } from "../../schema/snapshot.js";
import { columnCheckKind, columnCheckName, type ColumnCheckKind } from "./types.js";

/** The SQL of the statement that raised each error, recorded by the driver for foreign-key errors. */
export const failedStatements = new WeakMap<object, string>();

export interface TranslateContext {
  schema: Schema;
  /** The table an index belongs to, from sqlite_master, for indexes the schema does not know. */
  tableOfIndex(name: string): string | undefined;
}

export function translateSqliteError(error: unknown, context: TranslateContext): unknown {
  if (error instanceof RetortError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string" || !code.startsWith("SQLITE_CONSTRAINT")) return error;
  const subject = /constraint failed: (.*)$/s.exec(error.message)?.[1] ?? "";
  // ON DELETE/UPDATE RESTRICT fails inside SQLite's trigger machinery: code _TRIGGER, same message.
  if (error.message.startsWith("FOREIGN KEY constraint failed")) return foreignKeyViolation(error, context.schema);
  switch (code) {
    case "SQLITE_CONSTRAINT_UNIQUE":
    case "SQLITE_CONSTRAINT_PRIMARYKEY":
      return uniqueViolation(error, subject, context);
    case "SQLITE_CONSTRAINT_NOTNULL":
      return notNullViolation(error, subject, context.schema);
    case "SQLITE_CONSTRAINT_CHECK":
      return checkViolation(error, subject, context.schema);
    default:
      return error;
  }
}

/** "members.guild_id" → ["members", "guild_id"], preferring a table the schema knows (names may hold dots). */
function splitQualified(qualified: string, schema: Schema): [string, string] {
  const known = schema.tables.find((table) => qualified.startsWith(`${table.name}.`));
  const cut = known ? known.name.length : qualified.indexOf(".");
  return cut < 0 ? ["", qualified] : [qualified.slice(0, cut), qualified.slice(cut + 1)];
}

const sameColumns = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((name) => b.includes(name));

/** The unique constraint, unique index or primary key of `table` over exactly `columns`. */
function uniqueConstraintOn(table: TableSchema | undefined, columns: string[]): string | undefined {
  if (!table) return undefined;
  if (table.primaryKey && sameColumns(table.primaryKey.columns, columns)) return table.primaryKey.name;
  const unique = table.uniques.find((candidate) => sameColumns(candidate.columns, columns));
  if (unique) return unique.name;
  return table.indexes.find(
    (index) => index.unique && index.elements.every((element) => "column" in element) && sameColumns(index.elements.map((element) => ("column" in element ? element.column : "")), columns),
  )?.name;
}

function uniqueViolation(cause: Error, subject: string, context: TranslateContext): RetortError {
  const { schema } = context;
  let table: string | undefined;
  let constraint: string | undefined;
  let columns: string[];
  const indexName = /^index '(.*)'$/s.exec(subject)?.[1];
  if (indexName !== undefined) {
    // SQLite names the index instead of columns when it indexes expressions.
    constraint = indexName;
    const owner = schema.tables.find((candidate) => candidate.indexes.some((index) => index.name === indexName));
    const index = owner?.indexes.find((candidate) => candidate.name === indexName);
    table = owner?.name ?? context.tableOfIndex(indexName);
    columns = index ? index.elements.map((element) => ("column" in element ? element.column : element.expression)) : [];
  } else {
    const parts = subject.split(", ").map((part) => splitQualified(part, schema));
    table = parts[0]?.[0];
    columns = parts.map(([, column]) => column);
    constraint = uniqueConstraintOn(schema.tables.find((candidate) => candidate.name === table), columns);
  }
  const named = constraint === undefined ? "Unique constraint" : `Unique constraint "${constraint}"`;
  const on = table === undefined ? "" : ` on table "${table}"`;
  const list = columns.length ? ` (${columns.join(", ")})` : "";
  return new RetortError("RETORT_UNIQUE_VIOLATION", `${named} violated${on}${list}`, {
    hint: `A row with the same ${columns.length > 1 ? "values" : "value"}${list} already exists: use another value, or update the existing row.`,
    details: { table, constraint, columns },
    cause,
  });
}

function notNullViolation(cause: Error, subject: string, schema: Schema): RetortError {
  const [table, column] = splitQualified(subject, schema);
  return new RetortError("RETORT_NOT_NULL_VIOLATION", `Column "${column}" of table "${table}" cannot be null (not-null constraint violated)`, {
    hint: `Give "${column}" a value, or give the column a default.`,
    details: { table, column },
    cause,
  });
}

const CHECK_RULES: Record<ColumnCheckKind, (column: string, detail: string) => [rule: string, hint: string]> = {
  varchar: (column, length) => [`"${column}" allows at most ${length} characters`, "Shorten the value, or widen the column."],
  boolean: (column) => [`"${column}" accepts only booleans`, "Store true or false (1 or 0 in raw SQL)."],
  enum: (column, values) => [`"${column}" accepts only ${values}`, "Use one of the enum's values, or add the value to the enum."],
  json: (column) => [`"${column}" must hold valid JSON text`, "Store JSON text (Retort encodes objects, arrays and strings for you)."],
};

function checkViolation(cause: Error, subject: string, schema: Schema): RetortError {
  for (const table of schema.tables) {
    const check = table.checks.find((candidate) => candidate.name === subject);
    if (check) {
      return new RetortError("RETORT_CHECK_VIOLATION", `Check constraint "${check.name}" violated on table "${table.name}"`, {
        hint: `The row must satisfy ${check.expression}: fix the values.`,
        details: { table: table.name, constraint: check.name },
        cause,
      });
    }
    for (const column of table.columns) {
      const kind = columnCheckKind(column.type);
      if (kind === undefined || columnCheckName(table.name, column.name, kind) !== subject) continue;
      const type = column.type;
      const detail =
        type.kind === "varchar"
          ? String(type.length)
          : type.kind === "enum"
            ? `the values of enum "${type.name}" (${(schema.enums.find((e) => e.name === type.name)?.values ?? []).map((v) => `'${v}'`).join(", ")})`
            : "";
      const [rule, hint] = CHECK_RULES[kind](column.name, detail);
      return new RetortError("RETORT_CHECK_VIOLATION", `Check constraint "${subject}" violated on table "${table.name}": ${rule}`, {
        hint,
        details: { table: table.name, constraint: subject, column: column.name },
        cause,
      });
    }
  }
  // An unnamed check: SQLite gives its expression instead of a name.
  const table = statementTarget(cause)?.table;
  return new RetortError("RETORT_CHECK_VIOLATION", `Check constraint ${subject} violated${table ? ` on table "${table}"` : ""}`, {
    hint: "Fix the values so the row satisfies the check.",
    details: { table, constraint: subject },
    cause,
  });
}

const TARGET = /\b(insert|replace|update|delete)\b(?:\s+or\s+\w+)?(?:\s+into|\s+from)?\s+((?:"(?:[^"]|"")+"|[\w$]+)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[\w$]+))?)/i;

/** The verb and table of the statement that failed (recorded by the driver), if recognisable. */
function statementTarget(error: Error): { verb: string; table: string } | undefined {
  const sql = failedStatements.get(error);
  const match = sql === undefined ? null : TARGET.exec(sql);
  if (!match) return undefined;
  const last = match[2]!.split(/\s*\.\s*(?=(?:"|[\w$]))/).pop()!;
  const table = last.startsWith('"') ? last.slice(1, -1).replaceAll('""', '"') : last;
  return { verb: match[1]!.toLowerCase(), table };
}

function foreignKeyViolation(cause: Error, schema: Schema): RetortError {
  const target = statementTarget(cause);
  // SQLite does not say which key failed: narrow it down from what the statement could break.
  const candidates: Array<{ table: string; fk: ForeignKeySchema }> = [];
  if (target) {
    const blocking = (action: string) => action === "restrict" || action === "no action";
    for (const table of schema.tables) {
      for (const fk of table.foreignKeys) {
        const writesChild = table.name === target.table && target.verb !== "delete";
        const changesParent =
          fk.refTable === target.table && ((target.verb === "delete" && blocking(fk.onDelete)) || (target.verb === "update" && blocking(fk.onUpdate)));
        if (writesChild || changesParent) candidates.push({ table: table.name, fk });
      }
    }
  }
  const only = candidates.length === 1 ? candidates[0] : undefined;
  const table = only?.table ?? target?.table;
  const constraint = only?.fk.name;
  const named = constraint === undefined ? "Foreign key constraint" : `Foreign key constraint "${constraint}"`;
  const among = candidates.length > 1 ? ` (one of ${candidates.map((c) => `"${c.fk.name}"`).join(", ")})` : "";
  const hint =
    target?.verb === "delete"
      ? `Rows elsewhere still reference the row being deleted from "${target.table}": delete or re-point them first, or declare onDelete "cascade" or "set null".`
      : only && only.table === target?.table
        ? `The referenced row in "${only.fk.refTable}" does not exist: insert it first, or fix (${only.fk.columns.join(", ")}).`
        : "The referenced row must exist (insert it first), and a referenced row cannot be removed while rows point at it.";
  return new RetortError("RETORT_FOREIGN_KEY_VIOLATION", `${named} violated${table ? ` on table "${table}"` : ""}${among}`, {
    hint,
    details: { table, constraint },
    cause,
  });
}
