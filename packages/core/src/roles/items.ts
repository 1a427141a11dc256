import type { UserKey } from "../normalize/types.ts";
import { type ItemKey, Keys } from "../timeline/keys.ts";
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
  JudgementOwed: "role-judgement-owed",
} as const;

/** The most events one owed-judgement item lists: 1,000 keep it far below DynamoDB's 400 KB an item. */
export const OWED_EVENTS_PER_ITEM = 1_000;

/** A judgement a batch owes a role session once its calls are stored (`RoleItems.judgementOwed`). */
export interface OwedJudgement {
  readonly key: ItemKey;
  readonly roleSessionId: string;
  /** The events of the session the batch stored that day: what the judgement must have read. */
  readonly events: readonly { readonly eventTime: string; readonly eventId: string }[];
}

/**
 * An owed event as `judgementOwed` lists it. A function of the module, not an arrow made per call: V8 keeps a
 * closure's optimized code only while a closure holding it lives (docs/benchmarks.md).
 */
function timeAndId(event: RoleEvent): [string, string] {
  return [event.eventTime, event.eventId];
}

export function owedJudgementOf(item: Item): OwedJudgement {
  const events = JSON.parse(String(item.data)) as [string, string][];
  return {
    key: { pk: item.pk, sk: item.sk },
    roleSessionId: String(item.roleSessionId),
    events: events.map(([eventTime, eventId]) => ({ eventTime, eventId })),
  };
}

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
  /**
   * A batch stored these events of the role session (one day's, at most `OWED_EVENTS_PER_ITEM`) and owes the
   * session a judgement on what is stored: written before its commit, deleted once the judgement is made.
   */
  judgementOwed: (
    day: string,
    id: string,
    token: string,
    part: number,
    events: readonly RoleEvent[],
  ): Item => ({
    ...Keys.roleJudgementOwed(day, id, token, part),
    type: RoleItemType.JudgementOwed,
    roleSessionId: id,
    data: JSON.stringify(events.map(timeAndId)),
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
