/**
 * Reads the header of a migration file statically: the literal fields at the top of its
 * `defineMigration({ ... })` call, before `upgrade`/`downgrade`. Listing, graph and "is there
 * anything to migrate" commands use this instead of loading modules, which is what keeps them fast
 * at thousands of revisions (no TS parser, no import: a small scanner over the first few hundred
 * characters of each file).
 */
import { hash } from "node:crypto";
import { readFileSync } from "node:fs";
import { RetortError } from "../errors.js";
import type { RevisionHeader } from "./migration.js";
import { NOT_LITERAL, ScanError, Scanner, type Literal } from "./scanner.js";

/** A revision header as read from its file, with where it came from and the file's checksum. */
export type ScriptHeader = RevisionHeader & {
  /** The file the header was read from (as given to readHeader). */
  path: string;
  /** sha256 (hex) of the file content, line endings normalised to LF. */
  checksum: string;
};

/** What a header looks like; shown in every "bad migration file" hint. */
export const HEADER_SHAPE = `export default defineMigration({
  revision: "0c3f9a2b7d1e",
  parents: ["9b2e4d1a0f3c"],             // [] for a base, two or more for a merge
  message: "add user preferences",
  createdAt: "2026-11-21T14:30:00.000Z",
  branchLabels: ["billing"],             // optional
  dependsOn: ["5d8e7f6a1b2c"],           // optional
  transactional: false,                  // optional; default true
  async upgrade(op) { … },
  async downgrade(op) { … },
});`;

/** Characters a revision id cannot contain: they are target syntax (`a:b`, `x@head`, `+1`, `-1`, lists). */
const BAD_ID_CHARS = /[\s@:,+\-]/;
/** Characters a branch label cannot contain. */
const BAD_LABEL_CHARS = /[\s@:,]/;
/** Words that already mean something as a target. */
export const RESERVED_TARGETS: ReadonlySet<string> = new Set(["head", "heads", "base", "current"]);

/** The sha256 checksum of a migration file's content, CRLF normalised to LF (git on Windows). */
export function fileChecksum(content: string): string {
  const text = content.includes("\r\n") ? content.replace(/\r\n/g, "\n") : content;
  return hash("sha256", text, "hex");
}

/** Reads a migration file and parses its header. Throws RETORT_BAD_MIGRATION_FILE naming the file. */
export function readHeader(path: string): ScriptHeader {
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch (error) {
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `Cannot read migration file ${path}: ${(error as Error).message}`, {
      hint: "Check that the file exists and is readable.",
      details: { file: path },
      cause: error,
    });
  }
  const header = parseHeader(content, path);
  // Spelled out (not a spread): one fixed object shape, built on V8's fast path.
  return {
    revision: header.revision,
    parents: header.parents,
    message: header.message,
    createdAt: header.createdAt,
    branchLabels: header.branchLabels,
    dependsOn: header.dependsOn,
    transactional: header.transactional,
    replaces: header.replaces,
    path,
    checksum: fileChecksum(content),
  };
}

type FieldName = keyof RevisionHeader;

/** How each field is written; shown when one is missing or malformed. */
const EXAMPLES: Record<FieldName, string> = {
  revision: `revision: "0c3f9a2b7d1e"`,
  parents: `parents: ["9b2e4d1a0f3c"] (or [] for a base revision)`,
  message: `message: "add user preferences"`,
  createdAt: `createdAt: "2026-11-21T14:30:00.000Z"`,
  branchLabels: `branchLabels: ["billing"]`,
  dependsOn: `dependsOn: ["5d8e7f6a1b2c"]`,
  transactional: `transactional: false`,
  replaces: `replaces: ["5d8e7f6a1b2c", "9b2e4d1a0f3c"]`,
};

/** The header field a property key names, if any (a switch: cheaper than a keyed lookup per key). */
function headerField(key: string): FieldName | undefined {
  switch (key) {
    case "revision":
    case "parents":
    case "message":
    case "createdAt":
    case "branchLabels":
    case "dependsOn":
    case "transactional":
    case "replaces":
      return key;
    default:
      return undefined;
  }
}

/** Parses the header out of a migration file's source. `path` is only used in error messages. */
export function parseHeader(source: string, path: string): RevisionHeader {
  return new HeaderReader(source, path).read();
}

/** One pass over one file: find the call, read the fields, check what is required. */
class HeaderReader {
  private readonly scanner: Scanner;
  private readonly values: Partial<RevisionHeader> = {};

  constructor(
    source: string,
    private readonly path: string,
  ) {
    this.scanner = new Scanner(source);
  }

  read(): RevisionHeader {
    try {
      if (!this.findCall()) this.fail("no `export default defineMigration({ ... })` call found", 0);
      this.readFields();
    } catch (error) {
      if (error instanceof ScanError) this.fail(error.message, error.offset);
      throw error;
    }
    const { revision, parents, message, createdAt, branchLabels, dependsOn, transactional, replaces } = this.values;
    if (revision === undefined) this.missing("revision");
    if (parents === undefined) this.missing("parents");
    if (message === undefined) this.missing("message");
    if (createdAt === undefined) this.missing("createdAt");
    return {
      revision: revision!,
      parents: parents!,
      message: message!,
      createdAt: createdAt!,
      branchLabels: branchLabels ?? [],
      dependsOn: dependsOn ?? [],
      transactional: transactional ?? true,
      replaces,
    };
  }

  /**
   * Moves the scanner just inside the `{` of `defineMigration({` (also `defineMigration<Op>({`),
   * skipping comments and strings so a mention in a comment or the import line does not count.
   */
  private findCall(): boolean {
    const scanner = this.scanner;
    for (;;) {
      scanner.skipTrivia();
      if (scanner.done) return false;
      const ch = scanner.peek();
      if (ch === '"' || ch === "'") {
        scanner.string();
      } else if (ch === "`") {
        scanner.skipTemplate();
      } else {
        const word = scanner.identifier();
        if (word === "") {
          scanner.pos++;
        } else if (word === "defineMigration") {
          const after = scanner.pos;
          if (scanner.eat("<")) scanner.skipTypeArguments();
          if (scanner.eat("(") && scanner.eat("{")) return true;
          scanner.pos = after;
        }
      }
    }
  }

  /** Reads properties until `upgrade`/`downgrade`, a method, a spread or the end of the object. */
  private readFields(): void {
    const scanner = this.scanner;
    for (;;) {
      scanner.skipTrivia();
      const keyAt = scanner.pos;
      const ch = scanner.peek();
      if (ch === "}" || ch === "" || ch === "[" || ch === "." || ch === "*") return; // end, computed key, spread, generator
      const key = ch === '"' || ch === "'" ? scanner.string() : scanner.identifier();
      if (key === "") this.fail(`unexpected ${JSON.stringify(ch)} in the defineMigration({ ... }) object`, keyAt);
      if (key === "upgrade" || key === "downgrade") return;
      const field = headerField(key);
      scanner.skipTrivia();
      const next = scanner.peek();
      if (next === "(" || next === "<") return; // a method: the header part is over
      if (next !== ":") {
        if ((key === "async" || key === "get" || key === "set") && next !== "," && next !== "}") return;
        if (field) this.fail(`\`${key}\` must be written as a literal value; expected ${EXAMPLES[field]}`, keyAt, field);
        scanner.eat(","); // a shorthand property the header does not use
        continue;
      }
      scanner.pos++; // the colon
      if (field) {
        if (this.values[field] !== undefined) this.fail(`\`${key}\` is given twice`, keyAt, field);
        this.readField(field);
      } else {
        scanner.skipValue();
      }
      if (!scanner.eat(",")) {
        scanner.skipTrivia();
        if (scanner.peek() !== "}") this.fail(`expected , or } after \`${key}\``, scanner.pos);
      }
    }
  }

  private readField(field: FieldName): void {
    const scanner = this.scanner;
    scanner.skipTrivia();
    const at = scanner.pos;
    const value = scanner.literal();
    if (value === NOT_LITERAL) this.wrong(field, at, "must be a literal value (headers are read without running the file)");
    const values = this.values;
    switch (field) {
      case "revision":
        values.revision = this.id(this.text(value, field, at), field, at);
        return;
      case "message":
        values.message = this.text(value, field, at);
        return;
      case "createdAt":
        values.createdAt = this.text(value, field, at);
        if (Number.isNaN(Date.parse(values.createdAt))) this.wrong(field, at, `is not an ISO 8601 timestamp: ${JSON.stringify(value)}`);
        return;
      case "transactional":
        if (typeof value !== "boolean") this.wrong(field, at, "must be true or false");
        values.transactional = value as boolean;
        return;
      case "parents":
      case "dependsOn":
      case "replaces":
        if (value === null && field === "parents") this.wrong(field, at, "cannot be null (write [] for a base revision)");
        values[field] = this.list(value, field, at).map((item) => this.id(item, field, at));
        return;
      case "branchLabels":
        values.branchLabels = this.list(value, field, at).map((item) => this.label(item, field, at));
        return;
    }
  }

  private text(value: Literal | typeof NOT_LITERAL, field: FieldName, at: number): string {
    return typeof value === "string" ? value : this.wrong(field, at, "must be a string");
  }

  private list(value: Literal | typeof NOT_LITERAL, field: FieldName, at: number): string[] {
    if (!Array.isArray(value)) return this.wrong(field, at, "must be an array of strings");
    for (const item of value) if (typeof item !== "string") this.wrong(field, at, "must be an array of strings");
    return value as string[];
  }

  private id(id: string, field: FieldName, at: number): string {
    if (id === "") this.wrong(field, at, "cannot be empty");
    if (BAD_ID_CHARS.test(id)) this.wrong(field, at, `contains a character not allowed in a revision id (whitespace @ : , + -): ${JSON.stringify(id)}`);
    if (RESERVED_TARGETS.has(id)) this.wrong(field, at, `cannot be ${JSON.stringify(id)}, which is a reserved target name`);
    return id;
  }

  private label(label: string, field: FieldName, at: number): string {
    if (label === "") this.wrong(field, at, "cannot contain an empty label");
    if (BAD_LABEL_CHARS.test(label)) this.wrong(field, at, `contains a character not allowed in a branch label (whitespace @ : ,): ${JSON.stringify(label)}`);
    if (RESERVED_TARGETS.has(label)) this.wrong(field, at, `cannot use ${JSON.stringify(label)}, which is a reserved target name`);
    return label;
  }

  private missing(field: FieldName): never {
    return this.fail(`the header has no \`${field}\` field; expected ${EXAMPLES[field]}`, this.scanner.pos, field);
  }

  private wrong(field: FieldName, at: number, why: string): never {
    return this.fail(`\`${field}\` ${why}; expected ${EXAMPLES[field]}`, at, field);
  }

  private fail(what: string, offset: number, field?: FieldName): never {
    const { line, column } = this.scanner.lineColumn(offset);
    throw new RetortError("RETORT_BAD_MIGRATION_FILE", `${this.path}:${line}:${column}: ${what}`, {
      hint: `Migration headers are literal values at the top of defineMigration({ ... }), before upgrade/downgrade, so they can be read without running the file:\n${HEADER_SHAPE}`,
      details: { file: this.path, line, column, ...(field === undefined ? {} : { field }) },
    });
  }
}
