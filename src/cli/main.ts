#!/usr/bin/env node
/**
 * The `retort` command. Exit codes: 0 ok, 1 user error (bad URL, unreachable database, invalid
 * models…), 2 usage error. `--json` prints results and errors as JSON.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { stderrColors } from "./colors.js";
import { isRetortError } from "../errors.js";
import type { Dialect } from "../schema/snapshot.js";
import { applyAll, ping, printSql, type Output } from "./commands.js";
import { registerAdoptCommands } from "./adopt.js";
import { registerMigrationCommands } from "./migrate.js";
import { registerSchemaCommands } from "./schema.js";

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

function defaultUrl(program: Command, url: string | undefined): string {
  return url ?? program.opts<{ url?: string }>().url ?? process.env.DATABASE_URL ?? "pglite:memory";
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command("retort")
    .description("Typed models, migrations and the daily database workflow for TypeScript.")
    .version(version)
    .option("--url <url>", "database URL (default: $DATABASE_URL, $<ENV>_DATABASE_URL, the config's url, else embedded PGlite under .retort/)")
    .option("--config <file>", "config file (default: retort.config.ts in the current folder)")
    .option("--env <name>", "environment: dev, test, prod… (default: $RETORT_ENV, $NODE_ENV, dev)")
    .option("--json", "machine-readable output")
    .option("--quiet", "print nothing but errors")
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command("ping")
    .description("check that a database answers")
    .option("--url <url>", "database URL (default: $DATABASE_URL, else pglite:memory)")
    .action(async (opts: { url?: string }) => ping(defaultUrl(program, opts.url), output(program)));

  program
    .command("sql")
    .description("print the CREATE statements for a models module, without connecting")
    .argument("<models>", "the module exporting your table() models (.ts or .js)")
    .addOption(new Option("--dialect <dialect>", "SQL flavour").choices(["postgres", "pglite", "sqlite"]).default("postgres"))
    .action(async (models: string, opts: { dialect: Dialect }) => printSql(models, opts.dialect, output(program)));

  for (const action of ["create", "drop"] as const) {
    program
      .command(`${action}-all`)
      .description(`${action} every table of a models module (experiments and tests; not a replacement for migrations)`)
      .argument("<models>", "the module exporting your table() models")
      .option("--url <url>", "database URL (default: $DATABASE_URL, else pglite:memory)")
      .action(async (models: string, opts: { url?: string }) => applyAll(action, models, defaultUrl(program, opts.url), output(program)));
  }

  const revisionCommand = registerMigrationCommands(program, () => output(program));
  registerSchemaCommands(program, () => output(program), revisionCommand);
  registerAdoptCommands(program, () => output(program));

  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? 0 : 2;
    }
    const json = argv.includes("--json");
    if (isRetortError(error)) {
      if (json) console.error(JSON.stringify({ error: error.toJSON() }, null, 2));
      else console.error(`${stderrColors.red("error")} ${error.code}: ${error.message}${error.hint ? `\n${stderrColors.dim("hint:")} ${error.hint}` : ""}`);
      return 1;
    }
    // Not a user error: a bug or an unexpected failure; keep the stack for the report.
    console.error(error);
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
