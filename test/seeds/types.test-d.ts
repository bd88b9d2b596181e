import { describe, expectTypeOf, it } from "vitest";
import { defineSeed, type AuditEntry } from "../../src/index.js";
import { defineSeed as defineSeedLight } from "../../src/config.js";
import * as schema from "../audit/models.js";

describe("seed and audit types", () => {
  it("a seed's context is typed by the project's models", () => {
    const seed = defineSeed<typeof schema>({
      environments: ["development", "test"],
      run: async ({ models, seedRows, random, kysely, env }) => {
        expectTypeOf(env).toEqualTypeOf<string>();
        const result = await seedRows(models.accounts, [{ email: random.email(), name: random.name(), passwordHash: "x" }], { key: ["email"] });
        expectTypeOf(result.created).toEqualTypeOf<number>();
        // @ts-expect-error: "nope" is not a column of accounts
        await seedRows(models.accounts, [], { key: ["nope"] });
        // @ts-expect-error: a row must give the required columns
        await seedRows(models.accounts, [{ email: "a" }], { key: ["email"] });
        const rows = await kysely.selectFrom("accounts").select(["email"]).execute();
        expectTypeOf(rows).toEqualTypeOf<Array<{ email: string }>>();
      },
    });
    expectTypeOf(seed.kind).toEqualTypeOf<"retort-seed">();
    expectTypeOf(defineSeedLight).toEqualTypeOf(defineSeed);
  });

  it("audit entries and per-call actors are typed", () => {
    expectTypeOf<AuditEntry["before"]>().toEqualTypeOf<Record<string, unknown> | null>();
    expectTypeOf<AuditEntry["actor"]>().toEqualTypeOf<{ id: string; kind?: string } | null>();
  });
});
