/**
 * Postgres errors → RetortError, for the server driver and PGlite alike (both report SQLSTATE,
 * table, constraint, column and detail the same way). Messages name the table, constraint and
 * columns but never the row values from the error detail: those can be personal data.
 */
import { RetortError, type RetortErrorCode } from "../../errors.js";
import { isSocketHost, type PostgresConnection } from "../../env/postgres-url.js";
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

// Node socket and TLS errors, and SQLSTATEs a server sends while a session is being set up.
const SOCKET_PROBLEMS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "the host name does not resolve",
  EAI_AGAIN: "the host name does not resolve",
  ETIMEDOUT: "the network failed",
  ECONNRESET: "the network failed",
  EHOSTUNREACH: "the network failed",
  ENETUNREACH: "the network failed",
  EPIPE: "the network failed",
  ENOENT: "no server socket there",
  EACCES: "no permission to open the server socket",
};
const CERTIFICATE_CODES = /^(ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|CERT_UNTRUSTED|HOSTNAME_MISMATCH)$/;
const SESSION_SQLSTATES: Record<string, string> = {
  "28P01": "the password was rejected",
  "28000": "the server refused this user (pg_hba.conf or role settings)",
  "3D000": "the database does not exist",
  "57P03": "the server is starting up or shutting down",
  "53300": "the server has too many connections",
};

/** What went wrong, and what to do about it when that is more specific than the generic hint. */
interface Problem {
  why: string;
  hint?: string;
}

function connectionProblem(error: unknown, target: PostgresConnection): Problem | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") {
    if (code in SOCKET_PROBLEMS) return { why: `${SOCKET_PROBLEMS[code]} (${code})` };
    if (CERTIFICATE_CODES.test(code)) {
      return {
        why: `the server's SSL certificate could not be verified (${code}, sslmode=${target.sslmode})`,
        hint: "Give the CA that signed the server's certificate with sslrootcert=<file> (or sslrootcert=system), or use sslmode=require to encrypt without verifying.",
      };
    }
    if (code in SESSION_SQLSTATES) return { why: SESSION_SQLSTATES[code]! };
    if (code.startsWith("08")) return { why: "the connection failed" };
    return undefined;
  }
  // Errors without a code: pg's own messages.
  if (/does not support SSL connections/.test(error.message)) {
    return {
      why: `the server does not accept SSL connections, and sslmode=${target.sslmode} requires SSL`,
      hint: "Use sslmode=prefer (SSL when the server offers it) or sslmode=disable for this server, or enable ssl in the server's postgresql.conf.",
    };
  }
  if (/timeout/i.test(error.message)) return { why: "the connection timed out" };
  if (/^SASL: |password must be a string/.test(error.message)) return { why: "the server asked for a password, and none was given" };
  if (/Connection terminated unexpectedly/.test(error.message)) return { why: "the server closed the connection" };
  return undefined;
}

/** Where a connection goes, for messages: host:port, or the socket file. */
export function connectionPlace(target: PostgresConnection): string {
  return isSocketHost(target.host) ? `socket ${target.host.replace(/\/$/, "")}/.s.PGSQL.${target.port}` : `${target.host}:${target.port}`;
}

/** A failure to reach or log into the server → RETORT_CONNECTION_FAILED; anything else undefined. */
export function connectionError(error: unknown, target: PostgresConnection): RetortError | undefined {
  const problem = connectionProblem(error, target);
  if (problem === undefined) return undefined;
  const where = connectionPlace(target);
  return new RetortError(
    "RETORT_CONNECTION_FAILED",
    `Could not connect to Postgres at ${where} (database "${target.database}", user "${target.user}"): ${problem.why}`,
    {
      hint:
        problem.hint ??
        `Check that a server is running and reachable at ${where}, that database "${target.database}" exists, ` +
          `and that user "${target.user}" may log in with the password in the URL (DATABASE_URL or your environment's URL).`,
      details: { host: target.host, port: target.port, database: target.database, user: target.user, sslmode: target.sslmode },
      cause: error,
    },
  );
}

/**
 * A named prepared statement the server does not know (26000) or already has (42P05): what a pooler
 * in transaction mode causes, when statements prepared on one server connection are used on another.
 */
export function poolerError(error: unknown, statement: string): RetortError | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code !== "26000" && code !== "42P05") return undefined;
  return new RetortError(
    "RETORT_TRANSACTION_POOLER",
    `The server lost track of prepared statement "${statement}": a connection pooler in transaction mode (PgBouncer before 1.21, Supabase's port 6543…) is probably in between`,
    {
      hint: 'Set pooler: "transaction" in connect() options or retort.config.ts, or add ?pooler=transaction to the URL, so Retort sends unnamed statements; or connect to the server directly.',
      details: { statement, sqlstate: code },
      cause: error,
    },
  );
}
