/** The migration commands of the CLI: each calls the library function and formats its result. */
import { relative } from "node:path";
import { Option, type Command } from "commander";
import { stdoutColors } from "./colors.js";
import * as api from "../runtime/api.js";
import { loadConfig, migrationsDirectory } from "../env/config.js";
import { describeRevision, historyFor, quoteTarget, type RevisionGraph, type Revision } from "../script/index.js";
import { RetortError } from "../errors.js";
import type { Dialect } from "../schema/snapshot.js";
import type { Output } from "./commands.js";
import { commandOptions, type DiffFlags, type GlobalOptions } from "./options.js";

function line(revision: Revision, graph: RevisionGraph, marks: { current?: Set<string> } = {}): string {
  const tags: string[] = [];
  if (graph.heads.includes(revision)) tags.push("head");
  if (revision.parents.length === 0) tags.push("base");
  if (graph.isBranchPoint(revision.revision)) tags.push("branchpoint");
  if (graph.isMergePoint(revision.revision)) tags.push("mergepoint");
  if (marks.current?.has(revision.revision)) tags.push("current");
  const parents = revision.parents.length === 0 ? "<base>" : revision.parents.join(", ");
  return `${parents} -> ${stdoutColors.bold(revision.revision)}${tags.length ? ` (${tags.join(", ")})` : ""}, ${revision.message}`;
}

const brief = (r: Revision) => ({ revision: r.revision, parents: r.parents, message: r.message, path: r.path, branchLabels: r.branchLabels, dependsOn: r.dependsOn });

/** `--backfill users.nickname=lower(name)` → { "users.nickname": "lower(name)" }; without a column, key "". */
function parseBackfills(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const named = /^\s*([A-Za-z_][\w$]*\.[A-Za-z_][\w$]*)\s*=(?!=)([\s\S]*)$/.exec(value);
    if (named) out[named[1]!] = named[2]!.trim();
    else out[""] = value.trim();
  }
  return out;
}

/** Registers the migration commands; returns the `revision` command so autogenerate can add its flags. */
export function registerMigrationCommands(program: Command, output: () => Output): Command {
  const globals = () => program.opts<GlobalOptions>();
  const options = () => commandOptions(globals(), output());

  program
    .command("init")
    .description("create retort.config.ts and the migrations folder")
    .option("--directory <dir>", "migrations folder (default: the existing config's, else migrations/versions)")
    .action(async (opts: { directory?: string }) => {
      // With a config already there, its migrations folder is the one to create.
      const loaded = opts.directory === undefined ? await loadConfig(globals().config) : undefined;
      const directory = opts.directory ?? (loaded?.file ? relative(process.cwd(), migrationsDirectory(loaded)) : undefined);
      const result = api.init(directory === undefined ? {} : { directory });
      const done = [...(result.created.length ? [`created ${result.created.join(", ")}`] : []), ...(result.updated.length ? [`added .retort/ to ${result.updated.join(", ")}`] : [])];
      output().say(done.length ? done.join("; ") : "already initialised");
      output().result(result);
    });

  const revisionCommand = program
    .command("revision")
    .description("write a new revision file (--autogenerate: from the difference between the models and migrations head)")
    .requiredOption("-m, --message <message>", "what the revision does")
    .option("--rev-id <id>", "use this revision id")
    .option("--head <target>", "parent revision (default: head)")
    .option("--splice", "allow a parent that is not a head (start a branch)")
    .option("--branch-label <label>", "label the revision (and its branch)")
    .option("--depends-on <revs...>", "revisions this one depends on")
    .option("--backfill <[table.column=]sql>", "with --autogenerate on Postgres: fill a NOT NULL column added to an existing table (an expression for its value, or an UPDATE); with --expand-contract, a split or merge: an added column's SQL over the old columns, a dropped column's over the new ones; repeat per column", (value: string, all: string[]) => [...all, value], [] as string[])
    .option("--expand-contract", "with --autogenerate on Postgres: write a table or column rename, a type change, or a split or merge of columns (with --backfill) as an expand and a contract revision")
    .action(async (opts: { message: string; revId?: string; head?: string; splice?: boolean; branchLabel?: string; dependsOn?: string[]; autogenerate?: boolean; empty?: boolean; backfill: string[]; expandContract?: boolean } & DiffFlags) => {
      if (opts.autogenerate) {
        const { autogenerateFromCli } = await import("./schema.js");
        const spec = {
          message: opts.message,
          ...(opts.empty ? { empty: true } : {}),
          ...(opts.revId !== undefined ? { revId: opts.revId } : {}),
          ...(opts.head ? { head: opts.head } : {}),
          ...(opts.branchLabel ? { branchLabel: opts.branchLabel } : {}),
          ...(opts.backfill.length ? { backfill: parseBackfills(opts.backfill) } : {}),
          ...(opts.expandContract ? { expandContract: true } : {}),
        };
        const written = await autogenerateFromCli(spec, opts, globals(), output());
        // The findings of what was just written (an expand/contract pair: both files).
        const { printLintOfRevision } = await import("./lint.js");
        for (const revision of [written.revision, written.contract?.revision]) if (written.path && revision) await printLintOfRevision(revision, globals(), output());
        return;
      }
      const result = await api.revision(
        {
          message: opts.message,
          ...(opts.revId !== undefined ? { revId: opts.revId } : {}),
          ...(opts.head ? { head: opts.head } : {}),
          ...(opts.splice ? { splice: true } : {}),
          ...(opts.branchLabel ? { branchLabel: opts.branchLabel } : {}),
          ...(opts.dependsOn ? { dependsOn: opts.dependsOn } : {}),
        },
        options(),
      );
      output().say(`created ${result.path} (revision ${result.revision})`);
      output().result(result);
    });

  program
    .command("merge")
    .description("write a revision merging several heads")
    .requiredOption("-m, --message <message>", "what the merge is")
    .option("--rev-id <id>", "use this revision id")
    .option("--splice", "allow revisions that are not heads")
    .argument("<revisions...>", 'the revisions to merge, or "heads"')
    .action(async (revisions: string[], opts: { message: string; revId?: string; splice?: boolean }) => {
      const result = await api.revision({ message: opts.message, parents: revisions, ...(opts.revId !== undefined ? { revId: opts.revId } : {}), ...(opts.splice ? { splice: true } : {}) }, options());
      output().say(`created ${result.path} (revision ${result.revision}, merging ${result.parents.join(", ")})`);
      output().result(result);
    });

  for (const direction of ["upgrade", "downgrade"] as const) {
    program
      .command(direction)
      .description(direction === "upgrade" ? "apply migrations up to a target (default head)" : "revert migrations down to a target (-1, a revision, base)")
      .argument(direction === "upgrade" ? "[target]" : "<target>", direction === "upgrade" ? "head, heads, a revision, +N, <rev>+N, <label>@head, <label>@+N; a:b with --sql" : "-N, a revision, base, <label>@-N, <label>@<rev>, <label>@base; a:b with --sql")
      .option("--sql", "print the SQL script instead of running it (offline; no database needed)")
      .addOption(new Option("--dialect <dialect>", "SQL flavour for --sql (default: from the URL)").choices(["postgres", "pglite", "sqlite"]))
      .action(async (target: string | undefined, opts: { sql?: boolean; dialect?: Dialect }) => {
        const dir = direction === "upgrade" ? "up" : "down";
        if (opts.sql) {
          const script = await api.migrationSql(dir, target ?? "head", { ...options(), ...(opts.dialect ? { dialect: opts.dialect } : {}) });
          if (globals().json) output().result({ sql: script });
          else process.stdout.write(script);
          return;
        }
        const run = { ...options(), config: await api.configOf(options()) };
        if (direction === "upgrade" && !globals().url) {
          // In development a new branch's database starts as a copy of its parent branch's.
          const { prepareDatabase } = await import("../dev/workflow.js");
          await prepareDatabase({ ...run, branchOnly: true, onStep: (line) => output().say(line) });
        }
        const result = await (direction === "upgrade" ? api.upgrade(target ?? "head", run) : api.downgrade(target!, run));
        output().say(
          result.revisions.length === 0
            ? `nothing to do on ${result.url}: at ${result.to.join(", ") || "base"}`
            : `${direction === "upgrade" ? "upgraded" : "downgraded"} ${result.revisions.length} revision(s) on ${result.url}: ${result.from.join(", ") || "base"} -> ${result.to.join(", ") || "base"}`,
        );
        output().result({ ...result });
      });
  }

  program
    .command("current")
    .description("show the database's current revision(s)")
    .option("--verbose", "show each revision's file and parents")
    .option("--strict", "exit 1 when an applied migration's file changed since it ran")
    .action(async (opts: { verbose?: boolean; strict?: boolean }) => {
      const result = await api.current({ ...options(), ...(opts.strict ? { strict: true } : {}) });
      output().say(`${result.url}:${result.heads.length === 0 ? " base (no revision applied)" : ""}`);
      for (const head of result.heads) output().say(`${head.revision}${head.isHead ? " (head)" : ""} ${stdoutColors.dim(head.message)}`);
      for (const row of result.inProgress) {
        const run = `${row.direction === "up" ? "upgrade" : "downgrade"} of ${row.revision} (${row.message}), ${row.stepsDone}${row.totalSteps === undefined ? "" : ` of ${row.totalSteps}`} step(s) done, started ${row.startedAt}`;
        if (row.outcome === "failed") output().say(`failed part-way: ${run}; fix the cause and run it again: it resumes after the done steps`);
        else if (result.migrationRunning) output().say(`in progress: ${run}`);
        else output().say(`interrupted: ${run}; no run holds the lock now: run it again to resume`);
      }
      if (result.migrationRunning) output().say(`a migration run is in progress: ${result.migrationRunning} holds the migration lock`);
      if (opts.verbose) {
        const graph = await api.revisionGraph(options());
        for (const head of result.heads) {
          const revision = graph.get(head.revision);
          if (revision) output().say(`  ${revision.path}\n  parents: ${revision.parents.join(", ") || "<base>"}`);
        }
      }
      output().result({ ...result });
    });

  program
    .command("history")
    .description("list revisions, newest first")
    .option("-r, --rev-range <range>", "a:b range")
    .option("--indicate-current", "mark the database's current revision(s) (connects)")
    .action(async (opts: { revRange?: string; indicateCurrent?: boolean }) => {
      const graph = await api.revisionGraph(options());
      const state = opts.indicateCurrent ? await api.current(options()) : undefined;
      const current = state ? new Set(state.heads.map((h) => h.revision)) : undefined;
      const revisions = historyFor(graph, opts.revRange, current ? [...current] : []);
      if (state) output().say(`current revision(s) marked from ${state.url}`);
      for (const revision of revisions) output().say(line(revision, graph, current ? { current } : {}));
      output().result({ ...(state ? { url: state.url } : {}), revisions: revisions.map((r) => ({ ...brief(r), current: current?.has(r.revision) ?? undefined })) });
    });

  program
    .command("heads")
    .description("show the head revision(s) of the migrations folder")
    .action(async () => {
      const graph = await api.revisionGraph(options());
      for (const revision of graph.heads) output().say(line(revision, graph));
      output().result({ heads: graph.heads.map(brief) });
    });

  program
    .command("branches")
    .description("show branch points")
    .action(async () => {
      const graph = await api.revisionGraph(options());
      const points = graph.revisions.filter((r) => graph.isBranchPoint(r.revision));
      for (const point of points) {
        output().say(line(point, graph));
        for (const child of point.children) output().say(`  -> ${describeRevision(graph.require(child))}`);
      }
      output().result({ branchPoints: points.map((p) => ({ ...brief(p), children: p.children })) });
    });

  program
    .command("show")
    .description("show one revision")
    .argument("<revision>", "a revision id, prefix or target")
    .action(async (target: string) => {
      // show reads files only, so "current" would resolve against no database (as base): refuse it.
      if (target.trim() === "current") throw new RetortError("RETORT_USAGE", "retort show reads the migrations folder, not the database, so it cannot show `current`.", { hint: "Run `retort current` (add --verbose for its file and parents), or show a revision id." });
      const graph = await api.revisionGraph(options());
      const revisions = await api.resolve(target, options());
      if (revisions.length === 0) {
        // base, <label>@base, <first>-1…: the state before any revision, which has no file to show.
        const first = target.trim() === "base" ? "" : ` (${quoteTarget(target.trim())} resolves to base)`;
        output().say(`base${first}: the empty database, before any revision; it has no file. The first revision(s): ${graph.bases.map((r) => describeRevision(r)).join(", ") || "none yet"}.`);
      }
      for (const revision of revisions) {
        output().say(`Revision: ${revision.revision}\nParents: ${revision.parents.join(", ") || "<base>"}\nMessage: ${revision.message}\nCreated: ${revision.createdAt}\nPath: ${revision.path}`);
        if (revision.branchLabels.length) output().say(`Branch labels: ${revision.branchLabels.join(", ")}`);
        if (revision.dependsOn.length) output().say(`Depends on: ${revision.dependsOn.join(", ")}`);
        if (graph.isBranchPoint(revision.revision)) output().say(`Branches into: ${revision.children.join(", ")}`);
      }
      output().result({ revisions: revisions.map(brief), ...(revisions.length === 0 ? { base: true, bases: graph.bases.map(brief) } : {}) });
    });

  program
    .command("stamp")
    .description("set the version table to a revision without running migrations")
    .argument("<target>", "a revision, head, heads, base or <label>@…: it replaces its branch's row, or adds one")
    .option("--purge", "clear the version table first")
    .action(async (target: string, opts: { purge?: boolean }) => {
      const result = await api.stamp(target, { ...options(), ...(opts.purge ? { purge: true } : {}) });
      output().say(`stamped ${result.to.join(", ") || "base"} on ${result.url} (was ${result.from.join(", ") || "base"})`);
      for (const run of result.settled) {
        output().say(`settled the unfinished ${run.direction === "up" ? "upgrade" : "downgrade"} of ${run.revision} (${run.stepsDone}${run.totalSteps === undefined ? "" : ` of ${run.totalSteps}`} step(s) were committed): it will not resume`);
      }
      output().result({ ...result });
    });

  return revisionCommand;
}
