/**
 * The Postgres introspector (PGlite too: it is Postgres). One statement reads everything from
 * pg_catalog — tables, columns, constraints, indexes, enums, each as one JSON aggregate over the
 * whole schema — so a database of any size costs one round trip and one consistent view.
 *
 * What it reports, in snapshot terms:
 * - ordinary (and partitioned) tables of the target schema, minus partitions, Retort's own
 *   tables, `options.exclude`, what `options.tables` leaves out (other tools' version tables
 *   by default) and tables owned by an extension (pg_depend deptype 'e', e.g. PostGIS's spatial_ref_sys);
 * - columns in attnum order with their logical type (see `columnType` for the mapping; other
 *   types fail with RETORT_UNSUPPORTED naming every such column), nullability, identity, serial
 *   (an integer column whose default is `nextval(…)` of a sequence it owns, whatever the
 *   sequence's name: renames keep the old one), default (decoded by introspect-defaults.ts; a
 *   `nextval(…)` of a sequence the column does not own stays { kind: "sql" }) and comment;
 * - primary key, unique constraints, foreign keys (with their deferrability) and check
 *   constraints by name (NOT NULL constraints, which Postgres 18 also keeps in pg_constraint, are
 *   not checks);
 * - indexes that do not back a constraint: key columns or expressions, DESC, non-default operator
 *   classes, partial predicate,
 *   access method (left out for btree), uniqueness;
 * - enums of the schema (used or not) with labels in their sort order;
 * - extensions installed in the schema (plpgsql lives in pg_catalog, and extensions a platform
 *   keeps in a schema of its own, such as Supabase's `extensions`, are not the schema's).
 *
 * Expressions (checks, index expressions and predicates, `sql` defaults) are the database's
 * pretty-printed text (`pg_get_expr(…, true)`): minimal parentheses, explicit casts on literals
 * (`l = ANY (ARRAY['a'::text, 'b'::text])`), line breaks inside CASE. Matching them against what a
 * user wrote is the differ's job. What the snapshot cannot represent fails with RETORT_UNSUPPORTED
 * naming each object (the `unsupported` aggregate), never silently left out: exclusion
 * constraints, partitioned and inheriting tables, column collations, INCLUDE columns, NULLS NOT
 * DISTINCT, non-default operator classes of constraint keys, index collations, NULLS FIRST/LAST, deferrable primary
 * and unique keys, MATCH FULL.
 */
import { RetortError } from "../../errors.js";
import { RETORT_TABLES } from "../../runtime/version-table.js";
import { isArrayElementType } from "../../schema/snapshot.js";
import type {
  CheckSchema,
  ColumnSchema,
  ColumnType,
  EnumSchema,
  ForeignKeySchema,
  IndexElement,
  IndexSchema,
  ReferentialAction,
  Schema,
  TableSchema,
  UniqueSchema,
} from "../../schema/snapshot.js";
import { withExtensions } from "../../schema/snapshot.js";
import { tableFilter } from "../../schema/table-filter.js";
import type { Introspector } from "../introspect.js";
import { decodeDefault } from "./introspect-defaults.js";

/**
 * The one catalog statement ($1 schema name, $2 table names to leave out). One row, one text
 * column per object kind, each a JSON array of arrays (compact, and parsed by
 * JSON.parse whatever the driver's type parsers do). Oids come out as JSON strings.
 */
export const INTROSPECT_SQL = `
WITH ns AS (
  SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = $1
), rels AS (
  SELECT c.oid, c.relname, c.relkind
  FROM pg_catalog.pg_class c
  WHERE c.relnamespace = (SELECT oid FROM ns)
    AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND c.relname <> ALL ($2::text[])
    AND NOT EXISTS (
      SELECT 1 FROM pg_catalog.pg_depend dep
      WHERE dep.classid = 'pg_catalog.pg_class'::regclass AND dep.objid = c.oid AND dep.deptype = 'e')
)
SELECT
  (SELECT json_agg(json_build_array(r.oid, r.relname, d.description))
   FROM rels r
   LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = 0
  )::text AS tables,
  (SELECT json_agg(json_build_array(
            a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, t.typtype, t.typname,
            t.typnamespace = (SELECT oid FROM ns), pg_catalog.format_type(a.atttypid, a.atttypmod),
            a.attnotnull, a.attidentity, a.attgenerated,
            pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true), d.description,
            CASE WHEN ad.oid IS NOT NULL AND a.attidentity = '' THEN EXISTS (
              SELECT 1 FROM pg_catalog.pg_depend dep JOIN pg_catalog.pg_class seq ON seq.oid = dep.objid
              WHERE dep.classid = 'pg_catalog.pg_class'::regclass AND dep.refclassid = 'pg_catalog.pg_class'::regclass
                AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a' AND seq.relkind = 'S')
            ELSE false END,
            CASE WHEN t.typcategory = 'A' THEN t.typelem END, a.attndims)
          ORDER BY a.attrelid, a.attnum)
   FROM rels r
   JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
   JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
   LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
   LEFT JOIN pg_catalog.pg_description d
     ON d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::regclass AND d.objsubid = a.attnum
  )::text AS columns,
  (SELECT json_agg(json_build_array(
            con.conrelid, con.conname, con.contype, con.conkey::int2[], ref.relname,
            (SELECT array_agg(ra.attname ORDER BY k.ord)
             FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.attnum),
            con.confdeltype, con.confupdtype,
            CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid, true) END,
            con.condeferrable, con.condeferred))
   FROM pg_catalog.pg_constraint con
   JOIN rels r ON r.oid = con.conrelid
   LEFT JOIN pg_catalog.pg_class ref ON ref.oid = con.confrelid
   WHERE con.contype IN ('p', 'u', 'f', 'c')
  )::text AS constraints,
  (SELECT json_agg(json_build_array(
            i.indrelid, ic.relname, i.indisunique, i.indkey::int2[], i.indoption::int2[], i.indnkeyatts,
            am.amname, pg_catalog.pg_get_expr(i.indpred, i.indrelid, true),
            CASE WHEN i.indexprs IS NOT NULL THEN
              ARRAY(SELECT pg_catalog.pg_get_indexdef(i.indexrelid, k, true)
                    FROM generate_series(1, i.indnkeyatts) k WHERE i.indkey[k - 1] = 0 ORDER BY k)
            END,
            -- Each key's operator class when it is not its type's default (Django's varchar_pattern_ops),
            -- schema-qualified unless it lives in pg_catalog or the schema read.
            ARRAY(SELECT CASE WHEN opc.opcdefault THEN NULL
                              WHEN opc.opcnamespace IN ('pg_catalog'::regnamespace, (SELECT oid FROM ns)) THEN opc.opcname::text
                              ELSE opn.nspname || '.' || opc.opcname END
                  FROM generate_series(0, i.indnkeyatts - 1) k
                  JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[k]
                  JOIN pg_catalog.pg_namespace opn ON opn.oid = opc.opcnamespace
                  ORDER BY k)))
   FROM pg_catalog.pg_index i
   JOIN rels r ON r.oid = i.indrelid
   JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
   JOIN pg_catalog.pg_am am ON am.oid = ic.relam
   WHERE NOT EXISTS (
     SELECT 1 FROM pg_catalog.pg_constraint con
     WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x'))
  )::text AS indexes,
  (SELECT json_agg(json_build_array(
            t.typname,
            (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)))
   FROM pg_catalog.pg_type t
   WHERE t.typnamespace = (SELECT oid FROM ns) AND t.typtype = 'e'
     AND NOT EXISTS (
       SELECT 1 FROM pg_catalog.pg_depend dep
       WHERE dep.classid = 'pg_catalog.pg_type'::regclass AND dep.objid = t.oid AND dep.deptype = 'e')
  )::text AS enums,
  (SELECT json_agg(json_build_array(u.relid, u.kind, u.name, u.reasons) ORDER BY u.relid, u.name)
   FROM (
     SELECT r.oid AS relid, 'partitioned table' AS kind, r.relname AS name,
            ARRAY[COALESCE('partitions ' || (
              SELECT string_agg(p.relname, ', ' ORDER BY p.relname)
              FROM pg_catalog.pg_inherits inh JOIN pg_catalog.pg_class p ON p.oid = inh.inhrelid
              WHERE inh.inhparent = r.oid), 'no partitions yet')] AS reasons
     FROM rels r WHERE r.relkind = 'p'
     UNION ALL
     SELECT r.oid, 'table', r.relname, ARRAY['inherits from ' || string_agg(p.relname, ', ' ORDER BY inh.inhseqno)]
     FROM rels r
     JOIN pg_catalog.pg_inherits inh ON inh.inhrelid = r.oid
     JOIN pg_catalog.pg_class p ON p.oid = inh.inhparent
     GROUP BY r.oid, r.relname
     UNION ALL
     SELECT r.oid, 'column', a.attname, ARRAY['collation ' || coll.collname]
     FROM rels r
     JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
     JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
     JOIN pg_catalog.pg_collation coll ON coll.oid = a.attcollation
     WHERE a.attcollation <> t.typcollation
     UNION ALL
     SELECT r.oid,
            CASE con.contype WHEN 'x' THEN 'exclusion constraint' WHEN 'p' THEN 'primary key'
                             WHEN 'u' THEN 'unique constraint' ELSE 'foreign key' END,
            con.conname,
            CASE WHEN con.contype = 'x' THEN ARRAY[pg_catalog.pg_get_constraintdef(con.oid, true)]
                 WHEN con.contype = 'f' THEN ARRAY['MATCH FULL']
                 ELSE ARRAY['DEFERRABLE'] END
     FROM pg_catalog.pg_constraint con
     JOIN rels r ON r.oid = con.conrelid
     WHERE con.contype = 'x' OR (con.contype IN ('p', 'u') AND con.condeferrable) OR (con.contype = 'f' AND con.confmatchtype = 'f')
     UNION ALL
     SELECT r.oid, COALESCE(CASE con.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique constraint' END, 'index'),
            COALESCE(con.conname, ic.relname),
            ARRAY_REMOVE(ARRAY[
              CASE WHEN i.indnatts > i.indnkeyatts THEN 'INCLUDE (' || (
                SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k)
                FROM generate_series(i.indnkeyatts, i.indnatts - 1) k
                JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k]) || ')' END,
              -- indnullsnotdistinct is Postgres 15+; read through to_jsonb so older servers run the same statement.
              CASE WHEN (to_jsonb(i) ->> 'indnullsnotdistinct')::boolean THEN 'NULLS NOT DISTINCT' END,
              -- An index's operator classes are read; a constraint's key has no place for one.
              (SELECT 'operator class ' || string_agg(opc.opcname, ', ' ORDER BY k)
               FROM generate_series(0, i.indnkeyatts - 1) k
               JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[k]
               WHERE NOT opc.opcdefault AND con.contype IS NOT NULL),
              (SELECT 'collation ' || string_agg(coll.collname, ', ' ORDER BY k)
               FROM generate_series(0, i.indnkeyatts - 1) k
               JOIN pg_catalog.pg_collation coll ON coll.oid = i.indcollation[k]
               LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k] AND i.indkey[k] <> 0
               WHERE i.indcollation[k] <> COALESCE(NULLIF(a.attcollation, 0), 100)), -- 100: the database default collation
              -- indoption bit 0 is DESC, bit 1 NULLS FIRST: NULLS FIRST is the default of DESC alone.
              CASE WHEN EXISTS (SELECT 1 FROM generate_series(0, i.indnkeyatts - 1) k
                                WHERE ((i.indoption[k] & 1) <> 0) <> ((i.indoption[k] & 2) <> 0)) THEN 'NULLS FIRST/LAST' END
            ], NULL)
     FROM pg_catalog.pg_index i
     JOIN rels r ON r.oid = i.indrelid
     JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
     LEFT JOIN pg_catalog.pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
     WHERE con.contype IS DISTINCT FROM 'x'
   ) u
   WHERE cardinality(u.reasons) > 0
  )::text AS unsupported,
  (SELECT json_agg(x.extname ORDER BY x.extname) FROM pg_catalog.pg_extension x WHERE x.extnamespace = (SELECT oid FROM ns))::text AS extensions
`;

interface Row {
  tables: string | null;
  columns: string | null;
  constraints: string | null;
  indexes: string | null;
  enums: string | null;
  unsupported: string | null;
  extensions: string | null;
}

type TableRow = [oid: string, name: string, comment: string | null];
type ColumnRow = [
  tableOid: string,
  attnum: number,
  name: string,
  typeOid: string,
  typmod: number,
  typtype: string,
  typname: string,
  typeInSchema: boolean,
  formatted: string,
  notNull: boolean,
  identity: string,
  generated: string,
  defaultSql: string | null,
  comment: string | null,
  /** The column owns a sequence (serial, or OWNED BY). */
  ownsSequence: boolean,
  /** An array column's element type oid (null for other types). */
  elementOid: string | null,
  /** Dimensions declared (`integer[][]`: 2); Postgres enforces none, but a pulled model would lose them. */
  dimensions: number,
];
type ConstraintRow = [
  tableOid: string,
  name: string,
  type: "p" | "u" | "f" | "c",
  columns: number[],
  refTable: string | null,
  refColumns: string[] | null,
  onDelete: string,
  onUpdate: string,
  checkSql: string | null,
  deferrable: boolean,
  initiallyDeferred: boolean,
];
type IndexRow = [
  tableOid: string,
  name: string,
  unique: boolean,
  keys: number[],
  options: number[],
  keyCount: number,
  method: string,
  where: string | null,
  expressions: string[] | null,
  /** Per key: its non-default operator class, or null. */
  opclasses: Array<string | null>,
];
type EnumRow = [name: string, labels: string[] | null];
/** Something of a table the snapshot cannot describe: kind ("index", "column", …), its name, and what it has. */
type UnsupportedRow = [tableOid: string, kind: string, name: string, reasons: string[]];

/** Built-in types by their fixed oids (stable across Postgres versions). */
const BUILTIN_TYPES: Record<string, ColumnType> = {
  2950: { kind: "uuid" },
  25: { kind: "text" },
  21: { kind: "smallint" },
  23: { kind: "integer" },
  20: { kind: "bigint" },
  700: { kind: "real" },
  701: { kind: "double" },
  16: { kind: "boolean" },
  1184: { kind: "timestamptz" },
  1114: { kind: "timestamp" },
  1082: { kind: "date" },
  1083: { kind: "time" },
  3802: { kind: "jsonb" },
  114: { kind: "json" },
  17: { kind: "bytea" },
  869: { kind: "inet" },
};
const VARCHAR_OID = "1043";
const NUMERIC_OID = "1700";
/** Time types, whose typmod is the fractional-second precision. */
const PRECISION_TYPES = new Set(["1184", "1114", "1083"]);

const SUPPORTED_TYPES =
  "uuid, text, varchar[(n)], smallint, integer, bigint, numeric[(p[, s])], real, double precision, boolean, " +
  "timestamptz[(p)], timestamp[(p)], date, time[(p)], jsonb, json, bytea, inet, enum types of the schema, " +
  "and one-dimensional arrays of text, varchar[(n)], smallint, integer, bigint, uuid, boolean, real, double precision, numeric[(p[, s])] and date";

/** A column whose default is nextval() of a sequence it owns is a serial (what `serial` creates). */
const SERIAL_KINDS = new Set(["smallint", "integer", "bigint"]);

const ACTIONS: Record<string, ReferentialAction> = {
  a: "no action",
  r: "restrict",
  c: "cascade",
  n: "set null",
  d: "set default",
};

interface Unsupported {
  table: string;
  column: string;
  type: string;
  reason: string;
}

interface UnsupportedObject {
  table: string;
  kind: string;
  name: string;
  reasons: string[];
}

/**
 * The logical type of a column, or the reason it has none. `numeric(p, 0)` reads as
 * { precision: p } (what `t.numeric(p)` gives; Postgres stores both the same way).
 */
function columnType(row: ColumnRow): ColumnType | string {
  const [, , , oid, typmod, typtype, typname, inSchema, formatted, , , , , , , elementOid, dimensions] = row;
  if (elementOid !== null) {
    // An array's typmod is its element's (varchar(20)[] has varchar(20)'s).
    const element = scalarType(elementOid, typmod, formatted);
    if (typeof element === "string") return element;
    if (element === undefined || !isArrayElementType(element)) return `${formatted}: arrays of this element type are not supported`;
    if (dimensions > 1) return `${formatted}: arrays of ${dimensions} dimensions are not supported`;
    return { kind: "array", element };
  }
  const type = scalarType(oid, typmod, formatted);
  if (type !== undefined) return type;
  if (typtype === "e") {
    return inSchema ? { kind: "enum", name: typname } : `${formatted}: an enum type of another schema is not supported`;
  }
  if (typtype === "d") return `${formatted}: domain types are not supported`;
  return `${formatted} is not supported`;
}

/** A built-in type by its oid and typmod, or undefined for the others; a string when its modifier is not describable. */
function scalarType(oid: string, typmod: number, formatted: string): ColumnType | string | undefined {
  const builtin = BUILTIN_TYPES[oid];
  if (builtin) {
    // Kept as written, timestamptz(6) included (the same type as timestamptz, which compare knows).
    if (PRECISION_TYPES.has(oid) && typmod >= 0) return { kind: builtin.kind, precision: typmod } as ColumnType;
    return { kind: builtin.kind } as ColumnType;
  }
  if (oid === VARCHAR_OID) return typmod >= 4 ? { kind: "varchar", length: typmod - 4 } : { kind: "varchar" };
  if (oid === NUMERIC_OID) {
    if (typmod < 4) return { kind: "numeric" };
    const precision = ((typmod - 4) >> 16) & 0xffff;
    const scale = ((((typmod - 4) & 0x7ff) ^ 1024) - 1024);
    if (scale < 0 || scale > precision) return `${formatted}: a scale outside 0..precision is not supported`;
    return scale === 0 ? { kind: "numeric", precision } : { kind: "numeric", precision, scale };
  }
  return undefined;
}

function parse<T>(text: string | null): T[] {
  return text === null ? [] : (JSON.parse(text) as T[]);
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export const introspectPostgres: Introspector = async (conn, options = {}) => {
  const schemaName = options.schemaName ?? "public";
  const exclude = [...RETORT_TABLES, ...(options.exclude ?? [])];
  const { rows } = await conn.query<Row>(INTROSPECT_SQL, [schemaName, exclude]);
  const row = rows[0];
  if (!row) return { tables: [], enums: [] };

  const keep = options.tables ?? tableFilter();
  const tables = new Map<string, TableSchema>();
  for (const [oid, name, comment] of parse<TableRow>(row.tables)) {
    if (!keep(name)) continue;
    const table: TableSchema = { name, columns: [], uniques: [], indexes: [], foreignKeys: [], checks: [] };
    if (comment !== null) table.comment = comment;
    tables.set(oid, table);
  }

  /** attnum → column name, per table oid (constraints and indexes name columns by number). */
  const attnames = new Map<string, Map<number, string>>();
  const unsupported: Unsupported[] = [];
  for (const column of parse<ColumnRow>(row.columns)) {
    const [tableOid, attnum, name, , , , , , formatted, notNull, identity, generated, defaultSql, comment, ownsSequence] = column;
    const table = tables.get(tableOid);
    if (!table) continue;
    let names = attnames.get(tableOid);
    if (!names) attnames.set(tableOid, (names = new Map()));
    names.set(attnum, name);

    const type = columnType(column);
    if (typeof type === "string") {
      unsupported.push({ table: table.name, column: name, type: formatted, reason: type });
      continue;
    }
    if (generated !== "") {
      unsupported.push({ table: table.name, column: name, type: formatted, reason: "generated columns are not supported" });
      continue;
    }
    const schema: ColumnSchema = { name, type, nullable: !notNull };
    if (identity === "a" || identity === "d") schema.identity = identity === "a" ? "always" : "by-default";
    else if (ownsSequence && defaultSql !== null && defaultSql.startsWith("nextval(") && SERIAL_KINDS.has(type.kind)) schema.serial = true;
    else if (defaultSql !== null) schema.default = decodeDefault(defaultSql, type);
    if (comment !== null) schema.comment = comment;
    table.columns.push(schema);
  }
  const objects: UnsupportedObject[] = [];
  for (const [tableOid, kind, name, reasons] of parse<UnsupportedRow>(row.unsupported)) {
    const table = tables.get(tableOid);
    if (table) objects.push({ table: table.name, kind, name, reasons });
  }
  objects.sort((a, b) => (a.table === b.table ? (a.name < b.name ? -1 : 1) : a.table < b.table ? -1 : 1));
  if (unsupported.length > 0 || objects.length > 0) throw unsupportedError(unsupported, objects);

  const columnNames = (tableOid: string, attnums: number[]): string[] =>
    attnums.map((attnum) => attnames.get(tableOid)?.get(attnum) ?? `#${attnum}`);

  for (const [tableOid, name, type, keys, refTable, refColumns, onDelete, onUpdate, checkSql, deferrable, initiallyDeferred] of parse<ConstraintRow>(row.constraints)) {
    const table = tables.get(tableOid);
    if (!table) continue;
    switch (type) {
      case "p":
        table.primaryKey = { name, columns: columnNames(tableOid, keys) };
        break;
      case "u":
        table.uniques.push({ name, columns: columnNames(tableOid, keys) } satisfies UniqueSchema);
        break;
      case "f":
        table.foreignKeys.push({
          name,
          columns: columnNames(tableOid, keys),
          refTable: refTable ?? "",
          refColumns: refColumns ?? [],
          onDelete: ACTIONS[onDelete] ?? "no action",
          onUpdate: ACTIONS[onUpdate] ?? "no action",
          ...(deferrable ? { deferrable: initiallyDeferred ? "deferred" : "immediate" } : {}),
        } satisfies ForeignKeySchema);
        break;
      case "c":
        table.checks.push({ name, expression: checkSql ?? "" } satisfies CheckSchema);
        break;
    }
  }

  for (const [tableOid, name, unique, keys, options, keyCount, method, where, expressions, opclasses] of parse<IndexRow>(row.indexes)) {
    const table = tables.get(tableOid);
    if (!table) continue;
    const exprs = [...(expressions ?? [])];
    const elements: IndexElement[] = keys.slice(0, keyCount).map((attnum, k) => {
      const element: IndexElement =
        attnum === 0 ? { expression: unwrapParens(exprs.shift() ?? "") } : { column: columnNames(tableOid, [attnum])[0]! };
      // indoption bit 0: DESC (bit 1, NULLS FIRST, has no place in the snapshot).
      if (((options[k] ?? 0) & 1) === 1) element.order = "desc";
      const opclass = opclasses[k];
      if (opclass) element.opclass = opclass;
      return element;
    });
    const index: IndexSchema = { name, elements, unique };
    if (where !== null) index.where = where;
    if (method !== "btree") index.using = method;
    table.indexes.push(index);
  }

  const result: Schema = { tables: [...tables.values()].sort(byName), enums: [] };
  for (const table of result.tables) {
    table.uniques.sort(byName);
    table.indexes.sort(byName);
    table.foreignKeys.sort(byName);
    table.checks.sort(byName);
  }
  result.enums = parse<EnumRow>(row.enums)
    .map(([name, labels]): EnumSchema => ({ name, values: labels ?? [] }))
    .sort(byName);
  return withExtensions(result, parse<string>(row.extensions));
};

/**
 * pg_get_indexdef prints an expression key that is not a plain function call in parentheses,
 * `(a + b)`; the snapshot holds the expression itself (the DDL adds the parentheses back).
 */
function unwrapParens(sql: string): string {
  if (!sql.startsWith("(") || !sql.endsWith(")")) return sql;
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const char = sql[i];
    if (char === "'" || char === '"') {
      const end = sql.indexOf(char, i + 1);
      if (end < 0) return sql;
      i = end;
    } else if (char === "(") depth++;
    else if (char === ")" && --depth === 0 && i < sql.length - 1) return sql;
  }
  return sql.slice(1, -1);
}

/**
 * One error for everything the snapshot cannot describe, column types and other objects alike,
 * so a user excludes or changes every table at once instead of one failure at a time.
 */
function unsupportedError(columns: Unsupported[], objects: UnsupportedObject[]): RetortError {
  const parts: string[] = [];
  if (columns.length > 0) {
    const list = columns.map((c) => `"${c.table}"."${c.column}" (${c.reason})`);
    parts.push(`Cannot introspect ${columns.length === 1 ? "column" : "columns"} ${list.join(", ")}. Supported column types: ${SUPPORTED_TYPES}.`);
  }
  if (objects.length > 0) {
    const list = objects.map((o) => (o.kind.endsWith("table") ? `${o.kind} "${o.name}"` : `${o.kind} "${o.table}"."${o.name}"`) + ` (${o.reasons.join("; ")})`);
    parts.push(`Cannot introspect ${list.join(", ")}: Retort's models cannot declare ${objects.length === 1 ? "it" : "them"}, so pulling or comparing would silently drop ${objects.length === 1 ? "it" : "them"}.`);
  }
  const tables = [...new Set([...columns, ...objects].map((c) => c.table))];
  const change = columns.length > 0 ? (objects.length > 0 ? "Change the column types and objects" : "Change the column type") : `Change ${objects.length === 1 ? "it" : "them"}`;
  return new RetortError("RETORT_UNSUPPORTED", parts.join(" "), {
    hint: `${change}, or leave the ${tables.length === 1 ? "table" : "tables"} out of introspection: tables: { exclude: ${JSON.stringify(tables).replaceAll(",", ", ")} } in the Retort config.`,
    details: {
      ...(columns.length > 0 ? { columns: columns.map(({ table, column, type }) => ({ table, column, type })) } : {}),
      ...(objects.length > 0 ? { objects } : {}),
    },
  });
}
