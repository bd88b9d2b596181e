/**
 * The other development services a team starts with its database (Redis, a queue, a mail
 * catcher…), declared in the config's `services`: started by `retort setup` / `services start`,
 * stopped by `teardown` / `services stop`, shown by `db status` / `services status`.
 *
 * A service is ready when its readiness check passes (a TCP port that accepts connections, or a
 * command that exits 0). A start command may stay in the foreground (Retort keeps its pid, in its
 * own process group, and stops it with SIGTERM) or daemonize itself (then `stop` says how to stop
 * it). Output goes to `.retort/services/<name>.log`.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadedConfig, ServiceSettings } from "../env/config.js";
import { RetortError } from "../errors.js";
import { portAnswers } from "./port-holder.js";
import { makeDirectory } from "../env/make-directory.js";

export interface ServiceStatus {
  name: string;
  running: boolean;
  /** The pid Retort started it as, while that process lives (daemons that fork have none). */
  pid?: number;
  log: string;
}

const POLL_MS = 100;

function folder(loaded: LoadedConfig): string {
  return join(loaded.root, ".retort", "services");
}

function files(loaded: LoadedConfig, name: string): { pid: string; log: string } {
  return { pid: join(folder(loaded), `${name}.pid`), log: join(folder(loaded), `${name}.log`) };
}

function settingsOf(loaded: LoadedConfig, names: readonly string[] | undefined): Array<[string, ServiceSettings]> {
  const all = Object.entries(loaded.config.services ?? {});
  if (!names?.length) return all;
  return names.map((name) => {
    const found = all.find(([key]) => key === name);
    if (!found) {
      throw new RetortError("RETORT_CONFIG", `no service named "${name}" in the config`, {
        hint: all.length ? `Services: ${all.map(([key]) => key).join(", ")}.` : "Declare it under services in retort.config.ts.",
      });
    }
    return found;
  });
}

function shell(command: string, service: ServiceSettings, loaded: LoadedConfig): { status: number | null; output: string } {
  const result = spawnSync("sh", ["-c", command], { cwd: resolve(loaded.root, service.cwd ?? "."), env: { ...process.env, ...service.env }, encoding: "utf8", timeout: service.timeoutMs ?? 30_000 });
  return { status: result.status, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

async function isReady(service: ServiceSettings, loaded: LoadedConfig): Promise<boolean> {
  const check = service.ready;
  if (check === undefined) return false;
  if ("tcp" in check) {
    const [host, port] = typeof check.tcp === "number" ? ["127.0.0.1", check.tcp] : [check.tcp.split(":")[0]!, Number(check.tcp.split(":")[1])];
    return portAnswers(port, host, 500);
  }
  return shell(check.command, service, loaded).status === 0;
}

function livePid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function running(name: string, service: ServiceSettings, loaded: LoadedConfig): Promise<boolean> {
  if (service.status !== undefined) return shell(service.status, service, loaded).status === 0;
  if (service.ready !== undefined) return isReady(service, loaded);
  return livePid(files(loaded, name).pid) !== undefined;
}

/** Start the named services (all by default) and wait until each is ready; one already running is left alone. */
export async function startServices(loaded: LoadedConfig, names?: readonly string[], onStep: (line: string) => void = () => {}): Promise<Array<ServiceStatus & { started: boolean }>> {
  const results: Array<ServiceStatus & { started: boolean }> = [];
  for (const [name, service] of settingsOf(loaded, names)) {
    const paths = files(loaded, name);
    if (await running(name, service, loaded)) {
      results.push({ ...(await statusOf(name, service, loaded)), started: false });
      continue;
    }
    onStep(`starting ${name}`);
    makeDirectory(folder(loaded));
    const log = openSync(paths.log, "a");
    const child = spawn("sh", ["-c", service.start], { cwd: resolve(loaded.root, service.cwd ?? "."), env: { ...process.env, ...service.env }, detached: true, stdio: ["ignore", log, log] });
    closeSync(log);
    let exit: number | null | undefined;
    child.once("exit", (code) => (exit = code ?? -1));
    child.unref();
    if (child.pid !== undefined) writeFileSync(paths.pid, String(child.pid));
    const deadline = Date.now() + (service.timeoutMs ?? 30_000);
    for (;;) {
      if (service.ready === undefined ? exit === undefined || exit === 0 : await isReady(service, loaded)) break;
      // A foreground command that died, or a daemonizing one that failed, will never become ready.
      if (exit !== undefined && exit !== 0) throw serviceFailed(name, `its start command exited with code ${exit}`, paths.log);
      if (Date.now() >= deadline) throw serviceFailed(name, `it was not ready after ${Math.round((service.timeoutMs ?? 30_000) / 1000)} s`, paths.log);
      await sleep(POLL_MS);
    }
    results.push({ ...(await statusOf(name, service, loaded)), started: true });
  }
  return results;
}

/** Stop the named services (all by default). */
export async function stopServices(loaded: LoadedConfig, names?: readonly string[]): Promise<Array<{ name: string; stopped: boolean }>> {
  const results: Array<{ name: string; stopped: boolean }> = [];
  for (const [name, service] of settingsOf(loaded, names)) {
    const paths = files(loaded, name);
    const wasRunning = await running(name, service, loaded);
    if (service.stop !== undefined) {
      if (wasRunning) {
        const { status, output } = shell(service.stop, service, loaded);
        if (status !== 0) throw serviceFailed(name, `its stop command exited with code ${status}${output ? `: ${output}` : ""}`, paths.log);
      }
    } else {
      const pid = livePid(paths.pid);
      if (pid !== undefined) await terminate(pid);
    }
    rmSync(paths.pid, { force: true });
    results.push({ name, stopped: wasRunning });
  }
  return results;
}

/** SIGTERM to the service's process group, SIGKILL after 10 s. */
async function terminate(pid: number): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await sleep(POLL_MS);
  }
  signal("SIGKILL");
}

async function statusOf(name: string, service: ServiceSettings, loaded: LoadedConfig): Promise<ServiceStatus> {
  const paths = files(loaded, name);
  const pid = livePid(paths.pid);
  return { name, running: await running(name, service, loaded), ...(pid !== undefined ? { pid } : {}), log: paths.log };
}

export async function servicesStatus(loaded: LoadedConfig, names?: readonly string[]): Promise<ServiceStatus[]> {
  const statuses: ServiceStatus[] = [];
  for (const [name, service] of settingsOf(loaded, names)) statuses.push(await statusOf(name, service, loaded));
  return statuses;
}

function serviceFailed(name: string, why: string, log: string): RetortError {
  const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-8).join("\n") : "";
  return new RetortError("RETORT_SERVICE_FAILED", `service "${name}" did not start: ${why}.${tail ? `\nlog (last lines):\n${tail}` : ""}`, {
    hint: `Check its start command and readiness check in retort.config.ts; the whole log is ${log}.`,
    details: { service: name, log },
  });
}
