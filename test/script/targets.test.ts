import { describe, expect, it } from "vitest";
import { checkTargetDirection, currentRevisions, historyFor, resolveRange, resolveRevision, resolveScopedTarget, resolveTarget } from "../../src/script/targets.js";
import { ID, chain, chainId, diamond, graphOf, header, ids, retortError, twoBranches } from "./helpers.js";

const resolve = (graph: ReturnType<typeof diamond>, target: string, current: string[] = []) => ids(resolveTarget(graph, target, current));

describe("targets: ids, prefixes, labels", () => {
  const graph = diamond();

  it("a full id", () => {
    expect(resolve(graph, ID.b2)).toEqual([ID.b2]);
    expect(resolve(graph, ` ${ID.b2} `)).toEqual([ID.b2]);
  });

  it("a unique prefix of at least 4 characters", () => {
    expect(resolve(graph, "4c00")).toEqual([ID.merge]);
    expect(resolve(graph, "3b0000000002")).toEqual([ID.b2]);
    expect(resolveRevision(graph, "5d00")!.revision).toBe(ID.top);
  });

  it("an ambiguous prefix lists the candidates with their messages", () => {
    const error = retortError("RETORT_AMBIGUOUS_REVISION", () => resolveTarget(graph, "2a00", []));
    expect(error.message).toBe(
      `Revision prefix "2a00" is ambiguous; it matches 2 revisions:\n` +
        `  ${ID.a1} ("message of ${ID.a1}", versions/${ID.a1}.ts)\n` +
        `  ${ID.a2} ("message of ${ID.a2}", versions/${ID.a2}.ts)`,
    );
    expect(error.hint).toBe("Give more characters of the revision id.");
    expect(error.details.candidates).toHaveLength(2);
  });

  it("an unknown revision suggests retort history", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "ffff", []));
    expect(error.message).toBe(`Unknown revision "ffff": no migration has this id, id prefix or branch label.`);
    expect(error.hint).toMatch(/^Run `retort history` to list the revisions\. A target is /);
    expect(error.details).toEqual({ target: "ffff" });
  });

  it("a prefix shorter than 4 characters is not accepted, and the message says why", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "4c", []));
    expect(error.message).toBe(`Unknown revision "4c": no migration has this id or branch label (a prefix needs at least 4 characters).`);
  });

  it("a branch label alone is the revision carrying it", () => {
    expect(resolve(graph, "billing")).toEqual([ID.b1]);
    expect(resolve(graph, "accounts")).toEqual([ID.a1]);
  });

  it("<label>@head is the head of that branch", () => {
    const branches = twoBranches();
    expect(resolve(branches, "billing@head")).toEqual([ID.b2]);
    expect(resolve(branches, "accounts@head")).toEqual([ID.a2]);
    expect(resolve(graph, "billing@head")).toEqual([ID.top]); // merged: the branch's head is the merged head
    expect(resolve(branches, `${ID.a1}@head`)).toEqual([ID.a2]); // a revision works as well as a label
    expect(resolve(graph, `3b0000000001@head`)).toEqual([ID.top]);
    expect(resolve(graph, `4c00@head`)).toEqual([ID.top]); // and a prefix
  });

  it("<label>@head with several heads on that branch", () => {
    const graph = graphOf(
      header(ID.root, [], { branchLabels: ["core"] }),
      header(ID.a1, [ID.root]),
      header(ID.b1, [ID.root]),
    );
    const error = retortError("RETORT_MULTIPLE_HEADS", () => resolveTarget(graph, "core@head", []));
    expect(error.message).toMatch(/^Branch "core" has 2 heads where one is needed:\n  2a0000000001 .*\n  3b0000000001 /);
    expect(error.hint).toBe(`Merge them with \`retort merge -m "merge" ${ID.a1} ${ID.b1}\`, or name the one you mean.`);
  });

  it("unknown labels and unsupported @ forms", () => {
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "nothing@head", [])).message).toBe(
      `Unknown revision "nothing": no migration has this id, id prefix or branch label.`,
    );
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "billing@tail", [])).message).toBe(
      `Unknown target "billing@tail": after @ comes head, heads, base, +N, -N or a revision of branch billing, and "tail" is none of these.`,
    );
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "base@head", [])).message).toBe(
      `"base@head" names no branch: before @ comes a branch label or a revision.`,
    );
  });
});

describe("targets: head, heads, base, current", () => {
  it("head is the single head", () => {
    expect(resolve(diamond(), "head")).toEqual([ID.top]);
  });

  it("head with several heads lists them and suggests retort merge", () => {
    const error = retortError("RETORT_MULTIPLE_HEADS", () => resolveTarget(twoBranches(), "head", []));
    expect(error.message).toBe(
      `The revision graph has 2 heads where one is needed:\n` +
        `  ${ID.a2} ("message of ${ID.a2}", versions/${ID.a2}.ts)\n` +
        `  ${ID.b2} ("message of ${ID.b2}", versions/${ID.b2}.ts)`,
    );
    expect(error.hint).toBe(`Merge them with \`retort merge -m "merge" heads\`, or name the one you mean (for example \`${ID.a2}\`), or use \`heads\` for all of them.`);
    expect(error.details.heads).toEqual([
      { revision: ID.a2, message: `message of ${ID.a2}`, path: `versions/${ID.a2}.ts` },
      { revision: ID.b2, message: `message of ${ID.b2}`, path: `versions/${ID.b2}.ts` },
    ]);
  });

  it("head with no revisions at all", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graphOf(), "head", []));
    expect(error.message).toBe("There is no head: the migrations directory has no revisions.");
  });

  it("heads, base, current", () => {
    expect(resolve(twoBranches(), "heads")).toEqual([ID.a2, ID.b2]);
    expect(resolve(twoBranches(), "base")).toEqual([]);
    expect(resolve(twoBranches(), "current", [ID.b1, ID.a2])).toEqual([ID.b1, ID.a2]);
    expect(resolve(twoBranches(), "current", [])).toEqual([]);
    expect(resolveRevision(twoBranches(), "base")).toBeNull();
  });

  it("resolveRevision refuses several", () => {
    retortError("RETORT_MULTIPLE_HEADS", () => resolveRevision(twoBranches(), "heads"));
  });

  it("a current revision without a file is reported with what to do", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => currentRevisions(diamond(), [ID.a1, "deadbeef0000"]));
    expect(error.message).toBe("The database is at revision deadbeef0000, which no migration file defines.");
    expect(error.hint).toMatch(/^Restore the migration file for deadbeef0000 .* `retort stamp <revision> --purge`/);
  });
});

describe("targets: relative", () => {
  const line = chain(5); // c0 … c4

  it("+N / -N from the current revision", () => {
    expect(resolve(line, "+1", [chainId(1)])).toEqual([chainId(2)]);
    expect(resolve(line, "+3", [chainId(1)])).toEqual([chainId(4)]);
    expect(resolve(line, "-1", [chainId(3)])).toEqual([chainId(2)]);
    expect(resolve(line, "-3", [chainId(3)])).toEqual([chainId(0)]);
    expect(resolve(line, "-4", [chainId(3)])).toEqual([]); // exactly base
    expect(resolve(line, "+0", [chainId(3)])).toEqual([chainId(3)]);
  });

  it("+N from an empty database starts at base", () => {
    expect(resolve(line, "+1", [])).toEqual([chainId(0)]);
    expect(resolve(line, "+2", [])).toEqual([chainId(1)]);
  });

  it("-N below base", () => {
    const error = retortError("RETORT_BELOW_BASE", () => resolveTarget(line, "-5", [chainId(3)]));
    expect(error.message).toBe(`Relative target "-5" goes below base: the current revision ${chainId(3)} is only 4 revisions above base.`);
    expect(error.hint).toBe("Use `base` to undo every migration, or at most -4.");
    expect(error.details).toEqual({ target: "-5", steps: 5, available: 4 });
  });

  it("-N on an empty database", () => {
    const error = retortError("RETORT_BELOW_BASE", () => resolveTarget(line, "-1", []));
    expect(error.message).toBe(`Relative target "-1" goes below base: the empty database is already at base.`);
  });

  it("+N past the head", () => {
    const error = retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(line, "+3", [chainId(3)]));
    expect(error.message).toBe(`Relative target "+3" goes past the head: ${chainId(4)} is a head, 1 revision above the current revision ${chainId(3)}.`);
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(line, "+1", [chainId(4)])).message).toBe(
      `Relative target "+1" goes past the head: the current revision ${chainId(4)} is a head.`,
    );
  });

  it("relative from the database needs a single current revision", () => {
    const error = retortError("RETORT_MULTIPLE_HEADS", () => resolveTarget(twoBranches(), "-1", [ID.a2, ID.b2]));
    expect(error.message).toMatch(/^The database has 2 heads where one is needed:\n  2a0000000002 .*\n  3b0000000002 /);
    expect(error.hint).toBe(`"-1" counts from one current revision, so name the branch: for example \`${ID.a2}@-1\`.`);
  });

  it("<rev>+N and <rev>-N, with any single-revision target on the left", () => {
    expect(resolve(line, `${chainId(1)}+2`)).toEqual([chainId(3)]);
    expect(resolve(line, `${chainId(1)}-1`)).toEqual([chainId(0)]);
    expect(resolve(diamond(), "4c00-1")).toEqual([ID.a2, ID.b2]); // a prefix on the left
  });

  it("head-N, base+N, label-N, label@head-N", () => {
    expect(resolve(line, "head-2")).toEqual([chainId(2)]);
    expect(resolve(line, "base+1")).toEqual([chainId(0)]);
    expect(retortError("RETORT_BELOW_BASE", () => resolveTarget(line, "base-1", [])).message).toBe(`Relative target "base-1" goes below base: it starts at base.`);
    expect(resolve(twoBranches(), "billing+1")).toEqual([ID.b2]);
    expect(resolve(twoBranches(), "billing@head-1")).toEqual([ID.b1]);
    expect(resolve(twoBranches(), "accounts-1")).toEqual([ID.root]);
  });

  it("a label that looks relative is the label", () => {
    const graph = graphOf(header(ID.root, [], { branchLabels: ["v-1"] }), header(ID.a1, [ID.root], { branchLabels: ["v"] }));
    expect(resolve(graph, "v-1")).toEqual([ID.root]);
  });

  it("walking up through a branch point is ambiguous", () => {
    const error = retortError("RETORT_AMBIGUOUS_REVISION", () => resolveTarget(twoBranches(), "+2", [ID.root]));
    expect(error.message).toBe(
      `Relative target "+2" is ambiguous: revision ${ID.root} is a branch point; it continues with any of:\n` +
        `  ${ID.a1} ("message of ${ID.a1}", versions/${ID.a1}.ts)\n` +
        `  ${ID.b1} ("message of ${ID.b1}", versions/${ID.b1}.ts)`,
    );
    expect(error.hint).toMatch(/Name the revision to go to/);
  });

  it("-1 from a merge leaves both parents; further is ambiguous", () => {
    const graph = diamond();
    expect(resolve(graph, "-1", [ID.merge])).toEqual([ID.a2, ID.b2]);
    expect(resolve(graph, "-2", [ID.top])).toEqual([ID.a2, ID.b2]);
    const error = retortError("RETORT_AMBIGUOUS_REVISION", () => resolveTarget(graph, "-2", [ID.merge]));
    expect(error.message).toMatch(new RegExp(`^Relative target "-2" is ambiguous: below the merge point ${ID.merge} it could continue on either parent:`));
    expect(error.hint).toBe(`Count from the parent you mean instead (for example \`${ID.a2}-1\`).`);
  });

  it("a relative start that names several revisions", () => {
    const error = retortError("RETORT_MULTIPLE_HEADS", () => resolveTarget(twoBranches(), "heads-1", []));
    expect(error.hint).toBe("A relative target counts from one revision: name one of these instead.");
  });
});

describe("targets: ranges", () => {
  const graph = diamond();
  const range = (text: string, current: string[] = []) => {
    return resolveRange(graph, text, current);
  };

  it("either side may be omitted, base or head", () => {
    expect(range(`${ID.a1}:${ID.merge}`)).toEqual({ start: [ID.a1], end: [ID.merge] });
    expect(range(`:${ID.a2}`)).toEqual({ start: [], end: [ID.a2] });
    expect(range(`${ID.b1}:`)).toEqual({ start: [ID.b1], end: [ID.top] });
    expect(range(`:`)).toEqual({ start: [], end: [ID.top] });
    expect(range(`base:head`)).toEqual({ start: [], end: [ID.top] });
    expect(range(`-1:current`, [ID.merge])).toEqual({ start: [ID.a2, ID.b2], end: [ID.merge] });
  });

  it("history for a range, newest first", () => {
    expect(ids(historyFor(graph, `${ID.b1}:${ID.merge}`))).toEqual([ID.merge, ID.b2, ID.b1]);
    expect(ids(historyFor(graph, `4c00:`))).toEqual([ID.top, ID.merge]);
    expect(historyFor(graph, undefined)).toHaveLength(7);
  });

  it("a range where a single target is expected, and the reverse", () => {
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "a:b", [])).message).toBe(
      `"a:b" is a range; a range is only accepted by \`retort history -r\` and by --sql runs.`,
    );
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveRange(graph, "head", [])).hint).toMatch(/^A range is <start>:<end>/);
  });
});

describe("targets: <branch>@… forms (Alembic's)", () => {
  const graph = twoBranches(); // root; accounts: a1 a2; billing: b1 b2
  const scoped = (target: string, current: string[]) => resolveScopedTarget(graph, target, current);

  it("<label>@+N counts from the database's revision on that branch, and stays on it at a branch point", () => {
    expect(resolve(graph, "billing@+1", [ID.a2, ID.b1])).toEqual([ID.b2]);
    // billing has no row of its own: it counts from its newest applied revision, the shared root
    expect(resolve(graph, "billing@+1", [ID.a2])).toEqual([ID.b1]);
    expect(resolve(graph, "billing@+2", [ID.a2])).toEqual([ID.b2]);
    expect(resolve(graph, "accounts@+2", [])).toEqual([ID.a1]); // root, then a1 (not b1)
    expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, "billing@+1", [ID.a2, ID.b2])).message).toBe(
      `Relative target "billing@+1" goes past the head: the current revision of branch billing (${ID.b2}) is a head.`,
    );
  });

  it("<label>@-N walks down from that branch's revision", () => {
    expect(resolve(graph, "accounts@-1", [ID.a2, ID.b2])).toEqual([ID.a1]);
    expect(resolve(graph, "accounts@-2", [ID.a2, ID.b2])).toEqual([ID.root]);
    expect(retortError("RETORT_BELOW_BASE", () => resolveTarget(graph, "accounts@-4", [ID.a2, ID.b2])).message).toBe(
      `Relative target "accounts@-4" goes below base: the current revision of branch accounts (${ID.a2}) is only 3 revisions above base.`,
    );
    expect(retortError("RETORT_BELOW_BASE", () => resolveTarget(graph, "billing@-1", [])).message).toBe(
      `Relative target "billing@-1" goes below base: base (nothing of branch billing is applied) is already at base.`,
    );
    // Through a merge, the walk keeps to the named branch's parent.
    expect(resolve(diamond(), "accounts@-2", [ID.top])).toEqual([ID.a2]);
    expect(resolve(diamond(), "billing@-3", [ID.top])).toEqual([ID.b1]);
  });

  it("<rev>@+N / <rev>@-N: a revision id (or prefix) names the branch it is on", () => {
    expect(resolve(graph, `${ID.b1}@+1`, [ID.a2, ID.b1])).toEqual([ID.b2]);
    expect(resolve(graph, "2a0000000001@-1", [ID.a2, ID.b2])).toEqual([ID.a1]);
    expect(resolve(graph, "3b0000000002@-1", [ID.a2, ID.b2])).toEqual([ID.b1]);
    expect(resolve(graph, `${ID.a1}@head`, [])).toEqual([ID.a2]);
  });

  it("<label>@<rev>: the revision, matched among that branch's revisions only", () => {
    const labelled = graphOf(
      header(ID.root),
      header("ab0000000001", [ID.root], { branchLabels: ["x"] }),
      header("ab0000000002", [ID.root], { branchLabels: ["y"] }),
    );
    retortError("RETORT_AMBIGUOUS_REVISION", () => resolveTarget(labelled, "ab00", []));
    expect(resolve(labelled, "x@ab00")).toEqual(["ab0000000001"]);
    expect(resolve(labelled, "y@ab00")).toEqual(["ab0000000002"]);
    expect(resolve(graph, `billing@${ID.b1}`)).toEqual([ID.b1]);
    const error = retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, `billing@${ID.a1}`, []));
    expect(error.message).toBe(`Target "billing@${ID.a1}": ${ID.a1} is not on branch billing.`);
  });

  it("<label>@base is base, scoped to the branch; the scope is kept for <label>@ forms only", () => {
    const base = scoped("billing@base", []);
    expect(base.revisions).toEqual([]);
    expect(base.branch?.revision).toBe(ID.b1);
    expect(scoped("billing@-1", [ID.a2, ID.b2]).branch?.revision).toBe(ID.b1);
    expect(scoped(`${ID.b2}-1`, [ID.a2, ID.b2]).branch).toBeUndefined();
    expect(resolve(graph, "billing@heads")).toEqual([ID.b2]);
  });

  it("a branch with several rows needs one to count from", () => {
    const forked = graphOf(header(ID.root, [], { branchLabels: ["core"] }), header(ID.a1, [ID.root]), header(ID.b1, [ID.root]));
    const error = retortError("RETORT_MULTIPLE_HEADS", () => resolveTarget(forked, "core@-1", [ID.a1, ID.b1]));
    expect(error.hint).toBe(`"core@-1" counts from one revision: count from the one you mean, for example \`${ID.a1}@-1\`.`);
  });
});

describe("targets: the direction of a relative target", () => {
  const graph = chain(4);

  it("upgrade -N is an error with a hint, not 'nothing to do'", () => {
    const error = retortError("RETORT_INVALID_TARGET", () => checkTargetDirection(graph, "-2", "up"));
    expect(error.message).toBe(`Cannot upgrade to "-2": counting down from the current revision is a downgrade.`);
    expect(error.hint).toBe("Use `retort downgrade -2`, or `retort upgrade +2`.");
    expect(retortError("RETORT_INVALID_TARGET", () => checkTargetDirection(twoBranches(), "billing@-1", "up")).hint).toBe(
      "Use `retort downgrade billing@-1`, or `retort upgrade billing@+1`.",
    );
  });

  it("a keyword before @ (head@-1) is not sent to the other command, where it is just as wrong: resolving names the mistake", () => {
    for (const [target, direction] of [["head@-1", "up"], ["head@+1", "down"], ["base@-2", "up"]] as const) {
      expect(() => checkTargetDirection(graph, target, direction)).not.toThrow();
      expect(retortError("RETORT_UNKNOWN_REVISION", () => resolveTarget(graph, target, [graph.heads[0]!.revision])).message).toContain("names no branch");
    }
  });

  it("downgrade +N is an error; downgrade N suggests -N (and upgrade N, +N)", () => {
    expect(retortError("RETORT_INVALID_TARGET", () => checkTargetDirection(graph, "+1", "down")).message).toBe(
      `Cannot downgrade to "+1": counting up from the current revision is an upgrade.`,
    );
    const error = retortError("RETORT_INVALID_TARGET", () => checkTargetDirection(graph, "1", "down"));
    expect(error.message).toBe(`Cannot downgrade to "1": no migration has this id, id prefix or branch label.`);
    expect(error.hint).toBe("To downgrade 1 revision(s) from the current one, write `retort downgrade -1`.");
    expect(retortError("RETORT_INVALID_TARGET", () => checkTargetDirection(graph, "2", "up")).hint).toBe(
      "To upgrade 2 revision(s) from the current one, write `retort upgrade +2`.",
    );
  });

  it("targets that count from a named revision, labels and digit prefixes of real ids pass", () => {
    const digits = graphOf(header("123456789abc"), header("abcdef000000", ["123456789abc"], { branchLabels: ["v-1"] }));
    for (const [target, direction] of [["head-1", "up"], ["base+1", "down"], ["v-1", "up"], ["1234", "down"], ["+1", "up"], ["-1", "down"]] as const) {
      expect(() => checkTargetDirection(digits, target, direction)).not.toThrow();
    }
  });
});
