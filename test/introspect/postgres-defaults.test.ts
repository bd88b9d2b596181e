/**
 * Postgres default expressions (as pg_get_expr prints them) → snapshot defaults, without a
 * database: the spellings the catalog round trips in postgres-family.ts do not reach.
 */
import { describe, expect, it } from "vitest";
import { decodeDefault } from "../../src/dialects/postgres/introspect-defaults.js";
import type { ColumnType, DefaultValue, JsonValue } from "../../src/schema/snapshot.js";

const lit = (value: JsonValue): DefaultValue => ({ kind: "literal", value });
const sql = (text: string): DefaultValue => ({ kind: "sql", sql: text });
const type = (kind: ColumnType["kind"]): ColumnType =>
  kind === "enum" ? { kind, name: "mood" } : kind === "varchar" ? { kind, length: 10 } : kind === "array" ? { kind, element: { kind: "text" } } : ({ kind } as ColumnType);

describe("decodeDefault", () => {
  const cases: [ColumnType["kind"], string, DefaultValue][] = [
    ["timestamptz", "now()", { kind: "now" }],
    // Other spellings stay as written (a pulled model reproduces them); the differ equates them.
    ["timestamptz", "CURRENT_TIMESTAMP", sql("CURRENT_TIMESTAMP")],
    ["timestamp", "transaction_timestamp()", sql("transaction_timestamp()")],
    ["timestamptz", "statement_timestamp()", sql("statement_timestamp()")],
    ["timestamptz", "CURRENT_TIMESTAMP(3)", sql("CURRENT_TIMESTAMP(3)")],
    ["uuid", "gen_random_uuid()", { kind: "random-uuid" }],
    ["uuid", "uuidv4()", sql("uuidv4()")],
    ["uuid", "uuid_generate_v4()", sql("uuid_generate_v4()")],
    ["integer", "0", lit(0)],
    ["integer", "'-1'::integer", lit(-1)],
    ["smallint", "'-32768'::integer", lit(-32768)],
    ["real", "1.5", lit(1.5)],
    ["double", "'-2'::integer", lit(-2)],
    ["double", "'1e+20'::double precision", lit(1e20)],
    ["double", "'Infinity'::double precision", sql("'Infinity'::double precision")],
    ["double", "'NaN'::double precision", sql("'NaN'::double precision")],
    ["bigint", "5", lit("5")],
    ["bigint", "'-9223372036854775808'::bigint", lit("-9223372036854775808")],
    ["numeric", "0.00", lit("0.00")],
    ["numeric", "'-1.5'::numeric", lit("-1.5")],
    ["integer", "nextval('t_id_seq'::regclass)", sql("nextval('t_id_seq'::regclass)")],
    ["integer", "1 + 2", sql("1 + 2")],
    ["boolean", "true", lit(true)],
    ["boolean", "false", lit(false)],
    ["text", "'x'::text", lit("x")],
    ["text", "'it''s'::text", lit("it's")],
    ["text", "''::text", lit("")],
    ["text", "'a\\b'::text", lit("a\\b")],
    ["text", "E'a\\\\b''c'::text", lit("a\\b'c")],
    ["text", "'line\nbreak'::text", lit("line\nbreak")],
    ["text", "'a'::text || 'b'::text", sql("'a'::text || 'b'::text")],
    ["text", "lower('X'::text)", sql("lower('X'::text)")],
    ["text", "NULL::text", lit(null)],
    ["varchar", "'x'::character varying", lit("x")],
    ["enum", "'member'::guild_role", lit("member")],
    ["enum", `'a'::"Mood"`, lit("a")],
    ["enum", `'a'::"My ""quoted"" type"`, lit("a")],
    ["enum", "'on'::app.state", lit("on")],
    ["uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid", lit("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")],
    ["date", "'2024-02-29'::date", lit("2024-02-29")],
    ["date", "CURRENT_DATE", sql("CURRENT_DATE")],
    ["time", "'12:00:00'::time without time zone", lit("12:00:00")],
    ["timestamptz", "'2024-01-01 00:00:00+00'::timestamp with time zone", lit("2024-01-01T00:00:00.000Z")],
    ["timestamptz", "'2024-01-01 05:30:00.5+05:30'::timestamp with time zone", lit("2024-01-01T00:00:00.500Z")],
    ["timestamptz", "'2024-01-01 00:00:00.123456-08'::timestamp with time zone", lit("2024-01-01T08:00:00.123456Z")],
    ["timestamptz", "'1900-01-01 00:00:00+00:09:21'::timestamp with time zone", lit("1899-12-31T23:50:39.000Z")],
    ["timestamptz", "'infinity'::timestamp with time zone", sql("'infinity'::timestamp with time zone")],
    ["timestamptz", "'0099-01-01 00:00:00+00 BC'::timestamp with time zone", sql("'0099-01-01 00:00:00+00 BC'::timestamp with time zone")],
    ["timestamptz", "'2024-01-01 00:00:00'::timestamp without time zone", sql("'2024-01-01 00:00:00'::timestamp without time zone")],
    ["timestamp", "'2024-02-29 12:30:00.123'::timestamp without time zone", lit("2024-02-29T12:30:00.123Z")],
    ["timestamp", "'Thu Feb 29 12:30:00 2024'::timestamp without time zone", sql("'Thu Feb 29 12:30:00 2024'::timestamp without time zone")],
    ["jsonb", `'{"a": [1, 2], "b": null}'::jsonb`, lit({ a: [1, 2], b: null })],
    ["jsonb", `'"it''s"'::jsonb`, lit("it's")],
    ["json", "'[1, 2'::json", sql("'[1, 2'::json")],
    ["bytea", "'\\x01FF'::bytea", lit("01ff")],
    ["bytea", "'\\x'::bytea", lit("")],
    ["bytea", "'\\001'::bytea", sql("'\\001'::bytea")],
    ["array", "'{}'::text[]", lit([])],
    ["array", `'{a,"b c","d\\"e","f\\\\g",""}'::text[]`, lit(["a", "b c", 'd"e', "f\\g", ""])],
    ["array", "'{a,NULL}'::text[]", sql("'{a,NULL}'::text[]")],
    ["array", "'{{a},{b}}'::text[]", sql("'{{a},{b}}'::text[]")],
    ["array", "ARRAY['a'::text, 'b, c'::text, 'd''e'::text]", lit(["a", "b, c", "d'e"])],
    ["array", "ARRAY['a'::text]::text[]", lit(["a"])],
    ["array", "ARRAY[lower('A'::text)]", sql("ARRAY[lower('A'::text)]")],
  ];

  it.each(cases)("%s: %s", (kind, text, expected) => {
    expect(decodeDefault(text, type(kind))).toEqual(expected);
  });
});

describe("decodeDefault of arrays of each element kind", () => {
  const array = (element: ColumnType): ColumnType => ({ kind: "array", element } as ColumnType);
  const cases: [string, string, ColumnType, DefaultValue][] = [
    ["integer", "'{1,-2}'::integer[]", array({ kind: "integer" }), lit([1, -2])],
    ["integer", "ARRAY[1, 2]", array({ kind: "integer" }), lit([1, 2])],
    ["smallint", "ARRAY[1::smallint, '-2'::integer::smallint]", array({ kind: "smallint" }), lit([1, -2])],
    ["smallint", "ARRAY[(1)::smallint, ('-2'::integer)::smallint]", array({ kind: "smallint" }), lit([1, -2])],
    ["bigint", "ARRAY[(1)::bigint, '9007199254740993'::bigint]", array({ kind: "bigint" }), lit(["1", "9007199254740993"])],
    ["bigint", "'{9007199254740993}'::bigint[]", array({ kind: "bigint" }), lit(["9007199254740993"])],
    ["varchar(30)", `'{"a,b",x}'::character varying[]`, array({ kind: "varchar", length: 30 }), lit(["a,b", "x"])],
    ["varchar(20)", "ARRAY['a'::character varying(20), 'b c'::character varying(20)]", array({ kind: "varchar", length: 20 }), lit(["a", "b c"])],
    ["numeric(10,2)", "'{1.50}'::numeric(10,2)[]", array({ kind: "numeric", precision: 10, scale: 2 }), lit(["1.50"])],
    ["numeric(10,2)", "ARRAY[1.5::numeric(10,2), (2)::numeric(10,2)]", array({ kind: "numeric", precision: 10, scale: 2 }), lit(["1.5", "2"])],
    ["boolean", "'{t,f}'::boolean[]", array({ kind: "boolean" }), lit([true, false])],
    ["boolean", "ARRAY[true, false]", array({ kind: "boolean" }), lit([true, false])],
    ["real", "ARRAY[(1.5)::real, (2)::real]", array({ kind: "real" }), lit([1.5, 2])],
    ["double", "'{NaN}'::double precision[]", array({ kind: "double" }), sql("'{NaN}'::double precision[]")],
    ["date", "(ARRAY['2024-02-29'])::date[]", array({ kind: "date" }), lit(["2024-02-29"])],
    ["uuid", "ARRAY['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid]", array({ kind: "uuid" }), lit(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"])],
    // Not a model default: NULL elements, expressions, a string where a number belongs.
    ["integer", "'{1,NULL}'::integer[]", array({ kind: "integer" }), sql("'{1,NULL}'::integer[]")],
    ["integer", "ARRAY[1 + 1]", array({ kind: "integer" }), sql("ARRAY[1 + 1]")],
    ["integer", "'{x}'::integer[]", array({ kind: "integer" }), sql("'{x}'::integer[]")],
    ["text", "ARRAY['it''s, here'::text]::text[]", array({ kind: "text" }), lit(["it's, here"])],
  ];

  it.each(cases)("%s[]: %s", (_name, text, columnType, expected) => {
    expect(decodeDefault(text, columnType)).toEqual(expected);
  });
});
