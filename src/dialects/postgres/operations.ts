/**
 * Migration operations → Postgres DDL (PGlite speaks the same). Columns, constraints and indexes
 * render through the helpers in ddl.ts, the same ones `createAll` uses.
 *
 * Statements that cannot run inside a transaction are flagged `outsideTransaction`: CREATE/DROP
 * INDEX CONCURRENTLY, and ALTER TYPE … ADD VALUE (a new label cannot be used in the transaction
 * that adds it; IF NOT EXISTS makes a resumed run safe).
 */
import { bulkInsertSteps, hexBytes, badValue } from "../../operations/bulk.js";
import { tableNamed } from "../../operations/apply.js";
import { Op, sqlForDialect, type DataOp, type Step } from "../../operations/types.js";
import { limitIdentifier } from "../../schema/naming.js";
import type { ColumnSchema, ColumnType, JsonValue, Schema, TableSchema } from "../../schema/snapshot.js";
import { quoteIdent, quoteLiteral } from "../sql-text.js";
import { arrayLiteral } from "./codecs.js";
import { addForeignKey, checkClause, columnDefinition, columnType, createEnum, createIndex, postgresDdl, primaryKeyClause, renderDefault, uniqueClause } from "./ddl.js";

function tableOf(schema: Schema, name: string): TableSchema {
  // The fold has already checked that it exists.
  return tableNamed(schema, name)!;
}

function concurrentIndex(sql: string): string {
  // createIndex() renders "CREATE [UNIQUE ]INDEX "name" ON …"; CONCURRENTLY goes right after INDEX.
  return sql.replace(/^CREATE (UNIQUE )?INDEX /, (prefix) => `${prefix}CONCURRENTLY `);
}

export const PROBE_TABLE = '"_retort_probe"';
export const PROBE_INDEX = '"_retort_probe_ix"';

/** A CREATE INDEX CONCURRENTLY step's parts (quoted), and the same index on PROBE_TABLE (to compare definitions). */
export interface ConcurrentIndex {
  name: string;
  table: string;
  probeSql: string;
}

/** The parts of a statement concurrentIndex() wrote, or undefined for any other statement. */
export function concurrentIndexParts(sql: string): ConcurrentIndex | undefined {
  const match = /^CREATE (UNIQUE )?INDEX CONCURRENTLY ("(?:[^"]|"")+") ON ("(?:[^"]|"")+")([\s\S]*)$/.exec(sql);
  if (!match) return undefined;
  const [, unique = "", name, table, rest] = match;
  return { name: name!, table: table!, probeSql: `CREATE ${unique}INDEX ${PROBE_INDEX} ON ${PROBE_TABLE}${rest}` };
}

/** A JSON-safe value → what pg and PGlite bind for a column of `type` (the server parses the text). */
export function encodePostgresValue(type: ColumnType, value: JsonValue, where: string): unknown {
  if (value === null) return null;
  switch (type.kind) {
    case "json":
    case "jsonb":
      return JSON.stringify(value);
    case "bytea":
      return hexBytes(where, type, value);
    case "array":
      // Elements as JSON gives them (bigint and numeric as digit strings); the server parses each.
      if (!Array.isArray(value) || !value.every((item) => item === null || typeof item !== "object")) throw badValue(where, type, value, "an array of scalars");
      return arrayLiteral(value);
    default:
      if (typeof value === "object") throw badValue(where, type, value, "a scalar");
      return value;
  }
}

/** Drop the sequence a column owns (found by Postgres: a rename keeps the sequence's old name). After DROP DEFAULT. */
function dropOwnedSequence(table: string, column: string): string {
  const args = `${quoteLiteral(quoteIdent(table))}, ${quoteLiteral(column)}`;
  return `DO $retort$ BEGIN EXECUTE 'DROP SEQUENCE ' || pg_get_serial_sequence(${args}); END $retort$`;
}

/** What `serial` does, for an existing column: a sequence it owns, starting past its largest value, as its default. */
function addSerialSql(table: string, column: ColumnSchema): string[] {
  const sequence = quoteLiteral(quoteIdent(limitIdentifier(`${table}_${column.name}_seq`)));
  const name = quoteIdent(column.name);
  return [
    `CREATE SEQUENCE ${quoteIdent(limitIdentifier(`${table}_${column.name}_seq`))} AS ${columnType(column.type)} OWNED BY ${quoteIdent(table)}.${name}`,
    `SELECT setval(${sequence}, COALESCE(max(${name}), 0) + 1, false) FROM ${quoteIdent(table)}`,
    `ALTER TABLE ${quoteIdent(table)} ALTER COLUMN ${name} SET DEFAULT nextval(${sequence}::regclass)`,
  ];
}

export function compilePostgresOperation(op: DataOp, before: Schema, after: Schema): Step[] {
  const description = Op.describe(op);
  const step = (sql: string, extra: Omit<Step, "sql" | "description"> = {}): Step => ({ sql, description, ...extra });
  const alterTable = (table: string, action: string) => step(`ALTER TABLE ${quoteIdent(table)} ${action}`);

  switch (op.kind) {
    case "createTable": {
      const table = tableOf(after, op.table.name);
      return [...postgresDdl.createTable(table, after), ...table.indexes.map((index) => createIndex(table, index))].map((sql) => step(sql));
    }
    case "dropTable":
      return [step(postgresDdl.dropTable(op.name))];
    case "renameTable":
      return [alterTable(op.from, `RENAME TO ${quoteIdent(op.to)}`)];
    case "addColumn": {
      const column = tableOf(after, op.table).columns.find((candidate) => candidate.name === op.column.name)!;
      const steps = [alterTable(op.table, `ADD COLUMN ${columnDefinition(column)}`)];
      if (column.comment !== undefined) steps.push(step(`COMMENT ON COLUMN ${quoteIdent(op.table)}.${quoteIdent(column.name)} IS ${quoteLiteral(column.comment)}`));
      return steps;
    }
    case "dropColumn":
      return [alterTable(op.table, `DROP COLUMN ${quoteIdent(op.name)}`)];
    case "renameColumn":
      return [alterTable(op.table, `RENAME COLUMN ${quoteIdent(op.from)} TO ${quoteIdent(op.to)}`)];
    case "alterColumn": {
      const old = tableOf(before, op.table).columns.find((candidate) => candidate.name === op.name)!;
      const column = tableOf(after, op.table).columns.find((candidate) => candidate.name === op.name)!;
      const name = quoteIdent(op.name);
      const actions: string[] = [];
      if (op.serial === false && old.serial) {
        // The owned sequence goes with its default; its name is whatever Postgres gave it (renames keep it).
        actions.push(`ALTER COLUMN ${name} DROP DEFAULT`);
      }
      if (op.type !== undefined) {
        // A default that cannot be cast to the new type would fail the change: drop it, change the
        // type, set it again (Postgres runs DROP DEFAULT, then TYPE, then SET DEFAULT, whatever the order written).
        const hadDefault = old.default !== undefined && old.identity === undefined;
        if (hadDefault) actions.push(`ALTER COLUMN ${name} DROP DEFAULT`);
        actions.push(`ALTER COLUMN ${name} TYPE ${columnType(column.type)}${op.using === undefined ? "" : ` USING ${op.using}`}`);
        const defaultSql = renderDefault(column);
        if (defaultSql !== undefined) actions.push(`ALTER COLUMN ${name} SET DEFAULT ${defaultSql}`);
      } else if (op.default !== undefined) {
        const defaultSql = renderDefault(column);
        actions.push(defaultSql === undefined ? `ALTER COLUMN ${name} DROP DEFAULT` : `ALTER COLUMN ${name} SET DEFAULT ${defaultSql}`);
      }
      if (op.nullable !== undefined) actions.push(`ALTER COLUMN ${name} ${op.nullable ? "DROP" : "SET"} NOT NULL`);
      // serial implies NOT NULL (the fold made the column so).
      if (op.serial === true && old.nullable && op.nullable === undefined) actions.push(`ALTER COLUMN ${name} SET NOT NULL`);
      const steps = actions.length === 0 ? [] : [alterTable(op.table, actions.join(", "))];
      if (op.serial === false && old.serial) steps.push(step(dropOwnedSequence(op.table, op.name)));
      if (op.serial === true && !old.serial) steps.push(...addSerialSql(op.table, column).map((sql) => step(sql)));
      if (op.comment !== undefined) {
        steps.push(step(`COMMENT ON COLUMN ${quoteIdent(op.table)}.${name} IS ${op.comment === null ? "NULL" : quoteLiteral(op.comment)}`));
      }
      return steps;
    }
    case "createIndex": {
      const sql = createIndex(tableOf(after, op.table), op.index);
      return [op.concurrently ? step(concurrentIndex(sql), { outsideTransaction: true }) : step(sql)];
    }
    case "dropIndex":
      return [op.concurrently ? step(`DROP INDEX CONCURRENTLY ${quoteIdent(op.name)}`, { outsideTransaction: true }) : step(postgresDdl.dropIndex(op.name))];
    case "addPrimaryKey":
      return [alterTable(op.table, `ADD ${primaryKeyClause(op.primaryKey)}`)];
    case "addUnique":
      return [alterTable(op.table, `ADD ${uniqueClause(op.unique)}`)];
    case "addForeignKey":
      return [step(`${addForeignKey(op.table, op.foreignKey)}${op.notValid ? " NOT VALID" : ""}`)];
    case "addCheck":
      return [alterTable(op.table, `ADD ${checkClause(op.check)}${op.notValid ? " NOT VALID" : ""}`)];
    case "dropConstraint":
      return [alterTable(op.table, `DROP CONSTRAINT ${quoteIdent(op.name)}`)];
    case "validateConstraint":
      return [alterTable(op.table, `VALIDATE CONSTRAINT ${quoteIdent(op.name)}`)];
    case "createEnum":
      return createEnum(op.enum).map((sql) => step(sql));
    case "dropEnum":
      return [step(`DROP TYPE ${quoteIdent(op.name)}`)];
    case "addEnumValue": {
      const position = op.before !== undefined ? ` BEFORE ${quoteLiteral(op.before)}` : op.after !== undefined ? ` AFTER ${quoteLiteral(op.after)}` : "";
      return [step(`ALTER TYPE ${quoteIdent(op.enum)} ADD VALUE IF NOT EXISTS ${quoteLiteral(op.value)}${position}`, { outsideTransaction: true })];
    }
    case "renameEnumValue":
      return [step(`ALTER TYPE ${quoteIdent(op.enum)} RENAME VALUE ${quoteLiteral(op.from)} TO ${quoteLiteral(op.to)}`)];
    case "createExtension":
      return [step(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(op.name)}`, { extension: op.name })];
    case "dropExtension":
      return [step(`DROP EXTENSION IF EXISTS ${quoteIdent(op.name)}`)];
    case "execute":
      return [step(sqlForDialect(op.sql, "postgres"), { raw: true, ...(op.params === undefined || op.params.length === 0 ? {} : { params: [...op.params] }) })];
    case "bulkInsert":
      return bulkInsertSteps(op, tableOf(before, op.table), "postgres", encodePostgresValue);
  }
}
