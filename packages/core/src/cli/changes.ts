import type { ChangeView, GroupReport } from "../changes/queries.ts";

/** One change as a line: when, what, to whom, by whom. */
export function changeLine(change: ChangeView): string {
  const target = [
    change.user
      ? `user ${change.user.userName ?? `${change.user.identityStoreId}/${change.user.userId}`}`
      : "",
    change.group ? `group ${change.group.displayName ?? change.group.groupId}` : "",
    change.permissionSet ? `permission set ${change.permissionSet}` : "",
    change.accountId ? `account ${change.accountId}` : "",
  ].filter(Boolean);
  const actor = change.actorUser?.userName ?? change.actor ?? "(unknown actor)";
  return `  ${change.eventTime}  ${change.eventName}  ${target.join(", ")}  by ${actor}`;
}

export function formatChanges(title: string, changes: readonly ChangeView[]): string {
  if (changes.length === 0) return `${title}: none`;
  return [`${title} (${changes.length}, newest first):`, ...changes.map(changeLine)].join("\n");
}

export function formatGroup(report: GroupReport): string {
  const { group } = report;
  const name = group.displayName ?? "(name unknown: give a list-groups export or --identity-store-id)";
  return [
    `group   ${name}  ${group.identityStoreId}/${group.groupId}  [${group.status}]`,
    formatChanges("changes", report.changes),
  ].join("\n");
}
