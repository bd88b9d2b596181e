/** `retort db …`: the project's local Postgres server (up, down, status, url, logs, psql). */
import { closeSync, existsSync, openSync, readSync, statSync, watch } from "node:fs";
import type { Command } from "commander";
import type { Output } from "./commands.js";
import type { GlobalOptions } from "./options.js";

async function config(program: Command) {
  const { configOf } = await import("../runtime/api.js");
  const globals = program.opts<GlobalOptions>();
  return configOf(globals.config ? { config: globals.config } : {});
}

async function server(program: Command) {
  const { LocalServer } = await import("../dev/local-server.js");
  return new LocalServer(await config(program));
}

function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function registerDevCommands(program: Command, output: () => Output): void {
  const db = program.command("db").description("the project's local Postgres server (no Docker): up, down, status, url, logs, psql");

  db.command("up")
    .description("start the local Postgres server (initialising it the first time) and create the project's database")
    .action(async () => {
      const local = await server(program);
      const out = output();
      const result = await local.up((line) => out.say(line));
      const { status } = result;
      out.say(
        result.alreadyRunning
          ? `already running: Postgres ${status.version} on 127.0.0.1:${status.port} (pid ${status.pid})`
          : `Postgres ${status.version} is up on 127.0.0.1:${status.port} (pid ${status.pid}); data in ${status.dataDirectory}`,
      );
      if (result.createdDatabase) out.say(`created database ${local.database}`);
      out.say(`url: ${status.url}`);
      out.result({ ...result });
    });

  db.command("down")
    .description("stop the local Postgres server (its data is kept)")
    .action(async () => {
      const local = await server(program);
      const stopped = local.down();
      output().say(stopped ? `stopped the local Postgres server (data kept in ${local.paths.data})` : "the local Postgres server is not running");
      output().result({ stopped, dataDirectory: local.paths.data });
    });

  db.command("status")
    .description("is the local server running: pid, port, version, data size, databases")
    .action(async () => {
      const loaded = await config(program);
      const { LocalServer } = await import("../dev/local-server.js");
      const { servicesStatus } = await import("../dev/services.js");
      const status = await new LocalServer(loaded).status();
      const services = await servicesStatus(loaded);
      const out = output();
      if (!status.running) {
        out.say(`not running (Postgres ${status.version}, port ${status.port}, ${status.initialized ? `data ${formatBytes(status.dataBytes)} in ${status.dataDirectory}` : "not initialised yet: retort db up"})`);
      } else {
        out.say(`running: Postgres ${status.version}, pid ${status.pid}, 127.0.0.1:${status.port}`);
        out.say(`data:    ${formatBytes(status.dataBytes)} in ${status.dataDirectory}`);
        out.say(`log:     ${status.log}`);
        out.say(`databases: ${(status.databases ?? []).join(", ")}`);
        out.say(`url:     ${status.url}`);
      }
      for (const service of services) out.say(`service ${service.name}: ${service.running ? "running" : "stopped"}${service.pid ? ` (pid ${service.pid})` : ""}`);
      out.result({ ...status, services });
    });

  db.command("url")
    .description("print the URL of the project's database (export DEV_DATABASE_URL=$(retort db url))")
    .argument("[database]", "another database on the local server")
    .action(async (database: string | undefined) => {
      const url = (await server(program)).url(database);
      const { json } = program.opts<GlobalOptions>();
      // Plain stdout even with --quiet: this command exists to be captured by $(…).
      if (json) output().result({ url });
      else console.log(url);
    });

  db.command("logs")
    .description("print the local server's log")
    .option("-f, --follow", "keep printing new lines")
    .option("-n, --lines <n>", "last n lines", "100")
    .action(async (opts: { follow?: boolean; lines: string }) => {
      const local = await server(program);
      const file = local.paths.log;
      if (!existsSync(file)) {
        output().say(`no log yet (${file}): run retort db up`);
        return;
      }
      const text = readFrom(file, 0);
      const lines = text.split("\n");
      const keep = Math.max(1, Number(opts.lines) || 100);
      process.stdout.write(lines.slice(-keep - 1).join("\n"));
      if (!opts.follow) return;
      let offset = statSync(file).size;
      await new Promise<void>((resolve) => {
        const watcher = watch(file, () => {
          const size = statSync(file).size;
          if (size < offset) offset = 0; // rotated or truncated
          if (size > offset) {
            process.stdout.write(readFrom(file, offset));
            offset = size;
          }
        });
        process.once("SIGINT", () => {
          watcher.close();
          resolve();
        });
      });
    });

  db.command("psql")
    .description("open psql on the project's database on the local server")
    .argument("[database]", "another database on the local server")
    .allowExcessArguments(false)
    .action(async (database: string | undefined) => {
      const code = await (await server(program)).psql(database);
      if (code !== 0) process.exitCode = code;
    });
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size - offset;
  if (size <= 0) return "";
  const buffer = Buffer.alloc(size);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, size, offset);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("utf8");
}

export function registerServiceCommands(program: Command, output: () => Output): void {
  const services = program.command("services").description("the development services declared in the config (services: { redis: { start, stop, ready } })");
  services
    .command("start")
    .description("start services (all by default) and wait until they are ready")
    .argument("[names...]")
    .action(async (names: string[]) => {
      const { startServices } = await import("../dev/services.js");
      const out = output();
      const results = await startServices(await config(program), names, (line) => out.say(line));
      for (const r of results) out.say(`${r.name}: ${r.started ? "started" : "already running"}`);
      out.result({ services: results });
    });
  services
    .command("stop")
    .description("stop services (all by default)")
    .argument("[names...]")
    .action(async (names: string[]) => {
      const { stopServices } = await import("../dev/services.js");
      const results = await stopServices(await config(program), names);
      for (const r of results) output().say(`${r.name}: ${r.stopped ? "stopped" : "was not running"}`);
      output().result({ services: results });
    });
  services
    .command("status")
    .description("which services run")
    .argument("[names...]")
    .action(async (names: string[]) => {
      const { servicesStatus } = await import("../dev/services.js");
      const results = await servicesStatus(await config(program), names);
      for (const r of results) output().say(`${r.name}: ${r.running ? "running" : "stopped"}${r.pid ? ` (pid ${r.pid})` : ""}`);
      output().result({ services: results });
    });
}
