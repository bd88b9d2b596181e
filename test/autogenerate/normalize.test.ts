import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, expressionColumn, normalizeDefault, normalizeExpression } from "../../src/autogenerate/normalize.js";
import type { ColumnType, DefaultValue } from "../../src/schema/snapshot.js";

const same = (a: string, b: string) => expect(normalizeExpression(a)).toBe(normalizeExpression(b));
const differ = (a: string, b: string) => expect(normalizeExpression(a)).not.toBe(normalizeExpression(b));

describe("normalizeExpression: what Postgres stores equals what the model says", () => {
  // Left: as written in a model. Right: as pg_get_constraintdef / pg_get_indexdef / pg_get_expr print it.
  const cases: Array<[string, string]> = [
    ["expires_at IS NULL OR expires_at > created_at", "((expires_at IS NULL) OR (expires_at > created_at))"],
    ["xp >= 0", "(xp >= 0)"],
    ["lower(nickname)", "lower((nickname)::text)"],
    ["deleted_at IS NULL", "(deleted_at IS NULL)"],
    ["delivered = false", "(delivered = false)"],
    ["length(v) > 0 AND NOT (n = 2)", "((length((v)::text) > 0) AND (NOT (n = 2)))"],
    ["v IN ('a', 'b')", "((v)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))"],
    ["n BETWEEN -1 AND 5", "(((n >= '-1'::integer) AND (n <= 5)))"],
    ["v LIKE 'a%'", "((v)::text ~~ 'a%'::text)"],
    ["n NOT IN (1,2)", "((n <> ALL (ARRAY[1, 2])))"],
    ["n IN (3)", "((n = 3))"],
    ["m <> 'b'", "((m <> 'b'::mood))"],
    ["j->>'k' IS NOT NULL", "(((j ->> 'k'::text) IS NOT NULL))"],
    ["n::numeric > 0.5", "(((n)::numeric > 0.5))"],
    ["s % 2 = 0", "(((s)::integer % 2) = 0)"],
    ["v || 'x' <> 'y'", "((((v)::text || 'x'::text) <> 'y'::text))"],
    ["CASE WHEN n > 0 THEN true ELSE false END", "(\nCASE\n    WHEN (n > 0) THEN true\n    ELSE false\nEND)"],
    ["n > -1", "((n > '-1'::integer))"],
    ["substring(v from 1 for 2) <> 'zz'", "((SUBSTRING(v FROM 1 FOR 2) <> 'zz'::text))"],
    ["extract(year from now()) > 2000", "((EXTRACT(year FROM now()) > (2000)::numeric))"],
    ["coalesce(n, 0) >= 0", "((COALESCE(n, 0) >= 0))"],
    ["created_at > CURRENT_TIMESTAMP", "(created_at > now())"],
    ['"nickname" <> \'\'', "((nickname)::text <> ''::text)"],
    ["price > 0", "(price > (0)::numeric)"],
    ["x != 1", "(x <> 1)"],
    ["x == 1", "(x = 1)"],
    ["created_at + interval '1 day' > now()", "((created_at + '1 day'::interval) > now())"],
    ["name ILIKE 'a%'", "((name)::text ~~* 'a%'::text)"],
    ["a AND (b AND c)", "((a AND b) AND c)"],
    ["d > DATE '2024-01-01'", "(d > '2024-01-01'::date)"],
    ["t::timestamp with time zone > now()", "((t)::timestamptz > now())"],
    ["CAST(x AS varchar(10)) = 'a'", "((x)::character varying(10) = 'a')"],
    ["x IS NOT DISTINCT FROM y", "(x IS NOT DISTINCT FROM y)"],
    ["NOT flag", "(NOT flag)"],
    ["length(trim(t)) > 0", "(length(TRIM(BOTH FROM t)) > 0)"],
    ["trim(leading 'x' from t) <> ''", "(TRIM(LEADING 'x'::text FROM t) <> ''::text)"],
    ["position('a' in t) > 0", "(POSITION(('a'::text) IN (t)) > 0)"],
    ["ts < '2030-01-01'", "(ts < '2030-01-01 00:00:00+00'::timestamp with time zone)"],
    ["round(r) = r", "(round((r)::double precision) = r)"],
    ["t SIMILAR TO 'a%'", "(t ~ similar_to_escape('a%'::text))"],
    ['t COLLATE "C" > \'a\'', '((t COLLATE "C") > \'a\'::text)'],
    ["n NOT BETWEEN 1 AND 2", "((n < 1) OR (n > 2))"],
    ["arr @> ARRAY['a']", "(arr @> ARRAY['a'::text])"],
    ["ts > now() - interval '1 day'", "(ts > (now() - '1 day'::interval))"],
    ["extract(epoch from ts) > 0", "(EXTRACT(epoch FROM ts) > (0)::numeric)"],
  ];
  it.each(cases)("%s", (model, stored) => same(model, stored));

  it("lowercases keywords and unquoted identifiers, keeps needed quotes", () => {
    expect(normalizeExpression('LOWER("Nick") <> \'X\' AND "order" > 0 AND "plain" IS NULL')).toBe(`lower("Nick") <> 'X' and "order" > 0 and plain is null`);
    same("Score >= 0", "score >= 0");
    differ('"Score" >= 0', "score >= 0");
  });

  it("keeps meaningful differences", () => {
    differ("xp >= 0", "xp > 0");
    differ("a - (b - c)", "a - b - c");
    differ("(a OR b) AND c", "a OR b AND c");
    differ("'A'", "'a'");
    differ("x::integer", "x");
    differ("lower(x::text) = 'a'", "lower(x::text || 'b') = 'a'");
    differ("lower(x)", "upper(x)");
  });

  it("prints with minimal parentheses", () => {
    expect(normalizeExpression("((a + b) * c)")).toBe("(a + b) * c");
    expect(normalizeExpression("(a * b) + c")).toBe("a * b + c");
    expect(normalizeExpression("(((x)))")).toBe("x");
    expect(normalizeExpression("-(1)")).toBe("-1");
    expect(normalizeExpression("(- 1)::text")).toBe("(-1)::text");
  });

  it("falls back to a textual form for what it cannot parse, and never throws", () => {
    expect(normalizeExpression("x = $1")).toBe("x = $1");
    expect(normalizeExpression("EXISTS (SELECT 1 FROM  t)")).toBe(normalizeExpression("exists(select 1 from t)"));
    expect(normalizeExpression("'unterminated")).toBe("'unterminated");
  });

  it("recognises an expression that is only a column", () => {
    expect(expressionColumn('("nickname")')).toBe("nickname");
    expect(expressionColumn('"Nick"')).toBe("Nick");
    expect(expressionColumn("lower(nickname)")).toBeUndefined();
  });
});

describe("normalizeDefault", () => {
  const key = (value: DefaultValue | undefined, type: ColumnType) => normalizeDefault(value, { type });
  const sql = (text: string): DefaultValue => ({ kind: "sql", sql: text });
  const literal = (value: DefaultValue & { kind: "literal" }) => value;

  it("now() and CURRENT_TIMESTAMP are { kind: now }, on both dialects", () => {
    const type: ColumnType = { kind: "timestamptz" };
    for (const text of ["now()", "CURRENT_TIMESTAMP", "transaction_timestamp()", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"]) expect(key(sql(text), type)).toBe("now");
    expect(key({ kind: "now" }, type)).toBe("now");
  });

  it("random UUIDs", () => {
    expect(key(sql("gen_random_uuid()"), { kind: "uuid" })).toBe(key({ kind: "random-uuid" }, { kind: "uuid" }));
  });

  it("literals equal their SQL spellings", () => {
    expect(key(sql("'{}'::jsonb"), { kind: "jsonb" })).toBe(key(literal({ kind: "literal", value: {} }), { kind: "jsonb" }));
    expect(key(sql(`'{"b": 1, "a": [true]}'::jsonb`), { kind: "jsonb" })).toBe(key(literal({ kind: "literal", value: { a: [true], b: 1 } }), { kind: "jsonb" }));
    expect(key(sql("'member'::guild_role"), { kind: "enum", name: "guild_role" })).toBe(key(literal({ kind: "literal", value: "member" }), { kind: "enum", name: "guild_role" }));
    expect(key(sql("'x'::text"), { kind: "text" })).toBe(key(literal({ kind: "literal", value: "x" }), { kind: "text" }));
    expect(key(sql("0.00"), { kind: "numeric", precision: 10, scale: 2 })).toBe(key(literal({ kind: "literal", value: "0" }), { kind: "numeric" }));
    expect(key(sql("'5'::bigint"), { kind: "bigint" })).toBe(key(literal({ kind: "literal", value: "5" }), { kind: "bigint" }));
    expect(key(sql("'-1'::integer"), { kind: "integer" })).toBe(key(literal({ kind: "literal", value: -1 }), { kind: "integer" }));
    expect(key(sql("1"), { kind: "boolean" })).toBe(key(literal({ kind: "literal", value: true }), { kind: "boolean" }));
    expect(key(sql("'t'::boolean"), { kind: "boolean" })).toBe(key(literal({ kind: "literal", value: true }), { kind: "boolean" }));
    expect(key(sql("'2024-01-02 03:04:05+00'::timestamp with time zone"), { kind: "timestamptz" })).toBe(
      key(literal({ kind: "literal", value: "2024-01-02T03:04:05.000Z" }), { kind: "timestamptz" }),
    );
    expect(key(sql("'\\x00ff'::bytea"), { kind: "bytea" })).toBe(key(literal({ kind: "literal", value: "00ff" }), { kind: "bytea" }));
    expect(key(sql("X'00FF'"), { kind: "bytea" })).toBe(key(literal({ kind: "literal", value: "00ff" }), { kind: "bytea" }));
    expect(key(sql("'{}'::text[]"), { kind: "array", element: { kind: "text" } })).toBe(key(literal({ kind: "literal", value: [] }), { kind: "array", element: { kind: "text" } }));
    expect(key(sql("ARRAY['a'::text, 'b'::text]"), { kind: "array", element: { kind: "text" } })).toBe(
      key(literal({ kind: "literal", value: ["a", "b"] }), { kind: "array", element: { kind: "text" } }),
    );
    expect(key(sql("('a'::text || 'b'::text)"), { kind: "text" })).toBe(key(sql("'a' || 'b'"), { kind: "text" }));
    // Arrays of other element kinds: Postgres' text form, ARRAY[...] with casts and SQLite's stored JSON equal the model's literal.
    const ints = { kind: "array", element: { kind: "integer" } } as const;
    for (const form of ["'{1,2}'::integer[]", "ARRAY[1, 2]", "ARRAY[1, 2]::integer[]", "'[1,2]'", "'{\"1\",\"2\"}'::integer[]"]) {
      expect(key(sql(form), ints), form).toBe(key(literal({ kind: "literal", value: [1, 2] }), ints));
    }
    expect(key(sql("'{2,1}'::integer[]"), ints)).not.toBe(key(literal({ kind: "literal", value: [1, 2] }), ints));
    const bigs = { kind: "array", element: { kind: "bigint" } } as const;
    expect(key(sql("ARRAY[(1)::bigint, '9007199254740993'::bigint]"), bigs)).toBe(key(literal({ kind: "literal", value: ["1", "9007199254740993"] }), bigs));
    expect(key(sql("'[1,9007199254740993]'"), bigs)).toBe(key(literal({ kind: "literal", value: ["1", "9007199254740993"] }), bigs));
    const flags = { kind: "array", element: { kind: "boolean" } } as const;
    expect(key(sql("'{t,f}'::boolean[]"), flags)).toBe(key(literal({ kind: "literal", value: [true, false] }), flags));
    expect(key(sql("'[true,false]'"), flags)).toBe(key(literal({ kind: "literal", value: [true, false] }), flags));
    const amounts = { kind: "array", element: { kind: "numeric", precision: 10, scale: 2 } } as const;
    expect(key(sql("'{1.50}'::numeric[]"), amounts)).toBe(key(literal({ kind: "literal", value: ["1.5"] }), amounts));
    const days = { kind: "array", element: { kind: "date" } } as const;
    expect(key(sql("(ARRAY['2024-02-29'])::date[]"), days)).toBe(key(literal({ kind: "literal", value: ["2024-02-29"] }), days));
    const names = { kind: "array", element: { kind: "varchar", length: 30 } } as const;
    expect(key(sql(`'{"a,b",x}'::character varying[]`), names)).toBe(key(literal({ kind: "literal", value: ["a,b", "x"] }), names));
    expect(key(sql(`'{"a,b",x}'::character varying[]`), names)).not.toBe(key(literal({ kind: "literal", value: ["a", "b", "x"] }), names));
  });

  it("NULL is no default; different values differ", () => {
    expect(key(sql("NULL::text"), { kind: "text" })).toBeUndefined();
    expect(key(literal({ kind: "literal", value: null }), { kind: "text" })).toBeUndefined();
    expect(key(literal({ kind: "literal", value: "a" }), { kind: "text" })).not.toBe(key(literal({ kind: "literal", value: "b" }), { kind: "text" }));
    expect(key(literal({ kind: "literal", value: 1 }), { kind: "integer" })).not.toBe(key(literal({ kind: "literal", value: 2 }), { kind: "integer" }));
  });

  it("canonicalJson sorts keys", () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [1, { f: 0, e: 1 }] } })).toBe('{"a":{"c":[1,{"e":1,"f":0}],"d":2},"b":1}');
  });
});

// ---------------------------------------------------------------------------------------------
// properties

type Expr =
  | { t: "atom"; text: string }
  | { t: "bin"; op: string; left: Expr; right: Expr }
  | { t: "not"; expr: Expr }
  | { t: "neg"; expr: Expr }
  | { t: "isnull"; expr: Expr; not: boolean }
  | { t: "in"; expr: Expr; list: Expr[] }
  | { t: "between"; expr: Expr; low: Expr; high: Expr }
  | { t: "call"; name: string; args: Expr[] }
  | { t: "cast"; expr: Expr; type: string }
  | { t: "case"; when: Expr; then: Expr; otherwise: Expr };

const atom = fc.oneof(
  fc.constantFrom("a", "b", "xp", "Created_At", '"Nick"', '"order"', '"plain"', "t.col"),
  fc.integer({ min: 0, max: 1000 }).map(String),
  fc.constantFrom("'x'", "'it''s'", "''", "TRUE", "false", "NULL", "1.50", "CURRENT_DATE"),
).map((text): Expr => ({ t: "atom", text }));

const expression: fc.Arbitrary<Expr> = fc.letrec<{ e: Expr }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    atom,
    fc.record({ t: fc.constant("bin" as const), op: fc.constantFrom("AND", "OR", "=", "<>", "<", ">=", "+", "-", "*", "/", "||", "LIKE"), left: tie("e"), right: tie("e") }),
    fc.record({ t: fc.constant("not" as const), expr: tie("e") }),
    fc.record({ t: fc.constant("neg" as const), expr: tie("e") }),
    fc.record({ t: fc.constant("isnull" as const), expr: tie("e"), not: fc.boolean() }),
    fc.record({ t: fc.constant("in" as const), expr: tie("e"), list: fc.array(tie("e"), { minLength: 1, maxLength: 3 }) }),
    fc.record({ t: fc.constant("between" as const), expr: tie("e"), low: tie("e"), high: tie("e") }),
    fc.record({ t: fc.constant("call" as const), name: fc.constantFrom("lower", "COALESCE", "length"), args: fc.array(tie("e"), { minLength: 1, maxLength: 2 }) }),
    fc.record({ t: fc.constant("cast" as const), expr: tie("e"), type: fc.constantFrom("integer", "text", "numeric(10,2)", "timestamp with time zone") }),
    fc.record({ t: fc.constant("case" as const), when: tie("e"), then: tie("e"), otherwise: tie("e") }),
  ),
})).e;

/** Every composite child in parentheses (unambiguous); `wrap` may add more around any sub-expression. */
function print(expr: Expr, wrap: () => boolean): string {
  const child = (e: Expr) => {
    const text = print(e, wrap);
    return e.t === "atom" || e.t === "call" ? text : `(${text})`;
  };
  let text: string;
  switch (expr.t) {
    case "atom":
      text = expr.text;
      break;
    case "bin":
      text = `${child(expr.left)} ${expr.op} ${child(expr.right)}`;
      break;
    case "not":
      text = `NOT ${child(expr.expr)}`;
      break;
    case "neg":
      text = `- ${child(expr.expr)}`;
      break;
    case "isnull":
      text = `${child(expr.expr)} IS ${expr.not ? "NOT " : ""}NULL`;
      break;
    case "in":
      text = `${child(expr.expr)} IN (${expr.list.map((item) => print(item, wrap)).join(", ")})`;
      break;
    case "between":
      text = `${child(expr.expr)} BETWEEN ${child(expr.low)} AND ${child(expr.high)}`;
      break;
    case "call":
      text = `${expr.name}(${expr.args.map((arg) => print(arg, wrap)).join(", ")})`;
      break;
    case "cast":
      text = `${child(expr.expr)}::${expr.type}`;
      break;
    case "case":
      text = `CASE WHEN ${print(expr.when, wrap)} THEN ${print(expr.then, wrap)} ELSE ${print(expr.otherwise, wrap)} END`;
      break;
  }
  return wrap() ? `(${text})` : text;
}

describe("normalizeExpression properties", () => {
  it("is idempotent on generated expressions", () => {
    fc.assert(
      fc.property(expression, (expr) => {
        const once = normalizeExpression(print(expr, () => false));
        expect(normalizeExpression(once)).toBe(once);
      }),
      { numRuns: 2000 },
    );
  });

  it("is unchanged by redundant parentheses around any sub-expression", () => {
    fc.assert(
      fc.property(expression, fc.infiniteStream(fc.boolean()), (expr, coins) => {
        const plain = normalizeExpression(print(expr, () => false));
        const wrapped = normalizeExpression(print(expr, () => coins.next().value as boolean));
        expect(wrapped).toBe(plain);
      }),
      { numRuns: 2000 },
    );
  });

  it("never throws and is idempotent on arbitrary text", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."ab(), '\"x=<>:-+*/|0123456789 ANDORNOTISLIKE\n".split("")) }), (text) => {
        const once = normalizeExpression(text);
        expect(normalizeExpression(once)).toBe(once);
      }),
      { numRuns: 3000 },
    );
  });
});
