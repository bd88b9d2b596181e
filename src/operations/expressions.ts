/**
 * Column names inside SQL expression text (checks, index expressions, partial-index predicates).
 * The snapshot keeps expressions as text, so when a column is renamed or dropped the fold has to
 * find the column's mentions: quoted identifiers (`"nickname"`) and bare words (`nickname`,
 * compared case-insensitively, as the database folds them), skipping string literals, function
 * names (a word followed by `(`) and type names (after `::`).
 */
import { quoteIdent, readQuotedIdentifier } from "../dialects/sql-text.js";

interface Token {
  start: number;
  end: number;
  /** The identifier the token names. */
  name: string;
  quoted: boolean;
}

function identifiers(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const char = sql[i]!;
    if (char === "'") {
      // A string literal ('' escapes a quote).
      i++;
      while (i < sql.length) {
        if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
    } else if (char === '"') {
      const { name, close: j } = readQuotedIdentifier(sql, i);
      tokens.push({ start: i, end: j + 1, name, quoted: true });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(char)) {
      let j = i + 1;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const before = sql.slice(0, i).trimEnd();
      const after = sql.slice(j).trimStart();
      if (!before.endsWith("::") && !after.startsWith("(")) tokens.push({ start: i, end: j, name: sql.slice(i, j), quoted: false });
      i = j;
    } else if (/[0-9]/.test(char)) {
      // A number, possibly with an exponent or a suffix: not an identifier.
      while (i < sql.length && /[0-9A-Za-z_.]/.test(sql[i]!)) i++;
    } else {
      i++;
    }
  }
  return tokens;
}

function matches(token: Token, column: string): boolean {
  return token.quoted ? token.name === column : token.name.toLowerCase() === column.toLowerCase();
}

/** Whether `sql` mentions the column `column`. */
export function mentionsColumn(sql: string, column: string): boolean {
  return identifiers(sql).some((token) => matches(token, column));
}

/** `sql` with every mention of column `from` naming `to` instead. */
export function renameColumnIn(sql: string, from: string, to: string): string {
  let out = "";
  let last = 0;
  for (const token of identifiers(sql)) {
    if (!matches(token, from)) continue;
    // Always quoted: a bare new name could be a keyword.
    out += sql.slice(last, token.start) + quoteIdent(to);
    last = token.end;
  }
  return out + sql.slice(last);
}
