/** The daily workflow commands: env, env check, setup, reset, wipe, teardown. */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { RetortError } from "../errors.js";
import type { Output } from "./commands.js";
import { commandOptions, type GlobalOptions } from "./options.js";

async function workflowOptions(program: Command, out: Output) {
  const { configOf } = await import("../runtime/api.js");
  const globals = program.opts<GlobalOptions>();
  const options = commandOptions(globals, out);
  return { ...options, config: await configOf(options), onStep: (line: string) => out.say(line) };
}

/** teardown deletes local data: a person confirms at a terminal, or --yes says so in scripts. */
async function confirmed(question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) {
    throw new RetortError("RETORT_USAGE", "retort teardown deletes the project's local databases; without a terminal to confirm, pass --yes.", { hint: "retort teardown --yes" });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new RetortError("RETORT_USAGE", "retort teardown cancelled; nothing was changed.");
  } finally {
    rl.close();
  }
}

export function registerWorkflowCommands(program: Command, output: () => Output): void {
  const env = program
    .command("env")
    .description("the environment, the database URL it resolves to (password masked) and where each value came from")
    .action(async () => {
      const { configOf } = await import("../runtime/api.js");
      const { explainDatabaseUrl } = await import("../env/config.js");
      const { variablesRead, variableStates } = await import("../env/env-check.js");
      const globals = program.opts<GlobalOptions>();
      const loaded = await configOf(globals.config ? { config: globals.config } : {});
      const read = variablesRead(loaded);
      const variables = variableStates([...read.retort, ...read.config.filter((name) => !read.retort.includes(name))]);
      const out = output();
      let database: Record<string, unknown>;
      try {
        database = { ...explainDatabaseUrl({ config: loaded, ...(globals.url ? { url: globals.url } : {}), ...(globals.env ? { env: globals.env } : {}) }) };
      } catch (error) {
        // No URL outside development is worth showing too, with what was looked at.
        if (!(error instanceof RetortError)) throw error;
        database = { error: error.toJSON() };
      }
      if (database.error) out.say(`database:    none (${(database.error as { message: string }).message})`);
      else {
        out.say(`environment: ${String(database.environment)} (${String(database.environmentSource)})`);
        out.say(`database:    ${String(database.url)} (${String(database.source)}${database.branch ? `, branch ${String(database.branch)}` : ""})`);
      }
      out.say("variables:");
      for (const v of variables) out.say(`  ${v.name.padEnd(24)} ${v.from === "unset" ? "unset" : `set (${v.from})${v.value ? ` ${v.value}` : ""}`}`);
      out.result({ ...database, config: loaded.file ?? null, variables });
    });

  env
    .command("check")
    .description("fail when .env.example misses a variable Retort or the config reads, or holds what looks like a real secret")
    .action(async () => {
      const { configOf } = await import("../runtime/api.js");
      const { checkEnvExample } = await import("../env/env-check.js");
      const globals = program.opts<GlobalOptions>();
      const result = checkEnvExample(await configOf(globals.config ? { config: globals.config } : {}));
      output().result({ ...result, ok: result.findings.length === 0 });
      if (result.findings.length === 0) {
        output().say(`${result.file} lists every variable read (${result.required.join(", ")}) and holds no secret`);
        return;
      }
      throw new RetortError("RETORT_ENV_CHECK", `${result.file}: ${result.findings.length} problem(s):\n${result.findings.map((f) => `  ${f.message}`).join("\n")}`, {
        hint: "List every variable with a placeholder value (DATABASE_URL=postgres://user:password@localhost:5432/app); keep real values in .env, which git ignores.",
        details: { findings: result.findings },
      });
    });

  program
    .command("doctor")
    .description("what is wrong with the database and the migrations, with the command that fixes each thing (exit 1 on errors)")
    .option("--long-transaction <seconds>", "a transaction open longer than this is reported (default 300)")
    .action(async (opts: { longTransaction?: string }) => {
      const { doctor } = await import("../runtime/doctor.js");
      const globals = program.opts<GlobalOptions>();
      const out = output();
      const report = await doctor({ ...commandOptions(globals, out), ...(opts.longTransaction ? { longTransactionSeconds: Number(opts.longTransaction) } : {}) });
      out.say(`${report.url ?? "no database"}${report.server ? ` (${report.server})` : ""}`);
      if (report.findings.length === 0) out.say("no problems found");
      for (const f of report.findings) out.say(`${f.severity.padEnd(7)} [${f.check}] ${f.message}${f.fix ? `\n        fix: ${f.fix}` : ""}`);
      out.result({ ...report });
      if (!report.ok) process.exitCode = 1;
    });

  program
    .command("setup")
    .description("start the local server and services (when configured), create this branch's database (a copy of its parent's), upgrade to head, run the seeds")
    .option("--no-seed", "do not run the seeds")
    .action(async (opts: { seed: boolean }) => {
      const { setup } = await import("../dev/workflow.js");
      const result = await setup({ ...(await workflowOptions(program, output())), seed: opts.seed });
      output().result({ ...result });
    });

  program
    .command("reset")
    .description("drop everything in the database's schemas (owner and grants kept) and upgrade to head; refuses production")
    .option("--force-production", "in production, ask for the database's name on the terminal instead of refusing")
    .option("--seed", "run the seeds after migrating")
    .action(async (opts: { forceProduction?: boolean; seed?: boolean }) => {
      const { reset } = await import("../dev/workflow.js");
      const result = await reset({ ...(await workflowOptions(program, output())), ...(opts.forceProduction ? { forceProduction: true } : {}), ...(opts.seed ? { seed: true } : {}) });
      output().say(`reset ${result.url}: now at ${result.upgrade.to.join(", ") || "base"}`);
      output().result({ ...result });
    });

  program
    .command("wipe")
    .description("drop this branch's database (only this one); refuses production")
    .option("--force-production", "in production, ask for the database's name on the terminal instead of refusing")
    .action(async (opts: { forceProduction?: boolean }) => {
      const { wipe } = await import("../dev/workflow.js");
      const result = await wipe({ ...(await workflowOptions(program, output())), ...(opts.forceProduction ? { forceProduction: true } : {}) });
      output().say(result.dropped ? `dropped ${result.url}` : `${result.url} did not exist`);
      output().result({ ...result });
    });

  program
    .command("teardown")
    .description("stop the local server and services, and delete the project's local data (.retort/); refuses production")
    .option("--yes", "do not ask for confirmation")
    .action(async (opts: { yes?: boolean }) => {
      const options = await workflowOptions(program, output());
      const { teardown } = await import("../dev/workflow.js");
      const question = `Stop the local server and services and delete ${options.config.root}/.retort (every local database)?`;
      const result = await teardown({ ...options, confirm: () => confirmed(question, opts.yes) });
      output().say(`stopped: ${result.stopped.join(", ") || "nothing was running"}; deleted: ${result.deleted.join(", ") || "nothing"}`);
      output().result({ ...result });
    });
}
