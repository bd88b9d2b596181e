/**
 * Normal forms, so equal things compare equal. The bar is no false positives: a model's
 * `expires_at IS NULL OR expires_at > created_at` and Postgres' rendering of it,
 * `((expires_at IS NULL) OR (expires_at > created_at))`, must normalize to the same text.
 *
 * `normalizeExpression` tokenizes SQL, parses it with Postgres' operator precedence and prints it
 * back with minimal parentheses, lowercased keywords and unquoted identifiers, and with the
 * rewrites Postgres makes when it stores an expression undone:
 *
 * - redundant casts dropped: string literals cast to any type (`'x'::text`, `'b'::mood`),
 *   numeric literals cast to numeric types (`(2000)::numeric`, `'-1'::integer`), columns and
 *   arrays cast to text/varchar (`(nickname)::text`, `(ARRAY[…])::text[]`);
 * - `x = ANY (ARRAY[a, b])` → `x in (a, b)`, `x <> ALL (ARRAY[…])` → `x not in (…)`, and a
 *   one-element IN list → `=` / `<>` (Postgres stores IN that way);
 * - `x BETWEEN a AND b` → `x >= a and x <= b` (NOT BETWEEN → `x < a or x > b`);
 * - `~~`/`~~*` → like/ilike, `!=` and `==` → `<>` and `=`;
 * - AND/OR chains flattened, `CURRENT_TIMESTAMP` → `now()`, `EXTRACT(f FROM x)` →
 *   `date_part('f', x)`, `SUBSTRING(x FROM a FOR b)` → `substring(x, a, b)`, type aliases unified
 *   (`character varying` → varchar, `int4` → integer, `timestamp with time zone` → timestamptz…).
 *
 * Anything the parser does not understand falls back to a textual normal form (case and
 * whitespace outside literals, needless identifier quotes); neither function ever throws.
 */
import type { ColumnSchema, ColumnType, DefaultValue, JsonValue } from "../schema/snapshot.js";
import { parseArrayText } from "../dialects/postgres/codecs.js";
import { parseJsonDigits } from "../dialects/sqlite/values.js";
import { readQuotedIdentifier } from "../dialects/sql-text.js";
import { canonicalInet } from "../model/inet.js";

// ---------------------------------------------------------------------------------------------
// tokens

type Token =
  | { k: "num"; v: string }
  | { k: "str"; v: string }
  /** A bare word, lowercased (keywords and identifiers alike). */
  | { k: "word"; v: string }
  /** A quoted identifier, as written between the quotes. */
  | { k: "qid"; v: string }
  | { k: "op"; v: string }
  | { k: "punct"; v: "(" | ")" | "," | "[" | "]" | "." };

class SqlSyntaxError extends Error {}

const OPERATORS = [
  "!~~*", "->>", "#>>", "!~~", "~~*", "!~*",
  "::", "->", "#>", "@>", "<@", "<>", "!=", "==", "<=", ">=", "||", "~~", "!~", "~*", "?|", "?&", "&&", "<<", ">>", "#-", "@@",
  "+", "-", "*", "/", "%", "^", "<", ">", "=", "~", "?", "&", "|", "#", "@",
];

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      if (end < 0) throw new SqlSyntaxError("unterminated comment");
      i = end + 2;
    } else if (c === "'" || ((c === "E" || c === "e") && sql[i + 1] === "'")) {
      const escapes = c !== "'";
      i += escapes ? 2 : 1;
      let value = "";
      for (;;) {
        if (i >= n) throw new SqlSyntaxError("unterminated string");
        const ch = sql[i]!;
        if (ch === "'" && sql[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (ch === "'") {
          i++;
          break;
        } else if (escapes && ch === "\\" && i + 1 < n) {
          const next = sql[i + 1]!;
          value += next === "n" ? "\n" : next === "t" ? "\t" : next === "r" ? "\r" : next;
          i += 2;
        } else {
          value += ch;
          i++;
        }
      }
      // Adjacent literals separated by a newline are one literal in SQL; not worth supporting.
      tokens.push({ k: "str", v: value });
    } else if (c === "$" && /[$A-Za-z_]/.test(sql[i + 1] ?? "")) {
      const tagEnd = sql.indexOf("$", i + 1);
      const tag = tagEnd < 0 ? "" : sql.slice(i, tagEnd + 1);
      if (!/^\$[A-Za-z_0-9]*\$$/.test(tag)) throw new SqlSyntaxError("parameter or bad dollar quote");
      const end = sql.indexOf(tag, tagEnd + 1);
      if (end < 0) throw new SqlSyntaxError("unterminated dollar quote");
      tokens.push({ k: "str", v: sql.slice(tagEnd + 1, end) });
      i = end + tag.length;
    } else if (c === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= n) throw new SqlSyntaxError("unterminated identifier");
        if (sql[i] === '"' && sql[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (sql[i] === '"') {
          i++;
          break;
        } else value += sql[i++];
      }
      tokens.push({ k: "qid", v: value });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const match = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(sql.slice(i))!;
      tokens.push({ k: "num", v: match[0] });
      i += match[0].length;
      if (/[A-Za-z_]/.test(sql[i] ?? "")) throw new SqlSyntaxError("number followed by a letter");
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[j]!)) j++;
      tokens.push({ k: "word", v: sql.slice(i, j).toLowerCase() });
      i = j;
    } else if (c === "(" || c === ")" || c === "," || c === "[" || c === "]" || c === ".") {
      tokens.push({ k: "punct", v: c });
      i++;
    } else {
      const op = OPERATORS.find((candidate) => sql.startsWith(candidate, i));
      if (!op) throw new SqlSyntaxError(`unexpected character ${c}`);
      tokens.push({ k: "op", v: op });
      i += op.length;
    }
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// the tree

type Node =
  | { t: "num"; v: string }
  | { t: "str"; v: string }
  /** A keyword constant: null, true, false, current_date, current_user… */
  | { t: "const"; v: string }
  /** An identifier, possibly qualified; each part already in printed form (bare or quoted). */
  | { t: "id"; parts: string[] }
  | { t: "star" }
  | { t: "call"; name: string; args: Node[]; distinct: boolean; star: boolean }
  | { t: "cast"; expr: Node; type: string }
  | { t: "neg"; expr: Node }
  | { t: "pos"; expr: Node }
  | { t: "not"; expr: Node }
  | { t: "bin"; op: string; left: Node; right: Node }
  | { t: "and"; items: Node[] }
  | { t: "or"; items: Node[] }
  | { t: "is"; expr: Node; not: boolean; what: "null" | "true" | "false" | "unknown" | "document" }
  | { t: "distinct"; left: Node; not: boolean; right: Node }
  | { t: "in"; expr: Node; not: boolean; list: Node[] }
  | { t: "like"; expr: Node; not: boolean; op: "like" | "ilike" | "similar to"; pattern: Node; escape?: Node }
  | { t: "quant"; op: string; left: Node; quant: "any" | "all"; right: Node }
  | { t: "array"; items: Node[] }
  | { t: "subscript"; expr: Node; index: Node }
  | { t: "collate"; expr: Node; collation: string }
  | { t: "case"; operand?: Node; whens: Array<[Node, Node]>; otherwise?: Node };

// Precedence, low to high (Postgres' table, with IS below comparison as in Postgres).
const P = { or: 1, and: 2, not: 3, is: 4, cmp: 5, like: 6, other: 7, add: 8, mul: 9, exp: 10, unary: 11, cast: 12, atom: 13 } as const;

const COMPARISON = new Set(["<", ">", "=", "<=", ">=", "<>"]);
const ADDITIVE = new Set(["+", "-"]);
const MULTIPLICATIVE = new Set(["*", "/", "%"]);

function precedence(node: Node): number {
  switch (node.t) {
    case "or":
      return P.or;
    case "and":
      return P.and;
    case "not":
      return P.not;
    case "is":
    case "distinct":
      return P.is;
    case "quant":
      return P.cmp;
    case "in":
    case "like":
      return P.like;
    case "bin":
      if (COMPARISON.has(node.op)) return P.cmp;
      if (ADDITIVE.has(node.op)) return P.add;
      if (MULTIPLICATIVE.has(node.op)) return P.mul;
      if (node.op === "^") return P.exp;
      return P.other;
    case "neg":
    case "pos":
      return P.unary;
    case "num":
      return node.v.startsWith("-") ? P.unary : P.atom;
    case "cast":
    case "subscript":
    case "collate":
      return P.cast;
    default:
      return P.atom;
  }
}

/** Words that are never identifiers or function names where they appear in an expression. */
const STRUCTURAL = new Set([
  "and", "or", "not", "is", "isnull", "notnull", "in", "like", "ilike", "similar", "between", "escape", "case", "when", "then", "else",
  "end", "any", "all", "some", "cast", "array", "as", "from", "for", "select", "distinct", "exists", "values", "collate", "at", "symmetric",
  "asymmetric", "to", "with", "where", "order", "by", "group", "having", "limit", "offset", "union", "except", "intersect", "using", "on",
]);

const CONSTANTS = new Set([
  "null", "true", "false", "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp", "current_user", "session_user",
  "current_role", "current_catalog", "current_schema", "user",
]);

/**
 * Words that must stay quoted when used as identifiers (Postgres' reserved, type/function-name and
 * column-name keywords, plus SQLite's few extras): `"order"` keeps its quotes, `"nickname"` loses them.
 */
const KEYWORDS = new Set([
  ...STRUCTURAL,
  ...CONSTANTS,
  "analyse", "analyze", "asc", "authorization", "between", "bigint", "binary", "bit", "boolean", "both", "char", "character", "check", "coalesce",
  "collation", "column", "concurrently", "constraint", "create", "cross", "dec", "decimal", "default", "deferrable", "desc", "do", "extract",
  "fetch", "float", "foreign", "freeze", "full", "glob", "grant", "greatest", "grouping", "initially", "inner", "inout", "int", "integer", "interval",
  "into", "join", "lateral", "leading", "least", "left", "match", "national", "natural", "nchar", "none", "normalize", "nullif", "numeric",
  "only", "out", "outer", "overlaps", "overlay", "placing", "position", "precision", "primary", "real", "references", "regexp", "returning",
  "right", "row", "setof", "smallint", "substring", "table", "tablesample", "time", "timestamp", "trailing", "treat", "trim", "union", "unique",
  "variadic", "varchar", "verbose", "window", "xmlattributes", "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces",
  "xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable", "raise", "autoincrement", "indexed", "regexp",
]);

/** Words that, followed by a string literal, make a typed literal (`date '2024-01-01'`). */
const TYPED_LITERAL_WORDS = new Set([
  "date", "time", "timestamp", "timestamptz", "interval", "boolean", "bool", "integer", "int", "int2", "int4", "int8", "bigint", "smallint",
  "numeric", "decimal", "real", "float4", "float8", "json", "jsonb", "uuid", "text", "varchar", "bytea", "inet", "cidr", "money",
]);

const BARE_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;

/** The printed form of an identifier: bare when it reads back the same, else quoted. */
export function printIdentifier(name: string): string {
  return BARE_IDENTIFIER.test(name) && !KEYWORDS.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

function printFunctionName(name: string): string {
  return BARE_IDENTIFIER.test(name) && !STRUCTURAL.has(name) && !CONSTANTS.has(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

const TYPE_ALIASES: Record<string, string> = {
  "character varying": "varchar",
  "char varying": "varchar",
  "int": "integer",
  "int4": "integer",
  "int8": "bigint",
  "int2": "smallint",
  "float8": "double precision",
  "float": "double precision",
  "float4": "real",
  "bool": "boolean",
  "decimal": "numeric",
  "timestamp with time zone": "timestamptz",
  "timestamp without time zone": "timestamp",
  "time without time zone": "time",
  "time with time zone": "timetz",
  "character": "bpchar",
  "char": "bpchar",
};

const NUMERIC_TYPES = new Set(["smallint", "integer", "bigint", "numeric", "real", "double precision"]);
const TEXT_TYPES = new Set(["text", "varchar", "bpchar", "name"]);

function baseType(type: string): string {
  return type.replace(/\[\]$/g, "").replace(/\(.*\)$/, "");
}

// ---------------------------------------------------------------------------------------------
// the parser

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.expr(0);
    if (this.pos < this.tokens.length) throw new SqlSyntaxError(`unexpected ${JSON.stringify(this.tokens[this.pos])}`);
    return node;
  }

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private isWord(word: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.k === "word" && token.v === word;
  }

  private isPunct(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.k === "punct" && token.v === value;
  }

  private isOp(value: string, offset = 0): boolean {
    const token = this.peek(offset);
    return token?.k === "op" && token.v === value;
  }

  private expectWord(word: string): void {
    if (!this.isWord(word)) throw new SqlSyntaxError(`expected ${word}`);
    this.pos++;
  }

  private expectPunct(value: string): void {
    if (!this.isPunct(value)) throw new SqlSyntaxError(`expected ${value}`);
    this.pos++;
  }

  /** Precedence climbing: parse an expression whose operators bind at least as tightly as `min`. */
  expr(min: number): Node {
    let left = this.prefix(min);
    for (;;) {
      const next = this.infix(left, min);
      if (!next) return left;
      left = next;
    }
  }

  private prefix(min: number): Node {
    if (this.isWord("not") && min <= P.not) {
      this.pos++;
      return { t: "not", expr: this.expr(P.not) };
    }
    if (this.isOp("-") || this.isOp("+")) {
      const op = (this.peek() as { v: string }).v;
      this.pos++;
      const expr = this.expr(P.unary);
      return op === "-" ? { t: "neg", expr } : { t: "pos", expr };
    }
    return this.postfix(this.primary());
  }

  private postfix(node: Node): Node {
    for (;;) {
      if (this.isOp("::")) {
        this.pos++;
        node = { t: "cast", expr: node, type: this.typeName() };
      } else if (this.isPunct("[")) {
        this.pos++;
        const index = this.expr(0);
        this.expectPunct("]");
        node = { t: "subscript", expr: node, index };
      } else if (this.isWord("collate")) {
        this.pos++;
        const name = this.peek();
        if (name?.k !== "word" && name?.k !== "qid") throw new SqlSyntaxError("expected a collation");
        this.pos++;
        node = { t: "collate", expr: node, collation: name.k === "qid" ? printIdentifier(name.v) : name.v };
      } else return node;
    }
  }

  private infix(left: Node, min: number): Node | undefined {
    const token = this.peek();
    if (!token) return undefined;
    if (token.k === "word") {
      switch (token.v) {
        case "or":
          if (min > P.or) return undefined;
          this.pos++;
          return { t: "or", items: [left, this.expr(P.or + 1)] };
        case "and":
          if (min > P.and) return undefined;
          this.pos++;
          return { t: "and", items: [left, this.expr(P.and + 1)] };
        case "is":
          if (min > P.is) return undefined;
          return this.isTail(left);
        case "isnull":
        case "notnull":
          if (min > P.is) return undefined;
          this.pos++;
          return { t: "is", expr: left, not: token.v === "notnull", what: "null" };
        case "not": {
          // x NOT IN / NOT LIKE / NOT ILIKE / NOT SIMILAR TO / NOT BETWEEN
          const after = this.peek(1);
          if (after?.k !== "word" || !["in", "like", "ilike", "similar", "between"].includes(after.v)) return undefined;
          if (min > P.like) return undefined;
          this.pos++;
          return this.likeTail(left, true);
        }
        case "in":
        case "like":
        case "ilike":
        case "similar":
        case "between":
          if (min > P.like) return undefined;
          return this.likeTail(left, false);
        default:
          return undefined;
      }
    }
    if (token.k !== "op" || token.v === "::") return undefined;
    const op = token.v === "!=" ? "<>" : token.v === "==" ? "=" : token.v;
    if (COMPARISON.has(op)) {
      if (min > P.cmp) return undefined;
      this.pos++;
      if (this.isWord("any") || this.isWord("all") || this.isWord("some")) {
        const quant = (this.peek() as { v: string }).v === "all" ? "all" : "any";
        this.pos++;
        this.expectPunct("(");
        const right = this.expr(0);
        this.expectPunct(")");
        return { t: "quant", op, left, quant, right };
      }
      return { t: "bin", op, left, right: this.expr(P.cmp + 1) };
    }
    if (op === "~~" || op === "~~*" || op === "!~~" || op === "!~~*") {
      if (min > P.like) return undefined;
      this.pos++;
      return { t: "like", expr: left, not: op.startsWith("!"), op: op.endsWith("*") ? "ilike" : "like", pattern: this.expr(P.like + 1) };
    }
    const level = ADDITIVE.has(op) ? P.add : MULTIPLICATIVE.has(op) ? P.mul : op === "^" ? P.exp : P.other;
    if (min > level) return undefined;
    this.pos++;
    return { t: "bin", op, left, right: this.expr(level + 1) };
  }

  private isTail(left: Node): Node {
    this.expectWord("is");
    let not = false;
    if (this.isWord("not")) {
      not = true;
      this.pos++;
    }
    const token = this.peek();
    if (token?.k === "word" && ["null", "true", "false", "unknown", "document"].includes(token.v)) {
      this.pos++;
      return { t: "is", expr: left, not, what: token.v as "null" };
    }
    if (this.isWord("distinct")) {
      this.pos++;
      this.expectWord("from");
      return { t: "distinct", left, not, right: this.expr(P.is + 1) };
    }
    throw new SqlSyntaxError("unsupported IS form");
  }

  private likeTail(left: Node, not: boolean): Node {
    const word = (this.peek() as { v: string }).v;
    this.pos++;
    if (word === "in") {
      this.expectPunct("(");
      if (this.isWord("select") || this.isWord("values")) throw new SqlSyntaxError("subquery");
      const list = [this.expr(0)];
      while (this.isPunct(",")) {
        this.pos++;
        list.push(this.expr(0));
      }
      this.expectPunct(")");
      return { t: "in", expr: left, not, list };
    }
    if (word === "between") {
      if (this.isWord("symmetric")) throw new SqlSyntaxError("BETWEEN SYMMETRIC");
      if (this.isWord("asymmetric")) this.pos++;
      const low = this.expr(P.like + 1);
      this.expectWord("and");
      const high = this.expr(P.like + 1);
      return not
        ? { t: "or", items: [{ t: "bin", op: "<", left, right: low }, { t: "bin", op: ">", left, right: high }] }
        : { t: "and", items: [{ t: "bin", op: ">=", left, right: low }, { t: "bin", op: "<=", left, right: high }] };
    }
    let op: "like" | "ilike" | "similar to" = word === "ilike" ? "ilike" : "like";
    if (word === "similar") {
      this.expectWord("to");
      op = "similar to";
    }
    const pattern = this.expr(P.like + 1);
    if (op === "similar to" && !this.isWord("escape")) {
      // Postgres stores x SIMILAR TO p as x ~ similar_to_escape(p).
      return { t: "bin", op: not ? "!~" : "~", left, right: { t: "call", name: "similar_to_escape", args: [pattern], distinct: false, star: false } };
    }
    const node: Node = { t: "like", expr: left, not, op, pattern };
    if (this.isWord("escape")) {
      this.pos++;
      node.escape = this.expr(P.like + 1);
    }
    return node;
  }

  /** A type name after `::` or in CAST(… AS type). */
  private typeName(): string {
    const token = this.peek();
    let name: string;
    if (token?.k === "qid") {
      this.pos++;
      name = printIdentifier(token.v);
    } else if (token?.k === "word") {
      this.pos++;
      name = token.v;
      const more = (words: string[]) => words.every((word, i) => this.isWord(word, i));
      if (name === "double" && more(["precision"])) {
        this.pos += 1;
        name = "double precision";
      } else if ((name === "character" || name === "char") && more(["varying"])) {
        this.pos += 1;
        name = "character varying";
      } else if (name === "bit" && more(["varying"])) {
        this.pos += 1;
        name = "bit varying";
      }
    } else throw new SqlSyntaxError("expected a type name");
    while (this.isPunct(".")) {
      this.pos++;
      const part = this.peek();
      if (part?.k !== "word" && part?.k !== "qid") throw new SqlSyntaxError("bad qualified type");
      this.pos++;
      name += `.${part.k === "qid" ? printIdentifier(part.v) : part.v}`;
    }
    let args = "";
    if (this.isPunct("(")) {
      this.pos++;
      const values: string[] = [];
      for (;;) {
        const arg = this.peek();
        if (arg?.k !== "num") throw new SqlSyntaxError("bad type modifier");
        values.push(arg.v);
        this.pos++;
        if (this.isPunct(",")) this.pos++;
        else break;
      }
      this.expectPunct(")");
      args = `(${values.join(",")})`;
    }
    if ((name === "timestamp" || name === "time") && (this.isWord("with") || this.isWord("without"))) {
      const zone = (this.peek() as { v: string }).v;
      this.pos++;
      this.expectWord("time");
      if (!this.isWord("zone")) throw new SqlSyntaxError("expected zone");
      this.pos++;
      name = `${name} ${zone} time zone`;
    }
    name = TYPE_ALIASES[name] ?? name;
    // timestamp(6) with time zone → timestamptz(6)
    let suffix = "";
    while (this.isPunct("[")) {
      this.pos++;
      if (this.peek()?.k === "num") this.pos++;
      this.expectPunct("]");
      suffix += "[]";
    }
    return `${name}${args}${suffix}`;
  }

  private primary(): Node {
    const token = this.peek();
    if (!token) throw new SqlSyntaxError("unexpected end");
    switch (token.k) {
      case "num":
        this.pos++;
        return { t: "num", v: token.v };
      case "str":
        this.pos++;
        return { t: "str", v: token.v };
      case "qid":
        return this.identifierOrCall();
      case "op":
        if (token.v === "*") {
          this.pos++;
          return { t: "star" };
        }
        throw new SqlSyntaxError(`unexpected operator ${token.v}`);
      case "punct": {
        if (token.v !== "(") throw new SqlSyntaxError(`unexpected ${token.v}`);
        this.pos++;
        if (this.isWord("select") || this.isWord("values")) throw new SqlSyntaxError("subquery");
        const inner = this.expr(0);
        if (this.isPunct(",")) throw new SqlSyntaxError("row constructor");
        this.expectPunct(")");
        return inner;
      }
      case "word":
        return this.wordPrimary(token.v);
    }
  }

  private wordPrimary(word: string): Node {
    const next = this.peek(1);
    if (word === "case") return this.caseExpr();
    if (word === "cast" && next?.k === "punct" && next.v === "(") {
      this.pos += 2;
      const expr = this.expr(0);
      this.expectWord("as");
      const type = this.typeName();
      this.expectPunct(")");
      return { t: "cast", expr, type };
    }
    if (word === "array" && next?.k === "punct" && next.v === "[") {
      this.pos += 2;
      const items: Node[] = [];
      if (!this.isPunct("]")) {
        items.push(this.expr(0));
        while (this.isPunct(",")) {
          this.pos++;
          items.push(this.expr(0));
        }
      }
      this.expectPunct("]");
      return { t: "array", items };
    }
    if (CONSTANTS.has(word) && !(next?.k === "punct" && next.v === "(")) {
      this.pos++;
      if (word === "current_timestamp") return { t: "call", name: "now", args: [], distinct: false, star: false };
      return { t: "const", v: word };
    }
    if (STRUCTURAL.has(word)) throw new SqlSyntaxError(`unexpected ${word}`);
    if (next?.k === "str" && TYPED_LITERAL_WORDS.has(word)) {
      this.pos += 2;
      return { t: "cast", expr: { t: "str", v: next.v }, type: TYPE_ALIASES[word] ?? word };
    }
    if (
      next?.k === "word" &&
      (word === "timestamp" || word === "time") &&
      (next.v === "with" || next.v === "without") &&
      this.isWord("time", 2) &&
      this.isWord("zone", 3) &&
      this.peek(4)?.k === "str"
    ) {
      const zone = next.v;
      const literal = this.peek(4) as { v: string };
      this.pos += 5;
      const name = `${word} ${zone} time zone`;
      return { t: "cast", expr: { t: "str", v: literal.v }, type: TYPE_ALIASES[name] ?? name };
    }
    return this.identifierOrCall();
  }

  private caseExpr(): Node {
    this.expectWord("case");
    const node: Node = { t: "case", whens: [] };
    if (!this.isWord("when")) node.operand = this.expr(0);
    while (this.isWord("when")) {
      this.pos++;
      const condition = this.expr(0);
      this.expectWord("then");
      node.whens.push([condition, this.expr(0)]);
    }
    if (node.whens.length === 0) throw new SqlSyntaxError("CASE without WHEN");
    if (this.isWord("else")) {
      this.pos++;
      node.otherwise = this.expr(0);
    }
    this.expectWord("end");
    return node;
  }

  private identifierOrCall(): Node {
    const parts: Array<{ raw: string; quoted: boolean }> = [];
    for (;;) {
      const token = this.peek();
      if (token?.k === "word") parts.push({ raw: token.v, quoted: false });
      else if (token?.k === "qid") parts.push({ raw: token.v, quoted: true });
      else if (token?.k === "op" && token.v === "*" && parts.length > 0) {
        this.pos++;
        return { t: "id", parts: [...parts.map((part) => printIdentifier(part.raw)), "*"] };
      } else throw new SqlSyntaxError("expected an identifier");
      this.pos++;
      if (this.isPunct(".")) {
        this.pos++;
        continue;
      }
      break;
    }
    if (this.isPunct("(")) {
      this.pos++;
      const name = parts.map((part) => (part.quoted ? part.raw : part.raw)).join(".");
      const last = parts[parts.length - 1]!;
      return this.callTail(parts.length === 1 && !last.quoted ? last.raw : name, parts.length === 1 ? last.raw : name);
    }
    return { t: "id", parts: parts.map((part) => printIdentifier(part.raw)) };
  }

  private callTail(bareName: string, name: string): Node {
    // Special SQL-standard call forms Postgres prints back in their own syntax.
    if (bareName === "extract") {
      const field = this.peek();
      if ((field?.k === "word" || field?.k === "str") && this.isWord("from", 1)) {
        this.pos += 2;
        const source = this.expr(0);
        this.expectPunct(")");
        return { t: "call", name: "date_part", args: [{ t: "str", v: field.v.toLowerCase() }, source], distinct: false, star: false };
      }
    }
    if (bareName === "trim") {
      // TRIM([BOTH | LEADING | TRAILING] [characters] FROM string), as Postgres prints trim(x).
      const start = this.pos;
      let side = "btrim";
      if (this.isWord("both") || this.isWord("leading") || this.isWord("trailing")) {
        const word = (this.peek() as { v: string }).v;
        side = word === "leading" ? "ltrim" : word === "trailing" ? "rtrim" : "btrim";
        this.pos++;
      }
      let characters: Node | undefined;
      if (!this.isWord("from")) characters = this.expr(0);
      if (this.isWord("from")) {
        this.pos++;
        const source = this.expr(0);
        this.expectPunct(")");
        return { t: "call", name: side, args: characters ? [source, characters] : [source], distinct: false, star: false };
      }
      this.pos = start;
    }
    if (bareName === "position") {
      // POSITION(substring IN string) is strpos(string, substring).
      const start = this.pos;
      try {
        const needle = this.expr(P.like + 1);
        if (this.isWord("in")) {
          this.pos++;
          const haystack = this.expr(0);
          this.expectPunct(")");
          return { t: "call", name: "strpos", args: [haystack, needle], distinct: false, star: false };
        }
      } catch {
        // the plain call form
      }
      this.pos = start;
    }
    if (bareName === "substring") {
      const start = this.pos;
      try {
        const source = this.expr(0);
        if (this.isWord("from") || this.isWord("for")) {
          const args = [source];
          let from: Node = { t: "num", v: "1" };
          if (this.isWord("from")) {
            this.pos++;
            from = this.expr(0);
          }
          args.push(from);
          if (this.isWord("for")) {
            this.pos++;
            args.push(this.expr(0));
          }
          this.expectPunct(")");
          return { t: "call", name: "substring", args, distinct: false, star: false };
        }
      } catch {
        // fall through to the plain call form
      }
      this.pos = start;
    }
    const node: Node = { t: "call", name: name === "trim" ? "btrim" : name, args: [], distinct: false, star: false };
    if (this.isPunct(")")) {
      this.pos++;
      return node;
    }
    if (this.isOp("*")) {
      this.pos++;
      this.expectPunct(")");
      node.star = true;
      return node;
    }
    if (this.isWord("distinct")) {
      this.pos++;
      node.distinct = true;
    }
    node.args.push(this.expr(0));
    while (this.isPunct(",")) {
      this.pos++;
      node.args.push(this.expr(0));
    }
    if (this.isWord("order") || this.isWord("from") || this.isWord("for") || this.isWord("in")) throw new SqlSyntaxError("unsupported call form");
    this.expectPunct(")");
    return node;
  }
}

// ---------------------------------------------------------------------------------------------
// rewrites (Postgres' stored forms undone)

const isStringType = (type: string) => TEXT_TYPES.has(baseType(type)) && !type.endsWith("[]");
const isStringArrayType = (type: string) => type.endsWith("[]") && TEXT_TYPES.has(baseType(type.slice(0, -2)));
const NUMBER = /^-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["f", "false", "n", "no", "off", "0"]);

/** A numeric literal's canonical text: no sign for zero, no leading zeros, no trailing fraction zeros. */
export function canonicalNumber(text: string): string {
  let value = text.trim();
  let sign = "";
  if (value.startsWith("-") || value.startsWith("+")) {
    sign = value[0] === "-" ? "-" : "";
    value = value.slice(1);
  }
  if (/e/i.test(value)) {
    const number = Number(value);
    return Number.isFinite(number) ? String(sign === "-" ? -number : number) : `${sign}${value.toLowerCase()}`;
  }
  let [whole = "", fraction = ""] = value.split(".");
  whole = whole.replace(/^0+/, "") || "0";
  fraction = fraction.replace(/0+$/, "");
  const body = fraction ? `${whole}.${fraction}` : whole;
  return body === "0" ? "0" : `${sign}${body}`;
}

function rewrite(node: Node): Node {
  switch (node.t) {
    case "num":
      return { t: "num", v: canonicalNumber(node.v) };
    case "neg": {
      const expr = rewrite(node.expr);
      if (expr.t === "num") return { t: "num", v: canonicalNumber(expr.v.startsWith("-") ? expr.v.slice(1) : `-${expr.v}`) };
      return { t: "neg", expr };
    }
    case "pos": {
      const expr = rewrite(node.expr);
      return expr.t === "num" ? expr : { t: "pos", expr };
    }
    case "cast": {
      const expr = rewrite(node.expr);
      const type = node.type;
      const base = baseType(type);
      if (expr.t === "str") {
        if (NUMERIC_TYPES.has(base) && NUMBER.test(expr.v.trim())) return { t: "num", v: canonicalNumber(expr.v) };
        if (base === "boolean" && TRUE_WORDS.has(expr.v.trim().toLowerCase())) return { t: "const", v: "true" };
        if (base === "boolean" && FALSE_WORDS.has(expr.v.trim().toLowerCase())) return { t: "const", v: "false" };
        return expr;
      }
      if (expr.t === "num" && NUMERIC_TYPES.has(base) && !type.endsWith("[]")) return expr;
      if (expr.t === "const" && expr.v === "null") return expr;
      if ((expr.t === "id" || expr.t === "subscript") && isStringType(type)) return expr;
      if (expr.t === "array" && isStringArrayType(type)) return expr;
      if (expr.t === "cast" && expr.type === type) return expr;
      return { t: "cast", expr, type };
    }
    case "call": {
      // Postgres adds casts on columns passed to functions (round((r)::double precision)): drop them.
      const args = node.args.map(rewrite).map((arg) => (arg.t === "cast" && arg.expr.t === "id" && !arg.type.endsWith("[]") ? arg.expr : arg));
      const name = node.name;
      if (name === "transaction_timestamp" && args.length === 0) return { ...node, name: "now", args };
      return { ...node, args };
    }
    case "not":
      return { t: "not", expr: rewrite(node.expr) };
    case "bin": {
      // Postgres widens numeric operands with casts it then prints ((name)::integer % 2 for a
      // smallint): a column cast to a numeric type in arithmetic or a comparison is dropped.
      const numericOperand = (operand: Node) =>
        (ADDITIVE.has(node.op) || MULTIPLICATIVE.has(node.op) || COMPARISON.has(node.op) || node.op === "^") &&
        operand.t === "cast" &&
        operand.expr.t === "id" &&
        NUMERIC_TYPES.has(baseType(operand.type)) &&
        !operand.type.endsWith("[]")
          ? operand.expr
          : operand;
      return { t: "bin", op: node.op, left: numericOperand(rewrite(node.left)), right: numericOperand(rewrite(node.right)) };
    }
    case "and":
    case "or": {
      const items: Node[] = [];
      for (const item of node.items.map(rewrite)) {
        if (item.t === node.t) items.push(...item.items);
        else items.push(item);
      }
      return { t: node.t, items };
    }
    case "is":
      return { ...node, expr: rewrite(node.expr) };
    case "distinct":
      return { ...node, left: rewrite(node.left), right: rewrite(node.right) };
    case "in": {
      if (node.list.length === 1) return rewrite({ t: "bin", op: node.not ? "<>" : "=", left: node.expr, right: node.list[0]! });
      return { t: "in", expr: rewrite(node.expr), not: node.not, list: node.list.map(rewrite) };
    }
    case "like": {
      const out: Node = { t: "like", expr: rewrite(node.expr), not: node.not, op: node.op, pattern: rewrite(node.pattern) };
      if (node.escape) out.escape = rewrite(node.escape);
      return out;
    }
    case "quant": {
      const left = rewrite(node.left);
      const right = rewrite(node.right);
      if (right.t === "array" && right.items.length > 0) {
        if (node.op === "=" && node.quant === "any") return rewrite({ t: "in", expr: left, not: false, list: right.items });
        if (node.op === "<>" && node.quant === "all") return rewrite({ t: "in", expr: left, not: true, list: right.items });
      }
      return { t: "quant", op: node.op, left, quant: node.quant, right };
    }
    case "array":
      return { t: "array", items: node.items.map(rewrite) };
    case "collate":
      return { t: "collate", expr: rewrite(node.expr), collation: node.collation };
    case "str": {
      // A date or timestamp literal as an instant: Postgres prints '2030-01-01' compared with a
      // timestamptz as '2030-01-01 00:00:00+00' (a literal without offset is read as UTC).
      const instant = timestampKey(node.v);
      return instant === undefined ? node : { t: "str", v: new Date(Number(instant)).toISOString() };
    }
    case "subscript":
      return { t: "subscript", expr: rewrite(node.expr), index: rewrite(node.index) };
    case "case": {
      const out: Node = { t: "case", whens: node.whens.map(([when, then]) => [rewrite(when), rewrite(then)] as [Node, Node]) };
      if (node.operand) out.operand = rewrite(node.operand);
      if (node.otherwise) out.otherwise = rewrite(node.otherwise);
      return out;
    }
    default:
      return node;
  }
}

// ---------------------------------------------------------------------------------------------
// printing with minimal parentheses

function quoteString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function print(node: Node, min = 0): string {
  const text = printBare(node);
  return precedence(node) < min ? `(${text})` : text;
}

function printBare(node: Node): string {
  switch (node.t) {
    case "num":
      return node.v;
    case "str":
      return quoteString(node.v);
    case "const":
      return node.v;
    case "id":
      return node.parts.join(".");
    case "star":
      return "*";
    case "call": {
      const args = node.star ? "*" : `${node.distinct ? "distinct " : ""}${node.args.map((arg) => print(arg)).join(", ")}`;
      return `${node.name.split(".").map(printFunctionName).join(".")}(${args})`;
    }
    case "cast":
      return `${print(node.expr, P.cast)}::${node.type}`;
    case "neg": {
      const inner = print(node.expr, P.unary);
      return inner.startsWith("-") ? `- ${inner}` : `-${inner}`;
    }
    case "pos": {
      const inner = print(node.expr, P.unary);
      return inner.startsWith("+") ? `+ ${inner}` : `+${inner}`;
    }
    case "not":
      return `not ${print(node.expr, P.not)}`;
    case "bin": {
      const level = precedence(node);
      // Comparisons do not chain: parenthesise a comparison on either side.
      const leftMin = level === P.cmp ? P.cmp + 1 : level;
      return `${print(node.left, leftMin)} ${node.op} ${print(node.right, level + 1)}`;
    }
    case "and":
      return node.items.map((item) => print(item, P.and + 1)).join(" and ");
    case "or":
      return node.items.map((item) => print(item, P.or + 1)).join(" or ");
    case "is":
      return `${print(node.expr, P.is + 1)} is ${node.not ? "not " : ""}${node.what}`;
    case "distinct":
      return `${print(node.left, P.is + 1)} is ${node.not ? "not " : ""}distinct from ${print(node.right, P.is + 1)}`;
    case "in":
      return `${print(node.expr, P.like + 1)} ${node.not ? "not " : ""}in (${node.list.map((item) => print(item)).join(", ")})`;
    case "like":
      return `${print(node.expr, P.like + 1)} ${node.not ? "not " : ""}${node.op} ${print(node.pattern, P.like + 1)}${
        node.escape ? ` escape ${print(node.escape, P.like + 1)}` : ""
      }`;
    case "quant":
      return `${print(node.left, P.cmp + 1)} ${node.op} ${node.quant}(${print(node.right)})`;
    case "array":
      return `array[${node.items.map((item) => print(item)).join(", ")}]`;
    case "subscript":
      return `${print(node.expr, P.cast)}[${print(node.index)}]`;
    case "collate":
      return `${print(node.expr, P.cast)} collate ${node.collation}`;
    case "case": {
      const parts = ["case"];
      if (node.operand) parts.push(print(node.operand));
      for (const [when, then] of node.whens) parts.push(`when ${print(when)} then ${print(then)}`);
      if (node.otherwise) parts.push(`else ${print(node.otherwise)}`);
      parts.push("end");
      return parts.join(" ");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// fallback: a textual normal form

/** Case and whitespace normalized outside literals, needless identifier quotes removed, outer parentheses dropped. */
function textualForm(sql: string): string {
  let out = "";
  let code = "";
  const flush = () => {
    out += code
      .replace(/\s+/g, " ")
      .toLowerCase()
      .replace(/ ?([(),]) ?/g, "$1")
      .replace(/,/g, ", ");
    code = "";
  };
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'") {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      flush();
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '"') {
      const { name, close: j } = readQuotedIdentifier(sql, i);
      flush();
      // An unterminated identifier is kept as written.
      out += j >= sql.length ? sql.slice(i) : printIdentifier(name);
      i = j + 1;
    } else {
      code += c;
      i++;
    }
  }
  flush();
  out = out.trim();
  for (;;) {
    const stripped = stripOuterParens(out);
    if (stripped === out) return out;
    out = stripped;
  }
}

function stripOuterParens(text: string): string {
  if (!text.startsWith("(") || !text.endsWith(")")) return text;
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0 && i < text.length - 1) return text;
  }
  return text.slice(1, -1).trim();
}

// ---------------------------------------------------------------------------------------------
// public API

function parseExpression(sql: string): Node | undefined {
  try {
    return rewrite(new Parser(tokenize(sql)).parse());
  } catch (error) {
    if (error instanceof SqlSyntaxError || error instanceof RangeError) return undefined;
    return undefined;
  }
}

const expressionCache = new Map<string, string>();

/** The normal form of an SQL expression (check, index expression, partial-index predicate, default). Never throws. */
export function normalizeExpression(sql: string): string {
  const cached = expressionCache.get(sql);
  if (cached !== undefined) return cached;
  const node = parseExpression(sql);
  let result: string;
  if (node) {
    result = print(node);
  } else {
    result = textualForm(sql);
    // The textual form may parse where the input did not (a stray quote closed): normalize it
    // once more so that normalizing is idempotent.
    const again = parseExpression(result);
    if (again) result = print(again);
  }
  if (expressionCache.size > 10_000) expressionCache.clear();
  expressionCache.set(sql, result);
  return result;
}

/** The column an expression names when it is nothing but a (possibly quoted, parenthesized) column: `("nickname")` → nickname. */
export function expressionColumn(sql: string): string | undefined {
  const node = parseExpression(sql);
  if (node?.t !== "id" || node.parts.length !== 1) return undefined;
  const part = node.parts[0]!;
  return part.startsWith('"') ? part.slice(1, -1).replaceAll('""', '"') : part;
}

/** A literal an expression stands for (`'x'::text` → "x", `(-1)` → -1 as text, `true`), or undefined. */
function literalOf(sql: string): { kind: "string" | "number" | "boolean" | "null"; value: string } | undefined {
  const node = parseExpression(sql);
  if (!node) return undefined;
  if (node.t === "str") return { kind: "string", value: node.v };
  if (node.t === "num") return { kind: "number", value: node.v };
  if (node.t === "const" && (node.v === "true" || node.v === "false")) return { kind: "boolean", value: node.v };
  if (node.t === "const" && node.v === "null") return { kind: "null", value: "null" };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// defaults

const NOW_FORMS = new Set([
  "now()",
  "transaction_timestamp()",
  // SQLite renderings of { kind: "now" } (see dialects/sqlite/ddl.ts).
  "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
  "date('now')",
  "strftime('%H:%M:%f', 'now')",
  "datetime('now')",
]);

const RANDOM_UUID_FORMS = new Set(["gen_random_uuid()", "uuid_generate_v4()", "uuidv4()"]);

let sqliteRandomUuid: string | undefined;

/** JSON with object keys sorted, so key order does not matter. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key]!)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

function timestampKey(text: string): string | undefined {
  // ISO or Postgres' "2024-01-02 03:04:05+00" forms; without an offset, UTC.
  const match = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.exec(text.trim());
  if (!match) return undefined;
  const [, date, time, offset] = match;
  let zone = offset === undefined || offset.toUpperCase() === "Z" ? "Z" : offset;
  if (/^[+-]\d{2}$/.test(zone)) zone += ":00";
  else if (/^[+-]\d{4}$/.test(zone)) zone = `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const instant = Date.parse(`${date}T${time ?? "00:00:00"}${zone}`);
  return Number.isNaN(instant) ? undefined : String(instant);
}

/** An array default's elements, from its SQL: '{1,"a b"}', '[1,"a b"]' (SQLite's storage), ARRAY[…] with or without casts. */
function sqlArrayValue(sql: string): JsonValue[] | undefined {
  // Unrewritten: the rewrites would read a date element as an instant.
  let node: Node;
  try {
    node = uncast(new Parser(tokenize(sql)).parse());
  } catch {
    return undefined;
  }
  if (node.t === "str") {
    const items = parseArrayText(node.v.trim());
    if (items) return items;
    try {
      const parsed = parseJsonDigits(node.v) as JsonValue;
      return Array.isArray(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  if (node.t !== "array") return undefined;
  const items: JsonValue[] = [];
  for (const raw of node.items) {
    // Elements keep their text; literalKey reads it by the column's element type.
    const item = uncast(raw);
    const negated = item.t === "neg" ? uncast(item.expr) : undefined;
    if (item.t === "str" || item.t === "num") items.push(item.v);
    else if (negated?.t === "num") items.push(`-${negated.v}`);
    else if (item.t === "const" && (item.v === "null" || item.v === "true" || item.v === "false")) items.push(item.v === "null" ? null : item.v === "true");
    else return undefined;
  }
  return items;
}

/** `x::a::b` → x. */
function uncast(node: Node): Node {
  return node.t === "cast" ? uncast(node.expr) : node;
}

/** The key of a constant of `type`, given as a JSON value or as the text of an SQL literal. */
function literalKey(type: ColumnType, value: JsonValue, fromSql: boolean): string | undefined {
  if (value === null) return undefined;
  switch (type.kind) {
    case "smallint":
    case "integer":
    case "bigint":
    case "numeric":
    case "real":
    case "double": {
      const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : undefined;
      return text !== undefined && NUMBER.test(text) ? `num:${canonicalNumber(text)}` : `json:${canonicalJson(value)}`;
    }
    case "boolean": {
      if (typeof value === "boolean") return `bool:${value}`;
      const text = String(value).trim().toLowerCase();
      if (TRUE_WORDS.has(text)) return "bool:true";
      if (FALSE_WORDS.has(text)) return "bool:false";
      return `json:${canonicalJson(value)}`;
    }
    case "json":
    case "jsonb":
      if (fromSql && typeof value === "string") {
        try {
          return `json:${canonicalJson(JSON.parse(value) as JsonValue)}`;
        } catch {
          return `str:${value}`;
        }
      }
      return `json:${canonicalJson(value)}`;
    case "array": {
      // From SQL: Postgres' '{1,"a b"}' or SQLite's stored JSON '[1,"a b"]'. Each element keyed by the element type.
      let items: JsonValue | undefined = value;
      if (fromSql && typeof value === "string") {
        items = parseArrayText(value.trim());
        if (items === undefined) {
          try {
            // SQLite's stored JSON; numbers as their digits (bigint elements are exact there).
            items = parseJsonDigits(value) as JsonValue;
          } catch {
            return `str:${value}`;
          }
        }
      }
      if (!Array.isArray(items)) return `json:${canonicalJson(value)}`;
      return `arr:[${items.map((item) => (item === null ? "null" : literalKey(type.element, item, false))).join(",")}]`;
    }
    case "timestamptz":
    case "timestamp": {
      if (typeof value !== "string") return `json:${canonicalJson(value)}`;
      const key = timestampKey(value);
      return key === undefined ? `str:${value}` : `ts:${key}`;
    }
    case "bytea":
      if (typeof value !== "string") return `json:${canonicalJson(value)}`;
      return `hex:${value.replace(/^(\\x|0x)/i, "").toLowerCase()}`;
    case "uuid":
      return typeof value === "string" ? `str:${value.trim().toLowerCase()}` : `json:${canonicalJson(value)}`;
    case "inet":
      // '10.0.0.1/32' is stored and printed as '10.0.0.1'.
      return typeof value === "string" ? `str:${canonicalInet(value) ?? value}` : `json:${canonicalJson(value)}`;
    case "text":
    case "varchar":
    case "enum":
    case "date":
    case "time":
      return typeof value === "string" ? `str:${value}` : `json:${canonicalJson(value)}`;
  }
}

/**
 * A comparable key for a column default (undefined: no default). `{ kind: "now" }` equals
 * `now()`, `CURRENT_TIMESTAMP` and SQLite's strftime form; `{ kind: "random-uuid" }` equals
 * `gen_random_uuid()`; a literal equals the SQL literal of the same value (`'{}'::jsonb` and `{}`,
 * `'0.00'` and `0`, `'t'` and true, `'member'::guild_role` and "member"); a NULL default is no default.
 */
export function normalizeDefault(value: DefaultValue | undefined, column: Pick<ColumnSchema, "type">): string | undefined {
  if (value === undefined) return undefined;
  switch (value.kind) {
    case "now":
      return "now";
    case "random-uuid":
      return "random-uuid";
    case "literal":
      return literalKey(column.type, value.value, false);
    case "sql": {
      const normalized = normalizeExpression(value.sql);
      if (NOW_FORMS.has(normalized)) return "now";
      if (RANDOM_UUID_FORMS.has(normalized)) return "random-uuid";
      sqliteRandomUuid ??= normalizeExpression(
        "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' || " +
          "substr('89ab', 1 + (random() & 3), 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))",
      );
      if (normalized === sqliteRandomUuid) return "random-uuid";
      if (column.type.kind === "array") {
        const items = sqlArrayValue(value.sql);
        if (items) return literalKey(column.type, items, false);
      }
      const literal = literalOf(value.sql);
      if (literal?.kind === "null") return undefined;
      if (literal?.kind === "boolean") return literalKey(column.type, literal.value === "true", true);
      if (literal) return literalKey(column.type, literal.value, true);
      // A blob literal on SQLite: X'00ff'.
      const blob = /^x'([0-9a-f]*)'$/i.exec(value.sql.trim());
      if (blob && column.type.kind === "bytea") return `hex:${blob[1]!.toLowerCase()}`;
      return `sql:${normalized}`;
    }
  }
}
