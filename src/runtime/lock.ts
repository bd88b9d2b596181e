/**
 * The migration lock: one migrating process per database at a time.
 * - Postgres server: a session advisory lock on a dedicated connection (released with it, even
 *   if the process dies), taken before the version table is created.
 * - SQLite file: the process lock on the file's real path (dialects/process-lock.ts), which the
 *   kernel frees when its holder dies, so a crashed run never leaves a lock to take over.
 * - PGlite directory: nothing more to take: the driver holds the directory's process lock from
 *   before it opens it until it closes, so no other process is in it at all.
 * - In-memory databases belong to one process: nothing to lock.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectionTarget } from "../env/url.js";
import type { Driver, HeldConnection } from "../dialects/driver.js";
import { acquireProcessLock, describeHolder, lockState } from "../dialects/process-lock.js";
import { RetortError } from "../errors.js";

/** A fixed 64-bit advisory lock key: the first 8 bytes of sha256("retort migrations"). */
export const ADVISORY_KEY = "103769624823569094";
const POLL_MS = 100;

export interface MigrationLock {
  release(): Promise<void>;
  /**
   * On a server, the session holding the lock: fit for reads and the version tables, never for
   * running migrations (a `DISCARD ALL` in one would drop the lock).
   */
  session?: HeldConnection;
}

/** The process-lock kind of the SQLite migration lock. */
const SQLITE_MIGRATIONS = "sqlite-migrations";

/** The SQLite file a migration lock is keyed by; undefined for in-memory databases and PGlite. */
function sqliteFile(target: ConnectionTarget): string | undefined {
  if (target.dialect !== "sqlite" || target.filename === ":memory:" || target.filename === "") return undefined;
  return target.filename;
}

export async function acquireMigrationLock(target: ConnectionTarget, driver: Driver, timeoutMs: number): Promise<MigrationLock> {
  if (target.dialect === "postgres") return advisoryLock(driver, timeoutMs);
  const file = sqliteFile(target);
  if (file === undefined) return { release: async () => {} };
  return acquireProcessLock(SQLITE_MIGRATIONS, file, {
    purpose: "migrations",
    timeoutMs,
    busy: (holder) => lockTimeout(timeoutMs, describeHolder(holder)),
  });
}

/**
 * Who holds the migration lock now (a migration run in progress), without taking it; undefined
 * when nobody does. A PGlite directory open here cannot have another holder.
 */
export async function migrationLockHolder(target: ConnectionTarget, driver: Driver): Promise<string | undefined> {
  if (target.dialect === "postgres") {
    // pg_locks alone first: joining pg_stat_activity costs a new session several ms, and the
    // lock is nearly always free.
    const { rows } = await driver.query<{ pid: number }>(
      `SELECT l.pid FROM pg_locks l
       WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND ((l.classid::bigint << 32) | l.objid::bigint) = ${ADVISORY_KEY} LIMIT 1`,
    );
    const pid = rows[0]?.pid;
    if (pid === undefined) return undefined;
    const activity = await driver.query<{ application_name: string | null }>(`SELECT application_name FROM pg_stat_activity WHERE pid = ${Number(pid)}`);
    const name = activity.rows[0]?.application_name;
    return `server backend pid ${pid}${name ? ` (${name})` : ""}`;
  }
  return fileLockHolder(target);
}

/** Who holds a SQLite file's migration lock (it lives outside the database); undefined for other targets. */
export async function fileLockHolder(target: ConnectionTarget): Promise<string | undefined> {
  const file = sqliteFile(target);
  if (file === undefined) return undefined;
  const state = await lockState(SQLITE_MIGRATIONS, file);
  return state.held ? describeHolder(state.holder) : undefined;
}

async function advisoryLock(driver: Driver, timeoutMs: number): Promise<MigrationLock> {
  const conn = await driver.acquire();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const { rows } = await conn.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${ADVISORY_KEY}) AS locked`);
      if (rows[0]?.locked) break;
      if (Date.now() >= deadline) {
        const holder = await conn.query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = ${ADVISORY_KEY} LIMIT 1`,
        );
        throw lockTimeout(timeoutMs, holder.rows[0] ? `server backend pid ${holder.rows[0].pid}` : "another session");
      }
      await sleep(POLL_MS);
    }
  } catch (error) {
    conn.release();
    throw error;
  }
  return {
    session: conn,
    async release() {
      try {
        await conn.query(`SELECT pg_advisory_unlock(${ADVISORY_KEY})`);
        conn.release();
      } catch {
        conn.release(true); // closing the session frees the lock anyway
      }
    },
  };
}

function lockTimeout(timeoutMs: number, holder: string): RetortError {
  return new RetortError("RETORT_LOCK_TIMEOUT", `Another migration run holds the lock (${holder}); gave up after ${Math.round(timeoutMs / 1000)} s.`, {
    hint: "Wait for it to finish, or raise migrations.lockTimeoutMs. A lock is freed when its holder ends, even by a crash: there is no lock file to delete.",
    details: { holder },
  });
}
