import { canonicalTime, identityStoreIdFromArn } from "../normalize/normalize.ts";
import { type CloudTrailRecord, MAX_ID_LENGTH, MAX_TEXT_LENGTH } from "../normalize/schema.ts";
import type { UserKey } from "../normalize/types.ts";
import { isRecord, recordField, stringField } from "../shared/json.ts";
import {
  ACCESS_KEY_ID,
  type RoleEvent,
  RoleEventKind,
  type RoleSessionKey,
  roleSessionId,
  SSO_ROLE_PREFIX,
} from "./types.ts";

export type RoleNormalizeResult =
  | { readonly status: "role"; readonly event: RoleEvent }
  /**
   * A call of some other role's session: it belongs to an Identity Center role session only if that session
   * was opened by `sts:AssumeRole` from one (role chaining), which only stored data can tell.
   */
  | { readonly status: "chain-candidate"; readonly event: RoleEvent }
  /** Not a role session of Identity Center: counted as ignored, as before. */
  | { readonly status: "outside" }
  | { readonly status: "rejected"; readonly reason: string };

const OUTSIDE: RoleNormalizeResult = { status: "outside" };
const MAX_RESOURCES = 5;
/** ARNs longer than this are not kept (an S3 object ARN can be kilobytes): a cut ARN would be no ARN. */
const MAX_RESOURCE_ARN_LENGTH = 512;

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[^\s]*\/)?([^/\s]+)$/;
const ASSUMED_ROLE_ARN = /^arn:aws[a-z-]*:sts::(\d{12}):assumed-role\/([^/\s]+)\/(.+)$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
/**
 * The path of every role Identity Center provisions (`/aws-reserved/sso.amazonaws.com/[<region>/]`), which IAM
 * reserves: anyone allowed to create roles may name one `AWSReservedSSO_…`, but not put it there. Such a
 * look-alike's session name is its caller's choice, and would attribute its calls to whoever it names.
 */
const RESERVED_SSO_PATH = /:role\/aws-reserved\/sso\.amazonaws\.com\//;

/** Whether a role is Identity Center's: its name, and its path when the record gives its ARN. */
function isIdentityCenterRole(roleName: string, roleArn: string | undefined): boolean {
  return roleName.startsWith(SSO_ROLE_PREFIX) && (roleArn === undefined || RESERVED_SSO_PATH.test(roleArn));
}

/**
 * Reads one CloudTrail record (already past the schema) as an event of an Identity Center role session in a
 * member account: `AssumeRoleWithSAML` into an `AWSReservedSSO_*` role, or any call whose actor is such a role
 * session (console federation steps, `ConsoleLogin` and `AssumeRole` into a chained role included). Pure.
 */
export function normalizeRoleRecord(record: CloudTrailRecord): RoleNormalizeResult {
  if (record.eventSource === "sts.amazonaws.com" && record.eventName === "AssumeRoleWithSAML") {
    return issuing(record);
  }
  const identity = record.userIdentity;
  if (stringField(identity, "type") !== "AssumedRole") return OUTSIDE;
  const context = recordField(identity, "sessionContext");
  const issuer = recordField(context, "sessionIssuer");
  const assumed = ASSUMED_ROLE_ARN.exec(stringField(identity, "arn") ?? "");
  const roleName = stringField(issuer, "userName") ?? assumed?.[2];
  if (roleName === undefined) return OUTSIDE;
  const identityCenterRole = isIdentityCenterRole(roleName, stringField(issuer, "arn"));

  const sessionName = assumed?.[3] ?? afterColon(stringField(identity, "principalId"));
  const accountId = stringField(identity, "accountId") ?? assumed?.[1] ?? record.recipientAccountId;
  const created = stringField(recordField(context, "attributes"), "creationDate");
  const validCreation = created !== undefined && ISO_TIME.test(created) && !Number.isNaN(Date.parse(created));
  // Another role's call that cannot be placed in a session is simply not Identity Center's.
  if (!identityCenterRole && (sessionName === undefined || accountId === undefined || !validCreation)) {
    return OUTSIDE;
  }
  if (sessionName === undefined || accountId === undefined) {
    return {
      status: "rejected",
      reason: "role-session event names no session (userIdentity.arn is missing)",
    };
  }
  if (created === undefined || !validCreation) {
    return {
      status: "rejected",
      reason:
        "role-session event has no valid userIdentity.sessionContext.attributes.creationDate: its role session cannot be told",
    };
  }
  const session: RoleSessionKey = {
    accountId,
    roleName,
    sessionName,
    creationDate: canonicalTime(created),
  };
  const event = baseEvent(record, RoleEventKind.Call, session);
  const accessKeyId = stringField(identity, "accessKeyId");
  if (accessKeyId !== undefined && ACCESS_KEY_ID.test(accessKeyId)) event.accessKeyId = accessKeyId;
  const onBehalfOf = recordField(identity, "onBehalfOf");
  const user = userKey(stringField(onBehalfOf, "userId"), stringField(onBehalfOf, "identityStoreArn"));
  if (user) event.user = user;
  if (record.eventSource === "sts.amazonaws.com" && record.eventName === "AssumeRole") {
    const chained = chainedSession(record);
    if (chained) event.chained = chained;
  }
  const result = finish(event);
  if (identityCenterRole) return result;
  // Malformed calls of other roles are not Identity Center's to reject.
  return result.status === "role" ? { status: "chain-candidate", event: result.event } : OUTSIDE;
}

/** `AssumeRoleWithSAML` into an Identity Center role: the credentials being issued, not a use of them. */
function issuing(record: CloudTrailRecord): RoleNormalizeResult {
  const request = record.requestParameters ?? undefined;
  const response = record.responseElements ?? undefined;
  const roleArn = stringField(request, "roleArn") ?? roleArnOfResources(record) ?? "";
  const role = ROLE_ARN.exec(roleArn);
  if (!role?.[1] || !role[2] || !isIdentityCenterRole(role[2], roleArn)) return OUTSIDE;
  const assumed = ASSUMED_ROLE_ARN.exec(stringField(recordField(response, "assumedRoleUser"), "arn") ?? "");
  const sessionName =
    stringField(request, "roleSessionName") ?? assumed?.[3] ?? stringField(record.userIdentity, "userName");
  if (sessionName === undefined) {
    return {
      status: "rejected",
      reason: "AssumeRoleWithSAML names no role session (roleSessionName is missing)",
    };
  }
  // A role session's creationDate is the moment STS issued it: the AssumeRoleWithSAML event's own time.
  const session: RoleSessionKey = {
    accountId: role[1],
    roleName: role[2],
    sessionName,
    creationDate: canonicalTime(record.eventTime),
  };
  const event = baseEvent(record, RoleEventKind.Issue, session);
  const issued = stringField(recordField(response, "credentials"), "accessKeyId");
  if (issued !== undefined && ACCESS_KEY_ID.test(issued)) event.issuedAccessKeyId = issued;
  return finish(event);
}

/** The session an `sts:AssumeRole` made by a role session opened (role chaining), from its response. */
function chainedSession(record: CloudTrailRecord): RoleEvent["chained"] | undefined {
  const response = record.responseElements ?? undefined;
  const assumed = ASSUMED_ROLE_ARN.exec(stringField(recordField(response, "assumedRoleUser"), "arn") ?? "");
  if (!assumed?.[1] || !assumed[2] || !assumed[3]) return undefined;
  const session: RoleSessionKey = {
    accountId: assumed[1],
    roleName: assumed[2],
    sessionName: assumed[3],
    creationDate: canonicalTime(record.eventTime),
  };
  const key = stringField(recordField(response, "credentials"), "accessKeyId");
  return key !== undefined && ACCESS_KEY_ID.test(key) ? { session, accessKeyId: key } : { session };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function baseEvent(
  record: CloudTrailRecord,
  kind: RoleEventKind,
  session: RoleSessionKey,
): Mutable<RoleEvent> {
  // Assigned in a fixed order and never as `undefined`: stored payloads keep one shape.
  const event = {
    eventId: record.eventID,
    eventTime: canonicalTime(record.eventTime),
    eventSource: record.eventSource,
    eventName: record.eventName,
    kind,
    roleSessionId: roleSessionId(session),
    session,
    accountId: session.accountId,
  } as Mutable<RoleEvent>;
  if (record.readOnly !== undefined) event.readOnly = record.readOnly;
  if (record.errorCode) event.errorCode = record.errorCode;
  if (record.sourceIPAddress) event.sourceIp = record.sourceIPAddress;
  const userAgent = record.userAgent?.slice(0, MAX_TEXT_LENGTH);
  if (userAgent) event.userAgent = userAgent;
  if (record.awsRegion) event.region = record.awsRegion;
  const resources = resourceArns(record.resources);
  if (resources.length > 0) event.resources = resources;
  return event;
}

function finish(event: RoleEvent): RoleNormalizeResult {
  const oversized = oversizedIdentifier(event);
  if (oversized !== undefined) {
    return { status: "rejected", reason: `${oversized} is longer than ${MAX_ID_LENGTH} characters` };
  }
  return { status: "role", event };
}

/** Identifiers become keys: bound them as the schema bounds eventID. */
function oversizedIdentifier(event: RoleEvent): string | undefined {
  const identifiers: [string, string | undefined][] = [
    ["session.accountId", event.session.accountId],
    ["session.roleName", event.session.roleName],
    ["session.sessionName", event.session.sessionName],
    ["accessKeyId", event.accessKeyId],
    ["user.userId", event.user?.userId],
    ["chained.session.roleName", event.chained?.session.roleName],
    ["chained.session.sessionName", event.chained?.session.sessionName],
  ];
  return identifiers.find(([, value]) => value !== undefined && value.length > MAX_ID_LENGTH)?.[0];
}

function resourceArns(resources: readonly unknown[] | undefined): string[] {
  const arns: string[] = [];
  for (const resource of resources ?? []) {
    if (arns.length >= MAX_RESOURCES) break;
    const arn = isRecord(resource) ? stringField(resource, "ARN") : undefined;
    if (arn !== undefined && arn.length <= MAX_RESOURCE_ARN_LENGTH) arns.push(arn);
  }
  return arns;
}

function roleArnOfResources(record: CloudTrailRecord): string | undefined {
  for (const resource of record.resources ?? []) {
    if (isRecord(resource) && resource.type === "AWS::IAM::Role") return stringField(resource, "ARN");
  }
  return undefined;
}

function afterColon(principalId: string | undefined): string | undefined {
  const at = principalId?.indexOf(":") ?? -1;
  return principalId !== undefined && at >= 0 && at < principalId.length - 1
    ? principalId.slice(at + 1)
    : undefined;
}

function userKey(userId: string | undefined, storeArn: string | undefined): UserKey | undefined {
  const identityStoreId = identityStoreIdFromArn(storeArn);
  return userId !== undefined && identityStoreId !== undefined ? { identityStoreId, userId } : undefined;
}
