/**
 * Typed filters for the controllers: `{ guildId: 1n, xp: { gte: 10 }, nickname: { ilike: "a%" },
 * deletedAt: null, or: [...], not: {...} }`, compiled straight to SQL text on database names with
 * the values as parameters. The text depends only on the filter's shape (keys, operators, list
 * lengths where lists are inlined), never on its values, so it doubles as the key of a prepared
 * statement.
 */
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

const OPERATORS = new Set(["eq", "ne", "in", "notIn", "gt", "gte", "lt", "lte", "like", "ilike", "isNull"]);

/** Adds a parameter and returns its placeholder (`$n` or `?`). */
export type Bind = (value: unknown) => string;

/** The parameters of one statement, in placeholder order. */
export function binder(info: TableInfo, params: unknown[]): Bind {
  return info.family === "postgres"
    ? (value) => `$${params.push(value)}`
    : (value) => {
        params.push(value);
        return "?";
      };
}

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

/**
 * `where` as an SQL condition, its values bound through `bind`; undefined when it puts no
 * condition at all (`{}`, only undefined values, `and: []`): the caller decides what "every row"
 * means for it.
 */
export function whereSql(info: TableInfo, driver: Driver, where: Record<string, unknown>, bind: Bind): string | undefined {
  const parts: string[] = [];
  for (const key in where) {
    const condition = where[key];
    if (condition === undefined) continue;
    if (key === "and" || key === "or") {
      const alternatives = condition as Record<string, unknown>[];
      // An alternative without a condition admits every row, so such an `or` is no condition;
      // checked before compiling, so that no parameter is bound for text that is then dropped.
      if (key === "or" && !alternatives.every((w) => setsCondition(info, w))) continue;
      const list = alternatives.map((w) => whereSql(info, driver, w, bind));
      if (key === "and") {
        const present = list.filter((c): c is string => c !== undefined);
        if (present.length > 0) parts.push(present.length === 1 ? present[0]! : `(${present.join(" AND ")})`);
      } else if (list.length === 0) {
        parts.push("FALSE");
      } else {
        parts.push(list.length === 1 ? list[0]! : `(${list.join(" OR ")})`);
      }
      continue;
    }
    if (key === "not") {
      const inner = whereSql(info, driver, condition as Record<string, unknown>, bind);
      parts.push(inner === undefined ? "FALSE" : `NOT (${inner})`);
      continue;
    }
    const column = info.column(key);
    if (condition === null) {
      parts.push(`${column.quoted} IS NULL`);
    } else if (isOperatorObject(condition, column)) {
      for (const op in condition) {
        const value = (condition as Record<string, unknown>)[op];
        if (value !== undefined) parts.push(operatorSql(info, driver, column, op, value, bind));
      }
    } else {
      parts.push(`${column.quoted} = ${bind(driver.encode(column.type, condition))}`);
    }
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : parts.join(" AND ");
}

/** Whether whereSql would put a condition for `where` (it returns undefined exactly when not). */
function setsCondition(info: TableInfo, where: Record<string, unknown>): boolean {
  for (const key in where) {
    const condition = where[key];
    if (condition === undefined) continue;
    if (key === "and") {
      if ((condition as Record<string, unknown>[]).some((w) => setsCondition(info, w))) return true;
    } else if (key === "or") {
      const alternatives = condition as Record<string, unknown>[];
      if (alternatives.every((w) => setsCondition(info, w))) return true;
    } else if (key === "not" || condition === null) {
      return true;
    } else {
      const column = info.column(key);
      if (!isOperatorObject(condition, column)) return true;
      for (const op in condition) if ((condition as Record<string, unknown>)[op] !== undefined) return true;
    }
  }
  return false;
}

/** Column kinds whose values pg can send inside one array parameter (`= ANY($1)`). */
const ARRAY_BINDABLE = new Set(["uuid", "text", "varchar", "enum", "smallint", "integer", "bigint", "real", "double", "numeric", "boolean", "date", "time", "timestamptz", "timestamp"]);

function operatorSql(info: TableInfo, driver: Driver, column: ColumnInfo, op: string, value: unknown, bind: Bind): string {
  const ref = column.quoted;
  const encode = (v: unknown) => driver.encode(column.type, v);
  switch (op) {
    case "eq":
      return value === null ? `${ref} IS NULL` : `${ref} = ${bind(encode(value))}`;
    case "ne":
      return value === null ? `${ref} IS NOT NULL` : `(${ref} <> ${bind(encode(value))} OR ${ref} IS NULL)`;
    case "in":
    case "notIn": {
      const list = value as unknown[];
      if (!Array.isArray(list)) throw new RetortError("RETORT_INVALID_QUERY", `filter on "${column.key}": ${op} takes an array`);
      // On the Postgres server the list is one array parameter, so every length shares one
      // prepared statement; elsewhere (no named statements) it is inlined.
      if (driver.dialect === "postgres" && ARRAY_BINDABLE.has(column.type.kind)) {
        return `${ref} ${op === "in" ? "= ANY" : "<> ALL"}(${bind(list.map(encode))})`;
      }
      // An empty IN list is a syntax error in SQL; it means "nothing" (or "everything" for notIn).
      if (list.length === 0) return op === "notIn" ? "TRUE" : "FALSE";
      return `${ref} ${op === "in" ? "IN" : "NOT IN"} (${list.map((v) => bind(encode(v))).join(", ")})`;
    }
    case "gt":
      return `${ref} > ${bind(encode(value))}`;
    case "gte":
      return `${ref} >= ${bind(encode(value))}`;
    case "lt":
      return `${ref} < ${bind(encode(value))}`;
    case "lte":
      return `${ref} <= ${bind(encode(value))}`;
    case "like":
      return `${ref} LIKE ${bind(value)}`;
    case "ilike":
      return info.family === "postgres" ? `${ref} ILIKE ${bind(value)}` : `lower(${ref}) LIKE lower(${bind(value)})`;
    case "isNull":
      return `${ref} ${value ? "IS NULL" : "IS NOT NULL"}`;
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
