/**
 * A small reader of the CREATE TABLE and CREATE INDEX text SQLite keeps in sqlite_schema, for what
 * its pragmas do not report: constraint names, CHECK expressions, index expressions and partial
 * predicates, defaults as written (a parenthesised expression vs a literal), the `-- comment`
 * lines and the block-comment annotations Retort's DDL writes (see ddl.ts).
 *
 * It understands SQLite's lexical rules (quoted identifiers "x", [x] and `x`, 'strings' with ''
 * escapes, X'..' blobs, -- and block comments, nested parentheses) and the parts of the grammar it
 * needs; anything else is skipped rather than rejected, so hand-written tables still read.
 * Expressions are returned as the exact text between their delimiters.
 */

export type TokenKind = "word" | "ident" | "string" | "blob" | "number" | "punct" | "line-comment" | "block-comment";

export interface Token {
  kind: TokenKind;
  /** Source text of the token. */
  text: string;
  start: number;
  end: number;
}

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DIGIT = /[0-9]/;

/** Every token of `sql`, comments included, whitespace left out. Unterminated quotes run to the end. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number) => {
    tokens.push({ kind, text: sql.slice(start, end), start, end });
    i = end;
  };
  /** End of a quoted run starting at `start` (the opening quote), where a doubled `close` is an escaped one. */
  const quoted = (start: number, close: string, doubling: boolean): number => {
    let j = start + 1;
    while (j < sql.length) {
      if (sql[j] === close) {
        if (doubling && sql[j + 1] === close) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      j++;
    }
    return sql.length;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "-" && sql[i + 1] === "-") {
      const newline = sql.indexOf("\n", i);
      push("line-comment", i, newline === -1 ? sql.length : newline);
    } else if (ch === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      push("block-comment", i, close === -1 ? sql.length : close + 2);
    } else if (ch === "'") {
      push("string", i, quoted(i, "'", true));
    } else if (ch === '"') {
      push("ident", i, quoted(i, '"', true));
    } else if (ch === "`") {
      push("ident", i, quoted(i, "`", true));
    } else if (ch === "[") {
      push("ident", i, quoted(i, "]", false));
    } else if ((ch === "x" || ch === "X") && sql[i + 1] === "'") {
      push("blob", i, quoted(i + 1, "'", false));
    } else if (DIGIT.test(ch) || (ch === "." && DIGIT.test(sql[i + 1] ?? ""))) {
      let j = i;
      if (ch === "0" && (sql[i + 1] === "x" || sql[i + 1] === "X")) {
        j = i + 2;
        while (j < sql.length && /[0-9a-fA-F_]/.test(sql[j]!)) j++;
      } else {
        while (j < sql.length && /[0-9_]/.test(sql[j]!)) j++;
        if (sql[j] === ".") {
          j++;
          while (j < sql.length && /[0-9_]/.test(sql[j]!)) j++;
        }
        if ((sql[j] === "e" || sql[j] === "E") && /[0-9]/.test(sql[j + 1] === "+" || sql[j + 1] === "-" ? (sql[j + 2] ?? "") : (sql[j + 1] ?? ""))) {
          j += sql[j + 1] === "+" || sql[j + 1] === "-" ? 2 : 1;
          while (j < sql.length && DIGIT.test(sql[j]!)) j++;
        }
      }
      push("number", i, j);
    } else if (WORD_START.test(ch)) {
      let j = i + 1;
      while (j < sql.length && WORD_PART.test(sql[j]!)) j++;
      push("word", i, j);
    } else {
      const two = sql.slice(i, i + 2);
      const three = sql.slice(i, i + 3);
      if (three === "->>") push("punct", i, i + 3);
      else if (["||", "<=", ">=", "==", "!=", "<>", "<<", ">>", "->"].includes(two)) push("punct", i, i + 2);
      else push("punct", i, i + 1);
    }
  }
  return tokens;
}

export function isComment(token: Token): boolean {
  return token.kind === "line-comment" || token.kind === "block-comment";
}

/** The name a word, quoted identifier or string token stands for. */
export function identifierValue(token: Token): string {
  const { text } = token;
  if (token.kind === "ident") {
    const open = text[0]!;
    const close = open === "[" ? "]" : open;
    const inner = text.endsWith(close) && text.length > 1 ? text.slice(1, -1) : text.slice(1);
    return open === "[" ? inner : inner.replaceAll(close + close, close);
  }
  if (token.kind === "string") return stringValue(token);
  return text;
}

export function stringValue(token: Token): string {
  const inner = token.text.length > 1 && token.text.endsWith("'") ? token.text.slice(1, -1) : token.text.slice(1);
  return inner.replaceAll("''", "'");
}

function isWord(token: Token | undefined, ...words: string[]): boolean {
  return token !== undefined && token.kind === "word" && words.includes(token.text.toUpperCase());
}

function isPunct(token: Token | undefined, text: string): boolean {
  return token !== undefined && token.kind === "punct" && token.text === text;
}

function isName(token: Token | undefined): token is Token {
  return token !== undefined && (token.kind === "word" || token.kind === "ident" || token.kind === "string");
}

/** Index of the `)` closing the `(` at `open` in `tokens` (comment-free), or tokens.length. */
function closingParen(tokens: readonly Token[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (isPunct(tokens[i], "(")) depth++;
    else if (isPunct(tokens[i], ")") && --depth === 0) return i;
  }
  return tokens.length;
}

/** Comment-free tokens split at top-level commas. */
function splitTopLevel(tokens: readonly Token[]): Token[][] {
  const parts: Token[][] = [];
  let current: Token[] = [];
  let depth = 0;
  for (const token of tokens) {
    if (isPunct(token, "(")) depth++;
    else if (isPunct(token, ")")) depth--;
    if (depth === 0 && isPunct(token, ",")) {
      parts.push(current);
      current = [];
    } else {
      current.push(token);
    }
  }
  if (current.length > 0 || parts.length > 0) parts.push(current);
  return parts;
}

// ---------------------------------------------------------------------------------------------
// CREATE TABLE

export type ParsedAction = "cascade" | "restrict" | "no action" | "set null" | "set default";

export interface ParsedForeignKey {
  name?: string;
  columns: string[];
  refTable: string;
  /** Absent when the clause names only the table (it then means the parent's primary key). */
  refColumns?: string[];
  onDelete: ParsedAction;
  onUpdate: ParsedAction;
  /** `DEFERRABLE [INITIALLY IMMEDIATE]` → "immediate", `DEFERRABLE INITIALLY DEFERRED` → "deferred". */
  deferrable?: "immediate" | "deferred";
}

export interface ParsedCheck {
  name?: string;
  expression: string;
}

export interface ParsedDefault {
  /** The text after DEFAULT: the inside of the parentheses when `parenthesized`. */
  text: string;
  parenthesized: boolean;
  /** The literal's tokens when not parenthesized (a sign and a number, or one token). */
  tokens: Token[];
}

export interface ParsedColumn {
  name: string;
  /** Inline PRIMARY KEY, with its constraint name and order. */
  primaryKey?: { name?: string; order?: "asc" | "desc"; autoincrement?: boolean };
  uniques: Array<{ name?: string }>;
  checks: ParsedCheck[];
  foreignKeys: ParsedForeignKey[];
  default?: ParsedDefault;
  /** `COLLATE <name>`: the collation's name as written (unquoted). */
  collation?: string;
  /** `[GENERATED ALWAYS] AS (expr) [VIRTUAL|STORED]`: the text inside the parentheses. */
  generated?: { expression: string };
  /** `-- ` comment text on the column's line (after its comma), without the marker. */
  lineComments: string[];
  /** Block comment bodies in or after the definition on its line, trimmed. */
  blockComments: string[];
}

export interface ParsedTable {
  columns: ParsedColumn[];
  primaryKey?: { name?: string; columns: string[] };
  uniques: Array<{ name?: string; columns: string[] }>;
  checks: ParsedCheck[];
  foreignKeys: ParsedForeignKey[];
  /** `-- ` lines before the first column. */
  comments: string[];
  /**
   * Clauses that change behaviour but that the snapshot has no place for (ON CONFLICT, DEFERRABLE,
   * COLLATE inside a key's column list), described for a message: a table rebuild cannot carry them.
   */
  uncarried: string[];
}

interface Item {
  tokens: Token[];
  start: number;
  end: number;
  column?: ParsedColumn;
}

/** Reads CREATE TABLE text; a table without a column list (CREATE TABLE … AS SELECT) gives an empty result. */
export function parseCreateTable(sql: string): ParsedTable {
  const result: ParsedTable = { columns: [], uniques: [], checks: [], foreignKeys: [], comments: [], uncarried: [] };
  const all = tokenize(sql);
  const tokens = all.filter((token) => !isComment(token));
  const open = tokens.findIndex((token) => isPunct(token, "("));
  if (open === -1 || tokens.slice(0, open).some((token) => isWord(token, "AS"))) return result;
  const close = closingParen(tokens, open);
  const bodyStart = tokens[open]!.end;
  const bodyEnd = tokens[close]?.start ?? sql.length;

  const items: Item[] = splitTopLevel(tokens.slice(open + 1, close))
    .filter((part) => part.length > 0)
    .map((part) => ({ tokens: part, start: part[0]!.start, end: part[part.length - 1]!.end }));
  for (const item of items) {
    const first = item.tokens[0]!;
    if (isWord(first, "CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN")) parseTableConstraint(sql, item.tokens, result);
    else {
      item.column = parseColumn(sql, item.tokens, result.uncarried);
      result.columns.push(item.column);
    }
  }

  // Comments: inside a definition, or after it (and its comma) on the same line, belong to it;
  // `-- ` lines before the first definition are the table's.
  for (const comment of all) {
    if (!isComment(comment) || comment.start < bodyStart || comment.start >= bodyEnd) continue;
    let owner: Item | undefined;
    let before = true;
    for (const item of items) {
      if (item.start <= comment.start && comment.end <= item.end) {
        owner = item;
        break;
      }
      if (item.end <= comment.start) {
        before = false;
        owner = sql.slice(item.end, comment.start).includes("\n") ? undefined : item;
      }
    }
    if (owner?.column) {
      if (comment.kind === "line-comment") owner.column.lineComments.push(lineCommentText(comment.text));
      else owner.column.blockComments.push(blockCommentText(comment.text));
    } else if (owner === undefined && before && comment.kind === "line-comment") {
      result.comments.push(lineCommentText(comment.text));
    }
  }
  return result;
}

function lineCommentText(text: string): string {
  return text.replace(/^--[ ]?/, "").replace(/\r$/, "");
}

function blockCommentText(text: string): string {
  return text.replace(/^\/\*/, "").replace(/\*\/$/, "").trim();
}

/** `(a, b DESC, c COLLATE x)` at `open` → the column names, and the index after the `)`; a COLLATE is noted in `uncarried`. */
function nameList(tokens: readonly Token[], open: number, uncarried?: string[]): { names: string[]; next: number } {
  if (!isPunct(tokens[open], "(")) return { names: [], next: open };
  const close = closingParen(tokens, open);
  const parts = splitTopLevel(tokens.slice(open + 1, close)).filter((part) => part.length > 0 && isName(part[0]));
  const names = parts.map((part) => identifierValue(part[0]!));
  for (const part of parts) {
    const collate = part.findIndex((token) => isWord(token, "COLLATE"));
    if (collate !== -1) uncarried?.push(`COLLATE ${part[collate + 1]?.text ?? ""} on "${identifierValue(part[0]!)}" in a key's column list`);
  }
  return { names, next: close + 1 };
}

/** The exact text inside the parentheses opening at `open`, and the index after the `)`. */
function parenthesized(sql: string, tokens: readonly Token[], open: number): { text: string; next: number } {
  const close = closingParen(tokens, open);
  const end = tokens[close]?.start ?? sql.length;
  return { text: sql.slice(tokens[open]!.end, end), next: close + 1 };
}

const ACTIONS: Record<string, ParsedAction> = {
  CASCADE: "cascade",
  RESTRICT: "restrict",
  "NO ACTION": "no action",
  "SET NULL": "set null",
  "SET DEFAULT": "set default",
};

/** `REFERENCES t [(cols)] [ON DELETE|UPDATE action | MATCH x | [NOT] DEFERRABLE [INITIALLY …]]…` at `at`. */
function parseReferences(tokens: readonly Token[], at: number, columns: string[], name: string | undefined): { fk: ParsedForeignKey; next: number } {
  let i = at + 1;
  const fk: ParsedForeignKey = { columns, refTable: isName(tokens[i]) ? identifierValue(tokens[i]!) : "", onDelete: "no action", onUpdate: "no action" };
  if (name !== undefined) fk.name = name;
  i++;
  if (isPunct(tokens[i], "(")) {
    const list = nameList(tokens, i);
    fk.refColumns = list.names;
    i = list.next;
  }
  for (;;) {
    const token = tokens[i];
    if (isWord(token, "ON") && isWord(tokens[i + 1], "DELETE", "UPDATE")) {
      const event = tokens[i + 1]!.text.toUpperCase();
      const one = tokens[i + 2]?.text.toUpperCase() ?? "";
      const two = `${one} ${tokens[i + 3]?.text.toUpperCase() ?? ""}`;
      const action = ACTIONS[two] ?? ACTIONS[one];
      if (action !== undefined) {
        if (event === "DELETE") fk.onDelete = action;
        else fk.onUpdate = action;
      }
      i += ACTIONS[two] !== undefined ? 4 : 3;
    } else if (isWord(token, "MATCH")) {
      i += 2;
    } else if (isWord(token, "NOT") && isWord(tokens[i + 1], "DEFERRABLE")) {
      // SQLite checks NOT DEFERRABLE [INITIALLY DEFERRED] at each statement, like Postgres' default.
      delete fk.deferrable;
      i += 2;
      if (isWord(tokens[i], "INITIALLY")) i += 2;
    } else if (isWord(token, "DEFERRABLE")) {
      // PRAGMA foreign_key_list does not say, so the CREATE TABLE text is the only record of it.
      fk.deferrable = isWord(tokens[i + 1], "INITIALLY") && isWord(tokens[i + 2], "DEFERRED") ? "deferred" : "immediate";
      i += isWord(tokens[i + 1], "INITIALLY") ? 3 : 1;
    } else if (isWord(token, "INITIALLY")) {
      i += 2;
    } else {
      return { fk, next: i };
    }
  }
}

/** Skips `ON CONFLICT <resolution>` at `i`, noting it in `uncarried` as a clause of `what`. */
function skipConflict(tokens: readonly Token[], i: number, uncarried: string[], what: string): number {
  if (!(isWord(tokens[i], "ON") && isWord(tokens[i + 1], "CONFLICT"))) return i;
  uncarried.push(`ON CONFLICT ${tokens[i + 2]?.text.toUpperCase() ?? ""} on ${what}`);
  return i + 3;
}

function parseTableConstraint(sql: string, tokens: Token[], table: ParsedTable): void {
  let i = 0;
  let name: string | undefined;
  if (isWord(tokens[0], "CONSTRAINT")) {
    name = isName(tokens[1]) ? identifierValue(tokens[1]) : undefined;
    i = 2;
  }
  const named = <T extends object>(value: T): T & { name?: string } => (name === undefined ? value : { ...value, name });
  const token = tokens[i];
  if (isWord(token, "PRIMARY") && isWord(tokens[i + 1], "KEY")) {
    const list = nameList(tokens, i + 2, table.uncarried);
    skipConflict(tokens, list.next, table.uncarried, "the primary key");
    table.primaryKey = named({ columns: list.names });
  } else if (isWord(token, "UNIQUE")) {
    const list = nameList(tokens, i + 1, table.uncarried);
    skipConflict(tokens, list.next, table.uncarried, `the unique constraint on ${list.names.map((column) => `"${column}"`).join(", ")}`);
    table.uniques.push(named({ columns: list.names }));
  } else if (isWord(token, "CHECK") && isPunct(tokens[i + 1], "(")) {
    table.checks.push(named({ expression: parenthesized(sql, tokens, i + 1).text }));
  } else if (isWord(token, "FOREIGN") && isWord(tokens[i + 1], "KEY")) {
    const list = nameList(tokens, i + 2);
    if (isWord(tokens[list.next], "REFERENCES")) table.foreignKeys.push(parseReferences(tokens, list.next, list.names, name).fk);
  }
}

const COLUMN_CONSTRAINT_START = ["CONSTRAINT", "PRIMARY", "NOT", "NULL", "UNIQUE", "CHECK", "DEFAULT", "COLLATE", "REFERENCES", "GENERATED", "AS"];

function parseColumn(sql: string, tokens: Token[], uncarried: string[]): ParsedColumn {
  const column: ParsedColumn = { name: identifierValue(tokens[0]!), uniques: [], checks: [], foreignKeys: [], lineComments: [], blockComments: [] };
  const on = (what: string) => `${what} of column "${column.name}"`;
  let i = 1;
  // The declared type (pragma table_xinfo reports it): names, and numbers in parentheses.
  while (i < tokens.length && !isWord(tokens[i], ...COLUMN_CONSTRAINT_START)) {
    i = isPunct(tokens[i], "(") ? closingParen(tokens, i) + 1 : i + 1;
  }
  let name: string | undefined;
  while (i < tokens.length) {
    const token = tokens[i]!;
    const pending = name;
    name = undefined;
    if (isWord(token, "CONSTRAINT")) {
      name = isName(tokens[i + 1]) ? identifierValue(tokens[i + 1]!) : undefined;
      i += 2;
    } else if (isWord(token, "PRIMARY") && isWord(tokens[i + 1], "KEY")) {
      i += 2;
      const pk: NonNullable<ParsedColumn["primaryKey"]> = {};
      if (pending !== undefined) pk.name = pending;
      if (isWord(tokens[i], "ASC", "DESC")) {
        pk.order = tokens[i]!.text.toLowerCase() as "asc" | "desc";
        i++;
      }
      i = skipConflict(tokens, i, uncarried, on("the primary key"));
      if (isWord(tokens[i], "AUTOINCREMENT")) {
        pk.autoincrement = true;
        i++;
      }
      column.primaryKey = pk;
    } else if (isWord(token, "NOT") && isWord(tokens[i + 1], "NULL")) {
      i = skipConflict(tokens, i + 2, uncarried, on("NOT NULL"));
    } else if (isWord(token, "NULL")) {
      i = skipConflict(tokens, i + 1, uncarried, on("NULL"));
    } else if (isWord(token, "UNIQUE")) {
      column.uniques.push(pending === undefined ? {} : { name: pending });
      i = skipConflict(tokens, i + 1, uncarried, on("UNIQUE"));
    } else if (isWord(token, "CHECK") && isPunct(tokens[i + 1], "(")) {
      const { text, next } = parenthesized(sql, tokens, i + 1);
      column.checks.push(pending === undefined ? { expression: text } : { name: pending, expression: text });
      i = next;
    } else if (isWord(token, "DEFAULT")) {
      const next = tokens[i + 1];
      if (isPunct(next, "(")) {
        const { text, next: after } = parenthesized(sql, tokens, i + 1);
        column.default = { text, parenthesized: true, tokens: [] };
        i = after;
      } else if ((isPunct(next, "-") || isPunct(next, "+")) && tokens[i + 2] !== undefined) {
        const literal = [next!, tokens[i + 2]!];
        column.default = { text: sql.slice(next!.start, literal[1]!.end), parenthesized: false, tokens: literal };
        i += 3;
      } else if (next !== undefined) {
        column.default = { text: next.text, parenthesized: false, tokens: [next] };
        i += 2;
      } else {
        i += 1;
      }
    } else if (isWord(token, "COLLATE")) {
      if (isName(tokens[i + 1])) column.collation = identifierValue(tokens[i + 1]!);
      i += 2;
    } else if (isWord(token, "REFERENCES")) {
      const { fk, next } = parseReferences(tokens, i, [column.name], pending);
      column.foreignKeys.push(fk);
      i = next;
    } else if (isWord(token, "GENERATED", "AS")) {
      // GENERATED ALWAYS AS (expr) [STORED|VIRTUAL]: not a default (pragma table_xinfo tells which kind).
      while (i < tokens.length && !isPunct(tokens[i], "(")) i++;
      const { text, next } = parenthesized(sql, tokens, i);
      column.generated = { expression: text };
      i = next;
      if (isWord(tokens[i], "STORED", "VIRTUAL")) i++;
    } else {
      i++;
    }
  }
  return column;
}

// ---------------------------------------------------------------------------------------------
// CREATE INDEX

export interface ParsedIndexElement {
  /** Set when the element is a lone column name. */
  column?: string;
  /** The element's text without its order (the inside of the parentheses for `(expr)`). */
  expression: string;
  order?: "asc" | "desc";
}

export interface ParsedIndex {
  unique: boolean;
  elements: ParsedIndexElement[];
  where?: string;
}

export function parseCreateIndex(sql: string): ParsedIndex | undefined {
  const tokens = tokenize(sql).filter((token) => !isComment(token));
  const on = tokens.findIndex((token) => isWord(token, "ON"));
  const open = tokens.findIndex((token, i) => i > on && isPunct(token, "("));
  if (on === -1 || open === -1) return undefined;
  const unique = tokens.slice(0, on).some((token) => isWord(token, "UNIQUE"));
  const close = closingParen(tokens, open);
  const elements = splitTopLevel(tokens.slice(open + 1, close))
    .filter((part) => part.length > 0)
    .map((part): ParsedIndexElement => {
      let last = part.length - 1;
      let order: "asc" | "desc" | undefined;
      if (part.length > 1 && isWord(part[last], "ASC", "DESC")) {
        order = part[last]!.text.toLowerCase() as "asc" | "desc";
        last--;
      }
      const body = part.slice(0, last + 1);
      let element: ParsedIndexElement;
      if (body.length === 1 && (body[0]!.kind === "ident" || body[0]!.kind === "word")) {
        element = { column: identifierValue(body[0]!), expression: body[0]!.text };
      } else if (isPunct(body[0], "(") && closingParen(body, 0) === body.length - 1) {
        element = { expression: sql.slice(body[0]!.end, body[body.length - 1]!.start) };
      } else {
        element = { expression: sql.slice(body[0]!.start, body[body.length - 1]!.end) };
      }
      if (order !== undefined) element.order = order;
      return element;
    });
  const index: ParsedIndex = { unique, elements };
  const where = tokens[close + 1];
  if (isWord(where, "WHERE")) {
    const rest = tokens.slice(close + 2).filter((token) => !isPunct(token, ";"));
    if (rest.length > 0) index.where = sql.slice(rest[0]!.start, rest[rest.length - 1]!.end);
  }
  return index;
}
