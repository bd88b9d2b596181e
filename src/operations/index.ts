/** Migration operations: the `op` API, operations as data, fold, reverse and compile. */
export {
  createOpRecorder,
  enumColumn,
  serverDefault,
  toJsonSafe,
  type MigrationOps,
  type AlterColumnOptions,
  type CreateIndexOptions,
  type CreateTableOptions,
  type ExecuteOptions,
  type ForeignKeyOptions,
  type IndexElementInput,
  type ServerDefault,
} from "./api.js";
export { applyOperation, applyOperations } from "./apply.js";
export { compileOperation, compileOperations, renderOfflineSql, inlineParams, sqlLiteral, type CompiledOperations } from "./compile.js";
export { reverseOperation, reverseOperations, annotateOperation } from "./reverse.js";
export { Op, type DataOp, type OpKind, type Step, type ColumnChanges, type ConstraintSchema } from "./types.js";
export type * from "./types.js";
