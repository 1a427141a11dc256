import type { Alert } from "../detect/detector.ts";
import type { IngestCounts, Rejection } from "../ingest/run.ts";
import type { FindingAnswer } from "../roles/finding.ts";
import type {
  AccessKeyAnswer,
  RoleSessionDetail,
  RoleSessionView,
  SessionWithRoles,
  UserWithRoles,
} from "../roles/queries.ts";
import type { FailedSignIn, ReportedUser, SessionTimeline, TimelineEvent } from "../timeline/queries.ts";

/** Human-readable renderings of the same documents `--json` prints. */

export function describeUser(user: ReportedUser | null): string {
  if (!user) return "unknown user";
  if (user.userId === null)
    return `${user.userName} [unresolved: no directory or mapping names this user yet]`;
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

export function formatTimeline(timeline: SessionTimeline | SessionWithRoles): string {
  const lines = [`session ${timeline.credentialId}`, `user    ${describeUser(timeline.user)}`];
  if (timeline.events.length === 0) {
    lines.push("  no events stored for this session");
    return lines.join("\n");
  }
  const start = timeline.events[0]?.eventTime ?? "";
  lines.push(`events  ${timeline.events.length}, from ${start} (UTC)`);
  for (const event of timeline.events) lines.push(eventLine(event, start));
  if ("roleSessions" in timeline && timeline.roleSessions.length > 0) {
    lines.push(`role sessions  ${timeline.roleSessions.length}`);
    for (const view of timeline.roleSessions) lines.push(roleSessionLine(view));
  }
  return lines.join("\n");
}

/** One role session on one line: where, which permission set, how sure the link is, what was done. */
function roleSessionLine(view: RoleSessionView): string {
  const columns = [
    view.creationDate,
    `${view.accountId}/${view.permissionSet ?? view.roleName}`.padEnd(40),
    view.link.padEnd(9),
    `${String(view.eventCount).padStart(5)} events`,
    `${String(view.writeCount).padStart(4)} writes`,
    `${String(view.errorCount).padStart(4)} errors`,
    view.parentId ? `chained from ${view.parentId}` : view.attribution,
    view.id,
  ];
  return `  ${columns.join("  ")}`;
}

export function formatUser(report: UserWithRoles): string {
  const lines = [`user    ${describeUser(report.user)}`];
  if (report.user.emails.length > 1) lines.push(`emails  ${report.user.emails.join(", ")}`);
  lines.push(
    `events  ${report.eventCount} in ${report.sessions.length} sessions; ${report.roleSessionCount} role sessions`,
  );
  for (const session of report.sessions) {
    lines.push(
      `  ${session.firstSeen} → ${session.lastSeen}  ${String(session.eventCount).padStart(4)} events  ${
        session.inferred ? "inferred" : "keyed   "
      }  ${session.credentialId}  ${session.sourceIps.join(", ")}`,
    );
    for (const view of session.roleSessions) lines.push(`  ${roleSessionLine(view)}`);
  }
  if (report.unlinkedRoleSessions.length > 0) {
    lines.push("role sessions linked to no portal session:");
    for (const view of report.unlinkedRoleSessions) lines.push(roleSessionLine(view));
  }
  return lines.join("\n");
}

function roleSessionHeader(view: RoleSessionView): string[] {
  return [
    `role session ${view.id}`,
    `  account ${view.accountId}, role ${view.roleName}${view.permissionSet ? ` (permission set ${view.permissionSet})` : ""}`,
    `  session name ${view.sessionName}, created ${view.creationDate}`,
    `  access keys ${view.accessKeyIds.join(", ") || "(none seen)"}`,
    `  attribution ${view.attribution}${view.attribution === "ambiguous" ? `: ${view.candidates.map((user) => `${user.identityStoreId}/${user.userId}`).join(", ")}` : ""}`,
    `  portal session ${view.credentialId ?? "(none)"} — link ${view.link}`,
    ...(view.parentId ? [`  chained from ${view.parentId}`] : []),
    `  ${view.eventCount} events (${view.writeCount} writes, ${view.errorCount} errors)${view.firstSeen ? `, ${view.firstSeen} → ${view.lastSeen}` : ""}`,
  ];
}

export function formatRoleSessionDetail(detail: RoleSessionDetail): string {
  const lines = [...roleSessionHeader(detail.roleSession), `user ${describeUser(detail.user)}`];
  const start = detail.events[0]?.eventTime ?? "";
  for (const event of detail.events) {
    const columns = [
      event.eventTime,
      offset(start, event.eventTime).padStart(8),
      event.errorCode ? event.errorCode.padEnd(16) : (event.readOnly === false ? "write" : "ok").padEnd(16),
      `${event.eventSource.replace(".amazonaws.com", "")}:${event.eventName}`.padEnd(40),
      (event.sourceIp ?? "").padEnd(16),
      event.accessKeyId ?? "",
    ];
    lines.push(`  ${columns.join(" ").trimEnd()}`);
  }
  return lines.join("\n");
}

export function formatAccessKey(answer: AccessKeyAnswer): string {
  const signIn = answer.signIn
    ? `signed in ${answer.signIn.eventTime} from ${answer.signIn.sourceIp ?? "?"} with ${answer.signIn.credentialTypes.join("+") || "?"}`
    : "sign-in not found";
  return [
    `access key ${answer.accessKeyId}`,
    `user ${describeUser(answer.user)}`,
    `portal session ${answer.credentialId ?? "(unknown)"}; ${signIn}`,
    ...roleSessionHeader(answer.roleSession),
  ].join("\n");
}

export function formatFindingAnswer(answer: FindingAnswer): string {
  const { finding } = answer;
  const heading = `finding ${finding.findingId} ${finding.type ?? ""} (severity ${finding.severity ?? "?"})`;
  if (!answer.roleSession) return `${heading}\n  ${answer.unanswered ?? "no answer"}`;
  return [
    heading,
    formatAccessKey({
      accessKeyId: finding.accessKeyId ?? "",
      roleSession: answer.roleSession,
      roleSessionIds: answer.roleSessionIds ?? [],
      user: answer.user ?? null,
      credentialId: answer.credentialId ?? null,
      signIn: answer.signIn ?? null,
    }),
  ].join("\n");
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
      `  ${alert.severity.toUpperCase().padEnd(8)} ${alert.rule.padEnd(22)} ${alertSubject(alert)}: ${alert.count} events ${alert.firstSeen} → ${alert.lastSeen} from ${alert.sourceIps.join(", ")}${alert.successSourceIp ? `; signed in from ${alert.successSourceIp}` : ""}${alert.roleSessionId ? `; role session ${alert.roleSessionId} in ${alert.accountId ?? "?"}, portal session used from ${(alert.portalSourceIps ?? []).join(", ")}` : ""}  (${alert.id})`,
    );
  }
  return lines.join("\n");
}
