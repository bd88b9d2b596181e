/**
 * bulkInsert → multi-row INSERT statements with parameters. Rows are grouped by the columns they
 * give (a missing column takes its default), and cut into statements that stay under the
 * dialect's parameter limit. Each dialect encodes the JSON-safe values for its driver.
 */
import { RetortError } from "../errors.js";
import { identList, quoteIdent } from "../dialects/sql-text.js";
import type { ColumnSchema, ColumnType, JsonValue, SqlFamily, TableSchema } from "../schema/snapshot.js";
import { Op, type BulkInsertOp, type Step } from "./types.js";

/** Rows per statement at most, and parameters per statement at most (Postgres allows 65535, SQLite 32766). */
const MAX_ROWS = 1000;
const MAX_PARAMS = 30000;

/** A JSON-safe value of a column → the parameter the dialect's driver binds. */
export type ValueEncoder = (type: ColumnType, value: JsonValue, where: string) => unknown;

export function badValue(where: string, type: ColumnType, value: JsonValue, expected: string): RetortError {
  return new RetortError("RETORT_INVALID_OPERATION", `${where}: ${JSON.stringify(value)} is not a valid ${type.kind} value (expected ${expected})`, {
    hint: "bulkInsert values are the columns' TypeScript values: bigint (or a digit string), Date (or ISO text), Uint8Array (or hex), JSON as itself.",
  });
}

/** Hex text (optionally \x or 0x prefixed) → bytes. */
export function hexBytes(where: string, type: ColumnType, value: JsonValue): Buffer {
  const hex = typeof value === "string" ? value.replace(/^(\\x|0x)/i, "") : undefined;
  if (hex === undefined || !/^([0-9a-f]{2})*$/i.test(hex)) throw badValue(where, type, value, "bytes as hex text");
  return Buffer.from(hex, "hex");
}

export function bulkInsertSteps(op: BulkInsertOp, table: TableSchema, family: SqlFamily, encode: ValueEncoder): Step[] {
  const steps: Step[] = [];
  const description = Op.describe(op);
  const byName = new Map(table.columns.map((column) => [column.name, column]));
  let i = 0;
  while (i < op.rows.length) {
    // A run of consecutive rows giving the same columns becomes one or more statements.
    const columns = table.columns.filter((column) => op.rows[i]![column.name] !== undefined);
    const signature = columns.map((column) => column.name).join("\u0000");
    const perStatement = columns.length === 0 ? 1 : Math.max(1, Math.min(MAX_ROWS, Math.floor(MAX_PARAMS / columns.length)));
    let end = i;
    while (end < op.rows.length && end - i < perStatement) {
      const row = op.rows[end]!;
      const keys = table.columns.filter((column) => row[column.name] !== undefined).map((column) => column.name);
      if (keys.join("\u0000") !== signature) break;
      for (const key of Object.keys(row)) if (!byName.has(key)) throw new RetortError("RETORT_INVALID_OPERATION", `${description}: "${key}" is not a column of "${table.name}"`);
      end++;
    }
    const rows = op.rows.slice(i, end);
    const range = op.rows.length === 1 ? "" : rows.length === 1 ? `, row ${i + 1}` : `, rows ${i + 1}–${end}`;
    steps.push(insertStep(table, columns, rows, i, family, encode, `${description}${range}`));
    i = end;
  }
  return steps;
}

function insertStep(
  table: TableSchema,
  columns: ColumnSchema[],
  rows: readonly Readonly<Record<string, JsonValue>>[],
  offset: number,
  family: SqlFamily,
  encode: ValueEncoder,
  description: string,
): Step {
  if (columns.length === 0) return { sql: `INSERT INTO ${quoteIdent(table.name)} DEFAULT VALUES`, description };
  const params: unknown[] = [];
  const tuples = rows.map((row, r) => {
    const placeholders = columns.map((column) => {
      params.push(encode(column.type, row[column.name]!, `row ${offset + r + 1}, column "${column.name}"`));
      return family === "postgres" ? `$${params.length}` : "?";
    });
    return `(${placeholders.join(", ")})`;
  });
  return {
    sql: `INSERT INTO ${quoteIdent(table.name)} (${identList(columns.map((column) => column.name))}) VALUES ${tuples.join(", ")}`,
    params,
    description,
  };
}
