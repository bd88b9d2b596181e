/**
 * Type changes: which ones Postgres does without a USING clause (an assignment cast exists), the
 * USING expression for those with an explicit cast, which have no cast at all (the differ asks
 * for a decision), and which changes can lose data (destructive operations are marked in
 * generated files and reported on the console).
 */
import { columnType } from "../dialects/postgres/ddl.js";
import type { Op } from "../operations/types.js";
import { convertColumn } from "../dialects/sqlite/rebuild.js";
import { MAX_TIME_PRECISION, type ColumnType, type Dialect } from "../schema/snapshot.js";
import { printIdentifier } from "./normalize.js";

const INTEGERS = ["smallint", "integer", "bigint"];
const NUMBERS = new Set([...INTEGERS, "numeric", "real", "double"]);
const STRINGS = new Set(["text", "varchar"]);
const DATETIMES = new Set(["date", "timestamp", "timestamptz"]);
const JSONS = new Set(["json", "jsonb"]);

/** Postgres' spelling of a type with minimal quoting, for USING expressions people read. */
export function readableType(type: ColumnType): string {
  return type.kind === "enum" ? printIdentifier(type.name) : columnType(type);
}

/**
 * Whether Postgres changes the column type without USING: an assignment cast exists (numbers
 * among themselves, anything to text/varchar, date/timestamp/timestamptz among themselves and to
 * time, json ↔ jsonb, the same type with other modifiers).
 */
export function castsImplicitly(from: ColumnType, to: ColumnType): boolean {
  // Postgres converts an array element by element, with the elements' cast.
  if (from.kind === "array" && to.kind === "array") return castsImplicitly(from.element, to.element);
  if (from.kind === to.kind && from.kind !== "enum") return true;
  if (STRINGS.has(to.kind)) return true;
  if (NUMBERS.has(from.kind) && NUMBERS.has(to.kind)) return true;
  if (DATETIMES.has(from.kind) && DATETIMES.has(to.kind)) return true;
  if ((from.kind === "timestamp" || from.kind === "timestamptz") && to.kind === "time") return true;
  if (JSONS.has(from.kind) && JSONS.has(to.kind)) return true;
  return false;
}

/**
 * Whether Postgres has an explicit cast (pg_cast, or the I/O conversion from a string type) for a
 * change `castsImplicitly` does not cover: from text/varchar to anything, integer ↔ boolean,
 * jsonb to numbers and boolean, and enum → enum through text. Checked pair by pair against a
 * real server by test/casts.test.ts.
 */
function castsExplicitly(from: ColumnType, to: ColumnType): boolean {
  if (from.kind === "array" && to.kind === "array") return castsImplicitly(from.element, to.element) || castsExplicitly(from.element, to.element);
  if (STRINGS.has(from.kind)) return true;
  if ((from.kind === "integer" && to.kind === "boolean") || (from.kind === "boolean" && to.kind === "integer")) return true;
  if (from.kind === "jsonb" && (NUMBERS.has(to.kind) || to.kind === "boolean")) return true;
  return from.kind === "enum" && to.kind === "enum";
}

/**
 * Whether `dialect` can change a column from `from` to `to` keeping its values (a cast exists;
 * values that do not fit may still fail at run time). SQLite: what its table rebuild converts
 * (see dialects/sqlite/rebuild.ts, convertColumn).
 */
export function castExists(from: ColumnType, to: ColumnType, dialect: Dialect): boolean {
  if (dialect === "sqlite") return convertColumn("t", "c", from, to) !== undefined;
  return castsImplicitly(from, to) || castsExplicitly(from, to);
}

/** The USING expression for a type change Postgres cannot do on its own: `xp::integer`, `role::text::member_role`. */
export function usingExpression(column: string, from: ColumnType, to: ColumnType): string | undefined {
  if (castsImplicitly(from, to)) return undefined;
  const name = printIdentifier(column);
  // enum → another enum has no direct cast: go through text.
  if (from.kind === "enum" && to.kind === "enum") return `${name}::text::${readableType(to)}`;
  return `${name}::${readableType(to)}`;
}

function integerRank(kind: string): number {
  return INTEGERS.indexOf(kind);
}

/**
 * Whether every value of `from` fits `to` unchanged (a widening). Everything else is treated as
 * narrowing: it can cut values or fail on existing rows.
 */
export function isWidening(from: ColumnType, to: ColumnType): boolean {
  if (from.kind === "array" && to.kind === "array") return isWidening(from.element, to.element);
  if (from.kind === to.kind) {
    switch (from.kind) {
      case "varchar": {
        const target = (to as { length?: number }).length;
        return target === undefined || (from.length !== undefined && target >= from.length);
      }
      case "timestamptz":
      case "timestamp":
      case "time":
        return ((to as { precision?: number }).precision ?? MAX_TIME_PRECISION) >= (from.precision ?? MAX_TIME_PRECISION);
      case "numeric": {
        const target = to as { precision?: number; scale?: number };
        if (target.precision === undefined) return true;
        if (from.precision === undefined) return false;
        const fromScale = from.scale ?? 0;
        const toScale = target.scale ?? 0;
        return toScale >= fromScale && target.precision - toScale >= from.precision - fromScale;
      }
      case "enum":
        return false;
      default:
        return true;
    }
  }
  if (to.kind === "text") return true;
  if (integerRank(from.kind) >= 0 && integerRank(to.kind) >= 0) return integerRank(to.kind) > integerRank(from.kind);
  if (integerRank(from.kind) >= 0 && to.kind === "numeric") {
    if (to.precision === undefined) return true;
    const digits = from.kind === "smallint" ? 5 : from.kind === "integer" ? 10 : 19;
    return to.precision - (to.scale ?? 0) >= digits;
  }
  if ((from.kind === "smallint" || from.kind === "integer") && to.kind === "double") return true;
  if (from.kind === "smallint" && to.kind === "real") return true;
  if (from.kind === "real" && to.kind === "double") return true;
  if (from.kind === "date" && (to.kind === "timestamp" || to.kind === "timestamptz")) return true;
  if (from.kind === "timestamp" && to.kind === "timestamptz") return true;
  if (from.kind === "json" && to.kind === "jsonb") return true;
  return false;
}

function typeText(type: ColumnType): string {
  return type.kind === "enum" ? `enum ${type.name}` : columnType(type);
}

/** Why `op` can lose data, or undefined when it cannot. */
export function destructiveReason(op: Op): string | undefined {
  switch (op.kind) {
    case "dropTable":
      return `drops table "${op.name}" and all its rows`;
    case "dropColumn":
      return `drops column "${op.table}"."${op.name}" and its values`;
    case "alterColumn": {
      const before = op.previous?.type;
      if (op.type === undefined) return undefined;
      if (before === undefined) return `changes the type of "${op.table}"."${op.name}" to ${typeText(op.type)}; values that do not fit fail or are cut`;
      if (isWidening(before, op.type)) return undefined;
      const target = op.type.kind === "enum" ? `enum ${op.type.name}: rows holding other values make it fail` : `${typeText(op.type)}: values that do not fit fail or are cut`;
      return `narrows "${op.table}"."${op.name}" from ${typeText(before)} to ${target}`;
    }
    case "dropExtension":
      return `drops extension "${op.name}": what it provides (functions, types, operator classes) goes away`;
    case "execute":
      return undefined;
    default:
      return undefined;
  }
}
