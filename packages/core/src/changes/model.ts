import type { GroupKey } from "../identity/port.ts";
import { type AuditEvent, Outcome, type UserKey } from "../normalize/types.ts";

/**
 * A directory change as the change index stores it: who changed what, by ids. Names (user names, group display
 * names) are joined when answering, from the profiles the directory gave, so a name learned later shows on
 * changes stored earlier without rewriting them.
 */
export interface ChangeRecord {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  /** The identity store the change is in, when the event or the directory says. */
  readonly identityStoreId?: string;
  /** The administrator: its principal ARN, and the Identity Center person behind it when the event names one. */
  readonly actor: { readonly principal?: string; readonly user?: UserKey };
  /** The person changed. */
  readonly user?: UserKey;
  /** The group changed, or the group a person was added to or removed from. */
  readonly group?: GroupKey;
  readonly membershipId?: string;
  readonly permissionSetArn?: string;
  /** The account of an account assignment. */
  readonly accountId?: string;
  /** Where the administrator called from. */
  readonly sourceIp?: string;
}

/** Calls that only begin an MFA device registration (or list devices) change nothing yet. */
const MFA_CHANGES = new Set([
  "CompleteWebAuthnDeviceRegistration",
  "CompleteVirtualMfaDeviceRegistration",
  "UpdateMfaDeviceForUser",
  "DeleteMfaDeviceForUser",
]);

/** A new MFA device: a way in an attacker who has the password keeps. */
const NEW_MFA_DEVICE = new Set([
  "CompleteWebAuthnDeviceRegistration",
  "CompleteVirtualMfaDeviceRegistration",
]);
const GROUP_ADDITIONS = new Set(["CreateGroupMembership", "AddMemberToGroup"]);
const GROUP_REMOVALS = new Set(["DeleteGroupMembership", "RemoveMemberFromGroup"]);

/**
 * The change record of a successful directory change, or `undefined` for any other event (reads, failed calls,
 * sign-ins). `defaultStoreId` is the directory's store, for Identity Center calls (account assignments) that
 * name a principal but not its store.
 */
export function changeRecordOf(event: AuditEvent, defaultStoreId?: string): ChangeRecord | undefined {
  if (event.outcome !== Outcome.Success) return undefined;
  const isMfa = event.category === "mfa-device";
  if (!(event.category === "directory-admin" || (isMfa && MFA_CHANGES.has(event.eventName))))
    return undefined;
  const change = event.change ?? {};
  const actorUser = event.actor.user ?? event.actor.directoryUser;
  const storeId =
    change.identityStoreId ??
    event.actor.user?.identityStoreId ??
    actorUser?.identityStoreId ??
    defaultStoreId;
  const principalIs = (type: string) => change.principalType?.toUpperCase() === type;
  const userId = change.userId ?? (principalIs("USER") ? change.principalId : undefined);
  const groupId = change.groupId ?? (principalIs("GROUP") ? change.principalId : undefined);
  // A person managing their own MFA device from the portal is both the actor and the person changed.
  const user =
    storeId !== undefined && userId !== undefined
      ? { identityStoreId: storeId, userId }
      : isMfa
        ? actorUser
        : undefined;
  const record: {
    -readonly [K in keyof ChangeRecord]: ChangeRecord[K];
  } = {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventSource: event.eventSource,
    eventName: event.eventName,
    actor: {
      ...(event.actor.principal ? { principal: event.actor.principal } : {}),
      ...(actorUser ? { user: actorUser } : {}),
    },
  };
  if (storeId !== undefined) record.identityStoreId = storeId;
  if (user) record.user = user;
  if (storeId !== undefined && groupId !== undefined) record.group = { identityStoreId: storeId, groupId };
  if (change.membershipId) record.membershipId = change.membershipId;
  if (change.permissionSetArn) record.permissionSetArn = change.permissionSetArn;
  if (change.targetAccountId) record.accountId = change.targetAccountId;
  if (event.sourceIp) record.sourceIp = event.sourceIp;
  return record;
}

/** Who granted what, for `privilege-granted-after-failures`. */
export const PrivilegeKind = {
  GroupMembership: "group-membership",
  PermissionSet: "permission-set",
  MfaDevice: "mfa-device",
} as const;
export type PrivilegeKind = (typeof PrivilegeKind)[keyof typeof PrivilegeKind];

/** What a change grants: a group, a permission set (to a person or a group), a new MFA device; else nothing. */
export function privilegeOf(record: ChangeRecord): PrivilegeKind | undefined {
  if (GROUP_ADDITIONS.has(record.eventName)) return PrivilegeKind.GroupMembership;
  if (record.eventName === "CreateAccountAssignment") return PrivilegeKind.PermissionSet;
  if (NEW_MFA_DEVICE.has(record.eventName)) return PrivilegeKind.MfaDevice;
  return undefined;
}

export function isGroupRemoval(record: ChangeRecord): boolean {
  return GROUP_REMOVALS.has(record.eventName);
}

/**
 * The values an administrator is found by (lower case): its ARN and, for an assumed role, the role and session
 * names (`arn:aws:sts::…:assumed-role/<role>/<session>`); for an IAM user, its name.
 */
export function actorNames(principal: string): string[] {
  const names = new Set([principal.toLowerCase()]);
  const assumed = /:assumed-role\/([^/]+)\/(.+)$/.exec(principal);
  if (assumed) {
    names.add((assumed[1] as string).toLowerCase());
    names.add((assumed[2] as string).toLowerCase());
  }
  const iamUser = /:user\/(?:.*\/)?([^/]+)$/.exec(principal);
  if (iamUser) names.add((iamUser[1] as string).toLowerCase());
  return [...names];
}

/** What `changes --actor` looks up for a value: an IAM role's ARN is asked as its role name. */
export function actorLookupValue(value: string): string {
  const role = /^arn:[^:]+:iam::\d*:role\/(?:.*\/)?([^/]+)$/.exec(value);
  return (role?.[1] ?? value).toLowerCase();
}
