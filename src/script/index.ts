/** The script layer: migration files, their headers, the revision graph, targets and plans. */
export { defineMigration, isDefinedMigration, type RevisionHeader, type MigrationDefinition, type DefinedMigration, type MigrationFn } from "./migration.js";
export { readHeader, parseHeader, fileChecksum, HEADER_SHAPE, type ScriptHeader } from "./header.js";
export { renderMigration, newRevisionId, checkRevisionId, checkBranchLabel, checkMessage, migrationFileName, type MigrationTemplate } from "./template.js";
export { loadScriptDirectory, openScriptFolder, isMigrationFileName, type ScriptDirectory, type ScriptFolder } from "./directory.js";
export { RevisionGraph, type Revision, type RevisionRange, type WalkOptions } from "./graph.js";
export { resolveTarget, resolveScopedTarget, checkTargetDirection, resolveRevision, resolveRange, historyFor, currentRevisions, MIN_PREFIX, type ResolvedRange, type ScopedTarget } from "./targets.js";
export { upgradePlan, downgradePlan, appliedRevisions, type Target } from "./plan.js";
export { applyStep, headsAfter, stampHeads, type Direction, type HeadChange, type StepRevision } from "./heads.js";
export { describeRevision } from "./describe.js";
export { shortTarget, quoteTarget } from "./graph-errors.js";
export { cachedHeads, saveHeads } from "./heads-cache.js";
export { assertLinear, nonLinearHeads } from "./linear.js";
export { openFolderGraph, checksumListDigest, type FolderGraph, type GraphSummary } from "./folder-graph.js";
