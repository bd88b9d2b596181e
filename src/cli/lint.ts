/** `retort lint`: the migration linter on the command line, and the findings `revision --autogenerate` prints. */
import { readFileSync } from "node:fs";
import { Option, type Command } from "commander";
import { stderrColors } from "./colors.js";
import type { Output } from "./commands.js";
import type { GlobalOptions } from "./options.js";
import type { HistoryReader, LintProjectOptions, ProjectLintReport } from "../lint/project.js";

type Format = "text" | "json" | "github" | "sarif";

const version = () => (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** The runtime's readers of the version and history tables, for `lintProject`. */
export async function historyReader(): Promise<HistoryReader> {
  const { readAppliedChecksums, readVersionState } = await import("../runtime/status.js");
  return {
    async read(conn, family) {
      const state = await readVersionState(conn, family);
      return { heads: state.heads, appliedChecksums: state.initialized ? await readAppliedChecksums(conn, family) : new Map<string, string>() };
    },
  };
}

async function runLint(options: LintProjectOptions): Promise<ProjectLintReport> {
  const { lintProject } = await import("../lint/project.js");
  return lintProject({ ...options, ...(options.url ? { history: await historyReader() } : {}) });
}

export function registerLintCommands(program: Command, output: () => Output): void {
  program
    .command("lint")
    .description("check migrations for blocking locks, breaking changes and risky types (with --url: graded by the live tables' sizes)")
    .argument("[range]", "<from>:<to> (what <to> adds to <from>; base:<to> for all), or one revision; default: every revision, or the pending ones with --url")
    .option("--url <url>", "read table sizes, the server version, pending revisions and applied checksums from this Postgres database")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github", "sarif"]).default("text"))
    .option("--postgres-version <major>", "target Postgres major version (default: lint.postgresVersion, the server's with --url, else 14)", (value) => Number.parseInt(value, 10))
    .option("--rules", "list the rules (id, severity, lock, Postgres versions) and exit")
    .action(async (range: string | undefined, opts: { url?: string; format: Format; postgresVersion?: number; rules?: boolean }) => {
      const globals = program.opts<GlobalOptions>();
      if (opts.rules) {
        const [{ RULES }, { formatRules }] = await Promise.all([import("../lint/rules.js"), import("../lint/format.js")]);
        if (globals.json) console.log(JSON.stringify({ rules: RULES }, null, 2));
        else output().say(formatRules());
        return;
      }
      const url = opts.url ?? globals.url;
      const report = await runLint({
        ...(globals.config ? { config: globals.config } : {}),
        ...(globals.env ? { env: globals.env } : {}),
        ...(range !== undefined ? { range } : {}),
        ...(url ? { url } : {}),
        ...(opts.postgresVersion !== undefined && !Number.isNaN(opts.postgresVersion) ? { postgresVersion: opts.postgresVersion } : {}),
      });
      const format: Format = globals.json ? "json" : opts.format;
      const { formatGithub, formatSarif, formatText } = await import("../lint/format.js");
      if (format === "json") console.log(JSON.stringify(report, null, 2));
      else if (format === "sarif") console.log(JSON.stringify(formatSarif(report, version()), null, 2));
      else if (format === "github") {
        const text = formatGithub(report);
        if (text) console.log(text);
        output().say(`${report.files} migration(s) linted: ${report.errors} error(s), ${report.warnings} warning(s), ${report.infos} info`);
      } else output().say(formatText(report));
      if (report.errors > 0) process.exitCode = 1;
    });
}

/** After `revision --autogenerate`: the findings of the file it wrote (they never fail the command). */
export async function printLintOfRevision(revision: string, globals: GlobalOptions, out: Output): Promise<void> {
  if (globals.json || globals.quiet) return;
  try {
    const report = await runLint({ ...(globals.config ? { config: globals.config } : {}), range: revision });
    if (report.findings.length === 0) {
      out.say("lint: no findings");
      return;
    }
    const { formatText } = await import("../lint/format.js");
    out.say(formatText(report, { snippets: false }));
  } catch (error) {
    out.warn(`${stderrColors.bold("lint")}: could not lint the new revision: ${(error as Error).message}`);
  }
}
