/**
 * One error class for every failure a user can cause. `code` is stable (tests and scripts match
 * on it); `hint` says what to do; `details` carries machine-readable context for `--json`.
 */
export type RetortErrorCode =
  | "RETORT_BAD_URL"
  | "RETORT_CONNECTION_FAILED"
  | "RETORT_DRIVER_MISSING"
  | "RETORT_INVALID_MODEL"
  | "RETORT_TABLE_EXISTS"
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
  | "RETORT_INVALID_TARGET"
  | "RETORT_INVALID_REVISION_ID"
  | "RETORT_INVALID_MERGE"
  // migrations: operations and the runtime
  | "RETORT_IRREVERSIBLE"
  | "RETORT_INVALID_OPERATION"
  | "RETORT_MODIFIED_MIGRATION"
  | "RETORT_MIGRATION_FAILED"
  | "RETORT_UNFINISHED_REVISION"
  | "RETORT_LOCK_TIMEOUT"
  | "RETORT_DATABASE_BUSY"
  | "RETORT_CONFIG"
  | "RETORT_USAGE"
  // autogenerate, check, drift
  | "RETORT_DECISIONS_NEEDED"
  | "RETORT_SCHEMA_MISMATCH"
  | "RETORT_NOT_A_DATABASE"
  | "RETORT_NOT_UP_TO_DATE"
  | "RETORT_EXCLUDED_REFERENCE"
  // the local development workflow
  | "RETORT_POSTGRES_NOT_FOUND"
  | "RETORT_PORT_IN_USE"
  | "RETORT_LOCAL_SERVER_FAILED"
  | "RETORT_SERVICE_FAILED"
  | "RETORT_PRODUCTION_GUARD"
  | "RETORT_ENV_CHECK"
  // test databases (retort-db/testing)
  | "RETORT_TEST_GUARD"
  // seeds
  | "RETORT_INVALID_SEED"
  | "RETORT_SEED_FAILED"
  // which database, and reaching it
  | "RETORT_NO_DATABASE_URL"
  | "RETORT_DATABASE_NOT_FOUND"
  | "RETORT_TRANSACTION_POOLER"
  | "RETORT_SCHEMA_MISMATCH"
  // pull
  | "RETORT_FILE_EXISTS"
  // baseline and adopting a database from another tool
  | "RETORT_BASELINE_REFUSED"
  | "RETORT_ADOPT_REFUSED"
  // expand/contract
  | "RETORT_CONTRACT_NOT_RELEASED"
  | "RETORT_RELEASE_REFUSED"
  // history policy: linear graphs, the stairway test, squash
  | "RETORT_NOT_LINEAR"
  | "RETORT_STAIRWAY_FAILED"
  | "RETORT_DATABASE_NOT_EMPTY"
  | "RETORT_SQUASH_REFUSED"
  // backups, restores and restore drills
  | "RETORT_BACKUP_FAILED"
  | "RETORT_RESTORE_REFUSED"
  | "RETORT_RESTORE_FAILED"
  | "RETORT_BACKUP_NOT_FOUND"
  | "RETORT_STORAGE_FAILED"
  // files Retort was asked to read or write (an --out path, the migrations folder…)
  | "RETORT_FILE_ACCESS";

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

/**
 * The option closest to `word` when it is probably a typo of it (edit distance at most a third of
 * its length, and at least 1; case ignored), for "did you mean" in messages.
 */
export function didYouMean(word: string, options: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const option of options) {
    const distance = editDistance(word.toLowerCase(), option.toLowerCase());
    if (distance < bestDistance) {
      best = option;
      bestDistance = distance;
    }
  }
  return best;
}

/** Edits between a and b: insertions, deletions, substitutions and swaps of neighbours ("prot" → "port" is one). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

const FILE_PROBLEMS: Record<string, string> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EEXIST: "something else already has that name",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is used up",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many levels of symbolic links",
};

const FILE_ACTIONS: Record<string, string> = {
  mkdir: "create the folder",
  open: "open",
  read: "read",
  write: "write",
  rename: "rename",
  unlink: "remove",
  rmdir: "remove the folder",
  rm: "remove",
  scandir: "list the folder",
  opendir: "list the folder",
  copyfile: "copy to",
  stat: "look at",
  lstat: "look at",
  mkdtemp: "create a temporary folder in",
};

/**
 * A file-system failure (Node's ENOENT, EACCES… with the path and system call) as the
 * RetortError a user can act on; undefined for anything else. The CLI uses it for what a
 * command did not wrap itself, so a bad --out path reads as an error, not as a stack trace.
 */
export function fileAccessError(error: unknown): RetortError | undefined {
  const e = error as (NodeJS.ErrnoException & { dest?: string }) | undefined;
  if (!(e instanceof Error) || typeof e.code !== "string" || typeof e.path !== "string" || !(e.code in FILE_PROBLEMS)) return undefined;
  const action = (e.syscall && FILE_ACTIONS[e.syscall]) ?? e.syscall ?? "use";
  const target = e.dest ? `${e.path} -> ${e.dest}` : e.path;
  return new RetortError("RETORT_FILE_ACCESS", `Cannot ${action} ${target}: ${FILE_PROBLEMS[e.code]} (${e.code}).`, {
    hint: "Check the path (an --out or --config option, the migrations folder in retort.config.ts…), that its folders exist or can be created, and its permissions.",
    details: { path: e.path, ...(e.dest ? { dest: e.dest } : {}), syscall: e.syscall, errno: e.code },
    cause: error,
  });
}
