#!/usr/bin/env node
/**
 * The `retort` command. Exit codes: 0 ok, 1 user error (bad URL, unreachable database, invalid
 * models…), 2 usage error (RETORT_USAGE). `--json` prints results and errors as JSON.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import { stderrColors } from "./colors.js";
import { RetortError, fileAccessError, isRetortError } from "../errors.js";
import type { Dialect } from "../schema/snapshot.js";
import { applyAll, ping, printSql, type Output } from "./commands.js";
import { registerMigrationCommands } from "./migrate.js";
import { registerSchemaCommands } from "./schema.js";
import { loadConfig, resolveDatabaseUrl } from "../env/config.js";
import { parseDatabaseUrl } from "../env/url.js";
import type { GlobalOptions } from "./options.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

function output(program: Command): Output {
  const { json, quiet } = program.opts<{ json?: boolean; quiet?: boolean }>();
  return {
    say: (line) => {
      if (!json && !quiet) console.log(line);
    },
    result: (value) => {
      if (json) console.log(JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2));
    },
    warn: (message) => console.error(`${stderrColors.yellow("warning")} ${message}`),
  };
}

/** The same resolver as every other command: --url, the environment's variables, the config, the embedded default in development only. */
async function databaseUrl(program: Command, url: string | undefined): Promise<string> {
  const globals = program.opts<GlobalOptions>();
  return resolveDatabaseUrl({ ...(globals.env ? { env: globals.env } : {}), ...((url ?? globals.url) ? { url: url ?? globals.url } : {}), config: await loadConfig(globals.config) });
}

/** The dialect of the URL every command would use; `sql` connects to nothing, so no URL at all means postgres. */
async function urlDialect(program: Command): Promise<Dialect> {
  try {
    return parseDatabaseUrl(await databaseUrl(program, undefined)).dialect;
  } catch (error) {
    if (isRetortError(error, "RETORT_NO_DATABASE_URL")) return "postgres";
    throw error;
  }
}

export async function main(argv: string[]): Promise<number> {
  const json = argv.includes("--json");
  const program = new Command("retort")
    .description("Typed models, migrations and the daily database workflow for TypeScript.")
    .version(version)
    .option("--url <url>", "database URL (default: $DATABASE_URL, then $DEV_/$TEST_/$PROD_DATABASE_URL for the environment, the config's url, else embedded PGlite under .retort/ in development only)")
    .option("--config <file>", "config file (default: retort.config.ts in the current folder)")
    .option("--env <name>", "environment: development, test, production, or any name (default: $RETORT_ENV, $NODE_ENV, development)")
    .option("--json", "machine-readable output")
    .option("--quiet", "print nothing but errors")
    .exitOverride()
    // With --json, usage errors are printed as JSON below instead of commander's text.
    .configureOutput({ writeErr: (text) => (json ? undefined : process.stderr.write(text)) });

  program
    .command("ping")
    .description("check that a database answers")
    .option("--url <url>", "database URL (default: as for every command, see retort --help)")
    .action(async (opts: { url?: string }) => ping(await databaseUrl(program, opts.url), output(program)));

  program
    .command("sql")
    .description("print the CREATE statements for a models module, without connecting")
    .argument("<models>", "the module exporting your table() models (.ts or .js)")
    .addOption(new Option("--dialect <dialect>", "SQL flavour (default: the database URL's, as every command resolves it; postgres when there is none)").choices(["postgres", "pglite", "sqlite"]))
    .action(async (models: string, opts: { dialect?: Dialect }) => printSql(models, opts.dialect ?? (await urlDialect(program)), output(program)));

  for (const action of ["create", "drop"] as const) {
    program
      .command(`${action}-all`)
      .description(`${action} every table of a models module (experiments and tests; not a replacement for migrations)`)
      .argument("<models>", "the module exporting your table() models")
      .option("--url <url>", "database URL (default: as for every command, see retort --help)")
      .action(async (models: string, opts: { url?: string }) => applyAll(action, models, await databaseUrl(program, opts.url), output(program)));
  }

  const revisionCommand = registerMigrationCommands(program, () => output(program));
  registerSchemaCommands(program, () => output(program), revisionCommand);
  // The other commands' modules load only when the command line names none of the above: a
  // no-op `retort upgrade` is mostly process start-up, and they are ~10 ms of it.
  if (!namesRegisteredCommand(program, argv)) await registerOtherCommands(program, () => output(program));
  // .env and .env.<environment> next to the config (or here) fill in what the shell did not set.
  program.hook("preAction", async () => {
    const globals = program.opts<GlobalOptions>();
    const { loadEnvFiles } = await import("../env/dotenv.js");
    loadEnvFiles(globals.config ? dirname(resolve(globals.config)) : process.cwd(), globals.env ? { env: globals.env } : {});
  });

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (thrown) {
    const error = fileAccessError(thrown) ?? thrown;
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0;
      if (json) console.error(JSON.stringify({ error: usageError(error).toJSON() }, null, 2));
      return 2;
    }
    if (isRetortError(error)) {
      if (json) console.error(JSON.stringify({ error: error.toJSON() }, null, 2));
      else console.error(`${stderrColors.red("error")} ${error.code}: ${error.message}${error.hint ? `\n${stderrColors.dim("hint:")} ${error.hint}` : ""}`);
      // A usage error a command finds itself (an empty --reason, teardown without --yes) exits as commander's do.
      return error.code === "RETORT_USAGE" ? 2 : 1;
    }
    // Not a user error: a bug or an unexpected failure; keep the stack for the report.
    console.error(error);
    return 1;
  }
}

/** Whether the command word of argv (the first operand after the program's own options) is a command `program` has. */
function namesRegisteredCommand(program: Command, argv: readonly string[]): boolean {
  const takesValue = new Set(program.options.filter((option) => option.required || option.optional).flatMap((option) => [option.long, option.short]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return false;
    if (!arg.startsWith("-")) return program.commands.some((command) => command.name() === arg || command.aliases().includes(arg));
    if (takesValue.has(arg)) i++;
  }
  return false;
}

/** Every command not registered in main(), in the order `retort --help` lists them. */
async function registerOtherCommands(program: Command, out: () => Output): Promise<void> {
  const [dev, adopt, workflow, release, history, lint, backup, seed] = await Promise.all([
    import("./dev.js"),
    import("./adopt.js"),
    import("./workflow.js"),
    import("./release.js"),
    import("./history.js"),
    import("./lint.js"),
    import("./backup.js"),
    import("./seed.js"),
  ]);
  dev.registerDevCommands(program, out);
  dev.registerServiceCommands(program, out);
  adopt.registerAdoptCommands(program, out);
  workflow.registerWorkflowCommands(program, out);
  release.registerReleaseCommands(program, out);
  history.registerHistoryCommands(program, out);
  lint.registerLintCommands(program, out);
  backup.registerBackupCommands(program, out);
  seed.registerSeedCommands(program, out);
}

/** A commander usage error (unknown option, missing argument…) as the RetortError --json prints. */
function usageError(error: CommanderError): RetortError {
  const message = error.message.replace(/^error: /, "");
  return new RetortError("RETORT_USAGE", message, {
    hint: "Run `retort --help`, or `retort <command> --help`, for the commands and their options.",
    details: { usage: error.code },
  });
}

main(process.argv.slice(2)).then((code) => {
  // A command that reports and fails without an error (doctor, db psql) has set the code already.
  process.exitCode = code !== 0 ? code : (process.exitCode ?? 0);
});
