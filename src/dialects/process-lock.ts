/**
 * An exclusive lock between processes on one machine, released by the kernel when its holder
 * dies: no lock file to go stale, no takeover to get wrong, and two processes can never both
 * hold it. Used to keep a PGlite directory to one process, and as the SQLite migration lock.
 *
 * - Linux: the holder listens on an abstract Unix socket named after a hash of the path's real
 *   location. Binding is atomic (EADDRINUSE: held) and the kernel frees the name with the
 *   process. Abstract names are per network namespace: processes in different namespaces (two
 *   containers sharing a volume, say) do not see each other's locks.
 * - Windows: a named pipe (\\?\pipe\…) with the same hashed name behaves the same way.
 *   (Same code path; not exercised by this suite, which runs on Linux.)
 * - macOS and the BSDs: a lock file beside the path, opened with O_EXLOCK|O_NONBLOCK, a
 *   flock()-style lock the kernel drops when the holder's descriptor closes, which it does when
 *   the process dies. The file itself is left behind and means nothing once unlocked. Waiters
 *   poll it (every POLL_MS). Not exercised by this suite either.
 * - Anywhere else: RETORT_UNSUPPORTED rather than a lock that could be held twice.
 *
 * The holder answers whoever connects (or reads its lock file) with its pid, start time and
 * command, so a waiter can say who it waits for. A waiter connects and sleeps until that
 * connection closes (the holder released it or died): no polling, no CPU while waiting.
 * Within one process a registry makes a second acquire wait for (or be refused by) the first.
 * Paths are keyed by real location (symlinks resolved), not by inode: a hard link or a bind
 * mount of the same file under another path is another lock.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, openSync, readFileSync, realpathSync, ftruncateSync, writeSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { RetortError } from "../errors.js";

export interface LockHolder {
  pid: number;
  /** When the holder took the lock (ISO time). */
  since: string;
  /** What it is doing, e.g. "migrations" or "an open database". */
  purpose: string;
  /** The holder's command line (URL passwords masked). */
  command: string;
}

export interface ProcessLock {
  release(): Promise<void>;
}

export interface AcquireOptions {
  /** What the holder is doing, shown to anyone who waits for it. */
  purpose: string;
  /** How long to wait for the holder; 0 (the default) fails at once when the lock is held. */
  timeoutMs?: number;
  /** The error to throw when the lock stays held (default RETORT_DATABASE_BUSY). */
  busy?: (holder: LockHolder | undefined, waitedMs: number) => RetortError;
}

const POLL_MS = 100;
/** How long to wait for a holder to say who it is (a busy holder answers late). */
const HOLDER_ANSWER_MS = 1000;

/** The real location of `path`, also for a file or directory not created yet. */
export function realLocation(path: string): string {
  const absolute = resolve(path);
  try {
    return realpathSync(absolute);
  } catch {
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(realLocation(parent), basename(absolute));
  }
}

/** Hide passwords in URLs (scheme://user:password@host) in a command line. */
function maskPasswords(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi, "$1:***@");
}

function describeSelf(purpose: string): LockHolder {
  return { pid: process.pid, since: new Date().toISOString(), purpose, command: maskPasswords(process.argv.slice(1).join(" ")).slice(0, 300) };
}

/** "pid 123 (migrations: node retort upgrade head, since 10:00:00Z)". */
export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return "another process (it did not say which)";
  return `pid ${holder.pid} (${holder.purpose}: ${holder.command || "unknown command"}, since ${holder.since})`;
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    return typeof value.pid === "number" ? { pid: value.pid, since: String(value.since ?? ""), purpose: String(value.purpose ?? ""), command: String(value.command ?? "") } : undefined;
  } catch {
    return undefined;
  }
}

export interface HoldState {
  held: boolean;
  holder?: LockHolder;
}

/** One kind of kernel lock: try to take it, find out who holds it, wait for a change. */
interface Mechanism {
  tryLock(holder: LockHolder): Promise<(() => Promise<void>) | undefined>;
  /**
   * Whether it is held and by whom (the holder may be too busy to say), and a promise settled
   * when that may have changed (released, died, or a poll tick).
   */
  watch(): { state: Promise<HoldState>; changed: Promise<void>; stop(): void };
}

function socketMechanism(address: string): Mechanism {
  return {
    tryLock(holder) {
      return new Promise((done, fail) => {
        const clients = new Set<Socket>();
        const server: Server = createServer((socket) => {
          socket.unref();
          clients.add(socket);
          socket.on("close", () => clients.delete(socket));
          socket.on("error", () => {});
          // Written, not ended: the waiter sees its connection close only when we let go or die.
          socket.write(`${JSON.stringify(holder)}\n`);
        });
        server.once("error", (error: NodeJS.ErrnoException) => (error.code === "EADDRINUSE" ? done(undefined) : fail(error)));
        server.listen(address, () => {
          // Held for as long as the process lives, but it must not keep the process alive.
          server.unref();
          done(async () => {
            await new Promise<void>((closed) => {
              server.close(() => closed());
              for (const socket of clients) socket.destroy();
            });
          });
        });
      });
    },
    watch() {
      const socket = createConnection(address);
      let text = "";
      let connected = false;
      let answered: (state: HoldState) => void = () => {};
      const state = new Promise<HoldState>((done) => (answered = done));
      const heldBy = (holder: LockHolder | undefined): HoldState => (holder ? { held: true, holder } : { held: connected });
      const changed = new Promise<void>((done) => {
        socket.on("connect", () => (connected = true));
        // The holder ends its answer but keeps its side open: ours closes when it lets go or dies.
        socket.on("data", (chunk) => {
          text += chunk.toString();
          if (text.includes("\n")) answered(heldBy(parseHolder(text.slice(0, text.indexOf("\n")))));
        });
        socket.on("error", () => done());
        socket.on("close", () => {
          answered(heldBy(parseHolder(text)));
          done();
        });
      });
      const timer = setTimeout(() => answered(heldBy(undefined)), HOLDER_ANSWER_MS);
      timer.unref();
      return { state, changed, stop: () => (clearTimeout(timer), socket.destroy()) };
    },
  };
}

function exlockMechanism(file: string): Mechanism {
  // O_EXLOCK is 0x20 on macOS, FreeBSD and OpenBSD; Node does not export it.
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_NONBLOCK | 0x20;
  const readHolder = () => {
    try {
      return parseHolder(readFileSync(file, "utf8"));
    } catch {
      return undefined;
    }
  };
  /** Held when even a shared lock is refused (briefly taking it can make an exclusive try fail once). */
  const state = (): HoldState => {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | 0x10 /* O_SHLOCK */);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN" || code === "EWOULDBLOCK") {
        const holder = readHolder();
        return holder ? { held: true, holder } : { held: true };
      }
      return { held: false };
    }
    closeSync(fd);
    return { held: false };
  };
  return {
    async tryLock(holder) {
      let fd: number;
      try {
        fd = openSync(file, flags, 0o644);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EAGAIN" || (error as NodeJS.ErrnoException).code === "EWOULDBLOCK") return undefined;
        throw error;
      }
      ftruncateSync(fd);
      writeSync(fd, JSON.stringify(holder), 0);
      return async () => closeSync(fd);
    },
    watch() {
      const controller = new AbortController();
      return {
        state: Promise.resolve(state()),
        changed: sleep(POLL_MS, undefined, { signal: controller.signal }).catch(() => {}),
        stop: () => controller.abort(),
      };
    },
  };
}

function mechanismFor(kind: string, location: string): Mechanism {
  const name = `retort-lock-${createHash("sha256").update(`${kind}\0${location}`).digest("hex").slice(0, 40)}`;
  switch (process.platform) {
    case "linux":
    case "android":
      return socketMechanism(`\0${name}`);
    case "win32":
      return socketMechanism(`\\\\?\\pipe\\${name}`);
    case "darwin":
    case "freebsd":
    case "openbsd":
      return exlockMechanism(`${location}.retort-${kind}-lock`);
    default:
      throw new RetortError("RETORT_UNSUPPORTED", `Retort has no process lock for ${process.platform}, so it cannot keep ${location} to one process.`, {
        hint: "Use a Postgres server URL on this platform, or run Retort on Linux, macOS, a BSD or Windows.",
      });
  }
}

/** Locks this process holds, by key; waiters in this process queue here before trying the kernel. */
const heldHere = new Map<string, { holder: LockHolder; released: Promise<void> }>();

function defaultBusy(location: string): (holder: LockHolder | undefined, waitedMs: number) => RetortError {
  return (holder, waitedMs) =>
    new RetortError("RETORT_DATABASE_BUSY", `${location} is in use by ${describeHolder(holder)}${waitedMs >= 100 ? `; waited ${Math.round(waitedMs / 100) / 10} s` : ""}.`, {
      hint: "Only one process can have it open at a time. Wait for that process to finish or stop it, or give a wait time (busyTimeoutMs).",
      details: { path: location, holder },
    });
}

/**
 * Take the lock on `path` for `kind` ("pglite", "migrations"…). Waits up to `timeoutMs` for a
 * holder to let go, then throws `busy(holder)`.
 */
export async function acquireProcessLock(kind: string, path: string, options: AcquireOptions): Promise<ProcessLock> {
  const location = realLocation(path);
  const key = `${kind}\0${location}`;
  const mechanism = mechanismFor(kind, location);
  const started = Date.now();
  const timeoutMs = options.timeoutMs ?? 0;
  const busy = options.busy ?? defaultBusy(location);
  const remaining = () => started + timeoutMs - Date.now();
  for (;;) {
    const local = heldHere.get(key);
    if (local) {
      if (remaining() <= 0) throw busy(local.holder, Date.now() - started);
      await waitFor(local.released, remaining());
      continue;
    }
    const self = describeSelf(options.purpose);
    let letGo!: () => void;
    const entry = { holder: self, released: new Promise<void>((done) => (letGo = done)) };
    // Claim the key in this process before the kernel, so a second acquire here queues behind us.
    heldHere.set(key, entry);
    let unlock: (() => Promise<void>) | undefined;
    try {
      unlock = await mechanism.tryLock(self);
    } finally {
      if (!unlock) {
        heldHere.delete(key);
        letGo();
      }
    }
    if (unlock) {
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          try {
            await unlock();
          } finally {
            heldHere.delete(key);
            letGo();
          }
        },
      };
    }
    const watch = mechanism.watch();
    try {
      if (remaining() <= 0) throw busy((await watch.state).holder, Date.now() - started);
      const before = Date.now();
      await waitFor(watch.changed, remaining());
      // The holder let go as we connected: back off a little so racing waiters do not spin.
      if (Date.now() - before < 5) await sleep(5 + Math.random() * 20);
    } finally {
      watch.stop();
    }
  }
}

/**
 * Is the lock on `path` for `kind` held, and by whom? Takes nothing: asks the holder (taking
 * the lock briefly to find out would make a real acquirer fail).
 */
export async function lockState(kind: string, path: string): Promise<HoldState> {
  const location = realLocation(path);
  const local = heldHere.get(`${kind}\0${location}`);
  if (local) return { held: true, holder: local.holder };
  const watch = mechanismFor(kind, location).watch();
  try {
    return await watch.state;
  } finally {
    watch.stop();
  }
}

async function waitFor(event: Promise<void>, ms: number): Promise<void> {
  const controller = new AbortController();
  try {
    await Promise.race([event, sleep(Math.max(ms, 0), undefined, { signal: controller.signal }).catch(() => {})]);
  } finally {
    controller.abort();
  }
}
