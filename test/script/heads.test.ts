import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { RevisionGraph } from "../../src/script/graph.js";
import { applyStep, headsAfter, stampHeads, type Direction } from "../../src/script/heads.js";
import { appliedRevisions, downgradePlan, upgradePlan } from "../../src/script/plan.js";
import type { ScriptHeader } from "../../src/script/header.js";
import { ID, diamond, graphOf, header, ids, retortError, twoBranches } from "./helpers.js";

/** Runs steps one at a time, recording each change and the rows after it. */
function steps(graph: RevisionGraph, start: string[], sequence: Array<[string, Direction]>, withApplied: boolean) {
  const heads = new Set(start);
  const applied = withApplied ? appliedRevisions(graph, start) : undefined;
  return sequence.map(([id, direction]) => {
    const change = applyStep(heads, graph.get(id)!, direction, graph, applied);
    return { ...change, heads: ids(graph.sortTopologically(heads)) };
  });
}

describe("applyStep", () => {
  const graph = diamond();
  const sequence: Array<[string, Direction]> = [
    [ID.root, "up"],
    [ID.a1, "up"],
    [ID.b1, "up"],
    [ID.a2, "up"],
    [ID.b2, "up"],
    [ID.merge, "up"],
    [ID.merge, "down"],
    [ID.b2, "down"],
    [ID.b1, "down"],
    [ID.a2, "down"],
    [ID.a1, "down"],
    [ID.root, "down"],
  ];
  const expected = [
    { removed: [], added: [ID.root], heads: [ID.root] }, // first revision: a row appears
    { removed: [ID.root], added: [ID.a1], heads: [ID.a1] }, // the row moves up
    { removed: [], added: [ID.b1], heads: [ID.a1, ID.b1] }, // a new branch from the branch point adds a row
    { removed: [ID.a1], added: [ID.a2], heads: [ID.b1, ID.a2] },
    { removed: [ID.b1], added: [ID.b2], heads: [ID.a2, ID.b2] },
    { removed: [ID.a2, ID.b2], added: [ID.merge], heads: [ID.merge] }, // a merge replaces both rows by one
    { removed: [ID.merge], added: [ID.a2, ID.b2], heads: [ID.a2, ID.b2] }, // undoing it restores both parents
    { removed: [ID.b2], added: [ID.b1], heads: [ID.b1, ID.a2] },
    { removed: [ID.b1], added: [], heads: [ID.a2] }, // root is still under a2: no row for it
    { removed: [ID.a2], added: [ID.a1], heads: [ID.a1] },
    { removed: [ID.a1], added: [ID.root], heads: [ID.root] },
    { removed: [ID.root], added: [], heads: [] }, // below base: empty
  ];

  it("updates the version-table rows one revision at a time", () => {
    expect(steps(graph, [], sequence, true)).toEqual(expected);
  });

  it("gives the same rows without the applied set", () => {
    expect(steps(graph, [], sequence, false)).toEqual(expected);
  });

  it("depends-on: the dependent covers its target's row; undoing it restores the row", () => {
    const graph = graphOf(header(ID.a1), header("7e0000000001", [], { dependsOn: [ID.a1] }));
    expect(
      steps(
        graph,
        [ID.a1],
        [
          ["7e0000000001", "up"],
          ["7e0000000001", "down"],
        ],
        false,
      ),
    ).toEqual([
      { removed: [ID.a1], added: ["7e0000000001"], heads: ["7e0000000001"] },
      { removed: ["7e0000000001"], added: [ID.a1], heads: [ID.a1] },
    ]);
  });

  it("takes a revision by id or by anything carrying its id", () => {
    const heads = new Set<string>([ID.a1]);
    expect(applyStep(heads, ID.a2, "up", graph)).toEqual({ removed: [ID.a1], added: [ID.a2] });
    expect(applyStep(heads, { revision: ID.a2, path: "x.ts" } as { revision: string }, "down", graph)).toEqual({ removed: [ID.a2], added: [ID.a1] });
    expect([...heads]).toEqual([ID.a1]);
    expect(headsAfter(graph, [], [ID.root, ID.b1], "up")).toEqual([ID.b1]);
  });

  it("refuses steps out of order (a caller bug, not a user error)", () => {
    expect(() => applyStep(new Set([ID.a1]), graph.get(ID.a1)!, "up", graph)).toThrow(`revision ${ID.a1} is already applied`);
    expect(() => applyStep(new Set([ID.a2]), graph.get(ID.a1)!, "down", graph)).toThrow(`revision ${ID.a1} is not a current head; downgrade newest first`);
    expect(() => applyStep(new Set([ID.root]), graph.get(ID.a2)!, "up", graph, appliedRevisions(graph, [ID.root]))).toThrow(
      `revision ${ID.a2} cannot be applied before ${ID.a1}`,
    );
  });
});

describe("headsAfter", () => {
  it("folds a whole plan", () => {
    const graph = diamond();
    expect(headsAfter(graph, [ID.a1], upgradePlan(graph, [ID.a1], ID.b2), "up")).toEqual([ID.a1, ID.b2]);
    expect(headsAfter(graph, [ID.top], downgradePlan(graph, [ID.top], "base"), "down")).toEqual([]);
  });

  it("matches the definition (the applied revisions nothing else applied builds on) on random graphs", () => {
    // A random DAG: revision i gets up to two parents and one depends-on target among revisions before it.
    const dag = fc.tuple(
      fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 2 }), fc.array(fc.nat(), { maxLength: 1 })), { minLength: 1, maxLength: 14 }),
      fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
    );
    fc.assert(
      fc.property(dag, ([edges, picks]) => {
        const n = edges.length;
        const id = (i: number) => `r${String(i).padStart(11, "0")}`;
        const headers: ScriptHeader[] = edges.map(([parentPicks, depPicks], i) => {
          const parents = i === 0 ? [] : [...new Set(parentPicks.map((p) => p % i))];
          const deps = i === 0 ? [] : depPicks.map((d) => d % i).filter((d) => !parents.includes(d));
          return header(id(i), parents.map(id), { dependsOn: deps.map(id) });
        });
        const graph = graphOf(...headers);
        const pick = (k: number) => id(picks[k]! % n);
        const expectedHeads = (applied: Set<string>) =>
          graph.revisions
            .filter((r) => applied.has(r.revision) && ![...r.children, ...r.dependents].some((c) => applied.has(c)))
            .map((r) => r.revision);

        // upgrade to one revision, then to another, then downgrade to a third (if applied)
        let current: string[] = [];
        for (const target of [pick(0), pick(1)]) {
          const plan = upgradePlan(graph, current, target);
          const after = headsAfter(graph, current, plan, "up");
          const stateless = steps(graph, current, plan.map((r) => [r.revision, "up"]), false).at(-1)?.heads ?? current;
          const applied = new Set([...appliedRevisions(graph, current), ...ids(plan)]);
          expect(after).toEqual(expectedHeads(applied));
          expect(stateless).toEqual(after);
          current = after;
        }
        const applied = appliedRevisions(graph, current);
        if (applied.has(pick(2))) {
          const plan = downgradePlan(graph, current, pick(2));
          const after = headsAfter(graph, current, plan, "down");
          const stateless = steps(graph, current, plan.map((r) => [r.revision, "down"]), false).at(-1)?.heads ?? current;
          for (const r of plan) applied.delete(r.revision);
          expect(after).toEqual(expectedHeads(applied));
          expect(stateless).toEqual(after);
          expect(applied.has(pick(2))).toBe(true);
          // Nothing stands above the target through parents any more (a revision that merely
          // depends on it may stay); what stays is whole (its parents and depends-on targets
          // stay too); and each revision reverted had to go: it stands above the target through
          // parents, or builds on a revision that went.
          expect([...graph.descendants([pick(2)], { inclusive: false, dependsOn: false })].some((d) => applied.has(d))).toBe(false);
          for (const id of applied) for (const below of [...graph.require(id).parents, ...graph.require(id).dependsOn]) expect(applied.has(below)).toBe(true);
          const reverted = new Set(ids(plan));
          const aboveTarget = graph.descendants([pick(2)], { inclusive: false, dependsOn: false });
          for (const r of plan) expect(aboveTarget.has(r.revision) || [...r.parents, ...r.dependsOn].some((p) => reverted.has(p))).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("stampHeads (retort stamp), branch-aware as Alembic", () => {
  const graph = twoBranches(); // root; accounts: a1 a2; billing: b1 b2

  it("a revision on a branch without a row adds one; on a represented branch it moves that row", () => {
    expect(stampHeads(graph, [ID.a2], ID.b1)).toEqual([ID.a2, ID.b1]);
    expect(stampHeads(graph, [ID.a2, ID.b1], ID.b2)).toEqual([ID.a2, ID.b2]);
    expect(stampHeads(graph, [ID.a2, ID.b2], ID.a1)).toEqual([ID.a1, ID.b2]);
    expect(stampHeads(graph, [ID.a2, ID.b2], ID.b2)).toEqual([ID.a2, ID.b2]);
  });

  it("a revision both branches build on replaces both rows", () => {
    expect(stampHeads(graph, [ID.a2, ID.b2], ID.root)).toEqual([ID.root]);
    expect(stampHeads(diamond(), [ID.a2, ID.b1], ID.top)).toEqual([ID.top]);
  });

  it("--purge replaces every row, and accepts rows no file defines", () => {
    expect(stampHeads(graph, [ID.a2, ID.b2], ID.b1, { purge: true })).toEqual([ID.b1]);
    expect(stampHeads(graph, ["ffffffffffff"], ID.a1, { purge: true })).toEqual([ID.a1]);
    retortError("RETORT_UNKNOWN_REVISION", () => stampHeads(graph, ["ffffffffffff"], ID.a1));
  });

  it("base clears the table; <label>@base only that branch's row; heads adds what is missing", () => {
    expect(stampHeads(graph, [ID.a2, ID.b2], "base")).toEqual([]);
    expect(stampHeads(graph, [ID.a2, ID.b2], "billing@base")).toEqual([ID.a2]);
    expect(stampHeads(graph, [], "heads")).toEqual([ID.a2, ID.b2]);
    expect(stampHeads(graph, [ID.a1], "heads")).toEqual([ID.a2, ID.b2]);
    expect(stampHeads(graph, [ID.a2], "billing@head")).toEqual([ID.a2, ID.b2]);
  });

  it("Alembic's stamp across a dependency: a row built on what the stamp takes away goes too", () => {
    // lib1: a1 b1 c1 d1 e1; lib2: a2 b2 c2, c2 depends on c1. Stamping b1 over [e1, c2] leaves b1 alone.
    const r = (id: string) => `${id}0000000000`;
    const lib = graphOf(
      header(r("a1"), [], { branchLabels: ["lib1"] }),
      header(r("b1"), [r("a1")]),
      header(r("c1"), [r("b1")]),
      header(r("a2")),
      header(r("b2"), [r("a2")]),
      header(r("c2"), [r("b2")], { dependsOn: [r("c1")] }),
      header(r("d1"), [r("c1")]),
      header(r("e1"), [r("d1")]),
    );
    expect(stampHeads(lib, [r("e1"), r("c2")], r("b1"))).toEqual([r("b1")]);
    // A stamp below a row that still builds on it changes nothing: the table holds heads only.
    expect(stampHeads(lib, [r("c2")], r("a2"))).toEqual([r("a2")]);
    expect(stampHeads(lib, [r("e1"), r("b2")], r("a2"))).toEqual([r("e1"), r("a2")].sort());
  });
});
