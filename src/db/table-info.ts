/**
 * Everything a controller needs about one model, computed once at connect: column lookups both
 * ways, the select list that aliases database names to TS keys, and SQL fragments per family.
 */
import { createHash } from "node:crypto";
import { RetortError } from "../errors.js";
import type { ColumnConfig } from "../model/column.js";
import type { AnyTable } from "../model/table.js";
import { quoteIdent } from "../dialects/sql-text.js";
import type { ColumnType, SqlFamily, TableSchema } from "../schema/snapshot.js";

export interface ColumnInfo {
  key: string;
  dbName: string;
  type: ColumnType;
  config: ColumnConfig;
  quoted: string;
}

/** SQL compiled once per statement shape, shared by every Database and transaction. */
export interface CachedStatement {
  text: string;
  /** Prepared-statement name. */
  name: string;
  columns: ColumnInfo[];
}

/**
 * How many where-based query shapes (find, count, …) a model keeps as named prepared statements.
 * A named statement lives on every pooled connection until it closes, so shapes past this run
 * unnamed: generated filters with ever new shapes cannot grow this process or the server.
 */
export const SHAPE_STATEMENT_LIMIT = 200;

export class TableInfo {
  readonly statements = new Map<string, CachedStatement>();
  /** SQL text of a where-based query shape → its prepared-statement name (at most SHAPE_STATEMENT_LIMIT). */
  readonly shapes = new Map<string, string>();
  readonly name: string;
  readonly quotedName: string;
  readonly columns: ColumnInfo[];
  readonly byKey: Map<string, ColumnInfo>;
  readonly byDbName: Map<string, ColumnInfo>;
  /** `"id", "guild_id" AS "guildId", …` */
  readonly selectList: string;
  readonly primaryKey: ColumnInfo[];
  readonly deletedAt: ColumnInfo | undefined;
  readonly updatedAt: ColumnInfo | undefined;
  readonly clientDefaults: ColumnInfo[];
  /** Writes record audit rows (table(…, { audit: true })). */
  readonly audited: boolean;

  constructor(
    readonly model: AnyTable,
    readonly schema: TableSchema,
    readonly family: SqlFamily,
  ) {
    const meta = model.$;
    this.name = meta.name;
    this.quotedName = quoteIdent(meta.name);
    this.columns = Object.entries(meta.columns as Record<string, { config: ColumnConfig }>).map(([key, col]) => {
      const dbName = meta.dbNames[key]!;
      return { key, dbName, type: col.config.type, config: col.config, quoted: quoteIdent(dbName) };
    });
    this.byKey = new Map(this.columns.map((c) => [c.key, c]));
    this.byDbName = new Map(this.columns.map((c) => [c.dbName, c]));
    this.selectList = this.columns.map((c) => (c.key === c.dbName ? c.quoted : `${c.quoted} AS ${quoteIdent(c.key)}`)).join(", ");
    this.primaryKey = meta.primaryKey.map((key) => this.byKey.get(key)!);
    this.deletedAt = meta.roles.deletedAt === undefined ? undefined : this.byKey.get(meta.roles.deletedAt);
    this.updatedAt = meta.roles.updatedAt === undefined ? undefined : this.byKey.get(meta.roles.updatedAt);
    this.clientDefaults = this.columns.filter((c) => c.config.defaultFn !== undefined);
    this.audited = meta.audit === true;
    if (this.audited && this.primaryKey.length === 0) {
      throw new RetortError("RETORT_INVALID_MODEL", `table "${this.name}" has { audit: true } but no primary key, so its audit rows could not say which row changed`, {
        hint: "Give the model a primary key.",
        details: { table: this.name },
      });
    }
  }

  column(key: string): ColumnInfo {
    const column = this.byKey.get(key);
    if (!column) {
      throw new RetortError("RETORT_INVALID_QUERY", `"${key}" is not a column of ${this.name}`, {
        hint: `Columns: ${[...this.byKey.keys()].join(", ")}.`,
        details: { table: this.name, column: key },
      });
    }
    return column;
  }

  /** Positional placeholder n (1-based) for this family. */
  placeholder(n: number): string {
    return this.family === "postgres" ? `$${n}` : "?";
  }

  /** SQL for the current time, in the column storage format of this family. */
  get nowSql(): string {
    return this.family === "postgres" ? "now()" : "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
  }

  requirePrimaryKey(operation: string): ColumnInfo[] {
    if (this.primaryKey.length === 0) {
      throw new RetortError("RETORT_INVALID_QUERY", `${this.name} has no primary key, so ${operation}() cannot address one row`, {
        hint: "Give the model a primary key, or use the where-based methods (updateMany, find).",
      });
    }
    return this.primaryKey;
  }

  /**
   * A short, stable prepared-statement name for an SQL text. The hash covers the whole text,
   * table name included, so names differ across models and shapes even where the readable
   * prefix is cut.
   */
  statementName(operation: string, sqlText: string): string {
    const hash = createHash("sha1").update(sqlText).digest("hex").slice(0, 16);
    return `rt_${this.name.replace(/[^A-Za-z0-9_]/g, "").slice(0, 24)}_${operation}_${hash}`;
  }

  /** The statement name for a where-based query shape; undefined (run unnamed) once the limit is reached. */
  shapeName(operation: string, sqlText: string): string | undefined {
    let name = this.shapes.get(sqlText);
    if (name === undefined && this.shapes.size < SHAPE_STATEMENT_LIMIT) {
      name = this.statementName(operation, sqlText);
      this.shapes.set(sqlText, name);
    }
    return name;
  }
}
