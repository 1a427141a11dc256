import { Category as Categories, type Category, storedCategory } from "../cloudtrail/catalogue.ts";
import { parseUntrustedJson, recordField, stringField } from "../shared/json.ts";
import { isoTime } from "../shared/time.ts";
import { newIdentityFields } from "./fields.ts";
import {
  type CloudTrailRecord,
  describeSchemaError,
  MAX_ID_LENGTH,
  MAX_TEXT_LENGTH,
  parseCloudTrailRecord,
} from "./schema.ts";
import {
  type Actor,
  ActorKind,
  type AuditEvent,
  type DirectoryChange,
  type NormalizedRecord,
  type Outcome,
  Outcome as Outcomes,
  type UserKey,
} from "./types.ts";

/** What AWS writes in place of a typed name that matched no user, and in place of tokens and secrets. */
export const HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";

/** `userIdentity.type` values of IAM principals: administrators and services, never workforce users. */
const ADMIN_IDENTITY_TYPES = new Set([
  "AssumedRole",
  "IAMUser",
  "Root",
  "AWSService",
  "AWSAccount",
  "FederatedUser",
  "SAMLUser",
  "WebIdentityUser",
]);

/** Sign-in steps where the name is whatever somebody typed: possibly a typo, possibly a password. */
const TYPED_NAME_EVENTS = new Set(["CredentialChallenge", "CredentialVerification"]);

export type NormalizeResult =
  | { readonly status: "audited"; readonly record: NormalizedRecord }
  | {
      readonly status: "ignored";
      readonly eventId: string;
      readonly reason: string;
      /** The record as the schema read it, for other domains (role sessions) to classify without parsing again. */
      readonly record: CloudTrailRecord;
    }
  | { readonly status: "rejected"; readonly eventId?: string; readonly reason: string };

/** The identity store id (`d-…`) at the end of an identity store ARN. */
export function identityStoreIdFromArn(arn: string | undefined): string | undefined {
  if (arn === undefined) return undefined;
  // An organisation has one or a few identity stores: remember the answer per ARN instead of matching again.
  const known = storeIdByArn.get(arn);
  if (known !== undefined || storeIdByArn.has(arn)) return known;
  const storeId = /:identitystore\/([^/\s]+)$/.exec(arn)?.[1];
  if (storeIdByArn.size >= MAX_REMEMBERED_ARNS) storeIdByArn.clear();
  storeIdByArn.set(arn, storeId);
  return storeId;
}

const storeIdByArn = new Map<string, string | undefined>();
/** Bounds the memory crafted ARNs can take. */
const MAX_REMEMBERED_ARNS = 1_000;

function userKey(userId: string | undefined, storeArn: string | undefined): UserKey | undefined {
  const identityStoreId = identityStoreIdFromArn(storeArn);
  if (userId === undefined || identityStoreId === undefined || userId === HIDDEN) return undefined;
  return { identityStoreId, userId };
}

const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** CloudTrail times as every key and answer writes them: UTC, whole seconds, `Z`. */
export function canonicalTime(eventTime: string): string {
  // CloudTrail's own format is already canonical (and valid: the schema checked it).
  if (CANONICAL_TIME.test(eventTime)) return eventTime;
  return isoTime(Date.parse(eventTime));
}

function usableName(name: string | undefined): string | undefined {
  return name === undefined || name === HIDDEN ? undefined : name;
}

/** Keeps only the host of the portal URL: its query string holds a one-time auth code and a CSRF token. */
function hostOf(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

function serviceDetails(record: CloudTrailRecord): Record<string, unknown> | undefined {
  const details = record.serviceEventDetails;
  if (typeof details !== "string") return details;
  try {
    const parsed = parseUntrustedJson(details);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The event's outcome, or undefined for a sign-in whose verdict cannot be read. Sign-in events carry no
 * errorCode: the outcome is only in serviceEventDetails.<EventName>, `Success` or `Failure`. Anything else is
 * not taken for a success: the name a failed attempt carries is what the person typed, kept only when the
 * attempt is known to have succeeded.
 */
function outcomeOf(
  record: CloudTrailRecord,
  category: Category,
  details: Record<string, unknown> | undefined,
): Outcome | undefined {
  if (record.errorCode !== undefined) return Outcomes.Failure;
  if (category !== Categories.SignIn) return Outcomes.Success;
  const verdict = stringField(details, record.eventName)?.toLowerCase();
  return verdict === "success" ? Outcomes.Success : verdict === "failure" ? Outcomes.Failure : undefined;
}

interface ActorResult {
  readonly actor: Actor;
  readonly shape: AuditEvent["shape"];
  readonly typedUserName: string | undefined;
  readonly credentialId: string | undefined;
}

function actorOf(record: CloudTrailRecord, outcome: Outcome): ActorResult {
  const identity = record.userIdentity;
  const extra = record.additionalEventData;
  const type = stringField(identity, "type");
  const onBehalfOf = recordField(identity, "onBehalfOf");
  // CreateTokenWithIAM is called by an application's role and names the user in additionalEventData.
  const user =
    userKey(stringField(onBehalfOf, "userId"), stringField(onBehalfOf, "identityStoreArn")) ??
    userKey(stringField(extra, "identitystore:UserId"), stringField(extra, "identitystore:IdentityStoreArn"));
  const credentialId =
    stringField(identity, "credentialId") ?? stringField(extra, "identitycenter:CredentialId");
  const identityUserName = stringField(identity, "userName");
  const isAdminType = type !== undefined && ADMIN_IDENTITY_TYPES.has(type);
  const principal = stringField(identity, "arn") ?? type;

  if (isAdminType && user === undefined) {
    const actor: Mutable<Actor> = { kind: ActorKind.Admin };
    if (principal) actor.principal = principal;
    return { credentialId, actor, shape: "admin", typedUserName: undefined };
  }

  const typedStep =
    record.eventSource === "signin.amazonaws.com" &&
    (TYPED_NAME_EVENTS.has(record.eventName) || outcome === Outcomes.Failure);
  const typedName = typedStep ? (stringField(extra, "UserName") ?? identityUserName) : undefined;
  // Names on authenticated events are the user's own sign-in name, safe to keep; typed names are not.
  const authenticatedName = typedStep || isAdminType ? undefined : usableName(identityUserName);

  const shape: AuditEvent["shape"] =
    type === "IdentityCenterUser" || (user !== undefined && identityUserName === undefined)
      ? "new"
      : user !== undefined
        ? "transitional"
        : identityUserName !== undefined || typedName !== undefined
          ? "old"
          : "anonymous";

  const hiddenName = typedName === HIDDEN && user === undefined;
  // Built by assignment, not by conditional spreads: this runs for every record and spreads cost a copy each.
  const actor: Mutable<Actor> = { kind: hiddenName ? ActorKind.Unknown : ActorKind.User };
  if (user) actor.user = user;
  if (authenticatedName) actor.userName = authenticatedName;
  if (isAdminType && principal) actor.principal = principal;
  return { credentialId, actor, shape, typedUserName: usableName(typedName) };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Turns one CloudTrail record into an `AuditEvent`: pure, no I/O. Records of services idc-audit does not
 * audit are `ignored`; records that are not CloudTrail records are `rejected` with the reason.
 */
export function normalize(raw: unknown): NormalizeResult {
  const parsed = parseCloudTrailRecord(raw);
  if (!parsed.success) {
    const eventId =
      typeof raw === "object" && raw !== null ? (raw as { eventID?: unknown }).eventID : undefined;
    return {
      status: "rejected",
      reason: describeSchemaError(parsed.error),
      ...(typeof eventId === "string" && eventId.length <= 256 ? { eventId } : {}),
    };
  }
  const record = parsed.data;
  // Known names by their category; any other name of an Identity Center service as `other` (never ignored).
  const category = storedCategory(record.eventSource, record.eventName);
  if (category === undefined) {
    return {
      status: "ignored",
      eventId: record.eventID,
      reason: `${record.eventSource} ${record.eventName} is not an Identity Center event`,
      record,
    };
  }
  const details = serviceDetails(record);
  const extra = record.additionalEventData;
  const outcome = outcomeOf(record, category, details);
  if (outcome === undefined) {
    // Kept out with its reason (dead-letter), not stored as a success with a name that may have been typed.
    return {
      status: "rejected",
      eventId: record.eventID,
      reason: `serviceEventDetails.${record.eventName} is neither Success nor Failure: a sign-in's outcome is unknown`,
    };
  }
  const { actor, shape, typedUserName, credentialId } = actorOf(record, outcome);
  const request = record.requestParameters ?? undefined;
  const accountId = stringField(details, "account_id") ?? stringField(request, "accountId");
  const roleName = stringField(details, "role_name") ?? stringField(request, "roleName");
  const loginToHost = hostOf(stringField(extra, "LoginTo"));
  const credentialType = stringField(extra, "CredentialType");
  const authWorkflowId = stringField(extra, "AuthWorkflowID");
  const userAgent = record.userAgent?.slice(0, MAX_TEXT_LENGTH);

  // Assigned in a fixed order (stored payloads keep one field order), never as `undefined`.
  const event: Mutable<AuditEvent> = {
    eventId: record.eventID,
    eventTime: canonicalTime(record.eventTime),
    eventSource: record.eventSource,
    eventName: category === Categories.Other ? withoutQuery(record.eventName) : record.eventName,
    category,
    outcome,
  } as Mutable<AuditEvent>;
  if (record.errorCode) event.errorCode = record.errorCode;
  if (credentialType) event.credentialType = credentialType;
  if (authWorkflowId) event.authWorkflowId = authWorkflowId;
  if (credentialId) event.credentialId = credentialId;
  if (accountId) event.accountId = accountId;
  if (roleName) event.roleName = roleName;
  if (record.sourceIPAddress) event.sourceIp = record.sourceIPAddress;
  if (userAgent) event.userAgent = userAgent;
  if (record.awsRegion) event.region = record.awsRegion;
  if (record.recipientAccountId) event.recipientAccountId = record.recipientAccountId;
  if (loginToHost) event.loginToHost = loginToHost;
  if (stringField(extra, "DeviceEnrollmentRequired") === "true") event.mfaEnrollmentRequired = true;
  event.shape = shape;
  event.actor = actor;
  if (category === Categories.DirectoryAdmin || category === Categories.MfaDevice) {
    const change = changeOf(record);
    if (change !== undefined) event.change = change;
  }
  // Identifiers read from nested objects become keys and payloads: bound them as the schema bounds eventID.
  const oversized = oversizedField(event);
  if (oversized !== undefined) {
    return {
      status: "rejected",
      eventId: record.eventID,
      reason: `${oversized} is longer than ${MAX_ID_LENGTH} characters`,
    };
  }
  const typed =
    typedUserName !== undefined && typedUserName.length <= MAX_ID_LENGTH ? typedUserName : undefined;
  // An IAM principal acting for a user (CreateTokenWithIAM, a role session) has an IAM principal's fields.
  const iamPrincipal = ADMIN_IDENTITY_TYPES.has(stringField(record.userIdentity, "type") ?? "");
  const newFields = newIdentityFields(record.userIdentity, iamPrincipal ? "admin" : shape);
  const audited: Mutable<NormalizedRecord> = { event };
  if (typed) audited.typedUserName = typed;
  if (newFields) audited.newFields = newFields;
  return { status: "audited", record: audited };
}

/**
 * A field's value if AWS did not hide it. A function of the module, not an arrow made per record: V8 keeps a
 * closure's optimized code only while a closure holding it lives (docs/benchmarks.md).
 */
function readUsableName(object: Record<string, unknown> | undefined, key: string): string | undefined {
  return usableName(stringField(object, key));
}

/**
 * The ids a directory change names. Identity Store calls name `userId`, `groupId`, `memberId.userId`,
 * `membershipId` (request or response); Identity Center's name `permissionSetArn`, `targetId`,
 * `principalType`, `principalId`; SCIM names the user or group it changes `id`. Values AWS hid are left out.
 */
export function changeOf(record: CloudTrailRecord): DirectoryChange | undefined {
  const request = record.requestParameters ?? undefined;
  const response = record.responseElements ?? undefined;
  const member = recordField(request, "memberId");
  const assignment =
    recordField(response, "accountAssignmentCreationStatus") ??
    recordField(response, "accountAssignmentDeletionStatus");
  const scimId =
    record.eventSource === "identitystore-scim.amazonaws.com"
      ? (readUsableName(request, "id") ?? readUsableName(response, "id"))
      : undefined;
  const scimUser = scimId !== undefined && record.eventName.endsWith("User") ? scimId : undefined;
  const scimGroup = scimId !== undefined && record.eventName.endsWith("Group") ? scimId : undefined;
  const change: Mutable<DirectoryChange> = {};
  const identityStoreId =
    readUsableName(request, "identityStoreId") ?? readUsableName(response, "identityStoreId");
  const userId =
    readUsableName(request, "userId") ??
    readUsableName(member, "userId") ??
    readUsableName(request, "memberId") ??
    readUsableName(response, "userId") ??
    scimUser;
  const groupId = readUsableName(request, "groupId") ?? readUsableName(response, "groupId") ?? scimGroup;
  const membershipId = readUsableName(request, "membershipId") ?? readUsableName(response, "membershipId");
  const permissionSetArn =
    readUsableName(request, "permissionSetArn") ??
    readUsableName(recordField(response, "permissionSet"), "permissionSetArn") ??
    readUsableName(assignment, "permissionSetArn");
  const targetAccountId = readUsableName(request, "targetId") ?? readUsableName(assignment, "targetId");
  const principalType =
    readUsableName(request, "principalType") ?? readUsableName(assignment, "principalType");
  const principalId = readUsableName(request, "principalId") ?? readUsableName(assignment, "principalId");
  if (identityStoreId) change.identityStoreId = identityStoreId;
  if (userId) change.userId = userId;
  if (groupId) change.groupId = groupId;
  if (membershipId) change.membershipId = membershipId;
  if (permissionSetArn) change.permissionSetArn = permissionSetArn;
  if (targetAccountId) change.targetAccountId = targetAccountId;
  if (principalType) change.principalType = principalType;
  if (principalId) change.principalId = principalId;
  return Object.keys(change).length > 0 ? change : undefined;
}

/**
 * An unknown event's name as stored. Old portal events were named by the URL called
 * (`https://portal.sso.…/instance/appinstances`); portal URLs can carry one-time codes in their query string,
 * so a name keeps what comes before its first `?` or `#` only, with or without a scheme (`/instance/…?auth_code=`
 * is a URL's path and query too); a name that is nothing but a query is stored as `?`.
 */
function withoutQuery(eventName: string): string {
  const mark = eventName.search(/[?#]/);
  if (mark === -1) return eventName;
  return mark === 0 ? "?" : eventName.slice(0, mark);
}

/** The first string of the event (other than the already cut user agent) too long to be CloudTrail's. */
function oversizedField(value: object, path = ""): string | undefined {
  // for…in over a small, plain, freshly built object: no entry arrays allocated per event.
  for (const key in value) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === "string" && key !== "userAgent" && field.length > MAX_ID_LENGTH)
      return `${path}${key}`;
    if (typeof field === "object" && field !== null) {
      const found = oversizedField(field, `${path}${key}.`);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
