/** Database URLs: which backend, and where. Errors never echo a password. */
import { RetortError } from "../errors.js";

export type ConnectionTarget =
  | { dialect: "postgres"; url: string }
  | { dialect: "pglite"; dataDir?: string }
  | { dialect: "sqlite"; filename: string };

export const ACCEPTED_URL_FORMS = [
  "postgres://user:password@host:5432/database (or postgresql://)",
  "pglite:memory (embedded Postgres in memory)",
  "pglite:<directory> (embedded Postgres stored in a directory, e.g. pglite:.retort/dev)",
  "sqlite::memory:",
  "sqlite:<file> (e.g. sqlite:./data/app.db)",
];

/** Hide the password in a URL for messages: postgres://user:***@host/db. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:***@");
}

export function parseDatabaseUrl(url: string): ConnectionTarget {
  const trimmed = url.trim();
  if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    try {
      new URL(trimmed);
    } catch {
      throw badUrl(trimmed, "it is not a valid URL");
    }
    return { dialect: "postgres", url: trimmed };
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

function badUrl(url: string, why: string): RetortError {
  return new RetortError("RETORT_BAD_URL", `Cannot use database URL "${redactUrl(url)}": ${why}.`, {
    hint: `Accepted forms:\n  ${ACCEPTED_URL_FORMS.join("\n  ")}`,
    details: { url: redactUrl(url), accepted: ACCEPTED_URL_FORMS },
  });
}
