/** Development services from the config, with a real redis-server on a free port. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadedConfig } from "../../src/env/config.js";
import { portAnswers } from "../../src/dev/port-holder.js";
import { servicesStatus, startServices, stopServices } from "../../src/dev/services.js";
import { isRetortError } from "../../src/errors.js";

let redis: string | undefined;
try {
  redis = execFileSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).trim() || undefined;
} catch {
  redis = undefined;
}
if (!redis) {
  if (process.env.CI) throw new Error("CI needs redis-server for the services tests");
  console.warn("\n[retort tests] NOTICE: no redis-server on this machine; services tests are SKIPPED.\n");
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function project(services: NonNullable<LoadedConfig["config"]["services"]>): LoadedConfig {
  return { config: { services }, root: mkdtempSync(join(tmpdir(), "services-")) };
}

describe.skipIf(!redis)("services", () => {
  it("a foreground redis-server: started until its port answers, second start a no-op, stopped by signal", async () => {
    const port = await freePort();
    const loaded = project({ redis: { start: `redis-server --port ${port} --bind 127.0.0.1 --save '' --appendonly no`, ready: { tcp: port } } });
    const [started] = await startServices(loaded);
    expect(started).toMatchObject({ name: "redis", running: true, started: true });
    expect(await portAnswers(port)).toBe(true);
    expect(execFileSync("redis-cli", ["-p", String(port), "ping"], { encoding: "utf8" }).trim()).toBe("PONG");
    const [again] = await startServices(loaded, ["redis"]);
    expect(again).toMatchObject({ started: false, running: true, pid: started!.pid });
    expect(await servicesStatus(loaded)).toEqual([expect.objectContaining({ name: "redis", running: true })]);

    expect(await stopServices(loaded)).toEqual([{ name: "redis", stopped: true }]);
    expect(await portAnswers(port)).toBe(false);
    expect((await servicesStatus(loaded))[0]!.running).toBe(false);
    expect(readFileSync(started!.log, "utf8")).toContain("Ready to accept connections");
  });

  it("a daemonizing start with its own stop and status commands", async () => {
    const port = await freePort();
    const loaded = project({
      cache: {
        start: `redis-server --port ${port} --bind 127.0.0.1 --daemonize yes --save '' --pidfile "$PWD/redis.pid"`,
        stop: `redis-cli -p ${port} shutdown nosave`,
        status: `redis-cli -p ${port} ping`,
        ready: { command: `redis-cli -p ${port} ping` },
      },
    });
    const [started] = await startServices(loaded);
    expect(started).toMatchObject({ running: true, started: true });
    expect(await portAnswers(port)).toBe(true);
    expect(await stopServices(loaded, ["cache"])).toEqual([{ name: "cache", stopped: true }]);
    for (let i = 0; i < 50 && (await portAnswers(port)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await portAnswers(port)).toBe(false);
  });

  it("a service that cannot start: the error names it and shows its log; an unknown name is a config error", async () => {
    const port = await freePort();
    const loaded = project({ broken: { start: `redis-server --port ${port} --no-such-option yes`, ready: { tcp: port }, timeoutMs: 10_000 } });
    const error = await startServices(loaded).then(() => undefined, (e: unknown) => e);
    expect(isRetortError(error, "RETORT_SERVICE_FAILED")).toBe(true);
    expect((error as Error).message).toMatch(/service "broken" did not start: its start command exited with code \d+/);
    expect((error as Error).message).toContain("no-such-option");
    const unknown = await startServices(loaded, ["nope"]).then(() => undefined, (e: unknown) => e);
    expect(isRetortError(unknown, "RETORT_CONFIG")).toBe(true);
    expect((unknown as Error & { hint: string }).hint).toContain("broken");
    expect(existsSync(join(loaded.root, ".retort", "services", "broken.log"))).toBe(true);
  });
});
