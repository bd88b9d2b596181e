/**
 * A small scanner for the literal part of a JavaScript/TypeScript source: whitespace, comments,
 * identifiers, string literals, and literal values (strings, booleans, null, numbers, arrays of
 * those). It is what lets the header of a migration be read without a TS parser and without loading
 * the module: the header is plain literals, so that is all this needs to understand.
 *
 * It is not a tokenizer for whole programs (no regular-expression literals, no template
 * substitutions beyond skipping them): it is only trusted up to the end of the header.
 */

/** A literal value as written in the source; `undefined` entries never occur. */
export type Literal = string | boolean | null | number | Literal[];

/** Thrown by the scanner; the header reader turns it into a RetortError naming the file. */
export class ScanError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** Marks a value that is not a literal (an identifier, a call, an expression…). */
export const NOT_LITERAL: unique symbol = Symbol("not a literal");

const isIdentStart = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 36 || c > 127; // a-z A-Z _ $ non-ASCII
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);

export class Scanner {
  pos = 0;

  constructor(readonly src: string) {}

  get done(): boolean {
    return this.pos >= this.src.length;
  }

  peek(): string {
    return this.src[this.pos] ?? "";
  }

  /** Skips whitespace and comments. */
  skipTrivia(): void {
    const src = this.src;
    while (this.pos < src.length) {
      const c = src.charCodeAt(this.pos);
      if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff || c === 0xa0 || c === 11 || c === 12) {
        this.pos++;
      } else if (c === 47 /* / */ && src.charCodeAt(this.pos + 1) === 47) {
        const end = src.indexOf("\n", this.pos + 2);
        this.pos = end === -1 ? src.length : end + 1;
      } else if (c === 47 && src.charCodeAt(this.pos + 1) === 42 /* * */) {
        const end = src.indexOf("*/", this.pos + 2);
        if (end === -1) throw new ScanError("unterminated /* comment", this.pos);
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  /** Consumes `text` (after trivia) if it is next; returns whether it did. */
  eat(text: string): boolean {
    this.skipTrivia();
    if (this.src.startsWith(text, this.pos)) {
      this.pos += text.length;
      return true;
    }
    return false;
  }

  /** Reads an identifier at the current position (no trivia skipped), or returns "". */
  identifier(): string {
    const start = this.pos;
    if (!isIdentStart(this.src.charCodeAt(start))) return "";
    let end = start + 1;
    while (end < this.src.length && isIdentPart(this.src.charCodeAt(end))) end++;
    this.pos = end;
    return this.src.slice(start, end);
  }

  /** Reads a '…', "…" or `…` string literal starting at the current position, decoding escapes. */
  string(): string {
    const src = this.src;
    const quote = src[this.pos];
    const start = this.pos;
    this.pos++;
    let out = "";
    let chunk = this.pos;
    while (this.pos < src.length) {
      const ch = src[this.pos]!;
      if (ch === quote) {
        out += src.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (ch === "\\") {
        out += src.slice(chunk, this.pos);
        out += this.escape();
        chunk = this.pos;
        continue;
      }
      if (quote === "`" && ch === "$" && src[this.pos + 1] === "{") {
        throw new ScanError("a template literal with ${…} is not a literal", this.pos);
      }
      if (quote !== "`" && (ch === "\n" || ch === "\r")) break;
      this.pos++;
    }
    throw new ScanError("unterminated string literal", start);
  }

  /** Decodes one escape sequence at `\`, advancing past it. */
  private escape(): string {
    const src = this.src;
    const at = this.pos;
    const c = src[at + 1];
    this.pos = at + 2;
    switch (c) {
      case "n": return "\n";
      case "t": return "\t";
      case "r": return "\r";
      case "b": return "\b";
      case "f": return "\f";
      case "v": return "\v";
      case "0": return "\0";
      case "\r": // line continuation, CRLF or CR
        if (src[this.pos] === "\n") this.pos++;
        return "";
      case "\n":
      case "\u2028":
      case "\u2029":
        return "";
      case "x": {
        const hex = src.slice(this.pos, this.pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new ScanError("bad \\x escape", at);
        this.pos += 2;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case "u": {
        let hex: string;
        if (src[this.pos] === "{") {
          const end = src.indexOf("}", this.pos);
          hex = end === -1 ? "" : src.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          hex = src.slice(this.pos, this.pos + 4);
          this.pos += 4;
        }
        const code = /^[0-9a-fA-F]{1,6}$/.test(hex) ? parseInt(hex, 16) : NaN;
        if (!(code <= 0x10ffff)) throw new ScanError("bad \\u escape", at);
        return String.fromCodePoint(code);
      }
      case undefined:
        throw new ScanError("unterminated string literal", at);
      default:
        return c; // \' \" \\ \` and any other character stand for themselves
    }
  }

  /**
   * Reads a literal value: a string, true/false/null, a number, or an array of literals (trailing
   * commas and comments allowed). Returns NOT_LITERAL, leaving the position at the value, when the
   * value is anything else.
   */
  literal(): Literal | typeof NOT_LITERAL {
    this.skipTrivia();
    const start = this.pos;
    const ch = this.peek();
    if (ch === '"' || ch === "'" || ch === "`") {
      const text = this.string();
      return this.endOfValue(start) ? text : NOT_LITERAL;
    }
    if (ch === "[") {
      this.pos++;
      const items: Literal[] = [];
      for (;;) {
        if (this.eat("]")) break;
        const item = this.literal();
        if (item === NOT_LITERAL) {
          this.pos = start;
          return NOT_LITERAL;
        }
        items.push(item);
        if (this.eat(",")) continue;
        if (this.eat("]")) break;
        throw new ScanError("expected , or ] in the array", this.pos);
      }
      return this.endOfValue(start) ? items : NOT_LITERAL;
    }
    const number = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(this.src.slice(start, start + 40));
    if (number) {
      this.pos += number[0].length;
      return this.endOfValue(start) ? Number(number[0]) : NOT_LITERAL;
    }
    const word = this.identifier();
    const value = word === "true" ? true : word === "false" ? false : word === "null" ? null : NOT_LITERAL;
    if (value !== NOT_LITERAL && this.endOfValue(start)) return value;
    this.pos = start;
    return NOT_LITERAL;
  }

  /**
   * After a literal: accepts a trailing `as const`, then checks that the value ends here (a comma,
   * a closing bracket or brace). Otherwise rewinds to `start` (the value is an expression).
   */
  private endOfValue(start: number): boolean {
    this.skipTrivia();
    const save = this.pos;
    if (this.identifier() === "as") {
      this.skipTrivia();
      if (this.identifier() === "const") this.skipTrivia();
      else this.pos = save;
    } else {
      this.pos = save;
    }
    const next = this.peek();
    if (next === "," || next === "]" || next === "}" || next === ")") return true;
    this.pos = start;
    return false;
  }

  /**
   * Skips any value up to the `,` or `}` that ends it at the current nesting level (strings,
   * comments and brackets respected). Used for object properties the header does not know.
   */
  skipValue(): void {
    const src = this.src;
    let depth = 0;
    for (;;) {
      this.skipTrivia();
      if (this.done) throw new ScanError("unexpected end of file", this.pos);
      const ch = src[this.pos]!;
      if (ch === '"' || ch === "'") {
        this.string();
      } else if (ch === "`") {
        this.skipTemplate();
      } else if (ch === "(" || ch === "[" || ch === "{") {
        depth++;
        this.pos++;
      } else if (ch === ")" || ch === "]" || ch === "}") {
        if (depth === 0) return;
        depth--;
        this.pos++;
      } else if (ch === "," && depth === 0) {
        return;
      } else {
        this.pos++;
      }
    }
  }

  /** Skips a template literal, including nested `${…}` substitutions. */
  skipTemplate(): void {
    const src = this.src;
    const start = this.pos;
    this.pos++;
    while (this.pos < src.length) {
      const ch = src[this.pos]!;
      if (ch === "\\") {
        this.pos += 2;
      } else if (ch === "`") {
        this.pos++;
        return;
      } else if (ch === "$" && src[this.pos + 1] === "{") {
        this.pos += 2;
        this.skipValue(); // stops at the closing }
        this.pos++;
      } else {
        this.pos++;
      }
    }
    throw new ScanError("unterminated template literal", start);
  }

  /** Skips `<…>` type arguments (the `<` already consumed). */
  skipTypeArguments(): void {
    let depth = 1;
    while (depth > 0 && !this.done) {
      const ch = this.src[this.pos];
      if (ch === "<") depth++;
      else if (ch === ">") depth--;
      this.pos++;
    }
  }

  /** 1-based line and column of an offset, for error messages. */
  lineColumn(offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = this.src.indexOf("\n"); i !== -1 && i < offset; i = this.src.indexOf("\n", i + 1)) {
      line++;
      lineStart = i + 1;
    }
    return { line, column: offset - lineStart + 1 };
  }
}
