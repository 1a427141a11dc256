import type { Alert } from "../detect/detector.ts";
import type { IngestCounts, Rejection } from "../ingest/run.ts";
import type {
  FailedSignIn,
  SessionTimeline,
  TimelineEvent,
  UserReport,
  UserView,
} from "../timeline/queries.ts";

/** Human-readable renderings of the same documents `--json` prints. */

export function describeUser(user: UserView | null): string {
  if (!user) return "unknown user";
  const name = user.displayName ?? user.userName ?? "(name unknown)";
  const email = user.emails[0] ? ` <${user.emails[0]}>` : "";
  const status = user.status === "enriched" ? "" : ` [${user.status}]`;
  const external = user.externalIds.length
    ? `\n  external ids: ${user.externalIds.map((entry) => `${entry.id} (${entry.issuer})`).join(", ")}`
    : "";
  return `${name}${email} — ${user.identityStoreId}/${user.userId}${status}${external}`;
}

function offset(from: string, to: string): string {
  const seconds = Math.round((Date.parse(to) - Date.parse(from)) / 1000);
  if (seconds < 60) return `+${seconds}s`;
  if (seconds < 3600) return `+${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
  return `+${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, "0")}m`;
}

function eventLine(event: TimelineEvent, start: string): string {
  const target = [event.accountId, event.roleName].filter(Boolean).join("/");
  const columns = [
    event.eventTime,
    offset(start, event.eventTime).padStart(8),
    event.outcome === "failure" ? "FAILED " : "ok     ",
    event.category.padEnd(15),
    event.eventName.padEnd(26),
    (event.credentialType ?? "").padEnd(14),
    (event.sourceIp ?? "").padEnd(16),
    target,
  ];
  return `  ${columns.join(" ").trimEnd()}`;
}

export function formatTimeline(timeline: SessionTimeline): string {
  const lines = [`session ${timeline.credentialId}`, `user    ${describeUser(timeline.user)}`];
  if (timeline.events.length === 0) {
    lines.push("  no events stored for this session");
    return lines.join("\n");
  }
  const start = timeline.events[0]?.eventTime ?? "";
  lines.push(`events  ${timeline.events.length}, from ${start} (UTC)`);
  for (const event of timeline.events) lines.push(eventLine(event, start));
  return lines.join("\n");
}

export function formatUser(report: UserReport): string {
  const lines = [`user    ${describeUser(report.user)}`];
  if (report.user.emails.length > 1) lines.push(`emails  ${report.user.emails.join(", ")}`);
  lines.push(`events  ${report.eventCount} in ${report.sessions.length} sessions`);
  for (const session of report.sessions) {
    lines.push(
      `  ${session.firstSeen} → ${session.lastSeen}  ${String(session.eventCount).padStart(4)} events  ${
        session.inferred ? "inferred" : "keyed   "
      }  ${session.credentialId}  ${session.sourceIps.join(", ")}`,
    );
  }
  return lines.join("\n");
}

export function formatFailures(failures: readonly FailedSignIn[]): string {
  if (failures.length === 0) return "no failed sign-ins in range";
  const lines = [`${failures.length} failed sign-ins`];
  for (const failure of failures) {
    const who = failure.userName ?? failure.userId ?? "(unattributed)";
    lines.push(
      `  ${failure.eventTime}  ${(failure.sourceIp ?? "").padEnd(16)} ${(failure.credentialType ?? "").padEnd(10)} ${who}`,
    );
  }
  return lines.join("\n");
}

export function formatCounts(counts: IngestCounts): string {
  return `read ${counts.read} records: ${counts.stored} stored, ${counts.duplicates} duplicates, ${counts.ignored} ignored, ${counts.rejected} rejected`;
}

export function formatRejections(
  rejections: readonly Rejection[],
  total: number,
  deadLetter: string,
): string {
  if (total === 0) return "";
  const lines = [`rejected records (kept in ${deadLetter}):`];
  for (const rejection of rejections) lines.push(`  ${rejection.location}  ${rejection.reason}`);
  if (total > rejections.length) lines.push(`  … and ${total - rejections.length} more`);
  return lines.join("\n");
}

function alertSubject(alert: Alert): string {
  if (alert.subject.type === "address") {
    return `address ${alert.subject.sourceIp}${alert.distinctUsers ? ` (${alert.distinctUsers} users)` : ""}`;
  }
  const name = alert.user?.userName ?? `${alert.subject.identityStoreId}/${alert.subject.userId}`;
  const external = alert.externalIds.map((entry) => entry.id).join(", ");
  return `user ${name}${external ? ` [${external}]` : ""}`;
}

export function formatAlerts(alerts: readonly Alert[], heading = "alerts"): string {
  if (alerts.length === 0) return `no ${heading}`;
  const lines = [`${alerts.length} ${heading}`];
  for (const alert of alerts) {
    lines.push(
      `  ${alert.severity.toUpperCase().padEnd(8)} ${alert.rule.padEnd(22)} ${alertSubject(alert)}: ${alert.count} events ${alert.firstSeen} → ${alert.lastSeen} from ${alert.sourceIps.join(", ")}${alert.successSourceIp ? `; signed in from ${alert.successSourceIp}` : ""}  (${alert.id})`,
    );
  }
  return lines.join("\n");
}
