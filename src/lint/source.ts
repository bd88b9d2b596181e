/**
 * What the linter reads from a migration file's text, without a TypeScript parser: its comments
 * (lint suppressions), and where each `op.<method>(` call of upgrade() is, so findings point at a
 * line. Strings and comments are blanked out before calls are looked for, so SQL text or a
 * comment mentioning `op.dropTable(` is never taken for a call.
 */

export interface SourceComment {
  line: number;
  text: string;
  /** Nothing but the comment on its line (so it can annotate the line below). */
  own: boolean;
}

export interface CallSite {
  method: string;
  line: number;
  /** Offset in the file of the call (where raw SQL of an op.execute is searched from). */
  offset: number;
}

export interface MigrationSource {
  text: string;
  comments: SourceComment[];
  /** op.<method>( calls inside upgrade(), in order. */
  upgradeCalls: CallSite[];
  /** op.<method>( calls inside downgrade(). */
  downgradeCalls: CallSite[];
}

/** The file with comments and string contents replaced by spaces (newlines kept), and its comments. */
function blank(text: string): { code: string; comments: SourceComment[] } {
  const out = text.split("");
  const comments: SourceComment[] = [];
  // A stack of template-literal brace depths: `${` enters code, the matching `}` returns to the template.
  const templates: number[] = [];
  let depth = 0;
  let line = 1;
  let i = 0;
  const wipe = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  const countLines = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (text[k] === "\n") line++;
  };
  const readTemplate = (start: number): number => {
    // from just after ` (or after a }) to the closing ` or the next ${
    let k = start;
    while (k < text.length) {
      if (text[k] === "\\") k += 2;
      else if (text[k] === "`") {
        wipe(start, k);
        countLines(start, k);
        return k + 1;
      } else if (text[k] === "$" && text[k + 1] === "{") {
        wipe(start, k);
        countLines(start, k);
        templates.push(depth);
        depth++;
        return k + 2;
      } else k++;
    }
    wipe(start, k);
    countLines(start, k);
    return k;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (c === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
      comments.push({ line, text: text.slice(i + 2, end).trim(), own: ownLine(text, i) });
      wipe(i, end);
      i = end;
    } else if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      const end = close === -1 ? text.length : close + 2;
      comments.push({ line, text: text.slice(i + 2, close === -1 ? text.length : close).replace(/^\s*\*?/gm, "").trim(), own: ownLine(text, i) });
      wipe(i, end);
      countLines(i, end);
      i = end;
    } else if (c === "'" || c === '"') {
      let k = i + 1;
      while (k < text.length && text[k] !== c && text[k] !== "\n") k += text[k] === "\\" ? 2 : 1;
      wipe(i + 1, k);
      i = k + 1;
    } else if (c === "`") {
      i = readTemplate(i + 1);
    } else if (c === "{") {
      depth++;
      i++;
    } else if (c === "}") {
      depth--;
      if (templates.length > 0 && templates.at(-1) === depth) {
        templates.pop();
        i = readTemplate(i + 1);
      } else i++;
    } else i++;
  }
  return { code: out.join(""), comments };
}

function ownLine(text: string, offset: number): boolean {
  const start = text.lastIndexOf("\n", offset - 1) + 1;
  return text.slice(start, offset).trim() === "";
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset && k < text.length; k++) if (text[k] === "\n") line++;
  return line;
}

/** Where the upgrade and downgrade functions start, and the name of their `op` parameter. */
function functionStarts(code: string): Array<{ name: "upgrade" | "downgrade"; offset: number; param: string }> {
  const out: Array<{ name: "upgrade" | "downgrade"; offset: number; param: string }> = [];
  // upgrade(op) {, upgrade: async (op) => {, upgrade: async op => {, upgrade: function (op) {
  const pattern = /\b(upgrade|downgrade)\s*(?::\s*(?:async\s+)?(?:function\s*\w*\s*)?)?(?:\(\s*([A-Za-z_$][\w$]*)?|([A-Za-z_$][\w$]*)\s*=>)/g;
  for (const match of code.matchAll(pattern)) {
    out.push({ name: match[1] as "upgrade" | "downgrade", offset: match.index, param: match[2] ?? match[3] ?? "op" });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

export function readMigrationSource(text: string): MigrationSource {
  const { code, comments } = blank(text);
  const starts = functionStarts(code);
  const callsIn = (name: "upgrade" | "downgrade"): CallSite[] => {
    const index = starts.findIndex((start) => start.name === name);
    if (index === -1) return [];
    const start = starts[index]!;
    const end = starts[index + 1]?.offset ?? code.length;
    const body = code.slice(start.offset, end);
    const param = start.param.replace(/\$/g, "\\$");
    const calls: CallSite[] = [];
    for (const match of body.matchAll(new RegExp(`(?<![\\w$.])${param}\\s*\\.\\s*([A-Za-z_]\\w*)\\s*\\(`, "g"))) {
      const offset = start.offset + match.index;
      calls.push({ method: match[1]!, line: lineAt(text, offset), offset });
    }
    return calls;
  };
  return { text, comments, upgradeCalls: callsIn("upgrade"), downgradeCalls: callsIn("downgrade") };
}

/**
 * Line of each recorded call: calls are matched to call sites by method name in order (a call
 * site inside a loop or a helper may record more calls than the file shows; those take the line
 * of the last matched site).
 */
export function callLines(methods: readonly string[], sites: readonly CallSite[]): Array<CallSite | undefined> {
  const out: Array<CallSite | undefined> = [];
  let next = 0;
  let last: CallSite | undefined;
  for (const method of methods) {
    let found = -1;
    for (let k = next; k < sites.length; k++) {
      if (sites[k]!.method === method) {
        found = k;
        break;
      }
    }
    if (found !== -1) {
      last = sites[found];
      next = found + 1;
    }
    out.push(last);
  }
  return out;
}

/** The line of a raw SQL statement: where its first words appear in the file after the op.execute call. */
export function sqlLine(source: MigrationSource, site: CallSite | undefined, sql: string, offset: number): number | undefined {
  if (!site) return undefined;
  const statement = sql.slice(offset).trimStart();
  const head = statement.split("\n")[0]!.slice(0, 40).trim();
  if (head === "") return site.line;
  const at = source.text.indexOf(head, site.offset);
  return at === -1 ? site.line : lineAt(source.text, at);
}
