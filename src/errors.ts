/**
 * One error class for every failure a user can cause. `code` is stable (tests and scripts match
 * on it); `hint` says what to do; `details` carries machine-readable context for `--json`.
 */
export type RetortErrorCode =
  | "RETORT_BAD_URL"
  | "RETORT_CONNECTION_FAILED"
  | "RETORT_INVALID_MODEL"
  | "RETORT_UNSUPPORTED"
  | "RETORT_VALIDATION"
  | "RETORT_NOT_FOUND"
  | "RETORT_INVALID_QUERY"
  | "RETORT_INVALID_CURSOR"
  | "RETORT_UNIQUE_VIOLATION"
  | "RETORT_FOREIGN_KEY_VIOLATION"
  | "RETORT_NOT_NULL_VIOLATION"
  | "RETORT_CHECK_VIOLATION"
  | "RETORT_CLOSED"
  // migrations: files and the revision graph
  | "RETORT_BAD_MIGRATION_FILE"
  | "RETORT_DUPLICATE_REVISION"
  | "RETORT_MISSING_PARENT"
  | "RETORT_REVISION_CYCLE"
  | "RETORT_AMBIGUOUS_REVISION"
  | "RETORT_UNKNOWN_REVISION"
  | "RETORT_MULTIPLE_HEADS"
  | "RETORT_BELOW_BASE"
  // migrations: operations and the runtime
  | "RETORT_IRREVERSIBLE"
  | "RETORT_INVALID_OPERATION"
  | "RETORT_MODIFIED_MIGRATION"
  | "RETORT_MIGRATION_FAILED"
  | "RETORT_LOCK_TIMEOUT"
  | "RETORT_CONFIG"
  // autogenerate, check, drift
  | "RETORT_DECISIONS_NEEDED"
  | "RETORT_SCHEMA_MISMATCH"
  // baseline and adopting a database from another tool
  | "RETORT_BASELINE_REFUSED"
  | "RETORT_ADOPT_REFUSED";

export interface RetortErrorOptions {
  hint?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class RetortError extends Error {
  readonly code: RetortErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: RetortErrorCode, message: string, options: RetortErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RetortError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    // The stable fields come last so no detail can shadow them.
    return { ...this.details, code: this.code, message: this.message, hint: this.hint };
  }
}

export function isRetortError(error: unknown, code?: RetortErrorCode): error is RetortError {
  return error instanceof RetortError && (code === undefined || error.code === code);
}
