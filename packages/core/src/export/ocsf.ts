import { isIP } from "node:net";
import corePackage from "../../package.json" with { type: "json" };
import type { UserProfile } from "../identity/port.ts";
import {
  type AuditEvent,
  type Resolution,
  Resolution as Resolutions,
  type UserKey,
} from "../normalize/types.ts";
import type { RoleSessionView } from "../roles/queries.ts";
import type { RoleEvent } from "../roles/types.ts";

/**
 * idc-audit's events as OCSF 1.8.0 events: a pure mapping from what idc-audit keeps (`AuditEvent`,
 * `RoleEvent`) and what it worked out (the person, their profile, the role session's link) to the classes a
 * SIEM or Amazon Security Lake reads. Nothing is read from the raw record, so nothing idc-audit does not keep
 * (typed sign-in names, `LoginTo` query strings, tokens, request parameters) can reach an export.
 */

export const OCSF_VERSION = "1.8.0";
export const PRODUCT_NAME = "idc-audit";
export const PRODUCT_VERSION: string = corePackage.version;

export const OcsfClass = {
  AccountChange: 3001,
  Authentication: 3002,
  UserAccessManagement: 3005,
  GroupManagement: 3006,
  ApiActivity: 6003,
} as const;
export type OcsfClass = (typeof OcsfClass)[keyof typeof OcsfClass];

const CLASS_NAMES: Record<OcsfClass, string> = {
  3001: "Account Change",
  3002: "Authentication",
  3005: "User Access Management",
  3006: "Group Management",
  6003: "API Activity",
};
const CATEGORY_NAMES: Record<number, string> = {
  3: "Identity & Access Management",
  6: "Application Activity",
};

/** An OCSF event as JSON: the validator checks it against the schema; here it is only a plain object. */
export type OcsfEvent = Record<string, unknown> & {
  readonly class_uid: OcsfClass;
  readonly activity_id: number;
  readonly type_uid: number;
  readonly time: number;
};

/** The person idc-audit attributed an event to, and how (the basis of an inference). */
export interface Person {
  readonly user: UserKey;
  /** `onBehalfOf` (the event names them) or an inference: `workflow`, `directory`, `parent`, `by-session-name`. */
  readonly basis: string;
  readonly profile?: UserProfile;
}

/** What the store knows about an Identity Center event beyond the event itself. */
export interface AuditEventContext {
  readonly person?: Person;
}

/** What the store knows about a role-session call: its session, as `role-session` shows it, and its person. */
export interface RoleEventContext {
  readonly roleSession?: RoleSessionView;
  readonly person?: Person;
}

/** Bases where the event itself names the person: anything else is idc-audit's inference. */
const STATED_BASES: ReadonlySet<string> = new Set([Resolutions.OnBehalfOf]);

const SUCCESS = { status_id: 1, status: "Success" } as const;
const FAILURE = { status_id: 2, status: "Failure" } as const;

type Activity = { readonly id: number; readonly name: string };
const activity = (id: number, name: string): Activity => ({ id, name });
const OTHER = (name: string) => activity(99, name);

/** API Activity's CRUD from the verb an AWS API name starts with. */
function apiActivity(eventName: string): Activity {
  if (/^(Create|Register|Start|Put|Add|Provision|Complete|Federate|Authenticate)/.test(eventName))
    return activity(1, "Create");
  if (/^(List|Get|Describe|Search|Is|Lookup)/.test(eventName)) return activity(2, "Read");
  if (/^(Update|Patch|Set|Tag|Attach|Enable|Disable|Reset)/.test(eventName)) return activity(3, "Update");
  if (/^(Delete|Remove|Untag|Detach|Logout)/.test(eventName)) return activity(4, "Delete");
  return OTHER(eventName);
}

const ACCOUNT_CHANGE: Readonly<Record<string, Activity>> = {
  CreateUser: activity(1, "Create"),
  PutUser: activity(1, "Create"),
  EnableUser: activity(2, "Enable"),
  UpdatePassword: activity(3, "Password Change"),
  DisableUser: activity(5, "Disable"),
  DeleteUser: activity(6, "Delete"),
  UpdateUser: OTHER("UpdateUser"),
  PatchUser: OTHER("PatchUser"),
  CompleteVirtualMfaDeviceRegistration: activity(10, "MFA Factor Enable"),
  CompleteWebAuthnDeviceRegistration: activity(10, "MFA Factor Enable"),
  DeleteMfaDeviceForUser: activity(11, "MFA Factor Disable"),
  UpdateMfaDeviceForUser: OTHER("UpdateMfaDeviceForUser"),
};

const GROUP_MANAGEMENT: Readonly<Record<string, Activity>> = {
  AddMemberToGroup: activity(3, "Add User"),
  CreateGroupMembership: activity(3, "Add User"),
  RemoveMemberFromGroup: activity(4, "Remove User"),
  DeleteGroupMembership: activity(4, "Remove User"),
  DeleteGroup: activity(5, "Delete"),
  CreateGroup: activity(6, "Create"),
  UpdateGroup: OTHER("UpdateGroup"),
  PatchGroup: OTHER("PatchGroup"),
};

const ACCESS_GRANTS: Readonly<Record<string, Activity>> = {
  CreateAccountAssignment: activity(1, "Assign Privileges"),
  DeleteAccountAssignment: activity(2, "Revoke Privileges"),
};

/** Authentication's activity for sign-in steps and the portal's sign-in and sign-out. */
const AUTHENTICATION: Readonly<Record<string, Activity>> = {
  CredentialChallenge: activity(6, "Preauth"),
  CredentialVerification: activity(1, "Logon"),
  UserAuthentication: activity(1, "Logon"),
  Authenticate: activity(1, "Logon"),
  Logout: activity(2, "Logoff"),
};

/** OCSF `auth_factor.factor_type_id` for Identity Center's `CredentialType` values. */
const FACTORS: Readonly<
  Record<string, { readonly id: number; readonly name: string; readonly totp?: boolean }>
> = {
  PASSWORD: { id: 11, name: "Password" },
  TOTP: { id: 7, name: "OTP", totp: true },
  WEBAUTHN: { id: 10, name: "WebAuthn" },
  EMAIL_OTP: { id: 8, name: "Email" },
  SMS: { id: 1, name: "SMS" },
};

function authFactors(credentialType: string | undefined): Record<string, unknown>[] | undefined {
  if (!credentialType) return undefined;
  const factors = credentialType
    .split(",")
    .map((value) => value.trim())
    .filter((value) => value.length > 0)
    .map((value) => {
      const known = FACTORS[value];
      if (!known) return { factor_type_id: 99, factor_type: value };
      return { factor_type_id: known.id, factor_type: known.name, ...(known.totp ? { is_totp: true } : {}) };
    });
  return factors.length > 0 ? factors : undefined;
}

/** Whether a factor beyond a password was used; unknown for a sign-in at an external identity provider. */
function isMfa(credentialType: string | undefined): boolean | undefined {
  if (!credentialType) return undefined;
  const factors = credentialType.split(",").map((value) => value.trim());
  if (factors.includes("EXTERNAL_IDP")) return undefined;
  return factors.some((factor) => factor !== "PASSWORD" && factor.length > 0);
}

function endpoint(address: string | undefined): Record<string, unknown> | undefined {
  if (!address) return undefined;
  // CloudTrail writes a service's name (`sso.amazonaws.com`, `AWS Internal`) when AWS made the call.
  return isIP(address) ? { ip: address } : { svc_name: address };
}

function userObject(
  person: Person | undefined,
  fallbackAccount: string | undefined,
): Record<string, unknown> {
  if (!person) {
    // Nobody idc-audit can name: the attempt is on the organisation's AWS account. A typed name is never used.
    return { type_id: 0, type: "Unknown", account: awsAccount(fallbackAccount) };
  }
  const { user, profile } = person;
  const email = profile?.emails[0];
  return {
    uid: user.userId,
    type_id: 1,
    type: "User",
    domain: user.identityStoreId,
    ...(profile?.userName ? { name: profile.userName } : {}),
    ...(profile?.displayName ? { display_name: profile.displayName } : {}),
    ...(email && EMAIL.test(email) ? { email_addr: email } : {}),
  };
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

function awsAccount(accountId: string | undefined): Record<string, unknown> {
  return { type_id: 10, type: "AWS Account", uid: accountId ?? "unknown" };
}

function personUnmapped(person: Person | undefined, reason: string | undefined): Record<string, unknown> {
  if (!person) return reason ? { attribution: { basis: "unattributed", reason } } : {};
  const inferred = !STATED_BASES.has(person.basis);
  const externalIds = person.profile?.externalIds ?? [];
  return {
    attribution: { inferred, basis: person.basis },
    ...(externalIds.length > 0
      ? { user_external_ids: externalIds.map((external) => ({ issuer: external.issuer, id: external.id })) }
      : {}),
  };
}

interface Common {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly region: string | undefined;
  readonly accountId: string | undefined;
  readonly failed: boolean;
  readonly errorCode: string | undefined;
  readonly sourceIp: string | undefined;
  readonly userAgent: string | undefined;
  readonly correlationUid: string | undefined;
}

function envelope(
  common: Common,
  classUid: OcsfClass,
  chosen: Activity,
  fields: Record<string, unknown>,
  unmapped: Record<string, unknown>,
): OcsfEvent {
  const categoryUid = Math.floor(classUid / 1000);
  const status = common.failed ? FAILURE : SUCCESS;
  const src = endpoint(common.sourceIp);
  const event: Record<string, unknown> = {
    class_uid: classUid,
    class_name: CLASS_NAMES[classUid],
    category_uid: categoryUid,
    category_name: CATEGORY_NAMES[categoryUid],
    activity_id: chosen.id,
    activity_name: chosen.name,
    type_uid: classUid * 100 + chosen.id,
    type_name: `${CLASS_NAMES[classUid]}: ${chosen.name}`,
    time: Date.parse(common.eventTime),
    // A failed call is worth a look, no more: detections (idc-audit alerts) carry the judgement.
    severity_id: common.failed ? 2 : 1,
    severity: common.failed ? "Low" : "Informational",
    ...status,
    ...(common.errorCode ? { status_detail: common.errorCode } : {}),
    message: `${common.eventSource} ${common.eventName}`,
    metadata: {
      version: OCSF_VERSION,
      uid: common.eventId,
      original_time: common.eventTime,
      log_name: "CloudTrail",
      log_provider: "AWS CloudTrail",
      product: { name: PRODUCT_NAME, vendor_name: PRODUCT_NAME, version: PRODUCT_VERSION },
      profiles: ["cloud"],
      ...(common.accountId ? { tenant_uid: common.accountId } : {}),
      ...(common.correlationUid ? { correlation_uid: common.correlationUid } : {}),
    },
    cloud: {
      provider: "AWS",
      ...(common.region ? { region: common.region } : {}),
      ...(common.accountId ? { account: awsAccount(common.accountId) } : {}),
    },
    ...(src ? { src_endpoint: src } : {}),
    ...(common.userAgent ? { http_request: { user_agent: common.userAgent } } : {}),
    ...fields,
  };
  if (Object.keys(unmapped).length > 0) event.unmapped = unmapped;
  return event as OcsfEvent;
}

function api(common: Common): Record<string, unknown> {
  return {
    operation: common.eventName,
    service: { name: common.eventSource },
    ...(common.errorCode ? { response: { error: common.errorCode } } : {}),
  };
}

/** The person of an event read without the store: only the one the event names itself. */
export function statedPerson(event: AuditEvent): Person | undefined {
  return event.actor.user ? { user: event.actor.user, basis: Resolutions.OnBehalfOf } : undefined;
}

/** The person the store attributed an event to, as an export names it. */
export function personOf(user: UserKey, resolution: Resolution, profile?: UserProfile): Person {
  return { user, basis: resolution, ...(profile ? { profile } : {}) };
}

/** One Identity Center event as one OCSF event of the class its name calls for. */
export function auditEventToOcsf(event: AuditEvent, context: AuditEventContext = {}): OcsfEvent {
  const person = context.person ?? statedPerson(event);
  const failed = event.outcome === "failure";
  const common: Common = {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventSource: event.eventSource,
    eventName: event.eventName,
    region: event.region,
    accountId: event.recipientAccountId,
    failed,
    errorCode: event.errorCode,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    correlationUid: event.credentialId,
  };
  // An authenticated event's own sign-in name (never a typed one: normalize does not keep those) still names
  // the person when no directory resolved it to a user id.
  const signInName = !person && event.actor.userName ? event.actor.userName : undefined;
  const user = signInName
    ? { name: signInName, type_id: 1, type: "User", account: awsAccount(event.recipientAccountId) }
    : userObject(person, event.recipientAccountId);
  const unresolved =
    event.actor.kind === "unknown"
      ? "AWS hid the sign-in name: it matched no user"
      : signInName
        ? "sign-in name not resolved to a user id"
        : event.actor.kind === "user"
          ? "no user known for the event's sign-in name or workflow"
          : undefined;
  const unmapped: Record<string, unknown> = {
    ...personUnmapped(person, unresolved),
    ...(event.authWorkflowId ? { auth_workflow_id: event.authWorkflowId } : {}),
    ...(event.credentialType ? { credential_type: event.credentialType } : {}),
    ...(event.accountId ? { target_account_id: event.accountId } : {}),
    ...(event.roleName ? { target_role_name: event.roleName } : {}),
    ...(event.mfaEnrollmentRequired ? { mfa_enrollment_required: true } : {}),
    ...(event.actor.principal ? { admin_principal: event.actor.principal } : {}),
  };
  const session = event.credentialId ? { uid: event.credentialId } : undefined;

  const authentication = AUTHENTICATION[event.eventName];
  if (authentication && (event.category === "sign-in" || event.category === "portal")) {
    const factors = authFactors(event.credentialType);
    const mfa = isMfa(event.credentialType);
    return envelope(
      common,
      OcsfClass.Authentication,
      authentication,
      {
        user,
        service: { name: "AWS IAM Identity Center", uid: event.eventSource },
        ...(event.loginToHost ? { dst_endpoint: { hostname: event.loginToHost } } : {}),
        ...(session ? { session: { ...session, ...(mfa !== undefined ? { is_mfa: mfa } : {}) } } : {}),
        ...(factors ? { auth_factors: factors } : {}),
        ...(mfa !== undefined ? { is_mfa: mfa } : {}),
        is_remote: true,
      },
      unmapped,
    );
  }

  const actor = {
    user: event.actor.kind === "admin" ? adminUser(event.actor.principal, event.recipientAccountId) : user,
    ...(session ? { session } : {}),
  };
  // What an administration or MFA-device call changed (`DirectoryChange`: ids only).
  const target = event.change;
  const accountChange = ACCOUNT_CHANGE[event.eventName];
  const changedUser = target?.userId ?? (event.category === "mfa-device" ? person?.user.userId : undefined);
  if (accountChange && changedUser) {
    const changed =
      event.category === "mfa-device" && person && person.user.userId === changedUser
        ? user
        : { uid: changedUser, type_id: 1, type: "User" };
    return envelope(common, OcsfClass.AccountChange, accountChange, { actor, user: changed }, unmapped);
  }

  const groupChange = GROUP_MANAGEMENT[event.eventName];
  if (groupChange && target?.groupId) {
    return envelope(
      common,
      OcsfClass.GroupManagement,
      groupChange,
      {
        actor,
        group: { uid: target.groupId },
        ...(target.userId ? { user: { uid: target.userId, type_id: 1, type: "User" } } : {}),
      },
      unmapped,
    );
  }

  const grant = ACCESS_GRANTS[event.eventName];
  if (grant && target?.permissionSetArn && target.principalId) {
    const resource = target.targetAccountId
      ? { resource: { uid: target.targetAccountId, type: "AWS Account" } }
      : {};
    const privileges = [target.permissionSetArn];
    // An assignment to a group grants the permission set to its members: a group's privileges change.
    if (target.principalType === "GROUP") {
      return envelope(
        common,
        OcsfClass.GroupManagement,
        grant,
        { actor, group: { uid: target.principalId }, privileges, ...resource },
        unmapped,
      );
    }
    // User Access Management deprecated `resource` (1.5.0) for `resources`; Group Management keeps `resource`.
    return envelope(
      common,
      OcsfClass.UserAccessManagement,
      grant,
      {
        actor,
        user: { uid: target.principalId, type_id: 1, type: "User" },
        privileges,
        ...(target.targetAccountId
          ? { resources: [{ uid: target.targetAccountId, type: "AWS Account" }] }
          : {}),
      },
      unmapped,
    );
  }

  // Everything else (portal and token calls, reads, permission-set edits, unknown names) is an API call.
  return envelope(
    common,
    OcsfClass.ApiActivity,
    apiActivity(event.eventName),
    {
      actor,
      api: api(common),
      src_endpoint: endpoint(event.sourceIp) ?? { svc_name: event.eventSource },
      ...(target ? { resources: targetResources(target) } : {}),
    },
    { ...unmapped, ...(target ? { target } : {}) },
  );
}

function targetResources(target: NonNullable<AuditEvent["change"]>): Record<string, unknown>[] {
  const resources: Record<string, unknown>[] = [];
  if (target.permissionSetArn) resources.push({ uid: target.permissionSetArn, type: "PermissionSet" });
  if (target.groupId) resources.push({ uid: target.groupId, type: "Group" });
  if (target.userId) resources.push({ uid: target.userId, type: "User" });
  if (target.membershipId) resources.push({ uid: target.membershipId, type: "GroupMembership" });
  return resources;
}

function adminUser(principal: string | undefined, accountId: string | undefined): Record<string, unknown> {
  return principal
    ? { uid: principal, type_id: 2, type: "Admin", ...(accountId ? { account: awsAccount(accountId) } : {}) }
    : { type_id: 2, type: "Admin", account: awsAccount(accountId) };
}

/** One call of a role session in a member account as an OCSF API Activity. */
export function roleEventToOcsf(event: RoleEvent, context: RoleEventContext = {}): OcsfEvent {
  const view = context.roleSession;
  const person =
    context.person ?? (event.user ? { user: event.user, basis: Resolutions.OnBehalfOf } : undefined);
  const credentialId = view?.credentialId ?? undefined;
  const common: Common = {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventSource: event.eventSource,
    eventName: event.eventName,
    region: event.region,
    accountId: event.accountId,
    failed: event.errorCode !== undefined,
    errorCode: event.errorCode,
    sourceIp: event.sourceIp,
    userAgent: event.userAgent,
    correlationUid: credentialId,
  };
  const { session: key } = event;
  const roleArn = `arn:aws:iam::${key.accountId}:role/${key.roleName}`;
  const accessKey = event.accessKeyId ?? event.issuedAccessKeyId;
  const session = {
    uid: event.roleSessionId,
    issuer: roleArn,
    created_time: Date.parse(key.creationDate),
    ...(accessKey ? { credential_uid: accessKey } : {}),
  };
  const user = person
    ? userObject(person, event.accountId)
    : { name: key.sessionName, type_id: 99, type: "Role session", account: awsAccount(key.accountId) };
  const link = view
    ? {
        portal_session: {
          link: view.link,
          ...(view.credentialId ? { credential_id: view.credentialId } : {}),
          ...(view.grantEventId ? { grant_event_uid: view.grantEventId } : {}),
        },
      }
    : {};
  const unmapped: Record<string, unknown> = {
    // Ambiguous (a re-hire sharing an email) or nobody: said as such, never a guess.
    ...personUnmapped(person, view ? `role session ${view.attribution}` : undefined),
    role_session: {
      role_name: key.roleName,
      session_name: key.sessionName,
      ...(view?.permissionSet ? { permission_set: view.permissionSet } : {}),
      ...(view?.parentId ? { parent_role_session_uid: view.parentId } : {}),
      kind: event.kind,
      ...(event.issuedAccessKeyId ? { issued_access_key_id: event.issuedAccessKeyId } : {}),
      ...(event.chained ? { chained_role_session_name: event.chained.session.sessionName } : {}),
    },
    ...link,
  };
  // CloudTrail's own judgement of a call (`readOnly`) beats guessing from its name.
  const chosen = event.readOnly === true ? activity(2, "Read") : apiActivity(event.eventName);
  return envelope(
    common,
    OcsfClass.ApiActivity,
    chosen,
    {
      actor: { user, session },
      api: api(common),
      src_endpoint: endpoint(event.sourceIp) ?? { svc_name: event.eventSource },
      ...(event.resources && event.resources.length > 0
        ? { resources: event.resources.map((arn) => ({ uid: arn })) }
        : {}),
    },
    unmapped,
  );
}
