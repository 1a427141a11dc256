import { type ExternalId, type UserProfile, userKeyString } from "../identity/port.ts";
import { ActorKind, type AuditEvent, resolutionOf, type UserKey } from "../normalize/types.ts";
import { AliasKind, enrichPendingKey, type GroupRef, type ItemKey, Keys } from "./keys.ts";
import type { Item } from "./store.ts";

/** Item types, stored in `type` so a partition read back can be told apart without parsing keys. */
export const ItemType = {
  Event: "event",
  SessionEvent: "session-event",
  UserEvent: "user-event",
  Profile: "profile",
  WorkflowEvent: "workflow-event",
  WorkflowUser: "workflow-user",
  WorkflowHeadsMarker: "workflow-heads-marker",
  PresenceMarksMarker: "presence-marks-marker",
  CoverageDaysMarker: "coverage-days-marker",
  /** Says its partition may hold items (`Keys.pendingNamePresence`, `Keys.alertSubjectPresence`). */
  PresenceMark: "presence-mark",
  /** Written before 2026-12-01 (a member's own session and hidden name are now read from the member). */
  WorkflowSession: "workflow-session",
  FailedSignIn: "failed-signin",
  FailedSignInUser: "failed-signin-user",
  FailedSignInHidden: "failed-signin-hidden",
  WorkflowHidden: "workflow-hidden",
  Alert: "alert",
  AlertBySubject: "alert-by-subject",
  AlertPaged: "alert-paged",
  /** The longest an episode rule's alert of the subject has lasted (`Keys.alertSubjectSpan`). */
  AlertSpan: "alert-span",
  /** A role session that alerted on an address its portal session had not used (`Keys.portalRoleAlert`). */
  PortalRoleAlert: "portal-role-alert",
  AddressEvent: "address-event",
  SessionLink: "session-link",
  AddressLink: "address-link",
  Alias: "alias",
  PendingName: "pending-name",
  EnrichPending: "enrich-pending",
  FindingPublished: "finding-published",
  UserChange: "user-change",
  UserMadeChange: "user-made-change",
  GroupProfile: "group-profile",
  GroupChange: "group-change",
  GroupAlias: "group-alias",
  ActorChange: "actor-change",
  ActorName: "actor-name",
  MembershipHead: "membership-head",
  MembershipRemoval: "membership-removal",
} as const;

export const ProfileStatus = { Enriched: "enriched", Deleted: "deleted", Unenriched: "unenriched" } as const;
export type ProfileStatus = (typeof ProfileStatus)[keyof typeof ProfileStatus];

const payload = (event: AuditEvent) => JSON.stringify(event);

/** The AuditEvent stored in an item's `data`. */
export function eventOf(item: Item): AuditEvent {
  return JSON.parse(String(item.data)) as AuditEvent;
}

export const Items = {
  event: (event: AuditEvent): Item => ({
    ...Keys.event(event.eventId),
    type: ItemType.Event,
    data: payload(event),
  }),
  sessionEvent: (credentialId: string, event: AuditEvent): Item => ({
    ...Keys.sessionEvent(credentialId, event.eventTime, event.eventId),
    type: ItemType.SessionEvent,
    data: payload(event),
  }),
  userEvent: (user: UserKey, event: AuditEvent): Item => ({
    ...Keys.userEvent(user, event.eventTime, event.eventId),
    type: ItemType.UserEvent,
    resolution: resolutionOf(event, user),
    data: payload(event),
  }),
  workflowEvent: (authWorkflowId: string, event: AuditEvent): Item => ({
    ...Keys.workflowEvent(authWorkflowId, event.eventTime, event.eventId, event.actor.directoryUser),
    type: ItemType.WorkflowEvent,
    data: payload(event),
  }),
  /** A member stored at its workflow's shared key (`Keys.workflowHead`); read back as any member is. */
  workflowHead: (authWorkflowId: string, event: AuditEvent): Item => ({
    ...Keys.workflowHead(authWorkflowId),
    type: ItemType.WorkflowEvent,
    data: payload(event),
  }),
  workflowHeadsMarker: (): Item => ({ ...Keys.workflowHeadsMarker, type: ItemType.WorkflowHeadsMarker }),
  presenceMarksMarker: (): Item => ({ ...Keys.presenceMarksMarker, type: ItemType.PresenceMarksMarker }),
  coverageDaysMarker: (): Item => ({ ...Keys.coverageDaysMarker, type: ItemType.CoverageDaysMarker }),
  presenceMark: (key: ItemKey): Item => ({ pk: key.pk, sk: key.sk, type: ItemType.PresenceMark }),
  workflowUser: (authWorkflowId: string, user: UserKey): Item => ({
    ...Keys.workflowUser(authWorkflowId, user),
    type: ItemType.WorkflowUser,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
  }),
  failedSignInHidden: (event: AuditEvent): Item => ({
    ...Keys.failedSignInHidden(event.eventTime, event.eventId),
    type: ItemType.FailedSignInHidden,
    eventId: event.eventId,
  }),
  failedSignIn: (event: AuditEvent): Item => ({
    ...Keys.failedSignIn(event.eventTime, event.eventId),
    type: ItemType.FailedSignIn,
    data: payload(event),
  }),
  failedSignInUser: (event: AuditEvent, user: UserKey): Item => ({
    ...Keys.failedSignInUser(event.eventTime, event.eventId, user),
    type: ItemType.FailedSignInUser,
    eventId: event.eventId,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
    resolution: resolutionOf(event, user),
  }),
  addressEvent: (sourceIp: string, event: AuditEvent): Item => ({
    ...Keys.addressEvent(sourceIp, event.eventTime, event.eventId),
    type: ItemType.AddressEvent,
    data: payload(event),
  }),
  sessionLink: (credentialId: string, event: AuditEvent, user: UserKey): Item => ({
    ...Keys.sessionLink(credentialId, dayOf(event), user),
    type: ItemType.SessionLink,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
  }),
  addressLink: (sourceIp: string, event: AuditEvent, user: UserKey): Item => ({
    ...Keys.addressLink(sourceIp, dayOf(event), user),
    type: ItemType.AddressLink,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
  }),
  pendingName: (userName: string, event: AuditEvent): Item => ({
    ...Keys.pendingName(userName, event.eventTime, event.eventId),
    type: ItemType.PendingName,
    data: payload(event),
  }),
  // No note of where an alias was learned (directory or event): the item would then depend on arrival order.
  /** A group's id or display name → the group. */
  groupAlias: (value: string, group: GroupRef): Item => ({
    ...Keys.groupAlias(value, group),
    type: ItemType.GroupAlias,
    identityStoreId: group.identityStoreId,
    groupId: group.groupId,
  }),
  alias: (kind: AliasKind, value: string, user: UserKey, issuer?: string): Item => ({
    ...Keys.alias(kind, value, user, issuer),
    type: ItemType.Alias,
    kind,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
    ...(issuer !== undefined ? { issuer } : {}),
  }),
  profile: (user: UserKey, status: ProfileStatus, fetchedAt: string, profile?: UserProfile): Item => ({
    ...Keys.userProfile(user),
    type: ItemType.Profile,
    status,
    fetchedAt,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
    ...(profile ? { profile: JSON.stringify(profile) } : {}),
  }),
  enrichPending: (user: UserKey, reason: string): Item => ({
    ...enrichPendingKey(user),
    type: ItemType.EnrichPending,
    identityStoreId: user.identityStoreId,
    userId: user.userId,
    reason,
  }),
};

/**
 * The key of an event's commit item, its canary item (`coverage/`): written last, its presence means the event
 * is stored. Every fresh event has one, keyed by the event alone, so the duplicate check does not depend on how
 * the event was attributed.
 */
export function commitKey(event: AuditEvent): ItemKey {
  return Keys.coverageEvent(dayOf(event), event.eventId);
}

/**
 * The key of the item versions before 2026-12-01 wrote last for an event: its entry in its person's timeline
 * (a portal, token or admin-API event naming its `onBehalfOf`), else its copy under its source address, else an
 * `EVENT#` item. In tables they wrote, the canary item was written before it and unmarked (`isCommitted`).
 */
export function formerCommitKey(event: AuditEvent): ItemKey {
  if (event.category !== "sign-in" && event.actor.user)
    return Keys.userEvent(event.actor.user, event.eventTime, event.eventId);
  return event.sourceIp
    ? Keys.addressEvent(event.sourceIp, event.eventTime, event.eventId)
    : Keys.event(event.eventId);
}

/**
 * The people an event names itself: its `onBehalfOf` user, and the user its sign-in name resolved to in the
 * directory when it was stored (both recorded in the stored event). Such an event is stored in those people's
 * timelines, and its source address has a link to each person's day instead of a copy; so has its own session.
 * A function of the stored event alone, whatever the order of arrival.
 */
export function namedUsers(event: AuditEvent): UserKey[] {
  const { user, directoryUser } = event.actor;
  if (user && directoryUser && userKeyString(user) !== userKeyString(directoryUser))
    return [user, directoryUser];
  const named = user ?? directoryUser;
  return named ? [named] : [];
}

/**
 * What a sign-in workflow's partition says: its members, and the people, sessions and hidden name they name
 * themselves (their own `onBehalfOf`, directory-resolved sign-in name, `credentialId`, a name AWS hid) or that
 * a join linked to it later (a user through a learned name). A member redelivered with another directory answer
 * is there twice (`Keys.workflowEvent`). Tables written before 2026-12-01 hold a link item for each person,
 * session and hidden name too; they say the same.
 */
export function workflowJoin(items: readonly Item[]): {
  users: UserKey[];
  sessions: string[];
  members: AuditEvent[];
  hidden: boolean;
} {
  const users: UserKey[] = [];
  const sessions: string[] = [];
  const members = new Map<string, AuditEvent>();
  let hidden = false;
  for (const item of items) {
    if (item.type === ItemType.WorkflowHidden) hidden = true;
    else if (item.type === ItemType.WorkflowUser) users.push(userOfItem(item));
    else if (item.type === ItemType.WorkflowSession) sessions.push(String(item.credentialId));
    else if (item.type === ItemType.WorkflowEvent) {
      const member = eventOf(item);
      users.push(...namedUsers(member));
      if (member.credentialId) sessions.push(member.credentialId);
      if (member.actor.kind === ActorKind.Unknown) hidden = true;
      // One member per event: the copy the directory resolved over one it did not. Two copies resolved to two
      // people (a redo while the directory changed) keep the first in key order, where a head comes last.
      const kept = members.get(member.eventId);
      if (!kept || (!kept.actor.directoryUser && member.actor.directoryUser))
        members.set(member.eventId, member);
    }
  }
  return { users, sessions, members: [...members.values()], hidden };
}

/** The UTC day of an event, as links name it. */
export function dayOf(event: AuditEvent): string {
  return event.eventTime.slice(0, 10);
}

/** Every lookup value of a profile: its id, sign-in name, emails and external ids. */
export function profileAliases(profile: UserProfile): Item[] {
  const user = { identityStoreId: profile.identityStoreId, userId: profile.userId };
  const aliases = [Items.alias(AliasKind.UserId, profile.userId, user)];
  if (profile.userName) aliases.push(Items.alias(AliasKind.UserName, profile.userName, user));
  for (const email of profile.emails) aliases.push(Items.alias(AliasKind.Email, email, user));
  for (const externalId of profile.externalIds as ExternalId[]) {
    aliases.push(Items.alias(AliasKind.ExternalId, externalId.id, user, externalId.issuer));
  }
  return aliases;
}

export function userOfItem(item: Item): UserKey {
  return { identityStoreId: String(item.identityStoreId), userId: String(item.userId) };
}
