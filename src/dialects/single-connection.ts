/**
 * For backends with one connection (PGlite, better-sqlite3): a FIFO lock so a transaction has the
 * connection to itself. Without it, a statement issued elsewhere while a transaction is open
 * would silently run inside that transaction.
 */
export class ConnectionLock {
  private held = false;
  private readonly waiters: Array<() => void> = [];

  async acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = false;
  }

  get busy(): boolean {
    return this.held;
  }

  /** Run `fn` holding the lock. */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}
