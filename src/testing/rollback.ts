/**
 * `withRollback(db, fn)`: fn runs in a transaction that is always rolled back, so a test's writes
 * are gone when it ends. Transactions the code under test opens on the handle it is given become
 * savepoints (Database.transaction does that inside a transaction), so they commit and roll
 * back as in production, only inside the outer one; createMany's COPY runs on the same connection.
 */
import type { Database } from "../db/database.js";

/** Carries fn's result out of the transaction, whose rollback it causes. */
class RolledBack<R> {
  constructor(readonly result: R) {}
}

export function withRollback<S, R>(db: Database<S>, fn: (tx: Database<S>) => Promise<R>): Promise<R> {
  return inTestTransaction(db, fn, () => false);
}

/**
 * Like withRollback, but `commit()`, asked when fn has returned, may keep the writes: the
 * fixtures commit a failing test's transaction when its database is kept for inspection.
 */
export async function inTestTransaction<S, R>(db: Database<S>, fn: (tx: Database<S>) => Promise<R>, commit: () => boolean): Promise<R> {
  try {
    return await db.transaction(async (tx) => {
      const result = await fn(tx);
      if (commit()) return result;
      throw new RolledBack(result);
    });
  } catch (error) {
    if (error instanceof RolledBack) return error.result as R;
    throw error;
  }
}
