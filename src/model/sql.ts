/**
 * `sql` for model definitions: raw SQL text for defaults, index expressions, partial-index
 * predicates and checks. Interpolations become SQL: a column becomes its quoted database name,
 * a string a quoted literal, a number/bigint/boolean a bare literal, another `sql` its text.
 * (For queries, use Kysely's own `sql` from "kysely".)
 */
import { quoteIdent, quoteLiteral } from "../dialects/sql-text.js";

export interface SqlExpression {
  readonly kind: "sql";
  readonly text: string;
}

/** Anything that can name a column in SQL text (a model column reference). */
export interface SqlColumnName {
  readonly dbName: string;
}

export function sql(strings: TemplateStringsArray, ...values: unknown[]): SqlExpression {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    text += renderInterpolation(value) + (strings[i + 1] ?? "");
  });
  return Object.freeze({ kind: "sql", text });
}

/** Raw SQL from a plain string (same as sql`...` without interpolation). */
sql.raw = (text: string): SqlExpression => Object.freeze({ kind: "sql", text });

export function isSqlExpression(value: unknown): value is SqlExpression {
  return typeof value === "object" && value !== null && (value as SqlExpression).kind === "sql" && typeof (value as SqlExpression).text === "string";
}

function renderInterpolation(value: unknown): string {
  if (isSqlExpression(value)) return value.text;
  if (typeof value === "object" && value !== null && typeof (value as SqlColumnName).dbName === "string") {
    return quoteIdent((value as SqlColumnName).dbName);
  }
  if (typeof value === "string") return quoteLiteral(value);
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "TRUE" : "FALSE";
  if (value === null) return "NULL";
  throw new TypeError(`sql\`\`: cannot interpolate a value of type ${typeof value}; use a column, string, number, boolean or sql\`\``);
}
