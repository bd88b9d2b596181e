/**
 * `retort pull`: introspect a live database and write a models module for it (see
 * autogenerate/render-models.ts for what the file holds). The file is written only when the
 * database was read and the models rendered; an existing file is kept unless `force` is set.
 */
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { renderModels } from "../autogenerate/render-models.js";
import { openDriver } from "../dialects/open.js";
import { parseDatabaseUrl, redactUrl } from "../env/url.js";
import { RetortError } from "../errors.js";
import { EMPTY_SCHEMA, familyOf, type Dialect, type Schema } from "../schema/snapshot.js";
import { loadIntrospector } from "./head-schema.js";
import { makeDirectory } from "../env/make-directory.js";

export const DEFAULT_PULL_OUT = "src/db/schema.ts";

export interface PullOptions {
  /** The database to read. */
  url: string;
  /** Where to write the models (default src/db/schema.ts, relative to `cwd`). */
  out?: string;
  /** Postgres schema to read (default "public"; SQLite has one). */
  schemaName?: string;
  /** Overwrite an existing file. */
  force?: boolean;
  cwd?: string;
  /** The module the models import from (default "retort-db"). */
  importFrom?: string;
}

export interface PullResult {
  path: string;
  /** The database read, password masked. */
  url: string;
  dialect: Dialect;
  tables: string[];
  enums: string[];
}

/** Read a live database into a snapshot (Retort's own tables left out). */
export async function introspectUrl(url: string, options: { schemaName?: string } = {}): Promise<{ schema: Schema; dialect: Dialect }> {
  const target = parseDatabaseUrl(url);
  if (target.dialect === "sqlite" && options.schemaName !== undefined && options.schemaName !== "main") {
    throw new RetortError("RETORT_UNSUPPORTED", `--schema ${options.schemaName}: a SQLite database has one schema ("main")`, { hint: "Leave --schema out for SQLite." });
  }
  const introspect = await loadIntrospector(familyOf(target.dialect));
  const driver = await openDriver(target, EMPTY_SCHEMA);
  try {
    const conn = await driver.acquire();
    try {
      const schema = await introspect(conn, options.schemaName === undefined || target.dialect === "sqlite" ? {} : { schemaName: options.schemaName });
      return { schema, dialect: target.dialect };
    } finally {
      conn.release();
    }
  } finally {
    await driver.close();
  }
}

export async function pull(options: PullOptions): Promise<PullResult> {
  const path = resolve(options.cwd ?? process.cwd(), options.out ?? DEFAULT_PULL_OUT);
  if (existsSync(path) && !options.force) {
    throw new RetortError("RETORT_FILE_EXISTS", `${options.out ?? DEFAULT_PULL_OUT} already exists; pull does not overwrite it`, {
      hint: "Pass --force to replace it, or --out <file> to write elsewhere.",
      details: { path },
    });
  }
  const { schema, dialect } = await introspectUrl(options.url, options.schemaName === undefined ? {} : { schemaName: options.schemaName });
  const url = redactUrl(options.url);
  const text = renderModels(schema, {
    ...(options.importFrom === undefined ? {} : { importFrom: options.importFrom }),
    header: `Models pulled from ${url} (${dialect}${options.schemaName ? `, schema ${options.schemaName}` : ""}) by \`retort pull\`.\nEdit freely: this file is yours now; \`retort check\` compares it with your migrations.`,
  });
  makeDirectory(dirname(path));
  // Write beside it and rename, so an interrupted pull never leaves half a file.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
  return { path, url, dialect, tables: schema.tables.map((table) => table.name), enums: schema.enums.map((e) => e.name) };
}
