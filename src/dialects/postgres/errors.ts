/**
 * Postgres errors → RetortError, for the server driver and PGlite alike (both report SQLSTATE,
 * table, constraint, column and detail the same way). Messages name the table, constraint and
 * columns but never the row values from the error detail: those can be personal data.
 */
import { RetortError, type RetortErrorCode } from "../../errors.js";
import { findTable, type Schema, type TableSchema } from "../../schema/snapshot.js";

/** The fields of a Postgres ErrorResponse that pg and PGlite both expose. */
interface PostgresErrorFields {
  code: string;
  table?: string;
  constraint?: string;
  column?: string;
  detail?: string;
}

function isPostgresError(error: unknown): error is Error & PostgresErrorFields {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string" && "severity" in error;
}

/** Column names from a detail like `Key (a, b)=(1, 2) already exists.`; the values are dropped. */
function columnsFromDetail(detail: string | undefined): string[] {
  if (!detail?.startsWith("Key (")) return [];
  const end = detail.indexOf(")=(");
  if (end < 0) return [];
  return detail
    .slice("Key (".length, end)
    .split(", ")
    .map((name) => (name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replaceAll('""', '"') : name));
}

/** Columns a named constraint or index covers, from the snapshot (expressions as written). */
function constraintColumns(table: TableSchema | undefined, name: string | undefined): string[] | undefined {
  if (!table || !name) return undefined;
  if (table.primaryKey?.name === name) return table.primaryKey.columns;
  const keyed = table.uniques.find((unique) => unique.name === name) ?? table.foreignKeys.find((fk) => fk.name === name);
  if (keyed) return keyed.columns;
  const index = table.indexes.find((candidate) => candidate.name === name);
  if (index) return index.elements.map((element) => ("column" in element ? element.column : element.expression));
  const check = table.checks.find((candidate) => candidate.name === name);
  if (check) {
    // A check lists no columns: take the table's columns its expression mentions.
    return table.columns
      .map((column) => column.name)
      .filter((column) => new RegExp(`(^|[^\\w"])"?${escapeRegExp(column)}"?($|[^\\w"])`).test(check.expression));
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function listed(columns: string[]): string {
  return columns.length > 0 ? ` (${columns.join(", ")})` : "";
}

function violation(
  code: RetortErrorCode,
  message: string,
  hint: string,
  details: Record<string, unknown>,
  cause: unknown,
): RetortError {
  return new RetortError(code, message, { hint, details, cause });
}

/** A constraint violation → RetortError with `details: { table, constraint, columns }`; anything else unchanged. */
export function translatePostgresError(error: unknown, schema: Schema): unknown {
  if (!isPostgresError(error)) return error;
  const tableName = error.table;
  const table = tableName === undefined ? undefined : findTable(schema, tableName);
  const constraint = error.constraint;
  const columns = constraintColumns(table, constraint) ?? columnsFromDetail(error.detail);
  const details = { table: tableName, constraint, columns };

  switch (error.code) {
    case "23505":
      return violation(
        "RETORT_UNIQUE_VIOLATION",
        `Unique constraint "${constraint}" violated on table "${tableName}"${listed(columns)}`,
        `A row with the same ${columns.length > 0 ? columns.join(", ") : "key"} already exists: use a different value, or update the existing row instead of inserting (an upsert).`,
        details,
        error,
      );
    case "23503": {
      const refTable = table?.foreignKeys.find((fk) => fk.name === constraint)?.refTable ?? referencedTable(error.detail);
      // Postgres reports the referencing table in both directions; the detail tells which side failed.
      if (error.detail?.includes("is still referenced")) {
        return violation(
          "RETORT_FOREIGN_KEY_VIOLATION",
          `Foreign key "${constraint}" on table "${tableName}"${listed(columns)} still references the row being deleted or updated in "${refTable}"`,
          `Delete or repoint the referencing rows in "${tableName}" first, or declare the foreign key with onDelete "cascade" or "set null".`,
          { ...details, refTable },
          error,
        );
      }
      return violation(
        "RETORT_FOREIGN_KEY_VIOLATION",
        `Foreign key "${constraint}" violated on table "${tableName}"${listed(columns)}: the referenced row in "${refTable}" does not exist`,
        `Insert the referenced "${refTable}" row first, or check the ${columns.join(", ") || "key"} value you are writing.`,
        { ...details, refTable },
        error,
      );
    }
    case "23502": {
      const column = error.column;
      return violation(
        "RETORT_NOT_NULL_VIOLATION",
        `Column "${column}" of table "${tableName}" cannot be null`,
        `Give "${column}" a value, or a default in the model (or make it nullable in a migration).`,
        { table: tableName, constraint, column, columns: column === undefined ? [] : [column] },
        error,
      );
    }
    case "23514":
      return violation(
        "RETORT_CHECK_VIOLATION",
        `Check constraint "${constraint}" violated on table "${tableName}"${listed(columns)}`,
        `The row does not satisfy the check${constraintExpression(table, constraint)}: fix the value before writing it.`,
        details,
        error,
      );
    default:
      return error;
  }
}

function referencedTable(detail: string | undefined): string | undefined {
  return detail === undefined ? undefined : /table "((?:[^"]|"")+)"/.exec(detail)?.[1];
}

function constraintExpression(table: TableSchema | undefined, name: string | undefined): string {
  const check = table?.checks.find((candidate) => candidate.name === name);
  return check ? ` (${check.expression})` : "";
}

/** Where a server connection was going, for error messages. Never holds the password. */
export interface ConnectionTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

/** The URL with any password replaced by `***`, for messages about a URL that does not parse. */
export function redactPassword(connectionString: string): string {
  // Greedy up to the last "@": an unencoded "@" in the password must not leak the rest of it.
  return connectionString.replace(/^([^:/]+:\/\/[^:@/]*):.*@/, "$1:***@");
}

/** Parse a postgres:// URL into what messages may show, dropping the password. */
export function connectionTarget(connectionString: string): ConnectionTarget {
  let url: URL | undefined;
  try {
    url = new URL(connectionString);
  } catch {
    url = undefined;
  }
  const user = url?.username ? decodeURIComponent(url.username) : (process.env.PGUSER ?? process.env.USER ?? "postgres");
  return {
    host: url?.searchParams.get("host") ?? (url?.hostname ? decodeURIComponent(url.hostname) : (process.env.PGHOST ?? "localhost")),
    port: Number(url?.port || url?.searchParams.get("port") || process.env.PGPORT || 5432),
    database: url && url.pathname.length > 1 ? decodeURIComponent(url.pathname.slice(1)) : (process.env.PGDATABASE ?? user),
    user,
  };
}

// Node socket errors, and SQLSTATEs a server sends while a session is being set up.
const SOCKET_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE"]);
const SESSION_SQLSTATES: Record<string, string> = {
  "28P01": "the password was rejected",
  "28000": "the server refused this user (pg_hba.conf or role settings)",
  "3D000": "the database does not exist",
  "57P03": "the server is starting up or shutting down",
  "53300": "the server has too many connections",
};

function connectionProblem(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (SOCKET_CODES.has(code)) return `${code === "ENOTFOUND" || code === "EAI_AGAIN" ? "the host name does not resolve" : code === "ECONNREFUSED" ? "connection refused" : "the network failed"} (${code})`;
    if (code in SESSION_SQLSTATES) return SESSION_SQLSTATES[code];
    if (code.startsWith("08")) return "the connection failed";
    return undefined;
  }
  // Errors without a code: pg's own messages for a connect timeout, and for a server asking for a password we do not have.
  if (/timeout/i.test(error.message)) return "the connection timed out";
  if (/^SASL: |password must be a string/.test(error.message)) return "the server asked for a password, and none was given";
  if (/Connection terminated unexpectedly/.test(error.message)) return "the server closed the connection";
  return undefined;
}

/** A failure to reach or log into the server → RETORT_CONNECTION_FAILED; anything else undefined. */
export function connectionError(error: unknown, target: ConnectionTarget): RetortError | undefined {
  const problem = connectionProblem(error);
  if (problem === undefined) return undefined;
  const where = `${target.host}:${target.port}`;
  return new RetortError(
    "RETORT_CONNECTION_FAILED",
    `Could not connect to Postgres at ${where} (database "${target.database}", user "${target.user}"): ${problem}`,
    {
      hint:
        `Check that a server is running and reachable at ${where}, that database "${target.database}" exists, ` +
        `and that user "${target.user}" may log in with the password in the URL (DATABASE_URL or your environment's URL).`,
      details: { ...target },
      cause: error,
    },
  );
}
