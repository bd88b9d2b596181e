/** `retort backup`, `retort backup prune`, `retort backup verify` and `retort restore`. */
import type { Command } from "commander";
import { RetortError } from "../errors.js";
import { stderrColors, stdoutColors } from "./colors.js";
import type { Output } from "./commands.js";
import type { GlobalOptions } from "./options.js";

interface LocationFlags {
  out?: string;
  to?: string;
  endpoint?: string;
}

/** A database that takes longer than this gets a progress line; a small one finishes without. */
const PROGRESS_AFTER_MS = 1000;

/**
 * Progress on a terminal only: one line rewritten in place, at most four times a second, on
 * stderr (stdout stays for results), once the work has taken a second. Nothing in a pipe, a log
 * file or with --json / --quiet.
 */
function progressLine(globals: GlobalOptions): { onProgress?: (line: string) => void; done: () => void } {
  if (!process.stderr.isTTY || globals.json || globals.quiet) return { done: () => {} };
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    onProgress: (line) => {
      const now = Date.now();
      if (now - started < PROGRESS_AFTER_MS || now - last < 250) return;
      last = now;
      shown = true;
      process.stderr.write(`\r\x1b[2K${stderrColors.dim(line.slice(0, (process.stderr.columns || 80) - 1))}`);
    },
    done: () => {
      if (shown) process.stderr.write("\r\x1b[2K");
    },
  };
}

async function context(program: Command) {
  const { configOf } = await import("../runtime/api.js");
  const globals = program.opts<GlobalOptions>();
  const config = await configOf(globals.config ? { config: globals.config } : {});
  const { resolveDatabaseUrl } = await import("../env/config.js");
  const urlOf = (url: string | undefined) => resolveDatabaseUrl({ config, ...((url ?? globals.url) ? { url: url ?? globals.url } : {}), ...(globals.env ? { env: globals.env } : {}) });
  return { globals, config, urlOf };
}

/** --to wins over --out for where backups are looked for (latest, prune). */
function locationOf(flags: LocationFlags): { location?: string; endpoint?: string } {
  const location = flags.to ?? flags.out;
  return { ...(location ? { location } : {}), ...(flags.endpoint ? { endpoint: flags.endpoint } : {}) };
}

function count(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new RetortError("RETORT_USAGE", `${name} must be a whole number of backups to keep, not "${value}".`, { hint: `${name} 7` });
  return n;
}

export function registerBackupCommands(program: Command, output: () => Output): void {
  const backupCommand = program
    .command("backup")
    .description("back the database up to a file (pg_dump custom format, PGlite data-directory dump, SQLite online backup) with a manifest beside it; optionally upload it to S3-compatible object storage")
    .option("--url <url>", "the database to back up (default: as for every command, see retort --help)")
    .option("--out <dir|file>", "folder (or file name) for the backup (default: ./backups)")
    .option("--to <s3://bucket/prefix>", "upload the backup and its manifest there (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION)")
    .option("--endpoint <url>", "S3-compatible endpoint (R2, B2, MinIO…; default $AWS_ENDPOINT_URL)")
    .action(async (opts: LocationFlags & { url?: string }) => {
      const { backup } = await import("../backup/commands.js");
      const { formatBytes } = await import("../backup/backends.js");
      const { config, urlOf, globals } = await context(program);
      const progress = progressLine(globals);
      const out = output();
      try {
        const result = await backup({
          url: urlOf(opts.url),
          root: config.root,
          ...(opts.out ? { out: opts.out } : {}),
          ...(opts.to ? { to: opts.to } : {}),
          ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
          ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
        });
        progress.done();
        const m = result.manifest;
        const rows = m.tables.reduce((sum, t) => sum + t.rows, 0);
        out.say(`backed up ${m.database} (${m.dialect}, at ${m.revision.join(", ") || "base"}): ${m.tables.length} tables, ${rows} rows, ${formatBytes(m.size)} in ${(m.durationMs / 1000).toFixed(1)} s`);
        if (result.file) out.say(`  ${result.file}\n  ${result.file}.manifest.json`);
        if (result.uploaded) out.say(`  uploaded to ${result.uploaded} (and its manifest)`);
        out.result({ ...result });
      } finally {
        progress.done();
      }
    });

  backupCommand
    .command("prune")
    .description("delete old backups, grandfather-father-son: keep the newest backup of each of the last N days, ISO weeks and months (UTC, by the time in the file name), per database")
    .option("--keep-daily <n>", "days to keep one backup of", "0")
    .option("--keep-weekly <n>", "ISO weeks to keep one backup of", "0")
    .option("--keep-monthly <n>", "months to keep one backup of", "0")
    .option("--out <dir>", "the folder to prune (default: ./backups)")
    .option("--to <s3://bucket/prefix>", "prune this object-storage prefix instead")
    .option("--endpoint <url>", "S3-compatible endpoint (default $AWS_ENDPOINT_URL)")
    .option("--dry-run", "list what would be deleted, delete nothing")
    .action(async (_opts: unknown, command: Command) => {
      // `backup` has the same flags: commander gives them to whichever command they follow.
      const opts = command.optsWithGlobals<LocationFlags & { keepDaily: string; keepWeekly: string; keepMonthly: string; dryRun?: boolean }>();
      const { pruneBackups } = await import("../backup/commands.js");
      const { config } = await context(program);
      const result = await pruneBackups({
        root: config.root,
        ...locationOf(opts),
        keepDaily: count(opts.keepDaily, "--keep-daily"),
        keepWeekly: count(opts.keepWeekly, "--keep-weekly"),
        keepMonthly: count(opts.keepMonthly, "--keep-monthly"),
        ...(opts.dryRun ? { dryRun: true } : {}),
      });
      const out = output();
      for (const kept of result.kept) out.say(`keep   ${kept.file} (${kept.reasons.join(", ")})`);
      for (const removed of result.removed) out.say(`${result.dryRun ? "would delete" : "deleted"} ${removed}`);
      out.say(`${result.where}: ${result.kept.length} kept, ${result.removed.length} ${result.dryRun ? "to delete (dry run)" : "deleted"}`);
      out.result({ ...result });
    });

  backupCommand
    .command("verify")
    .description("the restore drill: restore a backup into a scratch database, compare every table's rows and checksum with the manifest, check the revision and drift, drop it (exit 1 on any difference)")
    .argument("<backup>", "a backup file, s3://bucket/prefix/<file>, or `latest` (in --out or --to)")
    .option("--url <url>", "Postgres backups: the server to create the scratch database on (default: the database URL's server)")
    .option("--out <dir>", "where `latest` looks (default: ./backups)")
    .option("--to <s3://bucket/prefix>", "where `latest` looks, in object storage")
    .option("--endpoint <url>", "S3-compatible endpoint (default $AWS_ENDPOINT_URL)")
    .action(async (spec: string, _opts: unknown, command: Command) => {
      const opts = command.optsWithGlobals<LocationFlags & { url?: string }>();
      const { verifyBackup } = await import("../backup/commands.js");
      const { config, urlOf, globals } = await context(program);
      let server: string | undefined;
      try {
        server = urlOf(opts.url);
      } catch (error) {
        // Only a Postgres backup needs a server; PGlite and SQLite restore into a temp folder.
        if (!(error instanceof RetortError && error.code === "RETORT_NO_DATABASE_URL")) throw error;
      }
      const progress = progressLine(globals);
      let result;
      try {
        result = await verifyBackup({ source: spec, root: config.root, config, ...locationOf(opts), ...(server ? { url: server } : {}), ...(progress.onProgress ? { onProgress: progress.onProgress } : {}) });
      } finally {
        progress.done();
      }
      const out = output();
      out.say(`${result.backup} (${result.manifest.dialect}, taken ${result.manifest.takenAt}, at ${result.manifest.revision.join(", ") || "base"})`);
      for (const check of result.checks) {
        const mark = check.skipped ? stdoutColors.dim("skip") : check.ok ? stdoutColors.green("ok  ") : stdoutColors.red("FAIL");
        out.say(`  ${mark} ${check.check.padEnd(8)} ${check.message}`);
      }
      out.say(result.ok ? `verdict: PASS, the backup restores to exactly what was backed up (${(result.durationMs / 1000).toFixed(1)} s; scratch database dropped)` : "verdict: FAIL, the backup does not restore to what was backed up");
      out.result({ ...result });
      if (!result.ok) process.exitCode = 1;
    });

  program
    .command("restore")
    .description("restore a backup into the database (must be empty unless --clean); Postgres without owners and grants (--no-owner --no-acl); refuses production unless a person confirms")
    .argument("<backup>", "a backup file, s3://bucket/prefix/<file>, or `latest` (in --out or --to)")
    .option("--url <url>", "the database to restore into (default: as for every command, see retort --help)")
    .option("--clean", "empty a non-empty target first")
    .option("--out <dir>", "where `latest` looks (default: ./backups)")
    .option("--to <s3://bucket/prefix>", "where `latest` looks, in object storage")
    .option("--endpoint <url>", "S3-compatible endpoint (default $AWS_ENDPOINT_URL)")
    .option("--force-production", "in production, ask for the database's name on the terminal instead of refusing")
    .action(async (spec: string, opts: LocationFlags & { url?: string; clean?: boolean; forceProduction?: boolean }) => {
      const { restore } = await import("../backup/commands.js");
      const { environmentName } = await import("../env/environment.js");
      const { config, urlOf, globals } = await context(program);
      const progress = progressLine(globals);
      let result;
      try {
        result = await restore({
          source: spec,
          url: urlOf(opts.url),
          root: config.root,
          config,
          environment: environmentName(globals.env),
          ...locationOf(opts),
          ...(opts.clean ? { clean: true } : {}),
          ...(opts.forceProduction ? { forceProduction: true } : {}),
          ...(progress.onProgress ? { onProgress: progress.onProgress } : {}),
        });
      } finally {
        progress.done();
      }
      const out = output();
      out.say(`restored ${result.source} into ${result.url}${result.cleaned ? " (emptied first)" : ""}${result.revision ? `: at ${result.revision.join(", ") || "base"}` : ""} in ${(result.durationMs / 1000).toFixed(1)} s`);
      out.result({ ...result });
    });
}
