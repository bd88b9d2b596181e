/** CLI for taking over an existing database: `retort baseline` and `retort adopt --from <tool>`. */
import { Option, type Command } from "commander";
import type { Output } from "./commands.js";
import { commandOptions, type GlobalOptions } from "./options.js";

function summary(result: { path: string; revision: string; url: string; tables: number; enums: number; sequences: number; extensions: number }): string {
  const extensions = result.extensions > 0 ? `, ${result.extensions} extension(s)` : "";
  return `created ${result.path} (revision ${result.revision}: ${result.tables} table(s), ${result.enums} enum(s), ${result.sequences} sequence(s)${extensions}) and stamped ${result.url} at it; nothing was run`;
}

export function registerAdoptCommands(program: Command, output: () => Output): void {
  const globals = () => program.opts<GlobalOptions>();

  program
    .command("baseline")
    .description("write the first revision from a live database's schema and stamp the database at it (runs nothing)")
    .requiredOption("-m, --message <message>", "what the revision is", "baseline")
    .option("--rev-id <id>", "use this revision id")
    .action(async (opts: { message: string; revId?: string }) => {
      const { baseline } = await import("../runtime/baseline.js");
      const result = await baseline({ message: opts.message, ...(opts.revId ? { revId: opts.revId } : {}) }, commandOptions(globals(), output()));
      output().say(summary(result));
      output().result({ ...result });
    });

  program
    .command("adopt")
    .description("take over a database from Alembic, Prisma or Drizzle: check it is at that tool's head, baseline it, stamp it")
    .addOption(new Option("--from <tool>", "the tool that migrated the database").choices(["alembic", "prisma", "drizzle"]).makeOptionMandatory())
    .option("--migrations-dir <dir>", "the old tool's migrations folder, to check the database is at its head")
    .option("-m, --message <message>", "the baseline revision's message (default: names the tool and its revision)")
    .option("--rev-id <id>", "use this revision id")
    .action(async (opts: { from: "alembic" | "prisma" | "drizzle"; migrationsDir?: string; message?: string; revId?: string }) => {
      const { adopt } = await import("../runtime/adopt.js");
      const result = await adopt(
        { from: opts.from, ...(opts.migrationsDir ? { migrationsDir: opts.migrationsDir } : {}), ...(opts.message ? { message: opts.message } : {}), ...(opts.revId ? { revId: opts.revId } : {}) },
        commandOptions(globals(), output()),
      );
      output().say(`${opts.from} has the database at ${result.from.at}${result.from.checkedAgainstFiles ? " (its head, checked against its files)" : ""}; ${result.from.table} is left in place and ignored from now on`);
      output().say(summary(result));
      output().result({ ...result });
    });
}
