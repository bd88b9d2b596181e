// Models
export { t, Column, type ColumnState, type ColumnConfig, type ReferenceOptions } from "./model/column.js";
export { enumType, type EnumModel } from "./model/enum.js";
export { extension, type ExtensionModel } from "./model/extension.js";
export {
  table,
  unique,
  uniqueIndex,
  index,
  check,
  primaryKey,
  foreignKey,
  asc,
  desc,
  opclass,
  ColumnRef,
  type TableModel,
  type AnyTable,
  type TableExtra,
} from "./model/table.js";
export { timestamps, softDelete } from "./model/helpers.js";
export { uuidv7, contentId } from "./model/ids.js";
export { sql, type SqlExpression } from "./model/sql.js";
export { relations, type Relations, type OneRelation, type ManyRelation } from "./model/relations.js";
export type { Row, Insert, Update, DB, KyselyTable } from "./model/types.js";
export { schemas, validate, type FieldIssue } from "./model/validation.js";

// Schema snapshot
export { schemaFromModels } from "./schema/from-models.js";
export { snakeCase, constraintName } from "./schema/naming.js";
export type * from "./schema/snapshot.js";

// Database
export { connect, createAll, dropAll, Database, type ConnectOptions, type QueryEvent, type Models } from "./db/database.js";
export { Controller, type FindOptions, type CursorPage, type OffsetPage } from "./db/controller.js";
export { AuditReader, REDACTED, type Actor, type WriteOptions, type AuditAction, type AuditEntry, type AuditQuery } from "./db/audit.js";
export { auditLog, AUDIT_TABLE } from "./model/audit-log.js";
export type { Where, FieldFilter, FieldOperators, OrderBy } from "./db/filters.js";
export type { WithSpec, RowWith } from "./db/relations.js";
export { parseDatabaseUrl, redactUrl, ACCEPTED_URL_FORMS, type ConnectionTarget } from "./env/url.js";

// Migrations
export { defineMigration, type MigrationDefinition, type DefinedMigration, type RevisionHeader } from "./script/migration.js";
export { enumColumn, serverDefault, type MigrationOps } from "./operations/api.js";
export type { Op } from "./operations/types.js";
export { defineConfig, loadConfig, type RetortConfig, type MigrationSettings, type AutogenerateSettings, type LoadedConfig } from "./env/config.js";
export { resolveDatabaseUrl, explainDatabaseUrl, type ResolveUrlOptions, type DatabaseUrlChoice, type EnvironmentNames } from "./env/config.js";
export type { PoolerMode, SslMode } from "./env/postgres-url.js";
export {
  upgrade,
  downgrade,
  current,
  stamp,
  release,
  revision,
  init,
  migrationSql,
  revisionGraph,
  resolve as resolveRevisions,
  type CommandOptions,
  type RunResult,
  type CurrentResult,
  type NewRevision,
} from "./runtime/api.js";
export type { UnfinishedRevision } from "./runtime/status.js";

// Seeds
export { defineSeed, type SeedDefinition, type DefinedSeed, type SeedContext, type SeedRowsResult } from "./dev/seed-definition.js";
export { seededRandom, type SeedRandom } from "./dev/random.js";

// Errors
export { upgradeOnStartup, type UpgradeOnStartupOptions, type StartupResult, type StartupLogger } from "./runtime/startup.js";
export { loadEnvFiles, type EnvFiles } from "./env/dotenv.js";
export { environmentName } from "./env/environment.js";
export { RetortError, isRetortError, type RetortErrorCode } from "./errors.js";
