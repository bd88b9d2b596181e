/**
 * The real Postgres parser (libpg-query, the server's own grammar compiled to WASM) and a
 * deparser for expressions, loaded on first use only: the CLI pays for them only when raw SQL
 * has to be read. After `loadPostgresParser()` resolves, parsing is synchronous.
 */
import { RetortError } from "../errors.js";

/** A node of the parse tree: `{ NodeType: { …fields } }`, as libpg-query returns it (JSON). */
export type PgNode = Record<string, any>;

export interface PostgresParser {
  /** The statements of `sql`, each as `{ StmtType: fields }`. Throws RETORT_INVALID_OPERATION on a syntax error. */
  parse(sql: string): PgNode[];
  /** SQL text for one expression node (a default, a CHECK, an index expression or predicate). */
  deparseExpression(node: PgNode): string;
  /** `sql` without its comments (as the server's scanner finds them: not inside strings), trimmed. */
  withoutComments(sql: string): string;
}

let loading: Promise<PostgresParser> | undefined;

export function loadPostgresParser(): Promise<PostgresParser> {
  loading ??= (async () => {
    const [pgQuery, deparser] = await Promise.all([import("libpg-query"), import("pgsql-deparser")]);
    await pgQuery.loadModule();
    /**
     * Casts written `x::type`, as Postgres prints them (the deparser writes CAST(x AS type) for
     * types outside pg_catalog): the expression normaliser and the default decoder read that form.
     */
    class CastDeparser extends deparser.Deparser {
      override TypeCast(node: any, context: any): string {
        const arg: string = this.visit(node.arg, context);
        const type = this.TypeName(node.typeName, context).replace(/^pg_catalog\./, "");
        const kind = Object.keys(node.arg ?? {})[0];
        const bare = (kind === "A_Const" || kind === "ColumnRef" || kind === "FuncCall" || kind === "TypeCast") && !arg.startsWith("-");
        return bare ? `${arg}::${type}` : `(${arg})::${type}`;
      }
    }
    return {
      parse(sql) {
        try {
          return (pgQuery.parseSync(sql).stmts ?? []).map((entry) => entry.stmt as PgNode);
        } catch (error) {
          throw new RetortError("RETORT_INVALID_OPERATION", `the Postgres parser rejects this SQL: ${(error as Error).message}`, {
            hint: "Fix the SQL in op.execute(); it must be valid Postgres.",
            cause: error,
          });
        }
      },
      deparseExpression(node) {
        return new CastDeparser(node as never, { pretty: false }).deparseQuery();
      },
      withoutComments(sql) {
        // The scanner counts bytes: cut the UTF-8 bytes, not the string's UTF-16 units.
        const bytes = Buffer.from(sql, "utf8");
        const comments = pgQuery.scanSync(sql).tokens.filter((token) => token.tokenName === "SQL_COMMENT" || token.tokenName === "C_COMMENT");
        let out = "";
        let at = 0;
        for (const comment of comments) {
          out += `${bytes.subarray(at, comment.start).toString("utf8")} `;
          at = comment.end;
        }
        return (out + bytes.subarray(at).toString("utf8")).trim();
      },
    };
  })();
  return loading;
}
