import { describe, expect, it } from "vitest";
import { RevisionGraph } from "../../src/script/graph.js";
import { resolveTarget } from "../../src/script/targets.js";
import { ID, chain, chainId, diamond, graphOf, header, ids, retortError, twoBranches } from "./helpers.js";

describe("RevisionGraph: shape", () => {
  it("a linear chain: one base, one head, parents before children", () => {
    const graph = chain(5);
    expect(graph.size).toBe(5);
    expect(ids(graph.bases)).toEqual([chainId(0)]);
    expect(ids(graph.heads)).toEqual([chainId(4)]);
    expect(ids(graph.revisions)).toEqual([0, 1, 2, 3, 4].map(chainId));
    expect(graph.get(chainId(2))).toMatchObject({ parents: [chainId(1)], children: [chainId(3)], dependents: [], index: 2 });
    expect(graph.get("nope")).toBeUndefined();
    expect(graph.isBranchPoint(chainId(2))).toBe(false);
    expect(graph.isMergePoint(chainId(2))).toBe(false);
  });

  it("two branches from a branch point: two heads", () => {
    const graph = twoBranches();
    expect(ids(graph.heads)).toEqual([ID.a2, ID.b2]);
    expect(ids(graph.bases)).toEqual([ID.root]);
    expect(graph.isBranchPoint(ID.root)).toBe(true);
    expect(graph.get(ID.root)!.children).toEqual([ID.a1, ID.b1]);
  });

  it("a merge joins them again: one head, a merge point", () => {
    const graph = diamond();
    expect(ids(graph.heads)).toEqual([ID.top]);
    expect(graph.isMergePoint(ID.merge)).toBe(true);
    expect(graph.isMergePoint(ID.top)).toBe(false);
    expect(graph.isBranchPoint(ID.root)).toBe(true);
    // topological: each revision after all its parents; ties by createdAt (a1 was created before b1)
    expect(ids(graph.revisions)).toEqual([ID.root, ID.a1, ID.b1, ID.a2, ID.b2, ID.merge, ID.top]);
  });

  it("the order does not depend on input order; ties go by createdAt, then id", () => {
    const same = "2026-01-01T00:00:00.000Z";
    const headers = [
      header("bbbb00000000", [], { createdAt: same }),
      header("aaaa00000000", [], { createdAt: same }),
      header("cccc00000000", [], { createdAt: "2025-12-31T00:00:00.000Z" }),
      // older than its parent: still after it, and then first among the ready ones
      header("dddd00000000", ["aaaa00000000"], { createdAt: "2020-01-01T00:00:00.000Z" }),
    ];
    const expected = ["cccc00000000", "aaaa00000000", "dddd00000000", "bbbb00000000"];
    expect(ids(new RevisionGraph(headers).revisions)).toEqual(expected);
    expect(ids(new RevisionGraph([...headers].reverse()).revisions)).toEqual(expected);
  });

  it("depends-on: ordered after its target, but does not make the target a non-head", () => {
    // two independent roots; the "reports" branch depends on accounts' a1
    const graph = graphOf(
      header(ID.a1, [], { branchLabels: ["accounts"] }),
      header("7e0000000001", [], { branchLabels: ["reports"], dependsOn: [ID.a1] }),
      header(ID.a2, [ID.a1]),
    );
    expect(ids(graph.heads)).toEqual(["7e0000000001", ID.a2]);
    expect(ids(graph.bases)).toEqual([ID.a1, "7e0000000001"]);
    expect(graph.get(ID.a1)!.dependents).toEqual(["7e0000000001"]);
    expect([...graph.ancestors(["7e0000000001"])].sort()).toEqual([ID.a1, "7e0000000001"]);
    expect([...graph.ancestors(["7e0000000001"], { dependsOn: false })]).toEqual(["7e0000000001"]);
    expect([...graph.descendants([ID.a1])].sort()).toEqual([ID.a1, ID.a2, "7e0000000001"].sort());
    expect([...graph.descendants([ID.a1], { dependsOn: false })].sort()).toEqual([ID.a1, ID.a2]);
    // a dependent created earlier than its target still comes after it
    const early = graphOf(header("8f0000000001", [], { dependsOn: ["9f0000000001"], createdAt: "2020-01-01T00:00:00Z" }), header("9f0000000001"));
    expect(ids(early.revisions)).toEqual(["9f0000000001", "8f0000000001"]);
  });

  it("branch labels map to the revision carrying them", () => {
    const graph = diamond();
    expect([...graph.branchLabels.keys()].sort()).toEqual(["accounts", "billing"]);
    expect(graph.branchLabels.get("billing")!.revision).toBe(ID.b1);
  });

  it("ancestors and descendants, inclusive by default", () => {
    const graph = diamond();
    expect([...graph.ancestors([ID.a2])].sort()).toEqual([ID.root, ID.a1, ID.a2]);
    expect([...graph.ancestors([ID.a2], { inclusive: false })].sort()).toEqual([ID.root, ID.a1]);
    expect([...graph.ancestors([ID.merge])].sort()).toEqual([ID.root, ID.a1, ID.a2, ID.b1, ID.b2, ID.merge].sort());
    expect([...graph.descendants([ID.b1])].sort()).toEqual([ID.b1, ID.b2, ID.merge, ID.top]);
    expect([...graph.descendants([ID.b1], { inclusive: false })].sort()).toEqual([ID.b2, ID.merge, ID.top]);
    expect(ids(graph.sortTopologically([ID.top, ID.root, ID.b2]))).toEqual([ID.root, ID.b2, ID.top]);
    retortError("RETORT_UNKNOWN_REVISION", () => graph.ancestors(["nope"]));
  });

  it("prefix lookup", () => {
    const graph = diamond();
    expect(ids(graph.matchPrefix("2a00"))).toEqual([ID.a1, ID.a2]);
    expect(ids(graph.matchPrefix("4c"))).toEqual([ID.merge]);
    expect(graph.matchPrefix("9")).toEqual([]);
  });
});

describe("RevisionGraph: history", () => {
  it("newest first, everything by default", () => {
    expect(ids(diamond().history())).toEqual([ID.top, ID.merge, ID.b2, ID.a2, ID.b1, ID.a1, ID.root]);
  });

  it("inclusive ranges", () => {
    const graph = diamond();
    expect(ids(graph.history({ lower: [ID.b1], upper: [ID.merge] }))).toEqual([ID.merge, ID.b2, ID.b1]);
    expect(ids(graph.history({ upper: [ID.a2] }))).toEqual([ID.a2, ID.a1, ID.root]);
    expect(ids(graph.history({ lower: [ID.merge] }))).toEqual([ID.top, ID.merge]);
    expect(ids(graph.history({ lower: [ID.top], upper: [ID.a1] }))).toEqual([]);
  });
});

describe("RevisionGraph: validation", () => {
  it("a duplicate revision names both files", () => {
    const error = retortError("RETORT_DUPLICATE_REVISION", () =>
      graphOf(header("aaaa00000001"), header("aaaa00000001", [], { path: "versions/copy.ts" })),
    );
    expect(error.message).toBe("Revision aaaa00000001 is defined twice: in versions/aaaa00000001.ts and in versions/copy.ts.");
  });

  it("a missing parent names the file and the missing id", () => {
    const error = retortError("RETORT_MISSING_PARENT", () => graphOf(header("aaaa00000001"), header("aaaa00000002", ["ffff00000000"])));
    expect(error.message).toBe("versions/aaaa00000002.ts: revision aaaa00000002 lists parent ffff00000000, which no migration file defines.");
    expect(error.hint).toBe(
      "Restore the migration file for ffff00000000, or change `parents` in versions/aaaa00000002.ts to an existing revision (`retort heads` lists the current heads).",
    );
    expect(error.details).toEqual({ revision: "aaaa00000002", file: "versions/aaaa00000002.ts", missing: "ffff00000000", field: "parents" });
  });

  it("a missing parent written as a prefix suggests the full id", () => {
    const error = retortError("RETORT_MISSING_PARENT", () => graphOf(header("aaaa00000001"), header("bbbb00000002", ["aaaa"])));
    expect(error.hint).toMatch(/^Did you mean aaaa00000001\? \(parents must name full revision ids\.\)/);
  });

  it("a missing depends-on target", () => {
    const error = retortError("RETORT_MISSING_PARENT", () => graphOf(header("aaaa00000001", [], { dependsOn: ["eeee00000000"] })));
    expect(error.message).toBe("versions/aaaa00000001.ts: revision aaaa00000001 depends on eeee00000000, which no migration file defines.");
    expect(error.hint).toContain("change `dependsOn` in versions/aaaa00000001.ts");
  });

  it("a cycle is printed a → b → a", () => {
    const error = retortError("RETORT_REVISION_CYCLE", () =>
      graphOf(header("aaaa00000000"), header("bbbb00000001", ["cccc00000002"]), header("cccc00000002", ["bbbb00000001"]), header("dddd00000003", ["cccc00000002"])),
    );
    expect(error.message).toMatch(/^The revisions form a cycle: (bbbb00000001 → cccc00000002 → bbbb00000001|cccc00000002 → bbbb00000001 → cccc00000002) \(each arrow points from a revision to a parent or depends-on target\)\./);
    expect(error.message).toContain(`bbbb00000001 ("message of bbbb00000001", versions/bbbb00000001.ts)`);
    expect(error.hint).toMatch(/Edit `parents` \(or `dependsOn`\) in one of these files/);
    expect((error.details.files as string[]).sort()).toEqual(["versions/bbbb00000001.ts", "versions/cccc00000002.ts"]);
  });

  it("a revision that is its own parent", () => {
    const error = retortError("RETORT_REVISION_CYCLE", () => graphOf(header("aaaa00000001", ["aaaa00000001"])));
    expect(error.message).toMatch(/^The revisions form a cycle: aaaa00000001 → aaaa00000001 /);
  });

  it("a cycle through depends-on", () => {
    const error = retortError("RETORT_REVISION_CYCLE", () =>
      graphOf(header("aaaa00000001", [], { dependsOn: ["bbbb00000001"] }), header("bbbb00000001", ["aaaa00000001"])),
    );
    expect(error.details.cycle).toHaveLength(3);
  });

  it("a branch label used twice, or equal to a revision id", () => {
    const twice = retortError("RETORT_BAD_MIGRATION_FILE", () =>
      graphOf(header("aaaa00000001", [], { branchLabels: ["x"] }), header("bbbb00000001", ["aaaa00000001"], { branchLabels: ["x"] })),
    );
    expect(twice.message).toMatch(/^Branch label "x" is used by two revisions: aaaa00000001 .* and bbbb00000001 /);
    const id = retortError("RETORT_BAD_MIGRATION_FILE", () => graphOf(header("aaaa00000001", [], { branchLabels: ["bbbb00000001"] }), header("bbbb00000001")));
    expect(id.message).toBe(`versions/aaaa00000001.ts: branch label "bbbb00000001" of revision aaaa00000001 is also a revision id.`);
  });
});

describe("RevisionGraph: size", () => {
  it("a 10,000-revision chain builds, walks and resolves head without overflowing the stack", () => {
    const graph = chain(10_000);
    expect(ids(graph.heads)).toEqual([chainId(9_999)]);
    expect(graph.ancestors([chainId(9_999)]).size).toBe(10_000);
    expect(graph.descendants([chainId(0)]).size).toBe(10_000);
    expect(ids(resolveTarget(graph, "head", []))).toEqual([chainId(9_999)]);
    expect(ids(resolveTarget(graph, "-9999", [chainId(9_999)]))).toEqual([chainId(0)]);
    expect(graph.history()).toHaveLength(10_000);
  });

  it("a 10,000-deep cycle is found without recursion", () => {
    const headers = Array.from({ length: 10_000 }, (_, i) => header(chainId(i), [chainId((i + 1) % 10_000)]));
    expect(retortError("RETORT_REVISION_CYCLE", () => new RevisionGraph(headers)).details.cycle).toHaveLength(10_001);
  });
});
