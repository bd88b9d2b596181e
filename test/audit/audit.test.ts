import { expect, it } from "vitest";
import { auditLog, compareSchemasForTest, connect, createAll, isRetortError, schemaFromModels, t, table } from "./support.js";
import { describeBackends } from "../support/backends.js";
import { accounts, counters, events, notes, tagged } from "./models.js";

const schema = { accounts, notes, events, tagged, counters };
const show = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
const alice = { email: "alice@example.com", name: "Alice", passwordHash: "hash-1" };
const bob = { email: "bob@example.com", name: "Bob", passwordHash: "hash-2" };

it("an audited model brings the audit table into the project's schema, so autogenerate creates it", () => {
  const tables = schemaFromModels(schema).tables.map((table) => table.name);
  expect(tables).toEqual(["accounts", "notes", "audit_events", "audit_tagged", "audit_counters", "retort_audit_log"]);
  expect(schemaFromModels({ notes }).tables.map((table) => table.name)).toEqual(["notes"]);
  // Exported by the project itself: not added twice.
  expect(schemaFromModels({ accounts, auditLog }).tables.map((table) => table.name)).toEqual(["accounts", "retort_audit_log"]);
  const created = compareSchemasForTest(schemaFromModels(schema));
  expect(created.split("\n")).toContain("createtable retort_audit_log");
});

it("an audited model needs a primary key; db.audit needs an audited model", async () => {
  const keyless = table("keyless", { name: t.text() }, { audit: true });
  const error = await connect("sqlite::memory:", { schema: { keyless } }).catch((e: unknown) => e);
  expect(error).toMatchObject({ code: "RETORT_INVALID_MODEL", message: 'table "keyless" has { audit: true } but no primary key, so its audit rows could not say which row changed' });
  const db = await connect("sqlite::memory:", { schema: { notes } });
  try {
    await expect(db.audit.find()).rejects.toMatchObject({ code: "RETORT_INVALID_QUERY", message: expect.stringMatching(/no model in the schema given to connect\(\) has \{ audit: true \}/) });
  } finally {
    await db.close();
  }
});

it("SQLite: createMany once rowids reached their largest (new rows numbered at random): every row still gets its audit row", async () => {
  const ledger = table("ledger", { id: t.bigint().identity().primaryKey(), n: t.integer() }, { audit: true });
  const db = await connect("sqlite::memory:", { schema: { ledger } });
  try {
    await createAll(db);
    await db.models.ledger.create({ id: 9_223_372_036_854_775_807n, n: 0 });
    expect(await db.models.ledger.createMany([{ n: 1 }, { n: 2 }, { n: 3 }])).toBe(3);
    const stored = await db.models.ledger.find({ where: { n: { gt: 0 } }, orderBy: { n: "asc" } });
    const entries = await db.audit.find({ table: ledger, action: "createMany" });
    const key = (after: Record<string, unknown> | null) => after!.n as number;
    expect(entries.map((e) => e.after).sort((a, b) => key(a) - key(b))).toEqual(stored.map((row) => ({ id: row.id.toString(), n: row.n })));
  } finally {
    await db.close();
  }
});

describeBackends("audit trail", { schema }, (ctx) => {
  const db = () => ctx.db;
  const m = () => ctx.db.models;

  it("create records every field after the insert, the sensitive one redacted", async () => {
    const row = await m().accounts.create(alice);
    const [entry, ...rest] = await db().audit.find({ table: accounts });
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ action: "create", table: "accounts", pk: { id: row.id }, actor: null, before: null });
    expect(entry!.transactionId).toMatch(/\S/);
    expect(entry!.at).toBeInstanceOf(Date);
    expect(entry!.after).toEqual({
      id: row.id,
      email: alice.email,
      name: "Alice",
      passwordHash: "[redacted]",
      balance: "0",
      settings: {},
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
      deletedAt: null,
    });
  });

  it("update records only the changed fields, before and after, with the actor", async () => {
    const row = await m().accounts.create(alice);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await db().withActor({ id: "u-1", kind: "user" }).models.accounts.update(row.id, { name: "Alicia", passwordHash: "hash-9", balance: 10n });
    const [, entry] = await db().audit.find({ table: "accounts", pk: row.id });
    expect(entry).toMatchObject({ action: "update", actor: { id: "u-1", kind: "user" } });
    expect(entry!.before).toEqual({ name: "Alice", passwordHash: "[redacted]", balance: "0", updatedAt: row.updatedAt.toISOString() });
    expect(entry!.after).toEqual({ name: "Alicia", passwordHash: "[redacted]", balance: "10", updatedAt: updated.updatedAt.toISOString() });
    expect(show(await db().audit.find())).not.toContain("hash-");
  });

  it("upsert, soft delete, restore and hard delete each leave their row", async () => {
    const inserted = await m().accounts.upsert(alice, { on: ["email"] });
    await m().accounts.upsert({ ...alice, name: "Alice B." }, { on: ["email"], update: ["name"] });
    const deleted = await m().accounts.delete(inserted.id);
    await m().accounts.restore(inserted.id);
    await m().accounts.hardDelete(inserted.id);
    const entries = await db().audit.find({ table: accounts, pk: inserted.id });
    expect(entries.map((e) => e.action)).toEqual(["upsert", "upsert", "delete", "restore", "hardDelete"]);
    expect(entries[0]!.before).toBeNull();
    expect(entries[1]!.before).toMatchObject({ name: "Alice" });
    expect(entries[1]!.after).toMatchObject({ name: "Alice B." });
    expect(entries[2]!.before).toEqual({ deletedAt: null });
    expect(entries[2]!.after).toEqual({ deletedAt: deleted.deletedAt!.toISOString() });
    expect(entries[3]!.before).toEqual({ deletedAt: deleted.deletedAt!.toISOString() });
    expect(entries[3]!.after).toEqual({ deletedAt: null });
    expect(entries[4]!.after).toBeNull();
    expect(entries[4]!.before).toMatchObject({ id: inserted.id, email: alice.email, name: "Alice B.", passwordHash: "[redacted]" });
  });

  it("updateMany and deleteMany record one row per affected row, in one transaction", async () => {
    const a = await m().accounts.create(alice);
    const b = await m().accounts.create(bob);
    const c = await m().accounts.create({ email: "carol@example.com", name: "Carol", passwordHash: "h" });
    expect(await m().accounts.updateMany({ name: { in: ["Bob", "Carol"] } }, { balance: 5n }, { actor: { id: "job-7", kind: "job" } })).toBe(2);
    const updates = await db().audit.find({ action: "updateMany" });
    expect(updates.map((e) => e.pk.id).sort()).toEqual([b.id, c.id].sort());
    expect(updates.every((e) => e.before!.balance === "0" && e.after!.balance === "5" && e.actor?.id === "job-7")).toBe(true);
    expect(new Set(updates.map((e) => e.transactionId)).size).toBe(1);
    expect(await m().accounts.deleteMany({ balance: 5n })).toBe(2);
    expect(await m().accounts.withDeleted().deleteMany({ all: true }) ).toBe(1); // only Alice was live
    const deletes = await db().audit.find({ action: "deleteMany" });
    expect(deletes).toHaveLength(3);
    expect(deletes.find((e) => e.pk.id === a.id)!.after).toMatchObject({ deletedAt: expect.any(String) });
    await m().accounts.onlyDeleted().deleteMany({ all: true });
    const hard = (await db().audit.find({ action: "deleteMany" })).slice(3);
    expect(hard).toHaveLength(3);
    expect(hard.every((e) => e.after === null && e.before!.email !== undefined)).toBe(true);
  });

  it("createMany writes one audit row per row, the same as create would", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ email: `user${i}@example.com`, name: `User ${i}`, passwordHash: `secret-${i}`, balance: BigInt(i) }));
    expect(await m().accounts.createMany(rows, { actor: { id: "importer" } })).toBe(50);
    const one = await m().accounts.create({ email: "single@example.com", name: "Single", passwordHash: "s" });
    const entries = await db().audit.find({ action: "createMany" });
    expect(entries).toHaveLength(50);
    expect(new Set(entries.map((e) => e.transactionId)).size).toBe(1);
    for (const entry of entries) {
      const stored = await m().accounts.getOrThrow(entry.pk.id as number);
      expect(entry.actor).toEqual({ id: "importer" });
      expect(entry.after).toEqual({
        id: stored.id,
        email: stored.email,
        name: stored.name,
        passwordHash: "[redacted]",
        balance: stored.balance.toString(),
        settings: {},
        createdAt: stored.createdAt.toISOString(),
        updatedAt: stored.updatedAt.toISOString(),
        deletedAt: null,
      });
    }
    const [single] = await db().audit.find({ table: accounts, pk: one.id });
    expect(Object.keys(single!.after!)).toEqual(Object.keys(entries[0]!.after!));
    const withRows = await m().accounts.createMany([{ email: "r@example.com", name: "R", passwordHash: "r" }], { returning: true });
    expect((await db().audit.find({ pk: withRows[0]!.id, table: accounts }))[0]).toMatchObject({ action: "createMany" });
    expect(show(entries)).not.toContain("secret-");
  });

  it("createMany of rows whose values are all known up front: the audit rows match the stored rows", async () => {
    const given = [
      { kind: "a", token: "tok-1" },
      { kind: "b", count: 3, big: 9_007_199_254_740_993n, data: { nested: [1, "x"] }, raw: new Uint8Array([0, 255, 16]) },
      { kind: "c" },
    ];
    expect(await db().transaction((tx) => tx.withActor({ id: "loader" }).models.events.createMany(given))).toBe(3);
    const entries = await db().audit.find({ table: events });
    expect(entries).toHaveLength(3);
    expect(new Set(entries.map((e) => e.transactionId)).size).toBe(1);
    for (const entry of entries) {
      const stored = await m().events.getOrThrow(entry.pk.id as string);
      expect(entry).toMatchObject({ action: "createMany", actor: { id: "loader" }, before: null });
      expect(entry.after).toEqual({
        id: stored.id,
        kind: stored.kind,
        count: stored.count,
        big: stored.big.toString(),
        data: stored.data,
        raw: stored.raw === null ? null : Buffer.from(stored.raw).toString("hex"),
        happenedAt: stored.happenedAt.toISOString(),
        token: "[redacted]", // even null: a sensitive column's audit values never tell anything
      });
    }
    expect(show(entries)).not.toContain("tok-1");
  });

  it("createMany of values with tabs, line breaks, backslashes and multi-byte text, over many chunks: the audit rows hold them exactly", async () => {
    const awkward = (i: number) => `row ${i}\ttab\nline\r\\backslash "quote" é 🎉 ${"x".repeat(i * 7)}`;
    const given = Array.from({ length: 250 }, (_, i) => ({ kind: awkward(i), token: `t${i}` }));
    const actor = { id: "loader\t\\1", kind: "job\n" };
    expect(await db().withActor(actor).models.events.createMany(given)).toBe(250);
    const entries = await db().audit.find({ table: events });
    expect(entries).toHaveLength(250);
    const stored = new Map((await m().events.find()).map((row) => [row.id, row]));
    for (const entry of entries) {
      const row = stored.get(entry.pk.id as string)!;
      expect(entry.actor).toEqual(actor);
      expect(entry.after).toEqual({ id: row.id, kind: row.kind, count: 0, big: "7", data: {}, raw: null, happenedAt: row.happenedAt.toISOString(), token: "[redacted]" });
    }
    expect(entries.map((e) => e.after!.kind).sort()).toEqual(given.map((g) => g.kind).sort());
  });

  it("createMany larger than one load of PGlite's COPY: every row and audit row arrives, once", async () => {
    // 17 values of 1 MB: more than the 16 MB a single COPY of PGlite is given, for the rows and their audit rows.
    const given = Array.from({ length: 17 }, (_, i) => ({ kind: `${i}:${"y".repeat(1024 * 1024)}` }));
    expect(await m().events.createMany(given)).toBe(17);
    const entries = await db().audit.find({ table: events });
    const kinds = (list: Array<{ kind: unknown }>) => list.map((row) => row.kind as string).sort();
    expect(kinds(entries.map((e) => e.after as { kind: unknown }))).toEqual(kinds(given));
    expect(kinds(await m().events.find())).toEqual(kinds(given));
  });

  it("createMany with a value only the database knows (an expression default): the audit rows hold it", async () => {
    expect(await m().tagged.createMany([{ label: "a" }, { label: "b", code: "given" }, { label: "c" }])).toBe(3);
    const entries = await db().audit.find({ table: tagged });
    expect(entries).toHaveLength(3);
    for (const entry of entries) {
      const stored = await m().tagged.getOrThrow(entry.pk.id as number);
      expect(entry.after).toEqual({ id: stored.id, label: stored.label, code: stored.code, ref: stored.ref });
    }
    expect(entries.map((e) => e.after!.code).sort()).toEqual(["ABC", "ABC", "given"]);
  });

  it("createMany of rows giving their serial key, with an expression default: the audit rows hold the stored values", async () => {
    expect(await m().tagged.createMany([{ id: 41, label: "a" }, { id: 42, label: "b", code: "given" }])).toBe(2);
    const entries = await db().audit.find({ table: tagged });
    const stored = await m().tagged.find({ orderBy: { id: "asc" } });
    expect(stored.map((row) => [row.id, row.code])).toEqual([[41, "ABC"], [42, "given"]]);
    expect(entries.map((e) => e.after)).toEqual(stored.map((row) => ({ id: row.id, label: row.label, code: row.code, ref: row.ref })));
  });

  it("createMany on an identity key: the numbers the database gives are the ones audited, and numbering goes on", async () => {
    expect(await m().counters.createMany([{ n: 1 }, { n: 2 }, { n: 3 }])).toBe(3);
    const next = await m().counters.create({ n: 4 });
    const stored = await m().counters.find({ orderBy: { id: "asc" } });
    expect(new Set(stored.map((row) => row.id)).size).toBe(4);
    expect(stored.at(-1)!.id).toBe(next.id);
    const entries = await db().audit.find({ table: counters });
    expect(entries.map((e) => e.after)).toEqual(stored.map((row) => ({ id: row.id, n: row.n })));
  });

  it("createMany on an identity key whose sequence counts by 3 (numbers not in one run): each row gets its own, audited", async ({ skip }) => {
    if (ctx.name === "sqlite") skip("SQLite numbers rows without a sequence");
    const sequence = "pg_get_serial_sequence('audit_counters', 'id')::regclass";
    const { rows: [name] } = await db().query<{ seq: string }>(`SELECT ${sequence}::text AS seq`);
    await db().query(`ALTER SEQUENCE ${name!.seq} INCREMENT BY 3`);
    try {
      expect(await m().counters.createMany([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])).toBe(4);
    } finally {
      await db().query(`ALTER SEQUENCE ${name!.seq} INCREMENT BY 1`);
    }
    const stored = await m().counters.find({ orderBy: { id: "asc" } });
    expect(stored.map((row) => row.n)).toEqual([1, 2, 3, 4]);
    expect(stored.slice(1).map((row, i) => row.id - stored[i]!.id)).toEqual([3, 3, 3]);
    const entries = await db().audit.find({ table: counters });
    expect(entries.map((e) => e.after)).toEqual(stored.map((row) => ({ id: row.id, n: row.n })));
  });

  it("a rolled-back transaction leaves no audit row, and a failed write none either", async () => {
    await expect(
      db().transaction(async (tx) => {
        await tx.models.accounts.create(alice);
        await tx.models.accounts.createMany([bob]);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await m().accounts.count()).toBe(0);
    expect(await db().audit.find()).toEqual([]);
    await m().accounts.create(alice);
    const duplicate = await m().accounts.create(alice).catch((error: unknown) => error);
    expect(isRetortError(duplicate, "RETORT_UNIQUE_VIOLATION")).toBe(true);
    await expect(m().accounts.update(999, { name: "nobody" })).rejects.toMatchObject({ code: "RETORT_NOT_FOUND" });
    expect((await db().audit.find()).map((e) => e.action)).toEqual(["create"]);
  });

  it("writes in one transaction share its id; separate writes do not", async () => {
    await db().transaction(async (tx) => {
      const a = await tx.models.accounts.create(alice);
      await tx.models.accounts.update(a.id, { name: "A" });
    });
    await m().accounts.create(bob);
    const [first, second, third] = await db().audit.find();
    expect(first!.transactionId).toBe(second!.transactionId);
    expect(third!.transactionId).not.toBe(first!.transactionId);
  });

  it("the actor comes from withActor (kept inside its transactions) or from the call", async () => {
    const admin = db().withActor({ id: "admin-1", kind: "admin" });
    const a = await admin.transaction((tx) => tx.models.accounts.create(alice));
    await admin.models.accounts.update(a.id, { name: "x" }, { actor: { id: "system", kind: "system" } });
    await m().accounts.update(a.id, { name: "y" });
    expect((await db().audit.find()).map((e) => e.actor)).toEqual([{ id: "admin-1", kind: "admin" }, { id: "system", kind: "system" }, null]);
    expect(() => db().withActor({ id: "" })).toThrow(/needs an id/);
  });

  it("find filters by table, key, actor, action and time, with a limit and an order", async () => {
    const a = await db().withActor({ id: "u1", kind: "user" }).models.accounts.create(alice);
    const b = await db().withActor({ id: "u2", kind: "user" }).models.accounts.create(bob);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const since = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await db().withActor({ id: "u1", kind: "user" }).models.accounts.update(b.id, { name: "B" });
    await m().notes.create({ body: "not audited" });
    expect((await db().audit.find({ table: "accounts" })).length).toBe(3);
    expect((await db().audit.find({ table: accounts, pk: a.id })).map((e) => e.action)).toEqual(["create"]);
    expect((await db().audit.find({ actor: "u1" })).map((e) => e.pk.id)).toEqual([a.id, b.id]);
    expect((await db().audit.find({ actor: { id: "u1", kind: "robot" } })).length).toBe(0);
    expect((await db().audit.find({ since })).map((e) => e.action)).toEqual(["update"]);
    expect((await db().audit.find({ action: "create", order: "desc", limit: 1 })).map((e) => e.pk.id)).toEqual([b.id]);
    expect((await db().audit.find({ table: "notes" })).length).toBe(0);
    await expect(db().audit.find({ pk: 1 })).rejects.toMatchObject({ code: "RETORT_INVALID_QUERY" });
  });
});
