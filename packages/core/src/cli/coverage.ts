import type { CoverageReport } from "../coverage/queries.ts";

const percent = (rate: number | null) => (rate === null ? "—" : `${(rate * 100).toFixed(1)}%`);

/** `idc-audit coverage` without `--json`: the totals, each shape, and what nobody has catalogued yet. */
export function formatCoverage(report: CoverageReport): string {
  if (report.events === 0) return "no Identity Center events stored in range";
  const lines = [
    `${report.events} events from ${report.since} to ${report.until}: ${report.attributed} of ${report.expected} that name or imply a person attributed (${percent(report.rate)})`,
  ];
  for (const [shape, total] of Object.entries(report.byShape)) {
    lines.push(
      `  ${shape.padEnd(13)} ${String(total.events).padStart(9)} events  ${String(total.attributed).padStart(9)} / ${String(total.expected).padEnd(9)} ${percent(total.rate)}`,
    );
  }
  lines.push(
    report.unknown.length === 0
      ? "no event names the catalogue does not know"
      : "event names the catalogue does not know (stored as 'other'):",
  );
  for (const name of report.unknown) {
    lines.push(`  ${name.eventSource} ${name.eventName}  ${name.count} events, first ${name.firstSeen}`);
  }
  lines.push(
    report.newFields.length === 0
      ? "no userIdentity fields outside the known shapes"
      : "userIdentity fields never seen in their shape:",
  );
  for (const field of report.newFields) {
    lines.push(`  ${field.path}  ${field.count} events, first ${field.firstSeen}`);
  }
  return lines.join("\n");
}
