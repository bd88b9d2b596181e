/**
 * Lint reports as text for people, GitHub workflow annotations, and SARIF 2.1.0 (code scanning).
 * `--json` prints the report object itself.
 */
import { RULES } from "./rules.js";
import type { LintReport } from "./lint.js";
import type { Finding, Impact } from "./types.js";

function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return mb >= 10 ? `${Math.round(mb)} MB` : `${mb.toFixed(1)} MB`;
}

export function describeImpact(impact: Impact): string {
  if (impact.grade === "missing") return `${impact.table}: not in the database`;
  const rows = `${impact.rows.toLocaleString("en-US")} rows${impact.rowsEstimated === "size" ? " (estimated from the size: never analyzed)" : ""}`;
  const held = impact.work === "catalog" ? "held briefly" : `held about ${impact.estimatedSeconds} s (${impact.work} of ${impact.rowsTouched.toLocaleString("en-US")} rows)`;
  return `${impact.table}: ${rows}, ${megabytes(impact.tableBytes + impact.indexBytes)} → ${impact.lock} (blocks ${impact.blocks}) ${held}`;
}

/** The rule catalogue as a table: id, severity, lock and work, Postgres versions, title. */
export function formatRules(): string {
  const width = Math.max(...RULES.map((rule) => rule.id.length));
  return RULES.map((rule) => {
    const lock = rule.lock ? `${rule.lock.mode}${rule.lock.work === "catalog" ? "" : ` + ${rule.lock.work}`}` : "-";
    const versions = rule.versions ? ` [${[rule.versions.from !== undefined ? `from ${rule.versions.from}` : "", rule.versions.until !== undefined ? `until ${rule.versions.until}` : "", rule.versions.note ?? ""].filter(Boolean).join("; ")}]` : "";
    return `${rule.id.padEnd(width)}  ${rule.severity.padEnd(7)}  ${lock.padEnd(36)}  ${rule.title}${versions}`;
  }).join("\n");
}

/** Readable text, one block per finding and a summary line. */
export function formatText(report: LintReport & { revisions?: string[] }, options: { snippets?: boolean } = {}): string {
  const lines: string[] = [];
  for (const finding of report.findings) {
    lines.push(`${finding.file}${finding.line !== undefined ? `:${finding.line}` : ""}  ${finding.severity}  ${finding.rule}`);
    lines.push(`  ${finding.message}`);
    if (finding.lock && !finding.impact) lines.push(`  lock: ${finding.lock.mode}${finding.lock.work === "catalog" ? "" : `, ${finding.lock.work === "index-build" ? "builds an index" : finding.lock.work === "scan" ? "scans the table" : "rewrites the table"}`}`);
    if (finding.impact) lines.push(`  ${describeImpact(finding.impact)}`);
    if (finding.budget) lines.push(`  ${finding.budget}`);
    if (finding.alternative) lines.push(`  fix: ${finding.alternative}`);
    if (options.snippets !== false && finding.snippet && finding.severity !== "info") lines.push(...finding.snippet.split("\n").map((line) => `      ${line}`));
    lines.push("");
  }
  const files = `${report.files} migration${report.files === 1 ? "" : "s"}`;
  lines.push(report.findings.length === 0 ? `${files} linted: no findings (Postgres ${report.postgresVersion})` : `${files} linted (Postgres ${report.postgresVersion}): ${report.errors} error(s), ${report.warnings} warning(s), ${report.infos} info`);
  return lines.join("\n");
}

/** `::error file=…,line=…,title=…::message` lines, which a GitHub workflow shows on the pull request. */
export function formatGithub(report: LintReport): string {
  const escapeData = (text: string) => text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const escapeProperty = (text: string) => escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
  return report.findings
    .map((finding) => {
      const command = finding.severity === "error" ? "error" : finding.severity === "warning" ? "warning" : "notice";
      const properties = [`file=${escapeProperty(finding.file)}`, ...(finding.line !== undefined ? [`line=${finding.line}`] : []), `title=${escapeProperty(`retort lint: ${finding.rule}`)}`];
      const body = [finding.message, ...(finding.impact ? [describeImpact(finding.impact)] : []), ...(finding.budget ? [finding.budget] : []), ...(finding.alternative ? [`fix: ${finding.alternative}`] : [])].join("\n");
      return `::${command} ${properties.join(",")}::${escapeData(body)}`;
    })
    .join("\n");
}

const SARIF_LEVEL = { error: "error", warning: "warning", info: "note" } as const;

/** A SARIF 2.1.0 log: every rule in the tool's driver, one result per finding. */
export function formatSarif(report: LintReport, version: string): Record<string, unknown> {
  const index = new Map(RULES.map((rule, i) => [rule.id, i]));
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "retort-lint",
            version,
            informationUri: "https://www.npmjs.com/package/retort-db",
            rules: RULES.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: rule.title },
              fullDescription: { text: rule.explanation },
              help: { text: `${rule.alternative}${rule.snippet ? `\n\n${rule.snippet}` : ""}`, markdown: `${rule.alternative}${rule.snippet ? `\n\n\`\`\`ts\n${rule.snippet}\n\`\`\`` : ""}` },
              defaultConfiguration: { level: SARIF_LEVEL[rule.severity] },
              properties: { category: rule.category, ...(rule.lock ? { lock: rule.lock.mode, work: rule.lock.work } : {}), ...(rule.versions ? { postgresVersions: rule.versions } : {}) },
            })),
          },
        },
        results: report.findings.map((finding: Finding) => ({
          ruleId: finding.rule,
          ruleIndex: index.get(finding.rule) ?? -1,
          level: SARIF_LEVEL[finding.severity],
          message: { text: [finding.message, ...(finding.impact ? [describeImpact(finding.impact)] : []), ...(finding.budget ? [finding.budget] : [])].join(". ") },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: finding.file.split("\\").join("/") },
                ...(finding.line !== undefined ? { region: { startLine: finding.line } } : {}),
              },
            },
          ],
          properties: { revision: finding.revision, ...(finding.table ? { table: finding.table } : {}), ...(finding.impact ? { impact: finding.impact } : {}) },
        })),
      },
    ],
  };
}
