/** Database URLs: which backend, and where. Errors never echo a password; targets never hold one. */
import { RetortError } from "../errors.js";
import { isPostgresUrl, maskPostgresUrl, parsePostgresUrl, type PostgresConnection } from "./postgres-url.js";

export type ConnectionTarget =
  /** `url` is masked; the password stays with `connection` (see postgres-url.ts). */
  | { dialect: "postgres"; url: string; connection: PostgresConnection }
  | { dialect: "pglite"; dataDir?: string }
  | { dialect: "sqlite"; filename: string };

export const ACCEPTED_URL_FORMS = [
  "postgres://user:password@host:5432/database (or postgresql://; libpq's parameters such as ?sslmode=require, ?host=/var/run/postgresql for a Unix socket, and the PG* variables)",
  "pglite:memory (embedded Postgres in memory)",
  "pglite:<directory> (embedded Postgres stored in a directory, e.g. pglite:.retort/dev)",
  "sqlite::memory:",
  "sqlite:<file> (e.g. sqlite:./data/app.db)",
];

/** Hide the password in a URL for messages: postgres://user:***@host/db. */
export function redactUrl(url: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? maskPostgresUrl(url) : url;
}

/** Parse a database URL. For Postgres, PG* variables from `environment` fill what the URL leaves out, as libpq does. */
export function parseDatabaseUrl(url: string, environment: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const trimmed = url.trim();
  if (isPostgresUrl(trimmed)) {
    const connection = parsePostgresUrl(trimmed, environment);
    return { dialect: "postgres", url: connection.url, connection };
  }
  if (trimmed.startsWith("pglite:")) {
    const location = trimmed.slice("pglite:".length).replace(/^\/\//, "");
    if (location === "") throw badUrl(trimmed, "pglite: needs `memory` or a directory");
    return location === "memory" || location === ":memory:" ? { dialect: "pglite" } : { dialect: "pglite", dataDir: location };
  }
  if (trimmed.startsWith("sqlite:")) {
    const filename = trimmed.slice("sqlite:".length).replace(/^\/\//, "");
    if (filename === "") throw badUrl(trimmed, "sqlite: needs `:memory:` or a file path");
    return { dialect: "sqlite", filename };
  }
  throw badUrl(trimmed, "the scheme is not one Retort knows");
}

/** The URL of a target, fit to print (Postgres: password masked). */
export function describeTarget(target: ConnectionTarget): string {
  switch (target.dialect) {
    case "postgres":
      return target.url;
    case "pglite":
      return `pglite:${target.dataDir ?? "memory"}`;
    case "sqlite":
      return `sqlite:${target.filename}`;
  }
}

function badUrl(url: string, why: string): RetortError {
  return new RetortError("RETORT_BAD_URL", `Cannot use database URL "${redactUrl(url)}": ${why}.`, {
    hint: `Accepted forms:\n  ${ACCEPTED_URL_FORMS.join("\n  ")}`,
    details: { url: redactUrl(url), accepted: ACCEPTED_URL_FORMS },
  });
}
