/**
 * Postgres connection URLs as libpq reads them: `postgres[ql]://[user[:password]@][host][:port][/db][?k=v&…]`,
 * percent-encoded parts (a host like `%2Fvar%2Frun%2Fpostgresql` is a Unix socket directory),
 * query parameters that override the URL's parts (`?host=/var/run/postgresql`), and the PG*
 * environment variables for whatever the URL leaves out.
 *
 * The password never becomes a property: it is kept in a WeakMap keyed by the parsed connection,
 * so logging, inspecting or serialising a connection (or anything holding one) cannot show it.
 */
import { userInfo } from "node:os";
import { RetortError } from "../errors.js";

/** libpq's sslmode values; `prefer` is libpq's default. */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

/**
 * `transaction`: a pooler in transaction mode (PgBouncer before 1.21, Supabase's port 6543…) sits
 * between us and the server, so a named prepared statement may reach a server connection that never
 * saw it. The driver then sends unnamed statements only.
 */
export type PoolerMode = "none" | "transaction";

export interface PostgresConnection {
  /** Host name, IP address, or (starting with "/") the directory holding the server's Unix socket. */
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly sslmode: SslMode;
  /** CA file for verify-ca/verify-full ("system": the system's CAs). */
  readonly sslrootcert?: string;
  readonly sslcert?: string;
  readonly sslkey?: string;
  readonly applicationName?: string;
  /** Command-line options sent at connection start, e.g. "-c search_path=app". */
  readonly options?: string;
  readonly connectTimeoutSeconds?: number;
  readonly pooler: PoolerMode;
  /** The URL with its password masked: safe to print. */
  readonly url: string;
}

/** Query parameters we understand: libpq's (the ones that mean something to a Node client) and ours. */
const PARAMETERS = [
  "host",
  "port",
  "user",
  "password",
  "dbname",
  "sslmode",
  "ssl",
  "sslrootcert",
  "sslcert",
  "sslkey",
  "application_name",
  "options",
  "connect_timeout",
  "pooler",
  "pgbouncer",
] as const;

const passwords = new WeakMap<PostgresConnection, string>();

/** The password of a parsed connection (URL, else PGPASSWORD); undefined lets pg consult ~/.pgpass. */
export function postgresPassword(connection: PostgresConnection): string | undefined {
  return passwords.get(connection);
}

/** Hide the password in a URL for messages: postgres://user:***@host/db (and ?password=…). */
export function maskPostgresUrl(url: string): string {
  const schemeEnd = url.indexOf("://");
  if (schemeEnd < 0) return url;
  const rest = url.slice(schemeEnd + 3);
  const at = userinfoEnd(rest);
  const colon = at < 0 ? -1 : rest.slice(0, at).indexOf(":");
  const masked = colon < 0 ? url : `${url.slice(0, schemeEnd + 3)}${rest.slice(0, colon)}:***${rest.slice(at)}`;
  return masked.replace(/([?&]password=)[^&]*/gi, "$1***");
}

/**
 * The "@" that ends user:password, or -1. The last one before the query, so an unencoded "@" or
 * "/" in a password cannot cut it short (and leak its tail into messages); failing that, one
 * before any "/" (an unencoded "?" in a password).
 */
function userinfoEnd(rest: string): number {
  const query = rest.indexOf("?");
  const beforeQuery = rest.lastIndexOf("@", query < 0 ? rest.length : query);
  if (beforeQuery >= 0) return beforeQuery;
  const last = rest.lastIndexOf("@");
  return last >= 0 && !rest.slice(0, last).includes("/") ? last : -1;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** Parse a libpq connection URI; PG* variables from `environment` fill what it leaves out. */
export function parsePostgresUrl(url: string, environment: NodeJS.ProcessEnv = process.env): PostgresConnection {
  const masked = maskPostgresUrl(url);
  const rest = url.slice(url.indexOf("://") + 3);
  const at = userinfoEnd(rest);
  const userinfo = at < 0 ? undefined : rest.slice(0, at);
  const afterUser = rest.slice(at + 1);
  const hostEnd = afterUser.search(/[/?]|$/);
  const hostspec = afterUser.slice(0, hostEnd);
  const tail = afterUser.slice(hostEnd);
  const queryStart = tail.indexOf("?");
  const path = queryStart < 0 ? tail : tail.slice(0, queryStart);
  const query = queryStart < 0 ? "" : tail.slice(queryStart + 1);
  const values: Partial<Record<(typeof PARAMETERS)[number], string>> = {};
  const decode = (text: string, what: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      throw badPostgresUrl(masked, `the ${what} has a broken percent-encoding`);
    }
  };

  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const user = decode(colon < 0 ? userinfo : userinfo.slice(0, colon), "user name");
    if (user) values.user = user;
    if (colon >= 0) values.password = decode(userinfo.slice(colon + 1), "password");
  }
  if (hostspec.includes(",")) {
    throw badPostgresUrl(masked, "several hosts (libpq's failover list) are not supported", "Give one host; put a load balancer or DNS name in front of several servers.");
  }
  const hostMatch = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostspec)!;
  const host = decode(hostMatch[1]!.replace(/^\[(.*)\]$/, "$1"), "host");
  if (/[\s@?#]/.test(host)) throw badPostgresUrl(masked, `the host "${host}" is not a host name, address or socket directory`);
  if (host) values.host = host;
  if (hostMatch[2] !== undefined && hostMatch[2] !== "") values.port = hostMatch[2];
  if (path.length > 1) values.dbname = decode(path.slice(1), "database name");

  for (const pair of query.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) throw badPostgresUrl(masked, `the query parameter "${pair}" has no value`);
    const key = decode(pair.slice(0, eq), "query");
    if (!(PARAMETERS as readonly string[]).includes(key)) {
      throw badPostgresUrl(masked, `the query parameter "${key}" is not one Retort knows`, `Known parameters: ${PARAMETERS.join(", ")}.`);
    }
    // Form encoding (as some providers write it) uses "+" for a space.
    values[key as (typeof PARAMETERS)[number]] = decode(pair.slice(eq + 1).replaceAll("+", " "), `"${key}" parameter`);
  }

  const env = (name: string) => (environment[name] === "" ? undefined : environment[name]);
  const user = values.user ?? env("PGUSER") ?? osUser();
  const portText = values.port ?? env("PGPORT") ?? "5432";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badPostgresUrl(masked, `the port "${portText}" is not a number from 1 to 65535`);
  const sslmode = sslModeOf(values.sslmode ?? (values.ssl === "true" ? "require" : undefined) ?? env("PGSSLMODE") ?? "prefer", masked);
  const timeoutText = values.connect_timeout ?? env("PGCONNECT_TIMEOUT");
  const connectTimeoutSeconds = timeoutText === undefined ? undefined : Number(timeoutText);
  if (connectTimeoutSeconds !== undefined && !(Number.isFinite(connectTimeoutSeconds) && connectTimeoutSeconds >= 0)) {
    throw badPostgresUrl(masked, `connect_timeout "${timeoutText}" is not a number of seconds`);
  }
  const pooler = poolerOf(values, masked);
  const optional = {
    sslrootcert: values.sslrootcert ?? env("PGSSLROOTCERT"),
    sslcert: values.sslcert ?? env("PGSSLCERT"),
    sslkey: values.sslkey ?? env("PGSSLKEY"),
    applicationName: values.application_name ?? env("PGAPPNAME"),
    options: values.options ?? env("PGOPTIONS"),
    connectTimeoutSeconds,
  };
  const connection: PostgresConnection = Object.freeze({
    host: values.host ?? env("PGHOST") ?? "localhost",
    port,
    user,
    database: values.dbname ?? env("PGDATABASE") ?? user,
    sslmode,
    ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
    pooler,
    url: masked,
  });
  const password = values.password ?? env("PGPASSWORD");
  if (password !== undefined) passwords.set(connection, password);
  return connection;
}

/** A Unix socket directory rather than a network host (libpq: a host starting with "/"). */
export function isSocketHost(host: string): boolean {
  return host.startsWith("/");
}

function sslModeOf(value: string, masked: string): SslMode {
  if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
  throw badPostgresUrl(masked, `sslmode "${value}" is not one of ${SSL_MODES.join(", ")}`);
}

function poolerOf(values: Partial<Record<string, string>>, masked: string): PoolerMode {
  // Prisma's and Supabase's `pgbouncer=true` means the same thing.
  if (values.pgbouncer !== undefined && values.pooler === undefined) return values.pgbouncer === "true" ? "transaction" : "none";
  const value = values.pooler ?? "none";
  if (value === "none" || value === "transaction") return value;
  throw badPostgresUrl(masked, `pooler "${value}" is not "transaction" or "none"`, "Use ?pooler=transaction behind PgBouncer (or another pooler) in transaction mode.");
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return "postgres";
  }
}

function badPostgresUrl(masked: string, why: string, hint?: string): RetortError {
  return new RetortError("RETORT_BAD_URL", `Cannot use database URL "${masked}": ${why}.`, {
    hint: hint ?? "Write it as postgres://user:password@host:port/database?sslmode=…, percent-encoding special characters (a Unix socket directory: ?host=/var/run/postgresql).",
    details: { url: masked },
  });
}
