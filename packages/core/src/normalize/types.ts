import type { Category } from "../cloudtrail/catalogue.ts";

export const Outcome = { Success: "success", Failure: "failure" } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

/** One person: the same userId string in two identity stores is two people. */
export interface UserKey {
  readonly identityStoreId: string;
  readonly userId: string;
}

/** How an event's person was found. */
export const Resolution = {
  /** The event names the user itself (`onBehalfOf`, or the user fields of `CreateTokenWithIAM`). */
  OnBehalfOf: "onBehalfOf",
  /** An old-shape user name resolved through the user directory or a learned name mapping. */
  Directory: "directory",
  /** A sign-in event with no user of its own, attributed through its sign-in workflow. */
  Workflow: "workflow",
  Unresolved: "unresolved",
} as const;
export type Resolution = (typeof Resolution)[keyof typeof Resolution];

export const ActorKind = {
  /** A workforce user of Identity Center. */
  User: "user",
  /** An IAM principal administering Identity Center (AssumedRole, IAMUser, Root, an AWS service). */
  Admin: "admin",
  /** A sign-in attempt for a name AWS hid because it matched no user. Never a person. */
  Unknown: "unknown",
} as const;
export type ActorKind = (typeof ActorKind)[keyof typeof ActorKind];

export interface Actor {
  readonly kind: ActorKind;
  /** The user, when the event itself names one (new and transitional shapes). */
  readonly user?: UserKey;
  /**
   * The user's sign-in name when the event is authenticated (portal, token, successful UserAuthentication),
   * used to resolve old-shape events. Never set for challenge/verification events: those names are what
   * somebody typed, possibly a password, and are not stored.
   */
  readonly userName?: string;
  /** Admin principal's ARN (or type when no ARN), for admin actors. */
  readonly principal?: string;
  /**
   * The user the directory resolved this event's sign-in name to, filled in at ingestion. The name itself
   * is not kept when it was typed; this key is what remains of it.
   */
  readonly directoryUser?: UserKey;
}

/**
 * What a directory or Identity Center administration call changed, read from its request and response: ids
 * only (names there are hidden by AWS or not needed; passwords and secrets are never copied).
 */
export interface DirectoryChange {
  readonly identityStoreId?: string;
  /** The person changed: created, updated, deleted, added to a group, assigned a permission set… */
  readonly userId?: string;
  readonly groupId?: string;
  /** `CreateGroupMembership` answers it; `DeleteGroupMembership` names only it. */
  readonly membershipId?: string;
  readonly permissionSetArn?: string;
  /** Account assignments: the account (`targetId`) and who was assigned (`USER` or `GROUP`, and its id). */
  readonly targetAccountId?: string;
  readonly principalType?: string;
  readonly principalId?: string;
}

/**
 * The normalized, redacted record of one CloudTrail event: everything a timeline needs, nothing else.
 * No token, no `LoginTo` query string, no typed sign-in name, no raw event.
 */
export interface AuditEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly category: Category;
  readonly outcome: Outcome;
  /** `errorCode` of failed API calls. */
  readonly errorCode?: string;
  /** Factors, as CloudTrail writes them (`PASSWORD`, `TOTP`, `PASSWORD,TOTP` …). */
  readonly credentialType?: string;
  readonly authWorkflowId?: string;
  /** The portal session (`credentialId`). */
  readonly credentialId?: string;
  readonly accountId?: string;
  readonly roleName?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly region?: string;
  readonly recipientAccountId?: string;
  /** Host the sign-in redirected to (from `LoginTo`, without its one-time query string). */
  readonly loginToHost?: string;
  readonly mfaEnrollmentRequired?: boolean;
  /** `userIdentity` shape: old (userName only), transitional (both), new (IdentityCenterUser). */
  readonly shape: "old" | "transitional" | "new" | "admin" | "anonymous";
  readonly actor: Actor;
  /** Directory administration and MFA-device calls: what they changed (see `changeOf`). */
  readonly change?: DirectoryChange;
}

/**
 * A sign-in name somebody typed, carried next to an event while it is being ingested so the directory can
 * resolve it. Deliberately not part of `AuditEvent`: it must never reach storage or logs.
 */
export interface NormalizedRecord {
  readonly event: AuditEvent;
  readonly typedUserName?: string;
  /**
   * `userIdentity` field paths the event's shape is not known to carry (`normalize/fields.ts`): what the
   * canary counts. Field names only, never values.
   */
  readonly newFields?: readonly string[];
}

/** How `user` came to be attributed `event`: a pure function, so a re-written item never changes label. */
export function resolutionOf(event: AuditEvent, user: UserKey): Resolution {
  const same = (other: UserKey | undefined) =>
    other !== undefined && other.identityStoreId === user.identityStoreId && other.userId === user.userId;
  if (same(event.actor.user)) return Resolution.OnBehalfOf;
  if (same(event.actor.directoryUser)) return Resolution.Directory;
  // An authenticated old-shape name resolved through a mapping learned from transitional events.
  if (event.actor.userName !== undefined && event.actor.user === undefined) return Resolution.Directory;
  return Resolution.Workflow;
}

/** A failed `CredentialVerification`: what "a failed sign-in" means throughout idc-audit. */
export function isFailedVerification(event: AuditEvent): boolean {
  return event.eventName === "CredentialVerification" && event.outcome === "failure";
}

/** By event id alone: the order batches return what they stored in. */
export function byEventId(a: { eventId: string }, b: { eventId: string }): number {
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

/** Timeline order: by time, then by event id, so equal times still sort the same everywhere. */
export function byTimeThenId(
  a: { eventTime: string; eventId: string },
  b: { eventTime: string; eventId: string },
) {
  if (a.eventTime !== b.eventTime) return a.eventTime < b.eventTime ? -1 : 1;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}
