import type { UserKey } from "../normalize/types.ts";
import { Keys } from "../timeline/keys.ts";
import type { Item } from "../timeline/store.ts";
import { permissionSetOf, type RoleEvent, type RoleSessionKey, roleSessionId } from "./types.ts";

/** Item types of role sessions, stored in `type` like the timeline's. */
export const RoleItemType = {
  Head: "role-session",
  Event: "role-event",
  User: "role-session-user",
  Candidate: "role-session-candidate",
  Parent: "role-session-parent",
  Child: "role-session-child",
  AccessKey: "access-key",
  UserRoleSession: "user-role-session",
  UserRoleDay: "user-role-day",
} as const;

/**
 * The event as stored: the session it belongs to is the partition's (its `HEAD`), so it is not repeated in
 * every event. Top-level `accessKeyId`, `readOnly` and `errorCode` let summaries read a session's events
 * without their payloads.
 */
type StoredRoleEvent = Omit<RoleEvent, "session" | "roleSessionId" | "accountId">;

export function storedPayload(event: RoleEvent): string {
  const { session: _session, roleSessionId: _id, accountId: _account, ...rest } = event;
  return JSON.stringify(rest satisfies StoredRoleEvent);
}

/** A role-session event read back, with the session its partition's head names. */
export function roleEventOf(item: Item, session: RoleSessionKey): RoleEvent {
  const stored = JSON.parse(String(item.data)) as StoredRoleEvent;
  return { ...stored, session, roleSessionId: roleSessionId(session), accountId: session.accountId };
}

export function sessionKeyOf(item: Item): RoleSessionKey {
  return {
    accountId: String(item.accountId),
    roleName: String(item.roleName),
    sessionName: String(item.sessionName),
    creationDate: String(item.creationDate),
  };
}

const userFields = (user: UserKey) => ({ identityStoreId: user.identityStoreId, userId: user.userId });

/** Every item's content is a function of its key and one immutable event: writes repeat in any order. */
export const RoleItems = {
  head: (session: RoleSessionKey): Item => {
    const permissionSet = permissionSetOf(session.roleName);
    return {
      ...Keys.roleSessionHead(roleSessionId(session)),
      type: RoleItemType.Head,
      accountId: session.accountId,
      roleName: session.roleName,
      sessionName: session.sessionName,
      creationDate: session.creationDate,
      ...(permissionSet !== undefined ? { permissionSet } : {}),
    };
  },
  /** The commit item of a role-session event: its presence means the event is stored. */
  event: (event: RoleEvent): Item => ({
    ...Keys.roleSessionEvent(event.roleSessionId, event.eventTime, event.eventId),
    type: RoleItemType.Event,
    ...(event.accessKeyId !== undefined ? { accessKeyId: event.accessKeyId } : {}),
    ...(event.issuedAccessKeyId !== undefined ? { issuedAccessKeyId: event.issuedAccessKeyId } : {}),
    ...(event.readOnly !== undefined ? { readOnly: event.readOnly } : {}),
    ...(event.errorCode !== undefined ? { errorCode: event.errorCode } : {}),
    // What detections judge a call on, readable without its payload.
    kind: event.kind,
    ...(event.sourceIp !== undefined ? { sourceIp: event.sourceIp } : {}),
    data: storedPayload(event),
  }),
  user: (id: string, user: UserKey): Item => ({
    ...Keys.roleSessionUser(id, user),
    type: RoleItemType.User,
    ...userFields(user),
  }),
  candidate: (id: string, user: UserKey): Item => ({
    ...Keys.roleSessionCandidate(id, user),
    type: RoleItemType.Candidate,
    ...userFields(user),
  }),
  parent: (id: string, parentId: string): Item => ({
    ...Keys.roleSessionParent(id, parentId),
    type: RoleItemType.Parent,
    parentId,
  }),
  child: (id: string, childId: string): Item => ({
    ...Keys.roleSessionChild(id, childId),
    type: RoleItemType.Child,
    childId,
  }),
  accessKey: (accessKeyId: string, id: string): Item => ({
    ...Keys.accessKey(accessKeyId, id),
    type: RoleItemType.AccessKey,
    accessKeyId,
    roleSessionId: id,
  }),
  /** The person had a role session with calls created on this day (`Keys.userRoleDay`). */
  userRoleDay: (user: UserKey, session: RoleSessionKey): Item => ({
    ...Keys.userRoleDay(user, session.creationDate.slice(0, 10)),
    type: RoleItemType.UserRoleDay,
    ...userFields(user),
  }),
  /**
   * A person's index entry for a role session that named them (`onBehalfOf`) or whose name the directory
   * matched to them. No basis is stored: that would depend on which events arrived first. Readers check the
   * session's attribution, computed from all its stored events.
   */
  userRoleSession: (user: UserKey, session: RoleSessionKey): Item => {
    const id = roleSessionId(session);
    const permissionSet = permissionSetOf(session.roleName);
    return {
      ...Keys.userRoleSession(user, session.creationDate, id),
      type: RoleItemType.UserRoleSession,
      roleSessionId: id,
      accountId: session.accountId,
      roleName: session.roleName,
      creationDate: session.creationDate,
      ...(permissionSet !== undefined ? { permissionSet } : {}),
      ...userFields(user),
    };
  },
};
