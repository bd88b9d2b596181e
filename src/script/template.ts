/**
 * Writing new migration files: the file text (in the format documented in migration.ts, which
 * header.ts reads back), a fresh revision id, and the file name.
 */
import { randomBytes } from "node:crypto";
import { RetortError } from "../errors.js";
import { quoteTarget, shortTarget } from "./graph-errors.js";

export interface MigrationTemplate {
  revision: string;
  /** [] for a base revision, two or more for a merge. */
  parents: readonly string[];
  message: string;
  /** An ISO 8601 timestamp, or a Date (written with toISOString()). */
  createdAt: string | Date;
  branchLabels?: readonly string[];
  dependsOn?: readonly string[];
  /** Written only when false (true is the default). */
  transactional?: boolean;
  /** Postgres lock_timeout for every step of the revision ("5s"); see MigrationDefinition.lockTimeout. */
  lockTimeout?: string;
  /** The expand revision this one contracts (an expand/contract pair); see MigrationDefinition.contractOf. */
  contractOf?: string;
  /** A squash: the revisions it replaces. */
  replaces?: readonly string[];
  /** Code for the body of `upgrade(op)`, unindented; defaults to a comment. */
  upgradeBody?: string;
  downgradeBody?: string;
  /** Extra import lines, written after the defineMigration import. */
  imports?: readonly string[];
  /** Where `defineMigration` is imported from; default "retort-db". */
  moduleSpecifier?: string;
}

/** The text of a migration file. */
export function renderMigration(template: MigrationTemplate): string {
  const createdAt = typeof template.createdAt === "string" ? template.createdAt : template.createdAt.toISOString();
  const lines = [
    `import { defineMigration } from ${JSON.stringify(template.moduleSpecifier ?? "retort-db")};`,
    ...(template.imports ?? []),
    "",
    "export default defineMigration({",
    `  revision: ${JSON.stringify(template.revision)},`,
    `  parents: ${stringArray(template.parents)},`,
    `  message: ${JSON.stringify(template.message)},`,
    `  createdAt: ${JSON.stringify(createdAt)},`,
  ];
  if (template.branchLabels?.length) lines.push(`  branchLabels: ${stringArray(template.branchLabels)},`);
  if (template.dependsOn?.length) lines.push(`  dependsOn: ${stringArray(template.dependsOn)},`);
  if (template.transactional === false) lines.push("  transactional: false,");
  if (template.lockTimeout !== undefined) lines.push(`  lockTimeout: ${JSON.stringify(template.lockTimeout)},`);
  if (template.contractOf !== undefined) lines.push(`  contractOf: ${JSON.stringify(template.contractOf)},`);
  if (template.replaces?.length) lines.push(`  replaces: ${stringArray(template.replaces)},`);
  lines.push(
    "",
    "  async upgrade(op) {",
    body(template.upgradeBody ?? "// write the upgrade here"),
    "  },",
    "",
    "  async downgrade(op) {",
    body(template.downgradeBody ?? "// write the downgrade here"),
    "  },",
    "});",
    "",
  );
  return lines.join("\n");
}

const stringArray = (items: readonly string[]) => `[${items.map((item) => JSON.stringify(item)).join(", ")}]`;

/** Indents a body by four spaces (inside the method), keeping blank lines empty. */
const body = (code: string) =>
  code
    .replace(/\s+$/, "")
    .split("\n")
    .map((line) => (line.trim() === "" ? "" : `    ${line}`))
    .join("\n");

/** Longest revision id accepted: ids are typed, listed and stored in a varchar column. */
export const MAX_REVISION_ID = 64;

const TARGET_WORDS = new Set(["head", "heads", "base", "current"]);

/**
 * Refuses a revision id that later commands could not read back or name: letters, digits and
 * `_` only (Alembic also refuses `@`, `-` and `+`, which targets use; spaces and path characters
 * would break the file and every command after it), at most MAX_REVISION_ID characters, and not
 * a target keyword.
 */
export function checkRevisionId(id: string): void {
  const problem =
    id === ""
      ? "it is empty"
      : id.length > MAX_REVISION_ID
        ? `it is ${id.length} characters long (at most ${MAX_REVISION_ID})`
        : !/^[A-Za-z0-9_]+$/.test(id)
          ? `it contains ${describeCharacters(id.match(/[^A-Za-z0-9_]/g)!)}`
          : TARGET_WORDS.has(id)
            ? "it is a target keyword"
            : undefined;
  if (!problem) return;
  throw new RetortError("RETORT_INVALID_REVISION_ID", `Revision id ${quoteTarget(id)} cannot be used: ${problem}.`, {
    hint: `Use letters, digits and _ only (for example ${JSON.stringify(id.replace(/[^A-Za-z0-9_]+/g, "_").replace(/^_+|_+$/g, "").slice(0, MAX_REVISION_ID) || "add_users")}), or leave out --rev-id for a random one.`,
    details: { revision: shortTarget(id) },
  });
}

/**
 * A revision's message names its file and is what `history` shows: an empty or blank one (an
 * unset shell variable in `-m "$MSG"`) would leave both saying nothing.
 */
export function checkMessage(message: string, command: string): void {
  if (message.trim() !== "") return;
  throw new RetortError("RETORT_USAGE", `retort ${command} needs a message: -m is ${message === "" ? "empty" : "only whitespace"}.`, {
    hint: `Say what the revision does, e.g. retort ${command} -m "${command === "merge" ? "merge billing into main" : "add user preferences"}"; it names the file and shows in \`retort history\`.`,
  });
}

/** A branch label must read back as a target: no `@`, `:` or spaces, not a keyword, unique. */
export function checkBranchLabel(label: string, taken: (label: string) => string | undefined): void {
  const owner = taken(label);
  const problem =
    label === ""
      ? "it is empty"
      : label.length > MAX_REVISION_ID
        ? `it is ${label.length} characters long (at most ${MAX_REVISION_ID})`
        : !/^[A-Za-z0-9_.-]+$/.test(label)
          ? `it contains ${describeCharacters(label.match(/[^A-Za-z0-9_.-]/g)!)}`
          : TARGET_WORDS.has(label)
            ? "it is a target keyword"
            : owner
              ? `revision ${owner} already uses it`
              : undefined;
  if (!problem) return;
  throw new RetortError("RETORT_INVALID_REVISION_ID", `Branch label ${quoteTarget(label)} cannot be used: ${problem}.`, {
    hint: "Use letters, digits, _, - and . only, a label no other revision carries, and no revision id.",
    details: { branchLabel: shortTarget(label) },
  });
}

function describeCharacters(characters: string[]): string {
  const names = [...new Set(characters)].map((c) => (c === " " ? "a space" : /\s/.test(c) ? "a line break or tab" : JSON.stringify(c)));
  return names.join(", ");
}

/** A new random revision id: 12 lowercase hex characters (48 bits, like Alembic's). */
export function newRevisionId(): string {
  return randomBytes(6).toString("hex");
}

/** `<yyyymmddHHMMSS>_<slug>.ts`, the timestamp in UTC so the name is the same on every machine. */
export function migrationFileName(createdAt: Date, message: string): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp =
    String(createdAt.getUTCFullYear()).padStart(4, "0") +
    pad(createdAt.getUTCMonth() + 1) +
    pad(createdAt.getUTCDate()) +
    pad(createdAt.getUTCHours()) +
    pad(createdAt.getUTCMinutes()) +
    pad(createdAt.getUTCSeconds());
  return `${stamp}_${slug(message)}.ts`;
}

/** lowercase a-z, 0-9 and _, at most 40 characters; accents dropped ("Café" → "cafe"). */
function slug(message: string): string {
  const text = message
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 40)
    .replace(/_+$/, "");
  return text === "" ? "migration" : text;
}
