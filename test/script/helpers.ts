/** Shared fixtures for the script-layer tests: in-memory headers, temp migration directories. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { RetortError, type RetortErrorCode } from "../../src/errors.js";
import { RevisionGraph } from "../../src/script/graph.js";
import type { ScriptHeader } from "../../src/script/header.js";
import { migrationFileName, renderMigration, type MigrationTemplate } from "../../src/script/template.js";

let clock = Date.UTC(2026, 0, 1);

/** A header as if read from `versions/<id>.ts`; createdAt increases with each call unless given. */
export function header(revision: string, parents: string[] = [], extra: Partial<ScriptHeader> = {}): ScriptHeader {
  clock += 60_000;
  return {
    revision,
    parents,
    message: `message of ${revision}`,
    createdAt: new Date(clock).toISOString(),
    branchLabels: [],
    dependsOn: [],
    transactional: true,
    path: `versions/${revision}.ts`,
    checksum: "0".repeat(64),
    ...extra,
  };
}

export const graphOf = (...headers: ScriptHeader[]) => new RevisionGraph(headers);

/** Ids of revisions, for compact assertions. */
export const ids = (revisions: Iterable<{ revision: string }>) => [...revisions].map((r) => r.revision);

/** Runs `fn`, expects a RetortError with `code`, returns it for message/hint checks. */
export function retortError(code: RetortErrorCode, fn: () => unknown): RetortError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RetortError);
    expect((error as RetortError).code).toBe(code);
    expect((error as RetortError).hint).toBeTruthy();
    return error as RetortError;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "retort-script-"));
}

/** Writes migration files (rendered by renderMigration) into a new temp dir; returns the dir. */
export function writeMigrations(templates: MigrationTemplate[], dir = tempDir()): string {
  for (const template of templates) {
    const createdAt = new Date(template.createdAt);
    writeFileSync(join(dir, migrationFileName(createdAt, template.message)), renderMigration(template));
  }
  return dir;
}

/**
 * The graph most tests use:
 *
 *           ┌─ a1 ── a2 ─┐
 *   root ───┤            ├── merge ── top
 *           └─ b1 ── b2 ─┘
 *
 * b1 carries the branch label "billing"; a1 carries "accounts".
 */
export const ID = {
  root: "1000000000aa",
  a1: "2a0000000001",
  a2: "2a0000000002",
  b1: "3b0000000001",
  b2: "3b0000000002",
  merge: "4c0000000000",
  top: "5d0000000000",
} as const;

export function diamond(): RevisionGraph {
  return graphOf(
    header(ID.root),
    header(ID.a1, [ID.root], { branchLabels: ["accounts"] }),
    header(ID.b1, [ID.root], { branchLabels: ["billing"] }),
    header(ID.a2, [ID.a1]),
    header(ID.b2, [ID.b1]),
    header(ID.merge, [ID.a2, ID.b2]),
    header(ID.top, [ID.merge]),
  );
}

/** The two branches of `diamond` before the merge: heads a2 and b2. */
export function twoBranches(): RevisionGraph {
  return graphOf(
    header(ID.root),
    header(ID.a1, [ID.root], { branchLabels: ["accounts"] }),
    header(ID.b1, [ID.root], { branchLabels: ["billing"] }),
    header(ID.a2, [ID.a1]),
    header(ID.b2, [ID.b1]),
  );
}

/** A linear chain c0 ← c1 ← … of `n` revisions with ids c000000000000, c000000000001, … */
export function chain(n: number): RevisionGraph {
  const headers: ScriptHeader[] = [];
  for (let i = 0; i < n; i++) headers.push(header(chainId(i), i === 0 ? [] : [chainId(i - 1)]));
  return new RevisionGraph(headers);
}

export const chainId = (i: number) => `c${String(i).padStart(11, "0")}`;
