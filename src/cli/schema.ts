/** CLI for autogenerate, check and drift. */
import { createInterface } from "node:readline/promises";
import { Option, type Command } from "commander";
import { stderrColors } from "./colors.js";
import type { RenameDecision, RenameHints } from "../autogenerate/index.js";
import { RetortError, isRetortError } from "../errors.js";
import type { AutogenerateResult, AutogenerateSpec, SchemaDiff } from "../runtime/schema-commands.js";
import type { Dialect } from "../schema/snapshot.js";
import type { Output } from "./commands.js";
import { commandOptions, type DiffFlags, type GlobalOptions } from "./options.js";

// The comparing machinery is imported when a command runs, so listing commands stay fast.
const commands = () => import("../runtime/schema-commands.js");


async function renameHints(flags: DiffFlags): Promise<RenameHints> {
  const { loadHints, mergeHints, parseRenameFlag } = await import("../autogenerate/index.js");
  const fromFlags: Required<RenameHints> = { tables: {}, columns: {}, enumValues: {}, notRenames: flags.notRename ?? [], using: {}, recreate: flags.recreate ?? [] };
  for (const flag of flags.using ?? []) {
    const at = flag.indexOf("=");
    const column = flag.slice(0, at);
    if (at <= 0 || !column.includes(".") || at === flag.length - 1) {
      throw new RetortError("RETORT_CONFIG", `--using "${flag}": expected table.column=<SQL expression>`, { hint: 'For example --using "orders.ref=NULL" or --using "orders.ref=length(ref::text)".' });
    }
    fromFlags.using[column] = flag.slice(at + 1);
  }
  for (const flag of flags.renameTable ?? []) {
    const { from, to } = parseRenameFlag("table", flag);
    fromFlags.tables[from] = to;
  }
  for (const flag of flags.renameColumn ?? []) {
    const { table, from, to } = parseRenameFlag("column", flag);
    fromFlags.columns[`${table}.${from}`] = to;
  }
  for (const flag of flags.renameEnumValue ?? []) {
    const { enum: name, from, to } = parseRenameFlag("enumValue", flag);
    fromFlags.enumValues[`${name}.${from}`] = to;
  }
  return mergeHints(flags.hints ? await loadHints(flags.hints) : undefined, fromFlags);
}

/** On a terminal, ask about each possible rename; the answers become hints. */
async function ask(decisions: RenameDecision[], hints: RenameHints): Promise<RenameHints> {
  const { mergeHints } = await import("../autogenerate/index.js");
  const answers: Required<RenameHints> = { tables: {}, columns: {}, enumValues: {}, notRenames: [], using: {}, recreate: [] };
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const d of decisions) {
      if (d.kind === "cast") {
        const column = `${d.table}.${d.from}`;
        const answer = (await rl.question(`${column}: ${d.reason}. A USING expression to convert it, or empty to drop and add the column (its values are lost): `)).trim();
        if (answer === "") answers.recreate.push(column);
        else answers.using[column] = answer;
        continue;
      }
      const owner = d.kind === "column" ? `${d.table}.` : d.kind === "enumValue" ? `${d.enum}.` : "";
      const answer = (await rl.question(`Is ${d.kind} ${owner}${d.from} -> ${d.to} a rename? (${d.reason}) [y = rename, keeps data / n = drop and add] `)).trim().toLowerCase();
      if (!answer.startsWith("y")) answers.notRenames.push(`${owner}${d.from}=${d.to}`);
      else if (d.kind === "table") answers.tables[d.from] = d.to;
      else if (d.kind === "column") answers.columns[`${owner}${d.from}`] = d.to;
      else answers.enumValues[`${owner}${d.from}`] = d.to;
    }
  } finally {
    rl.close();
  }
  return mergeHints(hints, answers);
}

function addDiffFlags(command: Command): Command {
  return command
    .addOption(new Option("--dialect <dialect>", "SQL flavour to compare for (default: the database URL's)").choices(["postgres", "pglite", "sqlite"]))
    .option("--verify", "also run the migrations on an ephemeral database and fail if it disagrees with the in-memory fold")
    .option("--rename-column <table.old=new...>", "decide a possible column rename")
    .option("--rename-table <old=new...>", "decide a possible table rename")
    .option("--rename-enum-value <enum.old=new...>", "decide a possible enum value rename")
    .option("--not-rename <name...>", "a drop and an add, not a rename (table or table.column)")
    .option("--using <table.column=sql...>", "convert a column whose type change has no cast with this USING expression")
    .option("--recreate <table.column...>", "for a type change with no cast: drop the column and add it again (its values are lost)")
    .option("--hints <file>", "a JSON file of rename decisions");
}

function decisionName(d: RenameDecision): string {
  return d.kind === "column" || d.kind === "cast" ? `${d.table}.${d.from}` : d.kind === "enumValue" ? `${d.enum}.${d.from}` : d.from;
}

/** Up to this many changes are listed one per line; beyond, the first ones and a count by kind. */
const LISTED_CHANGES = 20;

/** Changes for a person to read (`--json` always has every one). */
function changeLines(changes: readonly string[]): string[] {
  if (changes.length <= LISTED_CHANGES + 5) return changes.map((change) => `  ${change}`);
  const rest = changes.slice(LISTED_CHANGES);
  const byKind = new Map<string, number>();
  for (const change of rest) {
    const kind = change.split(" ", 1)[0]!;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  }
  const counts = [...byKind].map(([kind, count]) => `${kind} ×${count}`).join(", ");
  return [...changes.slice(0, LISTED_CHANGES).map((change) => `  ${change}`), `  … and ${rest.length} more: ${counts} (--json lists them all)`];
}

function mismatch(what: string, result: SchemaDiff): RetortError {
  const lines = [...changeLines(result.changes), ...result.decisions.map((d) => (d.kind === "cast" ? `  type change needs a decision: ${decisionName(d)} (${d.reason})` : `  possible rename: ${decisionName(d)} -> ${d.to}`))];
  return new RetortError("RETORT_SCHEMA_MISMATCH", `${what} (${result.changes.length} operation(s) pending):\n${lines.join("\n")}`, {
    hint: what.startsWith("models") ? 'Run `retort revision --autogenerate -m "…"` and commit the new migration.' : "Decide whether the live change is wanted: capture it in a migration, or undo it.",
    details: { changes: result.changes, decisions: result.decisions },
  });
}

export function registerSchemaCommands(program: Command, output: () => Output, revisionCommand: Command): void {
  const globals = () => program.opts<GlobalOptions>();

  addDiffFlags(
    revisionCommand
      .option("--autogenerate", "write the operations that turn the migrations head into the models")
      .option("--empty", "with --autogenerate, write the file even when nothing changed"),
  );

  addDiffFlags(program.command("check").description("exit 1 when the models do not match the migrations head (the CI gate), or with --url the live database"))
    .option("--strict", "with --url: exit 1 when an applied migration's file changed since it ran")
    .action(async (flags: DiffFlags & { strict?: boolean }) => {
    const live = globals().url !== undefined;
    const result = await (await commands()).check({
      ...commandOptions(globals(), output()),
      ...(flags.dialect ? { dialect: flags.dialect } : {}),
      ...(flags.verify ? { verify: true } : {}),
      ...(live ? { against: "database" as const } : {}),
      ...(flags.strict ? { strict: true } : {}),
      renames: await renameHints(flags),
    });
    if (!result.ok) throw mismatch(live ? `models and the ${result.source} differ` : "models and migrations head differ", result);
    output().say(live ? `models match the ${result.source}` : `models match migrations head (${result.source})`);
    output().result({ ...result, ops: undefined });
  });

  registerPull(program, output);

  program
    .command("drift")
    .description("exit 1 when a live database differs from the schema its recorded revision implies")
    .action(async () => {
      const result = await (await commands()).drift(commandOptions(globals(), output()));
      if (!result.ok) throw mismatch(`the database ${result.url} differs from revision ${result.heads.join(", ") || "base"}`, result);
      output().say(`no drift: the database ${result.url} matches revision ${result.heads.join(", ") || "base"}`);
      output().result({ ...result, ops: undefined });
    });
}

/** `retort pull`: a models file from a live database. */
function registerPull(program: Command, output: () => Output): void {
  program
    .command("pull")
    .description("write a models file from a live database (tables, keys, indexes, enums, extensions, relations)")
    .option("--url <url>", "the database to read (default: as for every command, see retort --help)")
    .option("--out <file>", "the models file to write (default: the config's models, else src/db/schema.ts)")
    .option("--schema <name>", "Postgres schema to read (default: the config's schemas, else public)")
    .option("--force", "overwrite the file when it exists")
    .action(async (flags: { url?: string; out?: string; schema?: string; force?: boolean }) => {
      const { pull } = await import("../runtime/pull.js");
      const result = await pull({
        ...commandOptions(program.opts<GlobalOptions>(), output()),
        ...(flags.url ? { url: flags.url } : {}),
        ...(flags.out ? { out: flags.out } : {}),
        ...(flags.schema ? { schemaName: flags.schema } : {}),
        force: flags.force === true,
      });
      output().say(`wrote ${result.path}: ${result.tables.length} table(s), ${result.enums.length} enum(s)${result.extensions.length ? `, ${result.extensions.length} extension(s)` : ""} from ${result.url} (${result.dialect})`);
      output().result({ ...result });
    });
}

/** The --autogenerate branch of `retort revision`. */
export async function autogenerateFromCli(
  spec: AutogenerateSpec,
  flags: DiffFlags,
  globals: GlobalOptions,
  out: Output,
): Promise<AutogenerateResult> {
  const options = { ...commandOptions(globals, out), ...(flags.dialect ? { dialect: flags.dialect } : {}), ...(flags.verify ? { verify: true } : {}), ...(globals.url ? { against: "database" as const } : {}) };
  const { autogenerate } = await commands();
  let hints = await renameHints(flags);
  let result: AutogenerateResult;
  try {
    result = await autogenerate(spec, { ...options, renames: hints });
  } catch (error) {
    // On a terminal, ask instead of failing; elsewhere the listed flags are the way.
    if (!isRetortError(error, "RETORT_DECISIONS_NEEDED") || !process.stdin.isTTY || globals.json) throw error;
    hints = await ask(error.details.decisions as RenameDecision[], hints);
    result = await autogenerate(spec, { ...options, renames: hints });
  }
  if (!result.path) {
    out.say(`no changes: the models match ${globals.url ? "the database" : "migrations head"}; nothing written (--empty to write anyway)`);
  } else {
    out.say(`created ${result.path} (revision ${result.revision}) with ${result.ops.length} operation(s):`);
    for (const line of changeLines(result.changes)) out.say(line);
    if (result.contract) out.say(`created ${result.contract.path} (revision ${result.contract.revision}), the contract: \`retort upgrade\` runs it after \`retort release ${result.revision}\``);
    for (const warning of result.destructive) out.warn(`${stderrColors.bold("destructive")}: ${warning}`);
    for (const warning of result.warnings) out.warn(`${stderrColors.bold("warning")}: ${warning}`);
  }
  out.result({ path: result.path, revision: result.revision, changes: result.changes, destructive: result.destructive, warnings: result.warnings, ...(result.contract ? { contract: result.contract } : {}) });
  return result;
}
