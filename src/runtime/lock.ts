/**
 * The migration lock: one migrating process per database at a time.
 * - Postgres server: a session advisory lock on a dedicated connection (released with it, even
 *   if the process dies), taken before the version table is created.
 * - SQLite file / PGlite directory: an exclusive lock file beside the database, holding the pid;
 *   a lock left by a dead process is taken over.
 * - In-memory databases belong to one process: nothing to lock.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConnectionTarget } from "../env/url.js";
import type { Driver } from "../dialects/driver.js";
import { RetortError } from "../errors.js";

/** A fixed 64-bit advisory lock key: the first 8 bytes of sha256("retort migrations"). */
const ADVISORY_KEY = "103769624823569094";
const POLL_MS = 100;

export interface MigrationLock {
  release(): Promise<void>;
}

export async function acquireMigrationLock(target: ConnectionTarget, driver: Driver, timeoutMs: number): Promise<MigrationLock> {
  if (target.dialect === "postgres") return advisoryLock(driver, timeoutMs);
  const path = target.dialect === "sqlite" ? target.filename : target.dataDir;
  if (path === undefined || path === ":memory:" || path === "") return { release: async () => {} };
  return fileLock(`${resolve(path)}.retort-lock`, timeoutMs);
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

async function fileLock(path: string, timeoutMs: number): Promise<MigrationLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid} ${hostname()}\n`);
      closeSync(fd);
      return {
        async release() {
          try {
            unlinkSync(path);
          } catch {
            // already gone: nothing to release
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = readHolder(path);
    if (holder && holder.host === hostname() && !isAlive(holder.pid)) {
      // Left by a process that died mid-run: take it over.
      try {
        unlinkSync(path);
      } catch {
        // someone else took it over first; loop and try again
      }
      continue;
    }
    if (Date.now() >= deadline) throw lockTimeout(timeoutMs, holder ? `pid ${holder.pid} on ${holder.host} (lock file ${path})` : `the owner of ${path}`);
    await sleep(POLL_MS);
  }
}

function readHolder(path: string): { pid: number; host: string } | undefined {
  try {
    const [pid, host] = readFileSync(path, "utf8").trim().split(/\s+/);
    const n = Number(pid);
    return Number.isInteger(n) && n > 0 ? { pid: n, host: host ?? "" } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockTimeout(timeoutMs: number, holder: string): RetortError {
  return new RetortError("RETORT_LOCK_TIMEOUT", `Another migration run holds the lock (${holder}); gave up after ${Math.round(timeoutMs / 1000)} s.`, {
    hint: "Wait for it to finish, or raise migrations.lockTimeoutMs. If that process is gone, its lock is freed when its session ends.",
    details: { holder },
  });
}
