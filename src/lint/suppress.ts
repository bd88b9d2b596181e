/**
 * Suppressions written in migration files:
 *
 *   // retort-lint-disable ban-drop-column: the app stopped reading it in release 42
 *   op.dropColumn("users", "legacy_flag");
 *
 *   // retort-lint-disable-file prefer-text-field, prefer-identity: mirrors the legacy schema
 *
 * A suppression names one or more rules and must give a reason after the colon; without one it
 * suppresses nothing and is itself an error. One that matches no finding is reported as unused.
 * The line form covers the op call right below it (other comment lines may sit between).
 */
import { ruleById } from "./rules.js";
import type { RawFinding } from "./checks.js";
import type { SourceComment } from "./source.js";

interface Suppression {
  line: number;
  /** The call line it covers; undefined for a whole-file suppression. */
  covers?: number;
  rules: string[];
  reason: string;
  used: Set<string>;
}

const PATTERN = /^retort-lint-disable(-file)?(?:\s+([^:]*?))?\s*(?::\s*(.*))?$/;

/** Applies the file's suppressions to its findings; returns what is left plus findings about the suppressions. */
export function applySuppressions(findings: readonly RawFinding[], comments: readonly SourceComment[], file: { file: string; revision: string }): RawFinding[] {
  const ownLines = new Set(comments.filter((c) => c.own).map((c) => c.line));
  const suppressions: Suppression[] = [];
  const problems: RawFinding[] = [];
  for (const comment of comments) {
    const match = PATTERN.exec(comment.text);
    if (!match) continue;
    const wholeFile = match[1] !== undefined;
    const rules = (match[2] ?? "").split(/[\s,]+/).filter(Boolean);
    const reason = (match[3] ?? "").trim();
    const where = { file: file.file, revision: file.revision, line: comment.line };
    if (rules.length === 0 || reason === "") {
      problems.push({
        rule: "suppression-without-reason",
        severity: "error",
        message: rules.length === 0 ? "the suppression names no rule" : `the suppression of ${rules.join(", ")} gives no reason (write \`: <reason>\` after the rule)`,
        ...where,
        alternative: "Write `// retort-lint-disable <rule>: <reason>`.",
      });
      continue;
    }
    let covers: number | undefined;
    if (!wholeFile) {
      // The first line below the comment block this comment belongs to.
      covers = comment.line + 1;
      while (ownLines.has(covers)) covers++;
    }
    suppressions.push({ line: comment.line, ...(covers !== undefined ? { covers } : {}), rules, reason, used: new Set() });
  }
  const kept = findings.filter((finding) => {
    const match = suppressions.find((s) => s.rules.includes(finding.rule) && (s.covers === undefined || (finding.callLine ?? finding.line) === s.covers));
    if (match) match.used.add(finding.rule);
    return !match;
  });
  for (const suppression of suppressions) {
    for (const rule of suppression.rules) {
      if (suppression.used.has(rule)) continue;
      problems.push({
        rule: "unused-suppression",
        severity: "warning",
        message: ruleById(rule) ? `the suppression of ${rule} matches no finding${suppression.covers !== undefined ? ` on line ${suppression.covers}` : " in this file"}` : `the suppression names ${rule}, which is no lint rule`,
        file: file.file,
        revision: file.revision,
        line: suppression.line,
        alternative: "Remove it, or fix the rule name.",
      });
    }
  }
  return [...kept, ...problems];
}
