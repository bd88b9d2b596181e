/**
 * The process lock, seen from other processes: who holds it is named, a holder that dies (even
 * by SIGKILL) frees it at once, and two processes never hold it together. PGlite directories
 * are kept to one process with it; the SQLite migration lock is it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { acquireProcessLock, lockState } from "../../src/dialects/process-lock.js";
import { connect, isRetortError, type RetortError } from "../../src/index.js";

const SOURCE = resolve("src");
const scratch = () => mkdtempSync(join(tmpdir(), "retort-lock-"));

/** Run a TypeScript module body as a child process (ES module, top-level await). */
function child(dir: string, name: string, body: string, args: string[] = []): ChildProcess & { exited: Promise<{ code: number | null; signal: string | null }> } {
  const file = join(dir, `${name}.mts`);
  writeFileSync(file, body);
  // tsx as a loader, not its wrapper: the pid and the signals are the script's own.
  const proc = spawn(process.execPath, ["--import", "tsx", file, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((done) =>
    proc.on("exit", (code, signal) => {
      if (code) console.error(`${name} exited ${code}: ${stderr}`);
      done({ code, signal });
    }),
  );
  return Object.assign(proc, { exited });
}

/** Wait (bounded) for a file a child writes when it reached a point. */
async function waitForFile(path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}`);
    await sleep(25);
  }
}

async function errorOf(promise: Promise<unknown>): Promise<RetortError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRetortError(error)).toBe(true);
  return error as RetortError;
}

describe("process lock", () => {
  it("names its holder, and a holder killed with SIGKILL frees it for a waiter at once", async () => {
    const dir = scratch();
    const path = join(dir, "thing");
    const holder = child(
      dir,
      "holder",
      `import { acquireProcessLock } from ${JSON.stringify(`${SOURCE}/dialects/process-lock.ts`)};
       import { writeFileSync } from "node:fs";
       await acquireProcessLock("test", ${JSON.stringify(path)}, { purpose: "holding it for a test" });
       writeFileSync(${JSON.stringify(join(dir, "held"))}, "");
       setInterval(() => {}, 1000);`,
    );
    await waitForFile(join(dir, "held"));
    expect(await lockState("test", path)).toEqual({
      held: true,
      holder: { pid: holder.pid, since: expect.any(String), purpose: "holding it for a test", command: expect.stringContaining("holder.mts") },
    });
    const refused = await errorOf(acquireProcessLock("test", path, { purpose: "a second try" }));
    expect(refused.code).toBe("RETORT_DATABASE_BUSY");
    expect(refused.message).toContain(`pid ${holder.pid} (holding it for a test: `);
    expect(refused.hint).toContain("Wait for that process");

    // A waiter sleeps on a connection to the holder; the kernel closes it when the holder dies.
    const waiting = acquireProcessLock("test", path, { purpose: "waiter", timeoutMs: 60_000 });
    await sleep(300);
    const killedAt = Date.now();
    holder.kill("SIGKILL");
    const lock = await waiting;
    expect(Date.now() - killedAt).toBeLessThan(10_000);
    expect((await lockState("test", path)).holder?.pid).toBe(process.pid);
    await lock.release();
    expect(await lockState("test", path)).toEqual({ held: false });
  });

  it("a second acquire in the same process waits for the first, or is refused naming this process", async () => {
    const path = join(scratch(), "same");
    const first = await acquireProcessLock("test", path, { purpose: "first" });
    const refused = await errorOf(acquireProcessLock("test", path, { purpose: "second" }));
    expect(refused.message).toContain(`pid ${process.pid} (first: `);
    const order: string[] = [];
    const second = acquireProcessLock("test", path, { purpose: "second", timeoutMs: 30_000 }).then((lock) => (order.push("second got it"), lock));
    await sleep(50);
    order.push("first releases");
    await first.release();
    await (await second).release();
    expect(order).toEqual(["first releases", "second got it"]);
  });

  it("SQLite migration lock: 16 processes that die holding it (exit or SIGKILL) never overlap", async () => {
    const dir = scratch();
    const database = join(dir, "app.db");
    const log = join(dir, "holds.log");
    writeFileSync(database, "");
    writeFileSync(log, "");
    const count = Number(process.env.RETORT_LOCK_PROCS ?? 16);
    const body = `import { appendFileSync } from "node:fs";
      import { setTimeout as sleep } from "node:timers/promises";
      import { acquireMigrationLock } from ${JSON.stringify(`${SOURCE}/runtime/lock.ts`)};
      const [database, log, mode] = process.argv.slice(2);
      await acquireMigrationLock({ dialect: "sqlite", filename: database }, {} as never, 120_000);
      appendFileSync(log, "enter " + process.pid + " " + process.hrtime.bigint() + "\\n");
      await sleep(10 + Math.random() * 40);
      appendFileSync(log, "leave " + process.pid + " " + process.hrtime.bigint() + "\\n");
      // Never released: the process goes away holding it.
      if (mode === "kill") process.kill(process.pid, "SIGKILL");
      process.exit(0);`;
    const runs = Array.from({ length: count }, (_, i) => child(dir, `holder${i}`, body, [database, log, i % 2 === 0 ? "kill" : "exit"]));
    const ends = await Promise.all(runs.map((run) => run.exited));
    expect(ends.filter((end) => end.signal === "SIGKILL")).toHaveLength(Math.ceil(count / 2));
    expect(ends.filter((end) => end.code === 0)).toHaveLength(Math.floor(count / 2));

    const holds = new Map<string, { enter: bigint; leave: bigint }>();
    for (const line of readFileSync(log, "utf8").trim().split("\n")) {
      const [what, pid, at] = line.split(" ") as ["enter" | "leave", string, string];
      holds.set(pid, { ...holds.get(pid)!, [what]: BigInt(at) });
    }
    expect(holds.size).toBe(count);
    const sorted = [...holds.values()].sort((a, b) => (a.enter < b.enter ? -1 : 1));
    const overlaps = sorted.filter((hold, i) => i > 0 && hold.enter <= sorted[i - 1]!.leave).length;
    expect(overlaps).toBe(0);
  }, 180_000);
});

describe("PGlite directory: one process at a time", () => {
  it("connect() from a second process fails at once with RETORT_DATABASE_BUSY naming the holder; busyTimeoutMs waits for it", async () => {
    const dir = scratch();
    const dataDir = join(dir, "db");
    const holder = child(
      dir,
      "app",
      `import { connect } from ${JSON.stringify(`${SOURCE}/index.ts`)};
       import { existsSync, writeFileSync } from "node:fs";
       import { setTimeout as sleep } from "node:timers/promises";
       const db = await connect("pglite:${dataDir}");
       await db.query("CREATE TABLE notes (body text)");
       await db.query("INSERT INTO notes VALUES ('from the first process')");
       writeFileSync(${JSON.stringify(join(dir, "open"))}, "");
       while (!existsSync(${JSON.stringify(join(dir, "close"))})) await sleep(20);
       await db.close();`,
    );
    await waitForFile(join(dir, "open"));
    const busy = await errorOf(connect(`pglite:${dataDir}`));
    expect(busy.code).toBe("RETORT_DATABASE_BUSY");
    expect(busy.message).toBe(
      `The PGlite database in "${dataDir}" is open in another process: pid ${holder.pid} (has the PGlite database open: ${(busy.details.holder as { command: string }).command}, since ${(busy.details.holder as { since: string }).since}).`,
    );
    expect((busy.details.holder as { command: string }).command).toContain("app.mts");
    expect(busy.hint).toContain("busyTimeoutMs");

    // Waiting: it opens once the first process closes, and sees its data.
    const waiting = connect(`pglite:${dataDir}`, { busyTimeoutMs: 60_000 });
    writeFileSync(join(dir, "close"), "");
    const db = await waiting;
    try {
      expect((await db.query("SELECT body FROM notes")).rows).toEqual([{ body: "from the first process" }]);
    } finally {
      await db.close();
    }
    expect((await holder.exited).code).toBe(0);
  }, 120_000);

  it("a second connect() in the same process is refused; after close() it opens", async () => {
    const dataDir = join(scratch(), "db");
    const first = await connect(`pglite:${dataDir}`);
    const busy = await errorOf(connect(`pglite:${dataDir}`));
    expect(busy.code).toBe("RETORT_DATABASE_BUSY");
    expect(busy.message).toContain(`pid ${process.pid} `);
    await first.close();
    const again = await connect(`pglite:${dataDir}`);
    expect((await again.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    await again.close();
  }, 60_000);

  it("connect(url) needs no options object", async () => {
    const db = await connect("sqlite::memory:");
    try {
      expect((await db.query("SELECT 41 + 1 AS answer")).rows).toEqual([{ answer: 42 }]);
    } finally {
      await db.close();
    }
  });
});
