import { createHash } from "node:crypto";
import type { UserKey } from "../normalize/types.ts";

/**
 * A role session: what a person did with the credentials Identity Center gave them in a member account. AWS
 * names it by account, role, session name and `creationDate`; it gathers every access key seen for it (a
 * console session gets a new key per request).
 */
export interface RoleSessionKey {
  readonly accountId: string;
  /** The IAM role (`AWSReservedSSO_<PermissionSet>_<hash>`, or any role for a chained session). */
  readonly roleName: string;
  readonly sessionName: string;
  /** `sessionContext.attributes.creationDate`, canonical UTC seconds. */
  readonly creationDate: string;
}

/** How an event of a role session came to be one. */
export const RoleEventKind = {
  /** `sts:AssumeRoleWithSAML` into an `AWSReservedSSO_*` role: Identity Center issuing the credentials. */
  Issue: "issue",
  /** A call made with the role session's credentials. */
  Call: "call",
} as const;
export type RoleEventKind = (typeof RoleEventKind)[keyof typeof RoleEventKind];

/**
 * What idc-audit keeps of one role-session event. Request parameters and responses are never kept (they can
 * hold passwords, tokens and session credentials): only the access key ids STS issued are read from them.
 */
export interface RoleEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly kind: RoleEventKind;
  readonly roleSessionId: string;
  readonly session: RoleSessionKey;
  readonly readOnly?: boolean;
  readonly errorCode?: string;
  readonly sourceIp?: string;
  readonly userAgent?: string;
  readonly region?: string;
  /** The account the call was made in (the role session's account). */
  readonly accountId: string;
  /** The key the call was signed with (absent on `AssumeRoleWithSAML`, which is made by Identity Center). */
  readonly accessKeyId?: string;
  /** The key an `AssumeRoleWithSAML` issued: it need not be the one later calls carry. */
  readonly issuedAccessKeyId?: string;
  /** ARNs from `resources`, at most five. */
  readonly resources?: readonly string[];
  /** The person, when the event names them (`onBehalfOf`, on most role-session events since 2025). */
  readonly user?: UserKey;
  /** `sts:AssumeRole` from this session: the chained session it opened and the key it was given. */
  readonly chained?: { readonly session: RoleSessionKey; readonly accessKeyId?: string };
}

/** The prefix of every role Identity Center provisions for a permission set. */
export const SSO_ROLE_PREFIX = "AWSReservedSSO_";

const PERMISSION_SET_ROLE = /^AWSReservedSSO_(.+)_[0-9a-f]{16}$/;

/**
 * Whether Identity Center named the session: it does for its own roles' sessions (the user name, or the email),
 * whereas a chained session's name is whatever its caller passed to `sts:AssumeRole`, and says nothing of who.
 */
export function namedByIdentityCenter(session: { readonly roleName: string }): boolean {
  return session.roleName.startsWith(SSO_ROLE_PREFIX);
}

/** The permission set an `AWSReservedSSO_<PermissionSet>_<16 hex>` role was provisioned for. */
export function permissionSetOf(roleName: string): string | undefined {
  return PERMISSION_SET_ROLE.exec(roleName)?.[1];
}

/**
 * A role session's id: a hash of its key, so every process and every delivery names it alike. Short enough
 * to type, and it says nothing a responder could misread as an AWS identifier.
 */
export function roleSessionId(key: RoleSessionKey): string {
  const digest = createHash("sha256")
    .update(`${key.accountId}\n${key.roleName}\n${key.sessionName}\n${key.creationDate}`)
    .digest("hex");
  return `rs-${digest.slice(0, 24)}`;
}

export const ROLE_SESSION_ID = /^rs-[0-9a-f]{24}$/;

/** `ASIA…` (temporary) or `AKIA…` keys: 16 to 128 characters of upper-case letters and digits. */
export const ACCESS_KEY_ID = /^A[A-Z0-9]{15,127}$/;
