/**
 * Typed filters for the controllers: `{ guildId: 1n, xp: { gte: 10 }, nickname: { ilike: "a%" },
 * deletedAt: null, or: [...], not: {...} }`, compiled to Kysely expressions on database names.
 */
import type { Expression, ExpressionBuilder, ReferenceExpression, SqlBool } from "kysely";
import { kyselyRuntime } from "./kysely-runtime.js";
import { RetortError } from "../errors.js";
import type { Driver } from "../dialects/driver.js";
import type { Row } from "../model/types.js";
import type { ColumnInfo, TableInfo } from "./table-info.js";

export interface FieldOperators<V> {
  eq?: V | null;
  ne?: V | null;
  in?: readonly V[];
  notIn?: readonly V[];
  gt?: V;
  gte?: V;
  lt?: V;
  lte?: V;
  /** SQL LIKE, case-sensitive on every backend. */
  like?: string;
  /** Case-insensitive LIKE. */
  ilike?: string;
  isNull?: boolean;
}

export type FieldFilter<V> = V | null | FieldOperators<V>;

export type Where<T> = {
  [K in keyof Row<T>]?: FieldFilter<NonNullable<Row<T>[K]>>;
} & {
  and?: Where<T>[];
  or?: Where<T>[];
  not?: Where<T>;
};

type DynamicRef = ReferenceExpression<any, any>;

const OPERATORS = new Set(["eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte", "like", "ilike", "isNull"]);

/** A plain object of operators (not a Date, a byte array, an array or a JSON value). */
function isOperatorObject(value: unknown, column: ColumnInfo): value is FieldOperators<unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date || value instanceof Uint8Array) return false;
  const keys = Object.keys(value);
  const isJson = column.type.kind === "jsonb" || column.type.kind === "json";
  if (keys.length > 0 && keys.every((key) => OPERATORS.has(key))) return true;
  if (isJson) {
    throw new RetortError("RETORT_INVALID_QUERY", `filter on JSON column "${column.key}": wrap the value in { eq: … } to compare a whole JSON value`);
  }
  throw new RetortError("RETORT_INVALID_QUERY", `filter on "${column.key}": unknown operator(s) ${keys.filter((k) => !OPERATORS.has(k)).join(", ")}`, {
    hint: `Operators: ${[...OPERATORS].join(", ")}.`,
  });
}

export function compileWhere(
  eb: ExpressionBuilder<any, any>,
  info: TableInfo,
  driver: Driver,
  where: Record<string, unknown>,
): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  for (const [key, condition] of Object.entries(where)) {
    if (condition === undefined) continue;
    if (key === "and" || key === "or") {
      const list = (condition as Record<string, unknown>[]).map((w) => compileWhere(eb, info, driver, w));
      parts.push(key === "and" ? eb.and(list) : eb.or(list));
      continue;
    }
    if (key === "not") {
      parts.push(eb.not(compileWhere(eb, info, driver, condition as Record<string, unknown>)));
      continue;
    }
    const column = info.column(key);
    // Columns are known only at runtime here, so the reference is typed loosely.
    const ref = kyselyRuntime().sql.ref(column.dbName) as unknown as DynamicRef;
    const encode = (value: unknown) => driver.encode(column.type, value);
    if (condition === null) {
      parts.push(eb(ref, "is", null));
    } else if (isOperatorObject(condition, column)) {
      for (const [op, value] of Object.entries(condition)) {
        if (value === undefined) continue;
        parts.push(operator(eb, info, ref, op, value, encode));
      }
    } else {
      parts.push(eb(ref, "=", encode(condition)));
    }
  }
  return eb.and(parts);
}

function operator(
  eb: ExpressionBuilder<any, any>,
  info: TableInfo,
  ref: DynamicRef,
  op: string,
  value: unknown,
  encode: (value: unknown) => unknown,
): Expression<SqlBool> {
  switch (op) {
    case "eq":
      return value === null ? eb(ref, "is", null) : eb(ref, "=", encode(value));
    case "ne":
      return value === null ? eb(ref, "is not", null) : eb.or([eb(ref, "<>", encode(value)), eb(ref, "is", null)]);
    case "in":
    case "notIn": {
      const list = value as unknown[];
      // An empty IN list is a syntax error in SQL; it means "nothing" (or "everything" for notIn).
      if (list.length === 0) return eb.lit(op === "notIn");
      return eb(ref, op === "in" ? "in" : "not in", list.map(encode));
    }
    case "gt":
      return eb(ref, ">", encode(value));
    case "gte":
      return eb(ref, ">=", encode(value));
    case "lt":
      return eb(ref, "<", encode(value));
    case "lte":
      return eb(ref, "<=", encode(value));
    case "like":
      return eb(ref, "like", value as string);
    case "ilike":
      return info.family === "postgres" ? eb(ref, "ilike", value as string) : eb(eb.fn("lower", [ref]), "like", eb.fn("lower", [eb.val(value as string)]));
    case "isNull":
      return eb(ref, value ? "is" : "is not", null);
    default:
      throw new RetortError("RETORT_INVALID_QUERY", `unknown filter operator "${op}"`);
  }
}

export type OrderDirection = "asc" | "desc";
export type OrderBy<T> = { [K in keyof Row<T>]?: OrderDirection } | Array<{ [K in keyof Row<T>]?: OrderDirection }>;

/** Normalise orderBy into [column, direction] pairs, checking the columns. */
export function orderPairs(info: TableInfo, orderBy: unknown): Array<[ColumnInfo, OrderDirection]> {
  if (orderBy === undefined) return [];
  const list = Array.isArray(orderBy) ? orderBy : [orderBy];
  const pairs: Array<[ColumnInfo, OrderDirection]> = [];
  for (const entry of list as Record<string, OrderDirection>[]) {
    for (const [key, direction] of Object.entries(entry)) {
      if (direction !== "asc" && direction !== "desc") {
        throw new RetortError("RETORT_INVALID_QUERY", `orderBy ${key}: direction must be "asc" or "desc", not ${JSON.stringify(direction)}`);
      }
      pairs.push([info.column(key), direction]);
    }
  }
  return pairs;
}
