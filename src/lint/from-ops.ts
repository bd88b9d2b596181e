/**
 * Recorded migration operations into lint actions. One op call of the migration file may record
 * several operations (`addColumn` with `.references()` adds a foreign key too); they share the
 * call index, which is what line numbers and suppressions follow.
 */
import { columnType } from "../dialects/postgres/ddl.js";
import { Op, type ExecuteOp } from "../operations/types.js";
import type { PostgresParser } from "../sql/parser.js";
import type { ColumnSchema, ColumnType, DefaultValue } from "../schema/snapshot.js";
import { actionsFromSql, volatileFunction } from "./from-sql.js";
import type { Action, ColumnFacts } from "./types.js";

/** The operations one op call recorded. */
export interface RecordedCall {
  method: string;
  ops: readonly Op[];
}

/** An action, and for raw SQL the offset of its statement in the op.execute text. */
export interface LocatedAction {
  action: Action;
  sqlOffset?: number;
  sql?: string;
}

const INTERNAL: Partial<Record<ColumnType["kind"], string>> = {
  smallint: "int2",
  integer: "int4",
  bigint: "int8",
  real: "float4",
  double: "float8",
  boolean: "bool",
};

function typeFacts(type: ColumnType): Pick<ColumnFacts, "type" | "typeText" | "length" | "scale"> {
  const text = type.kind === "enum" ? type.name : columnType(type);
  // An array is Postgres' "_" + its element's name, with the element's modifiers (as raw SQL reads).
  if (type.kind === "array") return { ...typeFacts(type.element), type: `_${typeFacts(type.element).type}`, typeText: text };
  const name = type.kind === "enum" ? type.name : (INTERNAL[type.kind] ?? type.kind);
  return {
    type: name,
    typeText: text,
    ...(type.kind === "varchar" ? { length: type.length } : {}),
    ...(type.kind === "numeric" && type.precision !== undefined ? { length: type.precision, ...(type.scale !== undefined ? { scale: type.scale } : {}) } : {}),
  };
}

function defaultVolatility(value: DefaultValue | undefined, parser: PostgresParser): string | undefined {
  if (!value) return undefined;
  if (value.kind === "random-uuid") return "gen_random_uuid()";
  if (value.kind !== "sql") return undefined;
  try {
    const [select] = parser.parse(`SELECT ${value.sql}`);
    return volatileFunction(select);
  } catch {
    return `${value.sql} (not readable as an expression)`;
  }
}

export function columnFacts(column: ColumnSchema, parser: PostgresParser): ColumnFacts {
  const volatileDefault = defaultVolatility(column.default, parser);
  return {
    name: column.name,
    ...typeFacts(column.type),
    notNull: !column.nullable,
    hasDefault: column.default !== undefined || column.serial === true || column.identity !== undefined,
    ...(volatileDefault ? { volatileDefault } : {}),
    ...(column.serial ? { serial: true } : {}),
    ...(column.identity ? { identity: true } : {}),
  };
}

/** The Postgres text of an op.execute, or undefined when it was written for other dialects only. */
function postgresText(op: ExecuteOp): string | undefined {
  return typeof op.sql === "string" ? op.sql : (op.sql.postgres ?? op.sql.pglite);
}

/** The actions of the op calls of one upgrade(), in order. */
export function actionsFromCalls(calls: readonly RecordedCall[], parser: PostgresParser): LocatedAction[] {
  const out: LocatedAction[] = [];
  calls.forEach((call, index) => {
    // Keys and references recorded by the same call describe the column it adds.
    const keyed = new Set<string>();
    const references = new Map<string, string>();
    for (const op of call.ops) {
      if (op.kind === "addPrimaryKey" && op.primaryKey.columns.length === 1) keyed.add(op.primaryKey.columns[0]!);
      if (op.kind === "addForeignKey" && op.foreignKey.columns.length === 1) references.set(op.foreignKey.columns[0]!, op.foreignKey.refTable);
    }
    for (const op of call.ops) {
      const base = { call: index, description: Op.describe(op) };
      const push = (action: Action) => out.push({ action });
      switch (op.kind) {
        case "createTable": {
          const table = op.table;
          const pk = new Set(table.primaryKey?.columns.length === 1 ? table.primaryKey.columns : []);
          const refs = new Map(table.foreignKeys.filter((fk) => fk.columns.length === 1).map((fk) => [fk.columns[0]!, fk.refTable]));
          const columns = table.columns.map((column) => {
            const facts = columnFacts(column, parser);
            if (pk.has(column.name)) facts.primaryKey = true;
            if (refs.has(column.name)) facts.references = refs.get(column.name)!;
            return facts;
          });
          const names = [table.name, ...table.columns.map((c) => c.name), ...(table.primaryKey ? [table.primaryKey.name] : []), ...table.uniques.map((u) => u.name), ...table.indexes.map((i) => i.name), ...table.foreignKeys.map((f) => f.name), ...table.checks.map((c) => c.name)];
          const indexes = [...(table.primaryKey ? [table.primaryKey.name] : []), ...table.uniques.map((u) => u.name), ...table.indexes.map((i) => i.name)];
          push({ ...base, kind: "createTable", table: table.name, columns, names, indexes });
          break;
        }
        case "dropTable":
          push({ ...base, kind: "dropTable", tables: [op.name] });
          break;
        case "renameTable":
          push({ ...base, kind: "renameTable", from: op.from, to: op.to });
          break;
        case "addColumn": {
          const facts = columnFacts(op.column, parser);
          if (keyed.has(op.column.name)) facts.primaryKey = true;
          if (references.has(op.column.name)) facts.references = references.get(op.column.name)!;
          push({ ...base, kind: "addColumn", table: op.table, column: facts });
          break;
        }
        case "dropColumn":
          push({ ...base, kind: "dropColumn", table: op.table, column: op.name });
          break;
        case "renameColumn":
          push({ ...base, kind: "renameColumn", table: op.table, from: op.from, to: op.to });
          break;
        case "alterColumn": {
          if (op.type) {
            const to: ColumnFacts = { name: op.name, ...typeFacts(op.type), notNull: false, hasDefault: false };
            const from: ColumnFacts | undefined = op.previous?.type ? { name: op.name, ...typeFacts(op.previous.type), notNull: false, hasDefault: false } : undefined;
            push({ ...base, kind: "alterType", table: op.table, column: op.name, to, ...(from ? { from } : {}), using: op.using !== undefined });
          }
          if (op.nullable === false) push({ ...base, kind: "setNotNull", table: op.table, column: op.name });
          if (op.nullable === true) push({ ...base, kind: "dropNotNull", table: op.table, column: op.name });
          if (op.default !== undefined || op.comment !== undefined || op.serial !== undefined) push({ ...base, kind: "catalogChange", table: op.table });
          break;
        }
        case "createIndex":
          push({ ...base, kind: "createIndex", table: op.table, name: op.index.name, concurrently: op.concurrently === true, unique: op.index.unique });
          break;
        case "dropIndex":
          push({ ...base, kind: "dropIndex", name: op.name, ...(op.table ? { table: op.table } : {}), concurrently: op.concurrently === true });
          break;
        case "addPrimaryKey":
          push({ ...base, kind: "addConstraint", table: op.table, constraint: "primary-key", name: op.primaryKey.name, notValid: false, usingIndex: false });
          break;
        case "addUnique":
          push({ ...base, kind: "addConstraint", table: op.table, constraint: "unique", name: op.unique.name, notValid: false, usingIndex: false });
          break;
        case "addForeignKey":
          push({ ...base, kind: "addConstraint", table: op.table, constraint: "foreign-key", name: op.foreignKey.name, notValid: op.notValid === true, usingIndex: false, refTable: op.foreignKey.refTable });
          break;
        case "addCheck": {
          const notNullColumn = /^\(?\s*"?([A-Za-z_][\w$]*)"?\s+IS\s+NOT\s+NULL\s*\)?$/i.exec(op.check.expression.trim())?.[1];
          push({ ...base, kind: "addConstraint", table: op.table, constraint: "check", name: op.check.name, notValid: op.notValid === true, usingIndex: false, ...(notNullColumn ? { notNullColumn } : {}) });
          break;
        }
        case "dropConstraint":
          push({ ...base, kind: "catalogChange", table: op.table });
          break;
        case "validateConstraint":
          push({ ...base, kind: "validateConstraint", table: op.table, name: op.name });
          break;
        case "createEnum":
          push({ ...base, kind: "createEnum", name: op.enum.name, values: [...op.enum.values] });
          break;
        case "dropEnum":
          push({ ...base, kind: "dropEnum", name: op.name, ...(op.previous ? { values: [...op.previous.values] } : {}) });
          break;
        case "addEnumValue":
          push({ ...base, kind: "addEnumValue", enum: op.enum, value: op.value, positioned: op.before !== undefined || op.after !== undefined });
          break;
        case "renameEnumValue":
          push({ ...base, kind: "renameEnumValue", enum: op.enum, from: op.from, to: op.to });
          break;
        case "createExtension":
          break;
        case "dropExtension":
          push({ ...base, kind: "dropExtension", name: op.name });
          break;
        case "execute": {
          const text = postgresText(op);
          if (text === undefined) break;
          for (const located of actionsFromSql(parser, text, index)) out.push({ action: located.action, sqlOffset: located.offset, sql: text });
          break;
        }
        case "bulkInsert":
        case "run":
          break;
      }
    }
  });
  return out;
}
