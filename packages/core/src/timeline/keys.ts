import type { UserKey } from "../normalize/types.ts";

/**
 * Every key of the single table, built here and nowhere else. Prefixes carry a version (`v1`) so that a
 * future layout can live beside this one while it is backfilled.
 *
 * | item                         | pk                                   | sk                                       |
 * |------------------------------|--------------------------------------|------------------------------------------|
 * | event without an address    | EVENT#v1#<eventId>                   | EVENT                                    |
 * | session timeline entry       | SESSION#v1#<credentialId>            | EVENT#<time>#<eventId>                   |
 * | user timeline entry          | USER#v1#<storeId>#<userId>           | EVENT#<time>#<eventId>                   |
 * | user profile (cache)         | USER#v1#<storeId>#<userId>           | PROFILE                                  |
 * | sign-in workflow member      | WORKFLOW#v1#<authWorkflowId>         | EVENT#<time>#<eventId>[#BY#<store>#<id>] |
 * | sign-in workflow member that | WORKFLOW#v1#<authWorkflowId>         | HEAD                                     |
 * | its first writer inserted    |                                      |                                          |
 * | workflow → user a join found | WORKFLOW#v1#<authWorkflowId>         | LINK#USER#<storeId>#<userId>             |
 * | failed sign-in               | FAILED#v1                            | <time>#<eventId>                         |
 * | failed sign-in → user        | FAILED#v1                            | <time>#<eventId>#USER#<storeId>#<userId> |
 * | failed sign-in, hidden name  | FAILED#v1                            | <time>#<eventId>#HIDDEN                  |
 * | alert (listing by time)      | ALERT#v1                             | <firstSeen>#<alertId>                    |
 * | alert by subject             | ALERTSUBJ#v1#<user or address>       | <firstSeen>#<alertId>                    |
 * | alerts may exist of subject  | ALERTSUBJ#v1#<user or address>       | PRESENT                                  |
 * | longest episode-rule alert   | ALERTSUBJ#v1#<user or address>       | SPAN                                     |
 * | alert paged marker           | PAGED#v1#<user or address>           | <rule>#<firstSeen>#<alertId>             |
 * | event by source address      | ADDRESS#v1#<ip>                      | EVENT#<time>#<eventId>                   |
 * | session → a person's day     | SESSION#v1#<credentialId>            | LINK#<yyyy-mm-dd>#USER#<storeId>#<userId> |
 * | address → a person's day     | ADDRESS#v1#<ip>                      | LINK#<yyyy-mm-dd>#USER#<storeId>#<userId> |
 * | lookup value → user          | ALIAS#v1#<lower-case value>          | <KIND>#[<issuer>#]<storeId>#<userId>     |
 * | old-shape event awaiting a   | PENDING#v1#NAME#<lower-case name>    | EVENT#<time>#<eventId>                   |
 * | name → user mapping          |                                      |                                          |
 * | events may await that name   | PENDING#v1#NAME#<lower-case name>    | PRESENT                                  |
 * | role session: what it is     | ROLESESSION#v1#<roleSessionId>       | HEAD                                     |
 * | role session event (commit)  | ROLESESSION#v1#<roleSessionId>       | EVENT#<time>#<eventId>                   |
 * | role session → person named  | ROLESESSION#v1#<roleSessionId>       | USER#<storeId>#<userId>                  |
 * | role session → session-name  | ROLESESSION#v1#<roleSessionId>       | CANDIDATE#<storeId>#<userId>             |
 * | match in the directory       |                                      |                                          |
 * | chained role session → parent| ROLESESSION#v1#<roleSessionId>       | PARENT#<parentRoleSessionId>             |
 * | role session → chained child | ROLESESSION#v1#<roleSessionId>       | CHILD#<childRoleSessionId>               |
 * | access key → role session    | ACCESSKEY#v1#<accessKeyId>           | ROLESESSION#<roleSessionId>              |
 * | person → role session        | USER#v1#<storeId>#<userId>           | ROLE#<creationDate>#<roleSessionId>      |
 * | person had used role sessions| USER#v1#<storeId>#<userId>           | ROLEDAY#<yyyy-mm-dd>                     |
 * | created that day             |                                      |                                          |
 * | role session owed judgement  | ROLEJUDGE#v1#<yyyy-mm-dd>            | <roleSessionId>#<batch token>#<part>     |
 * | after a batch's commit       | (the day of its calls)               |                                          |
 * | role session that alerted on | PORTALROLEALERTS#v1#<credentialId>   | ROLESESSION#<roleSessionId>#<address>    |
 * | an address its portal session|                                      |                                          |
 * | had not used                 |                                      |                                          |
 * | such role sessions may exist | PORTALROLEALERTS#v1#<credentialId>   | PRESENT                                  |
 * | (of any portal session)      | PORTALROLEALERTS#v1                  | PRESENT                                  |
 * | GuardDuty finding published  | FINDING#v1#<findingId>               | PUBLISHED                                |
 * | directory change to a person | USER#v1#<storeId>#<userId>           | CHANGE#<time>#<eventId>                  |
 * | directory change by a person | USER#v1#<storeId>#<userId>           | MADE#<time>#<eventId>                    |
 * | (unless to themselves)       |                                      |                                          |
 * | group profile (cache)        | GROUP#v1#<storeId>#<groupId>         | PROFILE                                  |
 * | directory change to a group  | GROUP#v1#<storeId>#<groupId>         | CHANGE#<time>#<eventId>                  |
 * | group id or name → group     | GROUPALIAS#v1#<lower-case value>     | <storeId>#<groupId>                      |
 * | directory change by an admin | ACTOR#v1#<lower-case ARN>            | CHANGE#<time>#<eventId>                  |
 * | admin's role, session or IAM | ACTOR#v1#<lower-case name>           | ARN#<lower-case ARN>                     |
 * | user name → its ARN          |                                      |                                          |
 * | membership: whose, which     | MEMBERSHIP#v1#<storeId>#<membershipId> | HEAD                                   |
 * | group (CreateGroupMembership)|                                      |                                          |
 * | membership removal awaiting  | MEMBERSHIP#v1#<storeId>#<membershipId> | REMOVED#<time>#<eventId>               |
 * | its person (DeleteGroupMemb.)|                                      |                                          |
 * | the canary: one stored event | COVERAGE#v1#<yyyy-mm-dd>            | EVENT#<eventId>                          |
 * | such an event attributed by  | COVERAGE#v1#<yyyy-mm-dd>            | ATTR#<eventId>                           |
 * | a join, or to nobody         |                                      | NOBODY#<eventId>                         |
 * | days with canary items       | COVERDAY#v1                          | <yyyy-mm-dd>                             |
 * | the table was created with   | META#v1                              | WORKFLOW-HEADS                           |
 * | workflow heads               |                                      |                                          |
 * | the table was created with   | META#v1                              | PRESENCE-MARKS                           |
 * | presence marks               |                                      |                                          |
 * | the table was created with   | META#v1                              | COVERAGE-DAYS                            |
 * | a day's item before commits  |                                      |                                          |
 *
 * An event's commit item, written last, means the event is stored: its canary item (see `Pipeline` and
 * `commitKey`).
 *
 * Each item's content is a function of its key and of one immutable event, so writing it again, in any
 * order, from any process, leaves the same item: that is what makes ingestion idempotent and
 * order-independent without transactions. One exception, never overwritten: a workflow's head holds whichever
 * member its first writer inserted, and every reader takes it as that member (`workflowJoin`).
 */
export interface ItemKey {
  readonly pk: string;
  readonly sk: string;
}

/** An item's key as one string, for sets and maps of items (NUL appears in neither part). */
export function itemKeyString(key: ItemKey): string {
  return `${key.pk}\u0000${key.sk}`;
}

export const AliasKind = {
  UserId: "ID",
  UserName: "NAME",
  Email: "EMAIL",
  ExternalId: "EXT",
} as const;
export type AliasKind = (typeof AliasKind)[keyof typeof AliasKind];

const userPart = (user: UserKey) => `${user.identityStoreId}#${user.userId}`;
const eventSort = (eventTime: string, eventId: string) => `EVENT#${eventTime}#${eventId}`;
/** Sort key of a presence mark: after every event (`EVENT#…`) and alert (`<time>#…`) sort key of its partition. */
const PRESENT = "PRESENT";
/** Sort-key prefix of the events waiting for a name (`Keys.pendingName`), leaving out its presence mark. */
export const PENDING_EVENT_PREFIX = "EVENT#";

/** The days that have canary items (`coverage/`), one item each. */
export const COVERAGE_DAYS_PARTITION = "COVERDAY#v1";
export const FAILED_PARTITION = "FAILED#v1";
export const ALERT_PARTITION = "ALERT#v1";

export const Keys = {
  event: (eventId: string): ItemKey => ({ pk: `EVENT#v1#${eventId}`, sk: "EVENT" }),
  sessionPartition: (credentialId: string) => `SESSION#v1#${credentialId}`,
  sessionEvent: (credentialId: string, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.sessionPartition(credentialId),
    sk: eventSort(eventTime, eventId),
  }),
  userPartition: (user: UserKey) => `USER#v1#${userPart(user)}`,
  userEvent: (user: UserKey, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.userPartition(user),
    sk: eventSort(eventTime, eventId),
  }),
  userProfile: (user: UserKey): ItemKey => ({ pk: Keys.userPartition(user), sk: "PROFILE" }),
  workflowPartition: (authWorkflowId: string) => `WORKFLOW#v1#${authWorkflowId}`,
  /**
   * A member, keyed by the person its sign-in name resolved to through the directory too: that resolution is
   * in the stored event and depends on what the directory answered at ingest, so a redelivery made while the
   * directory could not answer adds an item beside this one instead of replacing it with one naming nobody.
   */
  workflowEvent: (
    authWorkflowId: string,
    eventTime: string,
    eventId: string,
    resolved?: UserKey,
  ): ItemKey => ({
    pk: Keys.workflowPartition(authWorkflowId),
    sk: `${eventSort(eventTime, eventId)}${resolved ? `#BY#${userPart(resolved)}` : ""}`,
  }),
  /**
   * One member of a workflow, at a key every writer of the workflow shares: the first writer's insert of it
   * succeeds, every later one's fails, and so tells that writer that other members may be stored (`Pipeline`).
   */
  workflowHead: (authWorkflowId: string): ItemKey => ({
    pk: Keys.workflowPartition(authWorkflowId),
    sk: "HEAD",
  }),
  /**
   * Written once, when idc-audit creates the table: every workflow member in it was stored by a version that
   * inserts workflow heads, so the first inserter of a head need not read its workflow (`Pipeline`).
   */
  workflowHeadsMarker: { pk: "META#v1", sk: "WORKFLOW-HEADS" } as ItemKey,
  /**
   * Written once, when idc-audit creates the table: every pending name and alert subject in it was stored by a
   * version that writes presence marks, so a missing mark proves an empty partition (`Pipeline`, `Detector`).
   */
  presenceMarksMarker: { pk: "META#v1", sk: "PRESENCE-MARKS" } as ItemKey,
  /**
   * Written once, when idc-audit creates the table: every event committed in it was committed by a version that
   * writes the day's coverage item first, so a day without one has no event stored (`Pipeline`).
   */
  coverageDaysMarker: { pk: "META#v1", sk: "COVERAGE-DAYS" } as ItemKey,
  workflowUser: (authWorkflowId: string, user: UserKey): ItemKey => ({
    pk: Keys.workflowPartition(authWorkflowId),
    sk: `LINK#USER#${userPart(user)}`,
  }),
  failedSignIn: (eventTime: string, eventId: string): ItemKey => ({
    pk: FAILED_PARTITION,
    sk: `${eventTime}#${eventId}`,
  }),
  failedSignInUser: (eventTime: string, eventId: string, user: UserKey): ItemKey => ({
    pk: FAILED_PARTITION,
    sk: `${eventTime}#${eventId}#USER#${userPart(user)}`,
  }),
  failedSignInHidden: (eventTime: string, eventId: string): ItemKey => ({
    pk: FAILED_PARTITION,
    sk: `${eventTime}#${eventId}#HIDDEN`,
  }),
  alertListing: (firstSeen: string, alertId: string): ItemKey => ({
    pk: ALERT_PARTITION,
    sk: `${firstSeen}#${alertId}`,
  }),
  alertSubjectPartition: (subjectKey: string) => `ALERTSUBJ#v1#${subjectKey}`,
  /** Written before the subject's first alert: read by key, it says whether the partition may hold any. */
  alertSubjectPresence: (subjectKey: string): ItemKey =>
    Keys.presence(Keys.alertSubjectPartition(subjectKey)),
  /**
   * The longest any alert of an episode rule about the subject has lasted (`spanMs`), raised before such an
   * alert's listing is written and never lowered: alerts that start earlier than that before the hours a judgement
   * reads cannot reach them, and are not read.
   */
  alertSubjectSpan: (subjectKey: string): ItemKey => ({
    pk: Keys.alertSubjectPartition(subjectKey),
    sk: "SPAN",
  }),
  alertBySubject: (subjectKey: string, firstSeen: string, alertId: string): ItemKey => ({
    pk: Keys.alertSubjectPartition(subjectKey),
    sk: `${firstSeen}#${alertId}`,
  }),
  /** Written once an alert has been published: updates of the alert, even under a new id, do not page again. */
  alertPagedPartition: (subjectKey: string) => `PAGED#v1#${subjectKey}`,
  alertPaged: (subjectKey: string, rule: string, firstSeen: string, alertId: string): ItemKey => ({
    pk: Keys.alertPagedPartition(subjectKey),
    sk: `${rule}#${firstSeen}#${alertId}`,
  }),
  /** The session has events of this person on this day, stored in their timeline (see `namedUsers`). */
  sessionLink: (credentialId: string, day: string, user: UserKey): ItemKey => ({
    pk: Keys.sessionPartition(credentialId),
    sk: `LINK#${day}#USER#${userPart(user)}`,
  }),
  /** The address has events of this person on this day, stored in their timeline (see `namedUsers`). */
  addressLink: (sourceIp: string, day: string, user: UserKey): ItemKey => ({
    pk: Keys.addressPartition(sourceIp),
    sk: `LINK#${day}#USER#${userPart(user)}`,
  }),
  addressPartition: (sourceIp: string) => `ADDRESS#v1#${sourceIp}`,
  addressEvent: (sourceIp: string, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.addressPartition(sourceIp),
    sk: eventSort(eventTime, eventId),
  }),
  aliasPartition: (value: string) => `ALIAS#v1#${value.toLowerCase()}`,
  alias: (kind: AliasKind, value: string, user: UserKey, issuer?: string): ItemKey => ({
    pk: Keys.aliasPartition(value),
    sk: `${aliasSortPrefix(kind, issuer)}${userPart(user)}`,
  }),
  pendingNamePartition: (userName: string) => `PENDING#v1#NAME#${userName.toLowerCase()}`,
  pendingName: (userName: string, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.pendingNamePartition(userName),
    sk: eventSort(eventTime, eventId),
  }),
  /** Written with each event waiting for the name: read by key, it says whether any may wait. */
  pendingNamePresence: (userName: string): ItemKey => Keys.presence(Keys.pendingNamePartition(userName)),
  /** A partition's presence mark (`TableStore.markedPartitions`). */
  presence: (partition: string): ItemKey => ({ pk: partition, sk: PRESENT }),
  roleSessionPartition: (roleSessionId: string) => `ROLESESSION#v1#${roleSessionId}`,
  roleSessionHead: (roleSessionId: string): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: "HEAD",
  }),
  roleSessionEvent: (roleSessionId: string, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: eventSort(eventTime, eventId),
  }),
  /** An event of the role session named this person (`onBehalfOf`). */
  roleSessionUser: (roleSessionId: string, user: UserKey): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: `USER#${userPart(user)}`,
  }),
  /** The directory knows a user by the role session's name (its user name or email). */
  roleSessionCandidate: (roleSessionId: string, user: UserKey): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: `CANDIDATE#${userPart(user)}`,
  }),
  /** The role session was opened by `sts:AssumeRole` from another role session (role chaining). */
  roleSessionParent: (roleSessionId: string, parentId: string): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: `PARENT#${parentId}`,
  }),
  /** The role session opened a chained role session with `sts:AssumeRole`. */
  roleSessionChild: (roleSessionId: string, childId: string): ItemKey => ({
    pk: Keys.roleSessionPartition(roleSessionId),
    sk: `CHILD#${childId}`,
  }),
  accessKeyPartition: (accessKeyId: string) => `ACCESSKEY#v1#${accessKeyId}`,
  accessKey: (accessKeyId: string, roleSessionId: string): ItemKey => ({
    pk: Keys.accessKeyPartition(accessKeyId),
    sk: `ROLESESSION#${roleSessionId}`,
  }),
  /**
   * This person had role sessions with calls created on this day: what a grant arriving later checks with one
   * key read before it looks for the sessions it may link (a `Query`).
   */
  userRoleDay: (user: UserKey, day: string): ItemKey => ({
    pk: Keys.userPartition(user),
    sk: `ROLEDAY#${day}`,
  }),
  /**
   * A batch that committed calls of this role session on this day owes it a judgement on what is stored
   * (`RoleSessionIngester`): deleted once made. `token` is the batch's own, so no other batch clears it.
   */
  roleJudgementOwedPartition: (day: string) => `ROLEJUDGE#v1#${day}`,
  roleJudgementOwed: (day: string, roleSessionId: string, token: string, part: number): ItemKey => ({
    pk: Keys.roleJudgementOwedPartition(day),
    sk: `${roleSessionId}#${token}#${part}`,
  }),
  /**
   * A role session that role-credentials-new-address found used from an address its portal session had not been
   * (`Detector`), under that portal session, by that address: a later event of the portal session from the address
   * has it judged again. Written, with the partition's presence mark and `portalRoleAlertsPresence`, before the
   * judgement that found it reads the portal session a last time. A hint of what to judge, never removed.
   */
  portalRoleAlertsPartition: (credentialId: string) => `PORTALROLEALERTS#v1#${credentialId}`,
  portalRoleAlert: (credentialId: string, roleSessionId: string, sourceIp: string): ItemKey => ({
    pk: Keys.portalRoleAlertsPartition(credentialId),
    sk: `ROLESESSION#${roleSessionId}#${sourceIp}`,
  }),
  /** Whether any portal session has such a role session (`portalRoleAlert`): read by key, once a batch until found. */
  portalRoleAlertsPresence: (): ItemKey => Keys.presence("PORTALROLEALERTS#v1"),
  /** A role session of this person, by the time its credentials were issued. */
  userRoleSession: (user: UserKey, creationDate: string, roleSessionId: string): ItemKey => ({
    pk: Keys.userPartition(user),
    sk: `${USER_ROLE_SESSION_PREFIX}${creationDate}#${roleSessionId}`,
  }),
  /**
   * Written once a GuardDuty finding's answer has been published to the alert topic (after publishing: a crash
   * re-publishes, never loses one); later deliveries of the same finding id are not published again.
   */
  findingPublished: (findingId: string): ItemKey => ({ pk: `FINDING#v1#${findingId}`, sk: "PUBLISHED" }),
  /** A directory change made to this person: created, added to a group, assigned a permission set… */
  userChange: (user: UserKey, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.userPartition(user),
    sk: `${CHANGE_SORT_PREFIX}${eventTime}#${eventId}`,
  }),
  /** A directory change this person made (an administration call from their own role session). */
  userMadeChange: (user: UserKey, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.userPartition(user),
    sk: `${MADE_SORT_PREFIX}${eventTime}#${eventId}`,
  }),
  groupPartition: (group: GroupRef) => `GROUP#v1#${group.identityStoreId}#${group.groupId}`,
  groupProfile: (group: GroupRef): ItemKey => ({ pk: Keys.groupPartition(group), sk: "PROFILE" }),
  groupChange: (group: GroupRef, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.groupPartition(group),
    sk: `${CHANGE_SORT_PREFIX}${eventTime}#${eventId}`,
  }),
  groupAliasPartition: (value: string) => `GROUPALIAS#v1#${value.toLowerCase()}`,
  /** A group's id or display name (any case) → the group. */
  groupAlias: (value: string, group: GroupRef): ItemKey => ({
    pk: Keys.groupAliasPartition(value),
    sk: `${group.identityStoreId}#${group.groupId}`,
  }),
  actorPartition: (value: string) => `ACTOR#v1#${value.toLowerCase()}`,
  /**
   * A directory change by an administrator, under its ARN. (Tables written before 2026-12-02 also hold it under
   * each other name the administrator goes by: `ChangeQueries.actor` reads both.)
   */
  actorChange: (principal: string, eventTime: string, eventId: string): ItemKey => ({
    pk: Keys.actorPartition(principal),
    sk: `${CHANGE_SORT_PREFIX}${eventTime}#${eventId}`,
  }),
  /** A name an administrator goes by (role, session or IAM user name: `actorNames`) → its ARN's changes. */
  actorName: (name: string, principal: string): ItemKey => ({
    pk: Keys.actorPartition(name),
    sk: `${ACTOR_ARN_SORT_PREFIX}${principal.toLowerCase()}`,
  }),
  membershipPartition: (identityStoreId: string, membershipId: string) =>
    `MEMBERSHIP#v1#${identityStoreId}#${membershipId}`,
  /** Whose membership of which group it is: only `CreateGroupMembership` says; its removal names only the id. */
  membershipHead: (identityStoreId: string, membershipId: string): ItemKey => ({
    pk: Keys.membershipPartition(identityStoreId, membershipId),
    sk: "HEAD",
  }),
  /** A `DeleteGroupMembership`, kept where the membership's creation (earlier or later) will find it. */
  membershipRemoval: (identityStoreId: string, membershipId: string, eventTime: string, eventId: string) => ({
    pk: Keys.membershipPartition(identityStoreId, membershipId),
    sk: `${MEMBERSHIP_REMOVAL_PREFIX}${eventTime}#${eventId}`,
  }),
  /** The canary's partition of one day (`coverage/`): one small item per event stored, and its markers. */
  coveragePartition: (day: string) => `COVERAGE#v1#${day}`,
  /** What the canary needs of one stored event: its shape, whether it names or implies a person, … */
  coverageEvent: (day: string, eventId: string): ItemKey => ({
    pk: Keys.coveragePartition(day),
    sk: `${CoverageSort.Event}${eventId}`,
  }),
  /** The event, not attributed by its own fields, was attributed to a person through a join. */
  coverageAttributed: (day: string, eventId: string): ItemKey => ({
    pk: Keys.coveragePartition(day),
    sk: `${CoverageSort.Attributed}${eventId}`,
  }),
  /** The event's sign-in workflow was for a name AWS hid: it implies nobody after all. */
  coverageNobody: (day: string, eventId: string): ItemKey => ({
    pk: Keys.coveragePartition(day),
    sk: `${CoverageSort.Nobody}${eventId}`,
  }),
  /** A day with canary items: where a range without a start begins. */
  coverageDay: (day: string): ItemKey => ({ pk: COVERAGE_DAYS_PARTITION, sk: day }),
} as const;

/** Sort-key prefixes of a day's coverage partition, each followed by an event id. */
export const CoverageSort = { Event: "EVENT#", Attributed: "ATTR#", Nobody: "NOBODY#" } as const;

/** A group as keys name it (the identity domain's `GroupKey`, without importing it). */
export interface GroupRef {
  readonly identityStoreId: string;
  readonly groupId: string;
}

/** Sort-key prefix of the directory changes made to a person or a group, or by an administrator. */
export const CHANGE_SORT_PREFIX = "CHANGE#";
export const ACTOR_ARN_SORT_PREFIX = "ARN#";
/** Sort-key prefix of the directory changes a person made. */
export const MADE_SORT_PREFIX = "MADE#";
export const MEMBERSHIP_REMOVAL_PREFIX = "REMOVED#";

/** Sort-key prefix of a person's role sessions (`ROLE#<creationDate>#<roleSessionId>`). */
export const USER_ROLE_SESSION_PREFIX = "ROLE#";
/** Sort-key prefix of a role session's events. */
export const EVENT_SORT_PREFIX = "EVENT#";

/** The time a failed sign-in item's sort key starts with (`<time>#<eventId>…`). */
export function failedSignInTime(sortKey: string): string {
  return sortKey.slice(0, sortKey.indexOf("#"));
}

/** The day a session or address link names (`LINK#<day>#USER#…`). */
export function linkDay(sortKey: string): string {
  return sortKey.split("#")[1] ?? "";
}

/** The sort-key prefix of a person's timeline entries of one day. */
export function eventsOfDayPrefix(day: string): string {
  return `EVENT#${day}`;
}

/** The sort-key prefix of aliases of one kind (and issuer), for `begins_with` queries. */
export function aliasSortPrefix(kind: AliasKind, issuer?: string): string {
  return kind === AliasKind.ExternalId && issuer !== undefined ? `${kind}#${issuer}#` : `${kind}#`;
}

/** Upper bound for a time range on `EVENT#<time>#…` or `<time>#…` sort keys (`~` sorts after every id). */
export const SORT_END = "~";

/** Users whose profile could not be fetched yet; `idc-audit enrich` works through this partition. */
export const ENRICH_PENDING_PARTITION = "ENRICH#v1";
export const enrichPendingKey = (user: UserKey): ItemKey => ({
  pk: ENRICH_PENDING_PARTITION,
  sk: userPart(user),
});
