/**
 * The DDL compiler every SQL family implements: schema snapshot → statements. The migration
 * operations (a later issue) compile through the same functions, so one rendering of a column,
 * index or constraint serves `createAll`, migrations and offline SQL alike.
 */
import type { ColumnSchema, EnumSchema, IndexSchema, Schema, TableSchema } from "../schema/snapshot.js";

export interface DdlCompiler {
  /** Every statement that creates `schema` in an empty database, in a runnable order. */
  createSchema(schema: Schema): string[];
  /** Statements that drop everything `schema` describes (missing objects are not an error). */
  dropSchema(schema: Schema): string[];
  /** CREATE TABLE plus what belongs to it (comments; on SQLite, nothing else). */
  createTable(table: TableSchema, schema: Schema): string[];
  dropTable(name: string): string;
  createIndex(table: TableSchema, index: IndexSchema): string;
  dropIndex(name: string): string;
  /** CREATE TYPE … AS ENUM on Postgres; nothing on SQLite (enums become CHECK constraints). */
  createEnum(enumSchema: EnumSchema): string[];
  /** `"name" type [NOT NULL] [DEFAULT …] …`, as inside CREATE TABLE or ADD COLUMN. */
  columnDefinition(column: ColumnSchema, table: TableSchema, schema: Schema): string;
}
