/**
 * Which git branch the project is on, and the database names that follow from it: one database
 * per branch in development (`app_feature_login` on Postgres, `.retort/pglite/<slug>/` for PGlite,
 * `app.<slug>.db` for SQLite).
 *
 * Git is read from its files, not by running `git` (this runs on every command's startup): a
 * worktree's `.git` file points at its own git folder, whose HEAD names its own branch.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, resolve } from "node:path";

export interface GitState {
  /** The branch checked out, or undefined when HEAD is detached. */
  branch: string | undefined;
  /** The commit HEAD is at (detached HEAD), when it can be read. */
  commit: string | undefined;
  /** The worktree's git folder (.git, or .git/worktrees/<name> for a linked worktree). */
  gitDir: string;
  /** The repository's shared git folder (where refs/heads live for every worktree). */
  commonDir: string;
}

/** Postgres identifiers are at most 63 bytes. */
const MAX_IDENTIFIER = 63;

/** The git state of the repository holding `dir`, or undefined outside one. */
export function readGitState(dir: string): GitState | undefined {
  let current = resolve(dir);
  for (;;) {
    const dotGit = join(current, ".git");
    if (existsSync(dotGit)) return stateAt(dotGit);
    const parent = dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function stateAt(dotGit: string): GitState | undefined {
  let gitDir = dotGit;
  if (statSync(dotGit).isFile()) {
    // A linked worktree (or submodule): ".git" is a file saying "gitdir: <path>".
    const pointer = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"))?.[1]?.trim();
    if (!pointer) return undefined;
    gitDir = isAbsolute(pointer) ? pointer : resolve(dirname(dotGit), pointer);
  }
  let head: string;
  try {
    head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
  } catch {
    return undefined;
  }
  const commonFile = join(gitDir, "commondir");
  const commonDir = existsSync(commonFile) ? resolve(gitDir, readFileSync(commonFile, "utf8").trim()) : gitDir;
  const ref = /^ref:\s*refs\/heads\/(.+)$/.exec(head)?.[1];
  return { branch: ref, commit: ref ? undefined : head.slice(0, 40), gitDir, commonDir };
}

/** Every local branch of the repository (loose refs and packed-refs). */
export function localBranches(state: GitState): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string, prefix: string) => {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${entry}/`);
      else names.add(`${prefix}${entry}`);
    }
  };
  walk(join(state.commonDir, "refs", "heads"), "");
  try {
    for (const line of readFileSync(join(state.commonDir, "packed-refs"), "utf8").split("\n")) {
      const ref = / refs\/heads\/(.+)$/.exec(line)?.[1];
      if (ref) names.add(ref);
    }
  } catch {
    // no packed refs
  }
  return names;
}

/**
 * The branch `branch` was created from, as git's reflog tells it ("checkout: moving from main to
 * feature/x" in HEAD's log, or "branch: Created from main" in the branch's own log).
 */
export function parentBranch(state: GitState, branch: string): string | undefined {
  const read = (path: string) => {
    try {
      return readFileSync(path, "utf8").split("\n");
    } catch {
      return [];
    }
  };
  const own = read(join(state.commonDir, "logs", "refs", "heads", branch));
  const created = own.length ? /\tbranch: Created from (?:refs\/heads\/)?(.+)$/.exec(own[0]!)?.[1] : undefined;
  if (created && created !== "HEAD" && !/^[0-9a-f]{7,40}$/.test(created)) return created;
  // "Created from HEAD": the branch HEAD was on when this one was first checked out.
  for (const line of read(join(state.gitDir, "logs", "HEAD"))) {
    const move = /\tcheckout: moving from (.+) to (.+)$/.exec(line);
    if (move && move[2] === branch && move[1] !== branch && !/^[0-9a-f]{40}$/.test(move[1]!)) return move[1];
  }
  return undefined;
}

/**
 * A branch name as an identifier piece: lowercase ASCII letters, digits and "_", accents folded
 * ("é" → "e"). A name that keeps nothing (only symbols or another script) becomes "b_<hash>".
 */
export function branchSlug(branch: string): string {
  const slug = branch
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
  return slug || `b_${shortHash(branch)}`;
}

/** `<base>_<slug>`, cut to 63 bytes with a hash of the whole branch name when longer. */
export function branchDatabaseName(base: string, branch: string): string {
  const name = `${base}_${branchSlug(branch)}`;
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER) return name;
  const suffix = `_${shortHash(branch)}`;
  return name.slice(0, MAX_IDENTIFIER - suffix.length).replace(/_+$/, "") + suffix;
}

/** The branch's PGlite directory under the project's .retort/. */
export function branchPgliteDirectory(projectRoot: string, branch: string): string {
  return join(projectRoot, ".retort", "pglite", branchSlugCut(branch));
}

/** `app.db` → `app.<slug>.db` (a file without an extension gets `.sqlite3`). */
export function branchSqliteFile(file: string, branch: string): string {
  const ext = extname(file);
  const stem = basename(file, ext);
  return join(dirname(file), `${stem}.${branchSlugCut(branch)}${ext || ".sqlite3"}`);
}

/** What a detached HEAD is called in database names: its commit. */
export function branchOrCommit(state: GitState): string {
  return state.branch ?? `detached_${(state.commit ?? "unknown").slice(0, 12)}`;
}

function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 8);
}

/** The embedded default database's folder (see config.ts defaultDatabaseUrl). */
function isEmbeddedDefault(dataDir: string, projectRoot: string): boolean {
  return resolve(dataDir) === join(resolve(projectRoot), ".retort", "dev");
}

/**
 * The URL of `branch`'s own database, given the URL the environment chose: the database name
 * suffixed on Postgres, `.retort/pglite/<slug>` for the embedded default (`<dir>.<slug>` for
 * another PGlite folder), `<stem>.<slug><ext>` for a SQLite file. In-memory URLs stay as they are.
 */
export function branchDatabaseUrl(url: string, branch: string, projectRoot: string): string {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    const parsed = new URL(url);
    const name = decodeURIComponent(parsed.pathname.slice(1)) || "postgres";
    parsed.pathname = `/${encodeURIComponent(branchDatabaseName(name, branch))}`;
    return parsed.toString();
  }
  if (url.startsWith("pglite:")) {
    const dir = url.slice("pglite:".length).replace(/^\/\//, "");
    if (dir === "memory" || dir === ":memory:") return url;
    if (isEmbeddedDefault(dir, projectRoot)) return `pglite:${branchPgliteDirectory(projectRoot, branch)}`;
    return `pglite:${dir.replace(/\/+$/, "")}.${branchSlugCut(branch)}`;
  }
  if (url.startsWith("sqlite:")) {
    const file = url.slice("sqlite:".length).replace(/^\/\//, "");
    return file === ":memory:" ? url : `sqlite:${branchSqliteFile(file, branch)}`;
  }
  return url;
}

function branchSlugCut(branch: string): string {
  return branchDatabaseName("db", branch).slice(3);
}
