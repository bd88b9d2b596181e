/** History policy and migration safety commands: test-migrations (the stairway), verify, rehash, squash. */
import { Option, type Command } from "commander";
import { RetortError } from "../errors.js";
import type { Dialect } from "../schema/snapshot.js";
import type { Output } from "./commands.js";
import { commandOptions, type GlobalOptions } from "./options.js";

export function registerHistoryCommands(program: Command, output: () => Output): void {
  const globals = () => program.opts<GlobalOptions>();
  const options = () => commandOptions(globals(), output());

  program
    .command("test-migrations")
    .description("the stairway test: each revision upgraded, downgraded and upgraded again, the schema compared each time; then the models with head (throwaway database unless --url)")
    .option("--force", "with --url: run on a database that is not empty")
    .action(async (opts: { force?: boolean }) => {
      const { testMigrations } = await import("../runtime/stairway.js");
      const out = output();
      const report = await testMigrations({ ...options(), ...(opts.force ? { force: true } : {}), onRevision: (e) => out.say(`  [${e.index}/${e.total}] ${e.revision} ${e.message}: up, down, up ok`) });
      out.result({ ...report });
      if (report.unfolded.length > 0) out.warn(`from ${report.unfolded[0]} on, revisions run raw SQL or code the fold cannot read: their schema was not compared with the fold`);
      if (report.failure) {
        const f = report.failure;
        const what =
          f.phase === "upgrade"
            ? `the upgrade of ${f.revision} (${f.message}, ${f.file}) fails:`
            : f.phase === "downgrade"
            ? `the downgrade of ${f.revision} (${f.message}, ${f.file}) does not restore the schema before it; to restore it, it would also need:`
            : f.phase === "reupgrade"
              ? `upgrading ${f.revision} (${f.message}, ${f.file}) again after its downgrade gives another schema:`
              : `after ${f.revision} (${f.message}, ${f.file}) the database differs from the schema the migrations describe (the fold); to match it would need:`;
        throw new RetortError("RETORT_STAIRWAY_FAILED", `${what}\n${f.differences.map((line) => `  ${line}`).join("\n")}`, {
          hint: f.phase === "downgrade" ? `Fix the downgrade of ${f.revision} so it undoes everything its upgrade does.` : "Fix that revision, then run retort test-migrations again.",
          details: { failure: f, passed: report.passed },
        });
      }
      out.say(`${report.passed.length} revision(s) passed the stairway on ${report.database} in ${(report.ms / 1000).toFixed(1)} s`);
      if (report.models) {
        if (report.models.match) out.say("models match head");
        else {
          throw new RetortError("RETORT_SCHEMA_MISMATCH", `the models do not match head; the migrations lack:\n${report.models.differences.map((line) => `  ${line}`).join("\n")}`, {
            hint: 'retort revision --autogenerate -m "…" writes the missing revision.',
            details: { differences: report.models.differences },
          });
        }
      } else out.say("no models module (config `models`): models not compared with head");
    });

  program
    .command("verify")
    .description("list applied migrations whose file changed or disappeared since they ran (exit 1 when any)")
    .action(async () => {
      const { describeProblem, verify } = await import("../runtime/verify.js");
      const report = await verify(options());
      output().result({ ...report });
      if (report.ok) {
        output().say(`every applied migration matches its file (${report.url})`);
        return;
      }
      throw new RetortError("RETORT_MODIFIED_MIGRATION", `${report.problems.length} applied migration(s) differ from what ran on ${report.url}:\n${report.problems.map((p) => `  ${describeProblem(p)}`).join("\n")}`, {
        hint: 'Restore the files as applied (git), or accept a deliberate edit: retort rehash <rev> --reason "…".',
        details: { problems: report.problems },
      });
    });

  program
    .command("rehash")
    .description("accept the edit of an applied migration: record its new checksum with the reason, who and when")
    .argument("<revision>", "the edited revision (an id or a unique prefix)")
    .requiredOption("--reason <text>", "why the edit is safe (recorded in the history table)")
    .action(async (revision: string, opts: { reason: string }) => {
      const { rehash } = await import("../runtime/verify.js");
      const result = await rehash(revision, { reason: opts.reason }, options());
      output().say(`${result.revision} (${result.file}) rehashed on ${result.url} by ${result.actor}: ${result.reason}`);
      output().result({ ...result });
    });

  program
    .command("squash")
    .description("replace a linear range of revisions with one generated from the schema difference, proved on two scratch databases")
    .argument("<range>", "<from>:<to>, both included")
    .requiredOption("-m, --message <message>", "what the squashed revision is")
    .option("--dry-run", "prove and report, write nothing")
    .addOption(new Option("--dialect <dialect>", "SQL flavour to generate and prove for (default: the database URL's)").choices(["postgres", "pglite", "sqlite"]))
    .action(async (range: string, opts: { message: string; dryRun?: boolean; dialect?: Dialect }) => {
      const { squash } = await import("../runtime/squash.js");
      const result = await squash(range, { message: opts.message }, { ...options(), ...(opts.dryRun ? { dryRun: true } : {}), ...(opts.dialect ? { dialect: opts.dialect } : {}) });
      const out = output();
      out.say(`proved on ${result.proof.databases}: the squash gives the same catalog as ${result.replaces[0]}..${result.revision}`);
      for (const line of result.operations) out.say(`  ${line}`);
      out.say(result.written ? `wrote ${result.path} (revision ${result.revision}, replaces ${result.replaces.join(", ")}); old files moved to ${result.archive}/` : "dry run: nothing written");
      out.result({ ...result });
    });
}
