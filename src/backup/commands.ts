/**
 * The backup commands as library functions (the CLI is a thin layer over them): `backup`,
 * `restore`, `verifyBackup` (the restore drill) and `pruneBackups`. Each returns data for
 * --json and reports progress through `onProgress`; none prints.
 */
import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, extname, join, resolve } from "node:path";
import { dropDatabase } from "../dev/databases.js";
import { productionUrls, type LoadedConfig } from "../env/config.js";
import { guardProduction } from "../env/guard.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import { drift } from "../runtime/schema-commands.js";
import { scripts } from "../runtime/api.js";
import { backendFor, type Progress } from "./backends.js";
import { compareTables, describeDifference, fileDigest, readManifest, type BackupManifest, type TableDifference } from "./manifest.js";
import { FORMAT_OF, backupFileName, manifestNameOf, parseBackupName, type BackupFormat } from "./names.js";
import { planRetention, type RetentionPolicy } from "./retention.js";
import { isRemoteLocation, openStorage, type Storage } from "./storage.js";
import { makeDirectory } from "../env/make-directory.js";

/** Where backups go when neither --out nor --to says: ./backups under the project. */
export const DEFAULT_BACKUP_DIR = "backups";

/** A folder relative to the project, or an s3:// location as given. */
function locationOf(root: string, location: string | undefined): string {
  const where = location ?? DEFAULT_BACKUP_DIR;
  return isRemoteLocation(where) ? where : resolve(root, where);
}

interface Common {
  /** The project root (for finding Postgres binaries and the default folder). */
  root: string;
  /** S3 endpoint for s3:// locations. */
  endpoint?: string;
  onProgress?: Progress;
}

export interface BackupOptions extends Common {
  /** The database to back up (full URL). */
  url: string;
  /** A folder, or a file name for the backup (default ./backups). */
  out?: string;
  /** s3://bucket/prefix to upload the backup and its manifest to. */
  to?: string;
  /** When the backup is taken (tests); default now. */
  now?: Date;
}

export interface BackupResult {
  /** Where the file is: a local path, and/or s3 location. */
  file?: string;
  uploaded?: string;
  manifest: BackupManifest;
}

function isFileName(out: string): boolean {
  if (out.endsWith("/")) return false;
  if (existsSync(out)) return !statSync(out).isDirectory();
  return /\.(dump|tar\.gz|sqlite|sqlite3|db|backup|bak)$/i.test(out);
}

/** `retort backup`: the database to a file (written as .partial, renamed when whole), a manifest beside it, optionally uploaded. */
export async function backup(options: BackupOptions): Promise<BackupResult> {
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  const takenAt = options.now ?? new Date();
  const dialect = parseDatabaseUrl(options.url).dialect;
  const backend = backendFor(options.url, options.root);
  // Only --to: the local copy is a temporary one, removed after the upload.
  const scratch = options.to && !options.out ? mkdtempSync(join(tmpdir(), "retort-backup-")) : undefined;
  const out = resolve(options.root, options.out ?? scratch ?? DEFAULT_BACKUP_DIR);
  const dir = isFileName(out) ? dirname(out) : out;
  // A file named by --out may be anything: another app's database, this very SQLite file.
  if (isFileName(out) && existsSync(out)) {
    throw new RetortError("RETORT_FILE_EXISTS", `${out} already exists; retort backup does not overwrite a file named by --out.`, {
      hint: "Give --out a new file name, or a folder: backups there are named by database, revision and time.",
      details: { file: out },
    });
  }
  const storage = options.to ? await openStorage(options.to, options.endpoint ? { endpoint: options.endpoint } : {}) : undefined;
  makeDirectory(dir);
  const partial = join(dir, `.retort-backup-${process.pid}-${Date.now()}.partial`);
  try {
    // A folder that cannot be written fails here, named (RETORT_FILE_ACCESS), not inside pg_dump or SQLite.
    writeFileSync(partial, "");
    const snapshot = await backend.dump(partial, progress);
    const format = FORMAT_OF[dialect];
    const name = isFileName(out) ? basename(out) : backupFileName(backend.name, snapshot.heads, takenAt, format);
    const file = join(dir, name);
    // Never replace a backup: the name was free when --out was checked, or is new to the millisecond.
    if (existsSync(file)) {
      throw new RetortError("RETORT_FILE_EXISTS", `${file} already exists (another backup of the same database at the same moment?); this backup was not kept.`, {
        hint: "Run `retort backup` again.",
        details: { file },
      });
    }
    renameSync(partial, file);
    const digest = await fileDigest(file);
    const manifest: BackupManifest = {
      manifestVersion: 1,
      file: name,
      format,
      dialect,
      database: backend.name,
      revision: snapshot.heads,
      serverVersion: snapshot.serverVersion,
      tool: snapshot.tool,
      takenAt: takenAt.toISOString(),
      // The dump and its checksums (the upload comes after, with the manifest).
      durationMs: Date.now() - started,
      size: digest.size,
      sha256: digest.sha256,
      tables: snapshot.tables,
    };
    const manifestFile = join(dir, manifestNameOf(name));
    writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    let uploaded: string | undefined;
    if (storage) {
      progress(`uploading ${name} to ${storage.where}`);
      // The file first: a manifest in the bucket means its backup is complete there.
      await storage.put(name, file);
      await storage.put(manifestNameOf(name), manifestFile);
      uploaded = storage.address(name);
    }
    return { ...(scratch ? {} : { file }), ...(uploaded ? { uploaded } : {}), manifest };
  } finally {
    // SQLite may leave a journal beside a copy it could not finish.
    for (const leftover of [partial, `${partial}-journal`, `${partial}-wal`, `${partial}-shm`]) rmSync(leftover, { force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

interface Located {
  storage: Storage;
  name: string;
}

/**
 * A backup named by the user: a local file, an s3:// object, or `latest` (the newest backup, by
 * the time in its name, that has its manifest beside it, at `location`).
 */
export async function locateBackup(spec: string, location: string, endpoint?: string): Promise<Located> {
  const storageOptions = endpoint ? { endpoint } : {};
  if (spec === "latest") {
    const storage = await openStorage(location, storageOptions);
    const names = new Set(await storage.list());
    const newest = [...names]
      .map(parseBackupName)
      .filter((b) => b !== undefined && names.has(manifestNameOf(b.file)))
      .sort((a, b) => b!.takenAt.getTime() - a!.takenAt.getTime() || b!.file.localeCompare(a!.file))[0];
    if (!newest) {
      throw new RetortError("RETORT_BACKUP_NOT_FOUND", `No backup with a manifest in ${storage.where}.`, {
        hint: "Take one with `retort backup` (--out <dir> or --to s3://bucket/prefix), or point --out / --to where they are.",
        details: { location: storage.where },
      });
    }
    return { storage, name: newest.file };
  }
  if (isRemoteLocation(spec)) {
    const slash = spec.lastIndexOf("/");
    if (slash <= "s3://".length) throw new RetortError("RETORT_USAGE", `"${spec}" names a bucket, not a backup file.`, { hint: "Write s3://bucket/prefix/<backup file>, or `latest --to s3://bucket/prefix`." });
    return { storage: await openStorage(spec.slice(0, slash), storageOptions), name: spec.slice(slash + 1) };
  }
  const file = resolve(spec);
  if (!existsSync(file)) throw new RetortError("RETORT_BACKUP_NOT_FOUND", `No backup file ${file}.`, { hint: "Check the path, or use `latest` with --out <dir>." });
  return { storage: await openStorage(dirname(file)), name: basename(file) };
}

/** The backup and its manifest (when there is one) as local files; downloads go into `scratch`. */
async function fetchBackup(located: Located, scratch: string, progress: Progress, manifestRequired: boolean): Promise<{ file: string; manifest?: BackupManifest }> {
  if (located.storage.remote) progress(`downloading ${located.name} from ${located.storage.where}`);
  const file = await located.storage.fetch(located.name, scratch);
  try {
    const manifestFile = await located.storage.fetch(manifestNameOf(located.name), scratch);
    return { file, manifest: readManifest(manifestFile) };
  } catch (error) {
    if (manifestRequired || !(error instanceof RetortError && error.code === "RETORT_BACKUP_NOT_FOUND")) throw error;
    return { file };
  }
}

function formatOf(name: string, manifest: BackupManifest | undefined): BackupFormat {
  const format = manifest?.format ?? parseBackupName(name)?.format ?? (extname(name) === ".dump" ? "pg_dump-custom" : undefined);
  if (format) return format;
  throw new RetortError("RETORT_BACKUP_NOT_FOUND", `Cannot tell what kind of backup ${name} is: it has no manifest and its name is not a Retort backup name.`, {
    hint: "Keep the manifest (<file>.manifest.json) beside the backup, or the name Retort gave it.",
  });
}

const DIALECT_OF: Record<BackupFormat, string> = { "pg_dump-custom": "postgres", "pglite-datadir-tar-gz": "pglite", "sqlite-file": "sqlite" };

function refuseWrongBackend(format: BackupFormat, url: string): void {
  const target = parseDatabaseUrl(url).dialect;
  if (DIALECT_OF[format] === target) return;
  throw new RetortError("RETORT_RESTORE_REFUSED", `A ${format} backup restores into a ${DIALECT_OF[format]} database, not ${redactUrl(url)} (${target}).`, {
    hint: "Point --url at a database of the same kind. To move data between backends, restore on the same kind, then copy with your own script.",
    details: { format, target },
  });
}

export interface RestoreOptions extends Common {
  /** A file path, s3://bucket/prefix/file, or `latest`. */
  source: string;
  /** For `latest`: the folder or s3:// location to look in (default ./backups). */
  location?: string;
  /** The database to restore into (full URL). */
  url: string;
  /** Empty a non-empty target first. */
  clean?: boolean;
  /** The production guard: the environment and the config (for the production URLs). */
  environment: string;
  config: LoadedConfig;
  forceProduction?: boolean;
  ask?: (question: string) => Promise<string>;
}

export interface RestoreResult {
  source: string;
  url: string;
  format: BackupFormat;
  cleaned: boolean;
  revision?: string[];
  durationMs: number;
}

/** `retort restore`: refuses production (unless a person forces it) and a non-empty target (unless --clean). */
export async function restore(options: RestoreOptions): Promise<RestoreResult> {
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  await guardProduction(
    {
      action: "retort restore",
      environment: options.environment,
      url: options.url,
      productionUrls: productionUrls({ config: options.config }),
      overridable: true,
      ...(options.forceProduction ? { forceProduction: true } : {}),
    },
    ...(options.ask ? [options.ask] : []),
  );
  const located = await locateBackup(options.source, locationOf(options.root, options.location), options.endpoint);
  const scratch = mkdtempSync(join(tmpdir(), "retort-restore-"));
  try {
    const { file, manifest } = await fetchBackup(located, scratch, progress, false);
    const format = formatOf(located.name, manifest);
    refuseWrongBackend(format, options.url);
    const backend = backendFor(options.url, options.root);
    const contents = await backend.contents();
    if (contents !== undefined) {
      if (!options.clean) {
        throw new RetortError("RETORT_RESTORE_REFUSED", `${redactUrl(options.url)} is not empty (${contents}); restore writes only into an empty database.`, {
          hint: "Restore into a new database (--url), or pass --clean to drop what is there first.",
          details: { url: redactUrl(options.url), contents },
        });
      }
      progress(`emptying ${redactUrl(options.url)}`);
      await backend.clean();
    }
    if (manifest) {
      // A damaged file is refused before it touches the target.
      const digest = await fileDigest(file);
      if (digest.sha256 !== manifest.sha256) {
        throw new RetortError("RETORT_RESTORE_FAILED", `${located.name} does not match its manifest (${digest.size} bytes, the manifest says ${manifest.size}; sha256 differs): the file is truncated or damaged.`, {
          hint: "Restore another backup (the previous night's), and run `retort backup verify` on your backups regularly.",
          details: { size: digest.size, expectedSize: manifest.size },
        });
      }
    }
    await backend.load(file, progress);
    return {
      source: located.storage.address(located.name),
      url: redactUrl(options.url),
      format,
      cleaned: contents !== undefined,
      ...(manifest ? { revision: manifest.revision } : {}),
      durationMs: Date.now() - started,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export interface VerifyOptions extends Common {
  source: string;
  location?: string;
  /** Postgres backups: the server to create the scratch database on (any database URL of it). */
  url?: string;
  /** The project, for the revision check and drift. */
  config: LoadedConfig;
}

export interface VerifyCheck {
  check: "file" | "restore" | "tables" | "revision" | "drift";
  ok: boolean;
  /** A check that could not run (no migrations folder for drift) is not a failure. */
  skipped?: boolean;
  message: string;
}

export interface VerifyResult {
  ok: boolean;
  backup: string;
  manifest: BackupManifest;
  checks: VerifyCheck[];
  differences: TableDifference[];
  /** The scratch database (dropped after). */
  scratch: string;
  durationMs: number;
}

/** A scratch database of the backup's kind: a new database on a Postgres server, a temp folder or file otherwise. */
function scratchUrl(format: BackupFormat, serverUrl: string | undefined, dir: string): string {
  if (format === "pglite-datadir-tar-gz") return `pglite:${join(dir, "pglite")}`;
  if (format === "sqlite-file") return `sqlite:${join(dir, "restored.sqlite")}`;
  if (!serverUrl || parseDatabaseUrl(serverUrl).dialect !== "postgres") {
    throw new RetortError("RETORT_USAGE", "Verifying a Postgres backup needs a Postgres server to restore it on; none was given.", {
      hint: "Pass --url postgres://…/any_database (a temporary database is created there and dropped after), or run it where DATABASE_URL names the server.",
    });
  }
  const parsed = new URL(serverUrl);
  parsed.pathname = `/retort_verify_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return parsed.toString();
}

/**
 * `retort backup verify`: the restore drill. Restores into a scratch database, compares every
 * table's row count and checksum with the manifest, checks the recorded revision (the version
 * table restored, and a revision this checkout's migrations know), runs drift, drops the scratch
 * database. `ok` is false on any difference.
 */
export async function verifyBackup(options: VerifyOptions): Promise<VerifyResult> {
  const progress = options.onProgress ?? (() => {});
  const started = Date.now();
  const located = await locateBackup(options.source, locationOf(options.root, options.location), options.endpoint);
  const scratch = mkdtempSync(join(tmpdir(), "retort-verify-"));
  const checks: VerifyCheck[] = [];
  let differences: TableDifference[] = [];
  let target: string | undefined;
  try {
    const { file, manifest } = (await fetchBackup(located, scratch, progress, true)) as { file: string; manifest: BackupManifest };
    const digest = await fileDigest(file);
    const whole = digest.size === manifest.size && digest.sha256 === manifest.sha256;
    checks.push({
      check: "file",
      ok: whole,
      message: whole ? `${digest.size} bytes, sha256 as recorded` : `the file is ${digest.size} bytes (the manifest says ${manifest.size}) and its sha256 differs: truncated or damaged`,
    });
    target = scratchUrl(manifest.format, options.url, scratch);
    const backend = backendFor(target, options.root);
    let restored: Awaited<ReturnType<typeof backend.inspect>> | undefined;
    try {
      progress(`restoring into scratch database ${redactUrl(target)}`);
      restored = await backend.loadAndInspect(file, progress);
      checks.push({ check: "restore", ok: true, message: `restored into ${redactUrl(target)}` });
    } catch (error) {
      if (!(error instanceof RetortError)) throw error;
      checks.push({ check: "restore", ok: false, message: `the restore failed: ${error.message}` });
    }
    if (restored) {
      differences = compareTables(manifest.tables, restored.tables);
      const rows = restored.tables.reduce((sum, t) => sum + t.rows, 0);
      checks.push({
        check: "tables",
        ok: differences.length === 0,
        message: differences.length === 0 ? `${restored.tables.length} tables, ${rows} rows: every count and checksum as recorded` : differences.map(describeDifference).join("; "),
      });
      checks.push(revisionCheck(manifest.revision, restored.heads, options.config));
      checks.push(await driftCheck(target, options.config));
    }
    return {
      ok: checks.every((c) => c.ok),
      backup: located.storage.address(located.name),
      manifest,
      checks,
      differences,
      scratch: redactUrl(target),
      durationMs: Date.now() - started,
    };
  } finally {
    if (target && parseDatabaseUrl(target).dialect === "postgres") await dropDatabase(target).catch(() => undefined);
    rmSync(scratch, { recursive: true, force: true });
  }
}

function revisionCheck(recorded: string[], restored: string[], config: LoadedConfig): VerifyCheck {
  const want = [...recorded].sort().join(", ") || "base";
  const got = [...restored].sort().join(", ") || "base";
  if (want !== got) return { check: "revision", ok: false, message: `the restored version table is at ${got}, the manifest says ${want}` };
  let graph;
  try {
    graph = scripts(config).graph;
  } catch (error) {
    if (error instanceof RetortError && error.code === "RETORT_CONFIG") return { check: "revision", ok: true, skipped: true, message: `at ${want} (no migrations folder here to check it against)` };
    throw error;
  }
  const unknown = recorded.filter((id) => !graph.has(id));
  if (unknown.length) return { check: "revision", ok: false, message: `at ${want}, which this checkout's migrations do not define (${unknown.join(", ")})` };
  return { check: "revision", ok: true, message: `at ${want}, a revision of this checkout's migrations` };
}

async function driftCheck(url: string, config: LoadedConfig): Promise<VerifyCheck> {
  try {
    const result = await drift({ config, url });
    return result.ok
      ? { check: "drift", ok: true, message: `the schema matches the migrations at ${result.heads.join(", ") || "base"}` }
      : { check: "drift", ok: false, message: `the schema differs from the migrations at ${result.heads.join(", ") || "base"}: ${result.changes.join("; ")}` };
  } catch (error) {
    if (error instanceof RetortError && error.code === "RETORT_CONFIG") return { check: "drift", ok: true, skipped: true, message: `skipped: ${error.message}` };
    if (error instanceof RetortError) return { check: "drift", ok: false, message: `drift failed: ${error.message}` };
    throw error;
  }
}

export interface PruneOptions extends Common, RetentionPolicy {
  /** The folder or s3:// location (default ./backups). */
  location?: string;
  dryRun?: boolean;
}

export interface PruneResult {
  where: string;
  kept: Array<{ file: string; reasons: string[] }>;
  removed: string[];
  dryRun: boolean;
}

/** `retort backup prune`: grandfather-father-son retention (see retention.ts); each removed backup goes with its manifest. */
export async function pruneBackups(options: PruneOptions): Promise<PruneResult> {
  if (!options.keepDaily && !options.keepWeekly && !options.keepMonthly) {
    throw new RetortError("RETORT_USAGE", "backup prune needs at least one of --keep-daily, --keep-weekly, --keep-monthly above 0: without one it would delete every backup.", {
      hint: "retort backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 6",
    });
  }
  const storage = await openStorage(locationOf(options.root, options.location), options.endpoint ? { endpoint: options.endpoint } : {});
  const names = await storage.list();
  const backups = names.map(parseBackupName).filter((b) => b !== undefined);
  const plan = planRetention(backups, options);
  if (!options.dryRun) {
    for (const backup of plan.remove) {
      options.onProgress?.(`deleting ${backup.file}`);
      await storage.remove(backup.file);
      if (names.includes(manifestNameOf(backup.file))) await storage.remove(manifestNameOf(backup.file));
    }
  }
  return { where: storage.where, kept: plan.keep.map((b) => ({ file: b.file, reasons: b.reasons })), removed: plan.remove.map((b) => b.file), dryRun: options.dryRun === true };
}
