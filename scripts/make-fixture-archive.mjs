#!/usr/bin/env node
/**
 * Builds events/archive/: a small, coherent CloudTrail archive (gzipped log files in the real S3 layout) that
 * `npm start` ingests and the tests read. Deterministic: running it again writes byte-identical files.
 *
 *   node scripts/make-fixture-archive.mjs
 *
 * The world: identity store d-1234567890 in account 111122223333 (Identity Center in us-east-1), users
 * bobsmith@example.com and alice@example.com, member accounts 444455556666 and 555566667777. The story:
 * - 2024-05-14, old shape: bob signs in and takes a role (userName/principalId only).
 * - 2025-03-12, transitional shape: bob and alice sign in (old fields plus onBehalfOf and credentialId).
 * - 2026-07-01, new shape: bob signs in, lists, takes AdministratorAccess in 444455556666, gets a CLI token,
 *   logs out; alice fails once, then signs in with PASSWORD,TOTP; someone tries a name that is no user
 *   (HIDDEN_DUE_TO_SECURITY_REASONS); an admin creates a group, a permission set and an assignment;
 *   bob's role session calls STS and S3 in the member account (role-session events).
 * - One record (bob's GetRoleCredentials) is delivered twice, by the account trail and the organization trail.
 *
 * The builders are exported so the fixture files under events/ can be made from the same world.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

export const ACCOUNT = "111122223333";
export const MEMBER_ACCOUNT = "444455556666";
export const OTHER_MEMBER_ACCOUNT = "555566667777";
export const ORGANIZATION_ID = "o-abc123example";
export const REGION = "us-east-1";
export const IDENTITY_STORE_ID = "d-1234567890";
export const IDENTITY_STORE_ARN = `arn:aws:identitystore::${ACCOUNT}:identitystore/${IDENTITY_STORE_ID}`;
export const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6";
export const HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS";

export const BROWSER =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
export const BROWSER_WINDOWS =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0";
export const CLI =
  "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#sso.login";
export const CLI_STS =
  "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#sts.get-caller-identity";

/** The people. `principalId` is what old-shape portal events carry: never the Identity Store user id. */
export const BOB = {
  userName: "bobsmith@example.com",
  userId: "94d00cd8-e9e6-4810-b177-b08e84725435",
  principalId: "d-1234567890-1c30cb63-d2f2-42c6-9759-c1bf5510575a",
  ip: "203.0.113.24",
};
export const ALICE = {
  userName: "alice@example.com",
  userId: "9067230c03-1f2e3d4c-5b6a-4789-9abc-def012345678",
  principalId: "example.com//S-1-5-21-3623811015-3361044348-30300820-1013",
  ip: "198.51.100.77",
};
/** A user deleted by the admin: absent from events/directory.json. */
export const FORMER_USER_ID = "55d043f2-194b-4e52-af2e-9b682f6b88f3";
export const STRANGER_IP = "192.0.2.199";

/** Portal sessions (`credentialId`) and sign-in workflows (`AuthWorkflowID`) of the archive. */
export const CREDENTIAL_IDS = {
  bobNew: "AAAAAGQZMrf8GYJZAZiPhv7L_iZ-d5CUxkdR11i1X6swYdv3wrR04Xwu7tSn3NJeb3iSi2E0lCikYiM8y19qUo",
  aliceNew: "AAAAAGy3fRjRD2FZVf3JOmGltP6pJj1zVt4LvRoe5fASKq2ELyZUDQprPz5EnQzJ7Kq_IcCGVDvq2dQ9GUfN5Z",
  bobTransitional: "AAAAAGH_QrBQjL6sPX-7vNGH8mku6hQYpWUjuDVj4qtS4DIak-Uz4s2bQ2N8JNt1N04nR9CqLo_FX48srcvxDc",
  aliceTransitional: "AAAAAG9nXki3hAjg1-FFj7ygZsxP8KgUcg2A8YftIWULT8N7wRjwj7SmPk-6nxH8rPwO7rlGD4ccGYArRtYcYd",
  /** The session an application obtained for bob with CreateTokenWithIAM (events/ fixtures only). */
  bobApplication: "AAAAAG9aQX2TFh1Ces5s-5jAKPeIHbapyaDp3XhvXUq-ptm2TIwJ-oSdIlPZkRUavvA7YoH2aMiKWKA5jqkeQR",
};
export const AUTH_WORKFLOW_IDS = {
  bobNew: "55425bf2-612b-4efb-be56-42b8e2d44f78",
  aliceNewFailed: "88c0b6d5-319c-483a-aaf7-4a625f855e9b",
  aliceNew: "11ba9d1c-067c-4b15-a2fa-9ad7d3e2b116",
  hiddenNew: "4f366970-4530-4fe7-b0e2-547a838b6f6e",
  bobOld: "f92354ed-2a61-41aa-9c58-38cd93e06316",
  bobTransitional: "141d888b-2e3e-4776-81ab-4849df0c135b",
  aliceTransitional: "ea522153-87de-43db-8dbf-0a819aa6e19f",
};
export const GROUP_ID = "aaa6373a-a1a8-487e-ac4e-11e5c638e487";
export const PERMISSION_SET_ARN = "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-5f3e1a2b3c4d5e6f";
export const RESERVED_ROLE = "AWSReservedSSO_AdministratorAccess_8d2c4b6a1e3f5a7c";

// ---------------------------------------------------------------------------------------------------------
// Deterministic ids and made-up secrets, derived from a label.

function hash32(text, seed) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A version-4-looking UUID derived from `label`. */
export function uuidFrom(label) {
  const hex = [1, 2, 3, 4].map((i) => hash32(label, Math.imul(i, 0x9e3779b9)).toString(16).padStart(8, "0"));
  const h = hex.join("");
  const variant = "89ab"[Number.parseInt(h.charAt(16), 16) & 3];
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `length` characters of `alphabet`, derived from `label` (fake tokens, codes and CSRF values). */
export function opaque(
  label,
  length,
  alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
) {
  let state = hash32(label, 0x2545f491);
  let out = "";
  while (out.length < length) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out += alphabet[((t ^ (t >>> 14)) >>> 0) % alphabet.length];
  }
  return out;
}

function at(iso, plusSeconds = 0) {
  return new Date(Date.parse(iso) + plusSeconds * 1000).toISOString().replace(".000Z", "Z");
}

// ---------------------------------------------------------------------------------------------------------
// Record builders. Key order follows what CloudTrail writes.

const KEY_ORDER = [
  "eventVersion",
  "userIdentity",
  "eventTime",
  "eventSource",
  "eventName",
  "awsRegion",
  "sourceIPAddress",
  "userAgent",
  "errorCode",
  "errorMessage",
  "requestParameters",
  "responseElements",
  "additionalEventData",
  "requestID",
  "eventID",
  "readOnly",
  "resources",
  "eventType",
  "managementEvent",
  "recipientAccountId",
  "serviceEventDetails",
  "eventCategory",
  "tlsDetails",
];

const usedLabels = new Set();

/** One CloudTrail record. `label` names it uniquely; eventID and requestID derive from it. */
export function cloudTrailRecord(label, fields) {
  if (usedLabels.has(label)) throw new Error(`duplicate fixture label ${label}`);
  usedLabels.add(label);
  const all = {
    requestParameters: null,
    responseElements: null,
    requestID: uuidFrom(`${label}#request`),
    eventID: uuidFrom(`${label}#event`),
    managementEvent: true,
    eventCategory: "Management",
    ...fields,
  };
  const out = {};
  for (const key of KEY_ORDER) if (all[key] !== undefined) out[key] = all[key];
  for (const key of Object.keys(all)) if (!(key in out) && all[key] !== undefined) out[key] = all[key];
  return out;
}

const VERSION = { old: "1.08", transitional: "1.10", new: "1.11" };

/** The `userIdentity` of an authenticated Identity Center user in one of the three shapes. */
export function userIdentity(shape, user, credentialId, { signIn = false } = {}) {
  const onBehalfOf = { userId: user.userId, identityStoreArn: IDENTITY_STORE_ARN };
  if (shape === "new") {
    return signIn
      ? { type: "IdentityCenterUser", arn: "", accountId: ACCOUNT, accessKeyId: "", onBehalfOf, credentialId }
      : { type: "IdentityCenterUser", accountId: ACCOUNT, onBehalfOf, credentialId };
  }
  const old = signIn
    ? {
        type: "Unknown",
        principalId: ACCOUNT,
        arn: "",
        accountId: ACCOUNT,
        accessKeyId: "",
        userName: user.userName,
      }
    : { type: "Unknown", principalId: user.principalId, accountId: ACCOUNT, userName: user.userName };
  return shape === "old" ? old : { ...old, onBehalfOf, credentialId };
}

/** The `userIdentity` of a sign-in that has not (or not yet) succeeded: no user id in the new shapes. */
export function anonymousIdentity(shape, typedName) {
  if (shape === "old") {
    return {
      type: "Unknown",
      principalId: ACCOUNT,
      arn: "",
      accountId: ACCOUNT,
      accessKeyId: "",
      userName: typedName,
    };
  }
  return { type: "Unknown", arn: "", accountId: ACCOUNT, accessKeyId: "" };
}

function loginTo(label) {
  const state = opaque(`${label}#state`, 220);
  const code = opaque(
    `${label}#code`,
    180,
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
  );
  const csrf = opaque(`${label}#csrf`, 190);
  return `https://${IDENTITY_STORE_ID}.awsapps.com/start/?state=${state}%3D&auth_code=${code}&wdc_csrf_token=${csrf}&organization=${IDENTITY_STORE_ID}&region=${REGION}`;
}

/**
 * A sign-in event (`signin.amazonaws.com`). `session` is { shape, user, credentialId, authWorkflowId, ip, ua }.
 * `anonymous: true` writes the identity of a failed sign-in; `typedName` is what the user typed
 * (additionalEventData.UserName on CredentialChallenge, from the transitional era on).
 */
export function signInEvent(label, session, eventName, time, options = {}) {
  const {
    credentialType = "PASSWORD",
    outcome = "Success",
    anonymous = false,
    typedName,
    mfaEnrollment,
  } = options;
  const shape = session.shape;
  const additionalEventData = { AuthWorkflowID: session.authWorkflowId };
  if (eventName === "UserAuthentication") additionalEventData.LoginTo = loginTo(label);
  additionalEventData.CredentialType = credentialType;
  if (eventName === "CredentialChallenge" && typedName !== undefined && shape !== "old") {
    additionalEventData.UserName = typedName;
  }
  if (mfaEnrollment) additionalEventData.DeviceEnrollmentRequired = "true";
  return cloudTrailRecord(label, {
    eventVersion: VERSION[shape],
    userIdentity: anonymous
      ? anonymousIdentity(shape, typedName ?? session.user?.userName)
      : userIdentity(shape, session.user, session.credentialId, { signIn: true }),
    eventTime: time,
    eventSource: "signin.amazonaws.com",
    eventName,
    awsRegion: REGION,
    sourceIPAddress: session.ip,
    userAgent: session.ua ?? BROWSER,
    additionalEventData,
    readOnly: false,
    eventType: "AwsServiceEvent",
    recipientAccountId: ACCOUNT,
    serviceEventDetails: { [eventName]: outcome },
  });
}

/** The three events of a successful password sign-in, `seconds` apart from `time`. */
export function signInSuccess(label, session, time) {
  return [
    signInEvent(`${label}/CredentialChallenge`, session, "CredentialChallenge", time, {
      typedName: session.user.userName,
    }),
    signInEvent(`${label}/CredentialVerification`, session, "CredentialVerification", at(time, 8)),
    signInEvent(`${label}/UserAuthentication`, session, "UserAuthentication", at(time, 8)),
  ];
}

/** An access-portal event (`sso.amazonaws.com`). */
export function portalEvent(label, session, eventName, time, options = {}) {
  const { accountId, roleName, errorCode, errorMessage, ua } = options;
  const serviceEventDetails =
    accountId === undefined
      ? undefined
      : roleName === undefined
        ? { account_id: accountId }
        : { role_name: roleName, account_id: accountId };
  return cloudTrailRecord(label, {
    eventVersion: VERSION[session.shape],
    userIdentity: userIdentity(session.shape, session.user, session.credentialId),
    eventTime: time,
    eventSource: "sso.amazonaws.com",
    eventName,
    awsRegion: REGION,
    sourceIPAddress: session.ip,
    userAgent: ua ?? session.ua ?? BROWSER,
    errorCode,
    errorMessage,
    readOnly: /^(List|Get)/.test(eventName),
    eventType: "AwsServiceEvent",
    recipientAccountId: ACCOUNT,
    serviceEventDetails,
  });
}

/** The OIDC device-flow `CreateToken` (`sso.amazonaws.com` in every published sample; `sso-oauth` also). */
export function createTokenEvent(label, session, time, options = {}) {
  const { eventSource = "sso.amazonaws.com", errorCode, errorMessage } = options;
  return cloudTrailRecord(label, {
    eventVersion: VERSION[session.shape],
    userIdentity:
      errorCode === undefined
        ? userIdentity(session.shape, session.user, session.credentialId)
        : { type: "Unknown", accountId: ACCOUNT },
    eventTime: time,
    eventSource,
    eventName: "CreateToken",
    awsRegion: REGION,
    sourceIPAddress: session.ip,
    userAgent: CLI,
    errorCode,
    errorMessage,
    requestParameters: {
      clientId: opaque(`${label}#client`, 22),
      clientSecret: HIDDEN,
      grantType: "urn:ietf:params:oauth:grant-type:device_code",
      deviceCode: opaque(`${label}#device`, 36, "abcdefghijklmnopqrstuvwxyz0123456789"),
    },
    responseElements:
      errorCode === undefined
        ? {
            accessToken: HIDDEN,
            tokenType: "Bearer",
            expiresIn: 28800,
            refreshToken: HIDDEN,
            idToken: HIDDEN,
          }
        : null,
    readOnly: false,
    resources: [{ accountId: ACCOUNT, type: "IdentityStoreId", ARN: IDENTITY_STORE_ID }],
    eventType: "AwsApiCall",
    recipientAccountId: ACCOUNT,
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: `oidc.${REGION}.amazonaws.com`,
    },
  });
}

const APPLICATION_ROLE = "ReportingAppRole-7QJZ2K1XW9AB";
const APPLICATION_ARN = `arn:aws:sso::${ACCOUNT}:application/ssoins-7223a1b2c3d4e5f6/apl-3c5e7a9b1d2f4a6c`;

/** `CreateTokenWithIAM`: an application's role acting for a user named in additionalEventData. */
export function createTokenWithIamEvent(label, shape, user, credentialId, time, options = {}) {
  const { errorCode, errorMessage } = options;
  return cloudTrailRecord(label, {
    eventVersion: VERSION[shape],
    userIdentity: {
      type: "AssumedRole",
      principalId: "AROA3EXAMPLEAPPROLE12:reporting-app",
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${APPLICATION_ROLE}/reporting-app`,
      accountId: ACCOUNT,
      accessKeyId: "ASIA3EXAMPLEAPPKEY01",
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          principalId: "AROA3EXAMPLEAPPROLE12",
          arn: `arn:aws:iam::${ACCOUNT}:role/${APPLICATION_ROLE}`,
          accountId: ACCOUNT,
          userName: APPLICATION_ROLE,
        },
        attributes: { creationDate: at(time, -2), mfaAuthenticated: "false" },
      },
    },
    eventTime: time,
    eventSource: "sso-oauth.amazonaws.com",
    eventName: "CreateTokenWithIAM",
    awsRegion: REGION,
    sourceIPAddress: "198.51.100.201",
    userAgent:
      "aws-sdk-js/3.600.0 ua/2.1 os/linux#5.10.219 lang/js md/nodejs#20.15.0 api/sso-oidc#3.600.0 m/E",
    errorCode,
    errorMessage,
    requestParameters: {
      clientId: APPLICATION_ARN,
      grantType: "urn:ietf:params:oauth:grant-type:jwt-bearer",
      scope: ["sso:account:access"],
      assertion: HIDDEN,
    },
    responseElements:
      errorCode === undefined
        ? {
            accessToken: HIDDEN,
            expiresIn: 3600,
            tokenType: "Bearer",
            issuedTokenType: "urn:ietf:params:oauth:token-type:access_token",
          }
        : null,
    additionalEventData:
      errorCode === undefined
        ? {
            "identitystore:UserId": user.userId,
            "identitystore:IdentityStoreArn": IDENTITY_STORE_ARN,
            "identitycenter:CredentialId": credentialId,
          }
        : undefined,
    readOnly: false,
    resources: [{ type: "AWS::SSO::Application", ARN: APPLICATION_ARN }],
    eventType: "AwsApiCall",
    recipientAccountId: ACCOUNT,
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: `oidc.${REGION}.amazonaws.com`,
    },
  });
}

/** A user's own MFA-device action from the access portal (`sso-directory.amazonaws.com`). */
export function mfaDeviceEvent(label, session, eventName, time, options = {}) {
  const { errorCode, errorMessage } = options;
  const deviceId = `mfa-${opaque(`${label}#device`, 20, "abcdef0123456789")}`;
  const deviceName = eventName.includes("WebAuthn") ? "MacBook Touch ID" : "Authenticator app";
  let requestParameters = null;
  let responseElements = null;
  if (eventName.startsWith("Complete")) {
    requestParameters = { deviceName };
    if (errorCode === undefined) responseElements = { deviceId };
  } else if (eventName === "UpdateMfaDeviceForUser") requestParameters = { deviceId, deviceName };
  else if (eventName === "DeleteMfaDeviceForUser") requestParameters = { deviceId };
  return cloudTrailRecord(label, {
    eventVersion: VERSION[session.shape],
    userIdentity: userIdentity(session.shape, session.user, session.credentialId),
    eventTime: time,
    eventSource: "sso-directory.amazonaws.com",
    eventName,
    awsRegion: REGION,
    sourceIPAddress: session.ip,
    userAgent: session.ua ?? BROWSER,
    errorCode,
    errorMessage,
    requestParameters,
    responseElements,
    readOnly: eventName.startsWith("List"),
    eventType: "AwsApiCall",
    recipientAccountId: ACCOUNT,
  });
}

export const ADMIN_ROLE = "IdentityCenterAdmin";
const ADMIN_IP = "198.51.100.14";

function adminIdentity(time) {
  return {
    type: "AssumedRole",
    principalId: "AROA3EXAMPLEADMIN1234:dana",
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ADMIN_ROLE}/dana`,
    accountId: ACCOUNT,
    accessKeyId: "ASIA3EXAMPLEKEY12345",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: "AROA3EXAMPLEADMIN1234",
        arn: `arn:aws:iam::${ACCOUNT}:role/${ADMIN_ROLE}`,
        accountId: ACCOUNT,
        userName: ADMIN_ROLE,
      },
      attributes: { creationDate: at(time, -600), mfaAuthenticated: "true" },
    },
  };
}

/** A directory or Identity Center administration call by the admin role. */
export function adminEvent(label, eventSource, eventName, time, options = {}) {
  const { requestParameters = null, responseElements = null, errorCode, errorMessage } = options;
  return cloudTrailRecord(label, {
    eventVersion: "1.11",
    userIdentity: adminIdentity(time),
    eventTime: time,
    eventSource,
    eventName,
    awsRegion: REGION,
    sourceIPAddress: ADMIN_IP,
    userAgent: "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9",
    errorCode,
    errorMessage,
    requestParameters,
    responseElements,
    readOnly: false,
    eventType: "AwsApiCall",
    recipientAccountId: ACCOUNT,
    tlsDetails: {
      tlsVersion: "TLSv1.3",
      cipherSuite: "TLS_AES_128_GCM_SHA256",
      clientProvidedHostHeader: `${eventSource.split(".")[0]}.${REGION}.amazonaws.com`,
    },
  });
}

/** The admin events of the story (used by the archive and by events/admin/). */
export function adminEvents(time) {
  return {
    CreateGroup: adminEvent("admin/CreateGroup", "identitystore.amazonaws.com", "CreateGroup", time, {
      requestParameters: { identityStoreId: IDENTITY_STORE_ID, displayName: HIDDEN, description: HIDDEN },
      responseElements: { groupId: GROUP_ID, identityStoreId: IDENTITY_STORE_ID },
    }),
    UpdateGroup: adminEvent("admin/UpdateGroup", "identitystore.amazonaws.com", "UpdateGroup", at(time, 20), {
      requestParameters: {
        identityStoreId: IDENTITY_STORE_ID,
        groupId: GROUP_ID,
        operations: [{ attributePath: "displayName", attributeValue: HIDDEN }],
      },
    }),
    CreateGroupMembership: adminEvent(
      "admin/CreateGroupMembership",
      "identitystore.amazonaws.com",
      "CreateGroupMembership",
      at(time, 41),
      {
        requestParameters: {
          identityStoreId: IDENTITY_STORE_ID,
          groupId: GROUP_ID,
          memberId: { userId: ALICE.userId },
        },
        responseElements: { membershipId: uuidFrom("admin/membership"), identityStoreId: IDENTITY_STORE_ID },
      },
    ),
    CreatePermissionSet: adminEvent(
      "admin/CreatePermissionSet",
      "sso.amazonaws.com",
      "CreatePermissionSet",
      at(time, 62),
      {
        requestParameters: {
          instanceArn: INSTANCE_ARN,
          name: "DataEngineer",
          description: "Data engineering access to analytics accounts",
          sessionDuration: "PT8H",
        },
        responseElements: {
          permissionSet: {
            name: "DataEngineer",
            permissionSetArn: PERMISSION_SET_ARN,
            description: "Data engineering access to analytics accounts",
            createdDate: "Jul 1, 2026, 12:10:02 AM",
            sessionDuration: "PT8H",
          },
        },
      },
    ),
    CreateAccountAssignment: adminEvent(
      "admin/CreateAccountAssignment",
      "sso.amazonaws.com",
      "CreateAccountAssignment",
      at(time, 90),
      {
        requestParameters: {
          instanceArn: INSTANCE_ARN,
          targetId: MEMBER_ACCOUNT,
          targetType: "AWS_ACCOUNT",
          permissionSetArn: PERMISSION_SET_ARN,
          principalType: "USER",
          principalId: BOB.userId,
        },
        responseElements: {
          accountAssignmentCreationStatus: {
            status: "IN_PROGRESS",
            requestId: uuidFrom("admin/assignment-request"),
            targetId: MEMBER_ACCOUNT,
            targetType: "AWS_ACCOUNT",
            permissionSetArn: PERMISSION_SET_ARN,
            principalType: "USER",
            principalId: BOB.userId,
          },
        },
      },
    ),
    DeleteUser: adminEvent("admin/DeleteUser", "identitystore.amazonaws.com", "DeleteUser", at(time, 120), {
      requestParameters: { identityStoreId: IDENTITY_STORE_ID, userId: FORMER_USER_ID },
    }),
  };
}

function roleSessionIdentity(user, account, time) {
  const roleId = "AROA3EXAMPLESSOROLE99";
  return {
    type: "AssumedRole",
    principalId: `${roleId}:${user.userName}`,
    arn: `arn:aws:sts::${account}:assumed-role/${RESERVED_ROLE}/${user.userName}`,
    accountId: account,
    accessKeyId: "ASIA3EXAMPLEROLEKEY1",
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: roleId,
        arn: `arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/${REGION}/${RESERVED_ROLE}`,
        accountId: account,
        userName: RESERVED_ROLE,
      },
      attributes: { creationDate: time, mfaAuthenticated: "false" },
    },
  };
}

/** Events of bob's role session in a member account (once counted as ignored; ids keep their old seeds). */
export function ignoredEvents(user, time) {
  const roleArn = `arn:aws:iam::${MEMBER_ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${REGION}/${RESERVED_ROLE}`;
  const providerArn = `arn:aws:iam::${MEMBER_ACCOUNT}:saml-provider/AWSSSO_5b7d9f1a3c5e7a9b_DO_NOT_DELETE`;
  const nameQualifier = "q2VYh0wE1hT5v3xk8cN0Yp6rJ4s=";
  return {
    AssumeRoleWithSAML: cloudTrailRecord("ignored/AssumeRoleWithSAML", {
      eventVersion: "1.11",
      userIdentity: {
        type: "SAMLUser",
        principalId: `${nameQualifier}:${user.userName}`,
        userName: user.userName,
        identityProvider: nameQualifier,
      },
      eventTime: at(time, 1),
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRoleWithSAML",
      awsRegion: REGION,
      sourceIPAddress: "54.239.28.85",
      userAgent:
        "aws-sdk-java/2.25.60 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc.",
      requestParameters: {
        sAMLAssertionID: `_${uuidFrom("ignored/saml-assertion")}`,
        roleSessionName: user.userName,
        roleArn,
        principalArn: providerArn,
        durationSeconds: 3600,
      },
      responseElements: {
        credentials: {
          accessKeyId: "ASIA3EXAMPLEROLEKEY1",
          sessionToken: "IQoJb3JpZ2luX2VjEXAMPLEFAKESESSIONTOKEN==",
          expiration: "Jul 1, 2026, 1:02:48 AM",
        },
        assumedRoleUser: {
          assumedRoleId: `AROA3EXAMPLESSOROLE99:${user.userName}`,
          arn: `arn:aws:sts::${MEMBER_ACCOUNT}:assumed-role/${RESERVED_ROLE}/${user.userName}`,
        },
        subject: user.userName,
        subjectType: "persistent",
        issuer: `https://portal.sso.${REGION}.amazonaws.com/saml/assertion/RVhBTVBMRV9GQUtFX0FTU0VSVElPTl9JU1NVRVI`,
        audience: "https://signin.aws.amazon.com/saml",
        nameQualifier,
      },
      readOnly: true,
      resources: [
        { accountId: MEMBER_ACCOUNT, type: "AWS::IAM::Role", ARN: roleArn },
        { accountId: MEMBER_ACCOUNT, type: "AWS::IAM::SAMLProvider", ARN: providerArn },
      ],
      eventType: "AwsApiCall",
      recipientAccountId: MEMBER_ACCOUNT,
    }),
    GetCallerIdentity: cloudTrailRecord("ignored/GetCallerIdentity", {
      eventVersion: "1.11",
      userIdentity: roleSessionIdentity(user, MEMBER_ACCOUNT, at(time, 1)),
      eventTime: at(time, 95),
      eventSource: "sts.amazonaws.com",
      eventName: "GetCallerIdentity",
      awsRegion: "eu-west-1",
      sourceIPAddress: user.ip,
      userAgent: CLI_STS,
      readOnly: true,
      eventType: "AwsApiCall",
      recipientAccountId: MEMBER_ACCOUNT,
      tlsDetails: {
        tlsVersion: "TLSv1.3",
        cipherSuite: "TLS_AES_128_GCM_SHA256",
        clientProvidedHostHeader: "sts.eu-west-1.amazonaws.com",
      },
    }),
    ListBuckets: cloudTrailRecord("ignored/ListBuckets", {
      eventVersion: "1.11",
      userIdentity: roleSessionIdentity(user, MEMBER_ACCOUNT, at(time, 1)),
      eventTime: at(time, 130),
      eventSource: "s3.amazonaws.com",
      eventName: "ListBuckets",
      awsRegion: "eu-west-1",
      sourceIPAddress: user.ip,
      userAgent: "[aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 md/command#s3.ls]",
      requestParameters: { Host: "s3.eu-west-1.amazonaws.com" },
      additionalEventData: {
        SignatureVersion: "SigV4",
        CipherSuite: "TLS_AES_128_GCM_SHA256",
        bytesTransferredIn: 0,
        AuthenticationMethod: "AuthHeader",
        "x-amz-id-2": opaque("ignored/ListBuckets#id2", 56),
        bytesTransferredOut: 512,
      },
      readOnly: true,
      eventType: "AwsApiCall",
      recipientAccountId: MEMBER_ACCOUNT,
    }),
    ConsoleLogin: cloudTrailRecord("ignored/ConsoleLogin", {
      eventVersion: "1.11",
      userIdentity: roleSessionIdentity(user, MEMBER_ACCOUNT, at(time, 200)),
      eventTime: at(time, 200),
      eventSource: "signin.amazonaws.com",
      eventName: "ConsoleLogin",
      awsRegion: REGION,
      sourceIPAddress: user.ip,
      userAgent: BROWSER,
      responseElements: { ConsoleLogin: "Success" },
      additionalEventData: {
        MobileVersion: "No",
        MFAUsed: "No",
      },
      readOnly: false,
      eventType: "AwsConsoleSignIn",
      recipientAccountId: MEMBER_ACCOUNT,
    }),
  };
}

/** The EventBridge event CloudTrail emits for `record`. */
export function eventBridgeEnvelope(label, record) {
  const detailType =
    record.eventType === "AwsConsoleSignIn"
      ? "AWS Console Signin via CloudTrail"
      : record.eventType === "AwsServiceEvent"
        ? "AWS Service Event via CloudTrail"
        : "AWS API Call via CloudTrail";
  return {
    version: "0",
    id: uuidFrom(`${label}#envelope`),
    "detail-type": detailType,
    source: `aws.${String(record.eventSource).split(".")[0]}`,
    account: record.recipientAccountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The story.

export const SESSIONS = {
  bobNew: {
    shape: "new",
    user: BOB,
    credentialId: CREDENTIAL_IDS.bobNew,
    authWorkflowId: AUTH_WORKFLOW_IDS.bobNew,
    ip: BOB.ip,
    ua: BROWSER,
  },
  aliceNew: {
    shape: "new",
    user: ALICE,
    credentialId: CREDENTIAL_IDS.aliceNew,
    authWorkflowId: AUTH_WORKFLOW_IDS.aliceNew,
    ip: ALICE.ip,
    ua: BROWSER_WINDOWS,
  },
  bobTransitional: {
    shape: "transitional",
    user: BOB,
    credentialId: CREDENTIAL_IDS.bobTransitional,
    authWorkflowId: AUTH_WORKFLOW_IDS.bobTransitional,
    ip: BOB.ip,
    ua: BROWSER,
  },
  aliceTransitional: {
    shape: "transitional",
    user: ALICE,
    credentialId: CREDENTIAL_IDS.aliceTransitional,
    authWorkflowId: AUTH_WORKFLOW_IDS.aliceTransitional,
    ip: ALICE.ip,
    ua: BROWSER_WINDOWS,
  },
  bobOld: { shape: "old", user: BOB, authWorkflowId: AUTH_WORKFLOW_IDS.bobOld, ip: BOB.ip, ua: BROWSER },
};

/** A portal session after sign-in: Authenticate, ListAccounts, ListAccountRoles, GetRoleCredentials. */
function portalVisit(label, session, time, accountId, roleName) {
  return {
    Authenticate: portalEvent(`${label}/Authenticate`, session, "Authenticate", at(time, 0)),
    ListAccounts: portalEvent(`${label}/ListAccounts`, session, "ListAccounts", at(time, 1)),
    ListAccountRoles: portalEvent(`${label}/ListAccountRoles`, session, "ListAccountRoles", at(time, 19), {
      accountId,
    }),
    GetRoleCredentials: portalEvent(
      `${label}/GetRoleCredentials`,
      session,
      "GetRoleCredentials",
      at(time, 26),
      {
        accountId,
        roleName,
      },
    ),
  };
}

/** Every event of the archive story, by name, built once. */
export function story() {
  const s = SESSIONS;
  // 2026-07-01, new shape.
  const [bobChallenge, bobVerification, bobAuthentication] = signInSuccess(
    "new/bob",
    s.bobNew,
    "2026-07-01T00:02:11Z",
  );
  const bobPortal = portalVisit(
    "new/bob",
    s.bobNew,
    "2026-07-01T00:02:21Z",
    MEMBER_ACCOUNT,
    "AdministratorAccess",
  );
  const aliceFailed = { ...s.aliceNew, authWorkflowId: AUTH_WORKFLOW_IDS.aliceNewFailed };
  const hidden = { shape: "new", authWorkflowId: AUTH_WORKFLOW_IDS.hiddenNew, ip: STRANGER_IP, ua: BROWSER };
  const alice = s.aliceNew;
  const newEra = {
    bobChallenge,
    bobVerification,
    bobAuthentication,
    ...Object.fromEntries(Object.entries(bobPortal).map(([name, event]) => [`bob${name}`, event])),
    bobCreateToken: createTokenEvent("new/bob/CreateToken", s.bobNew, "2026-07-01T00:04:10Z"),
    bobLogout: portalEvent("new/bob/Logout", s.bobNew, "Logout", "2026-07-01T00:07:45Z"),
    aliceFailedChallenge: signInEvent(
      "new/alice-failed/CredentialChallenge",
      aliceFailed,
      "CredentialChallenge",
      "2026-07-01T00:03:05Z",
      {
        anonymous: true,
        typedName: ALICE.userName,
      },
    ),
    aliceFailedVerification: signInEvent(
      "new/alice-failed/CredentialVerification",
      aliceFailed,
      "CredentialVerification",
      "2026-07-01T00:03:12Z",
      { anonymous: true, outcome: "Failure" },
    ),
    aliceChallenge: signInEvent(
      "new/alice/CredentialChallenge",
      alice,
      "CredentialChallenge",
      "2026-07-01T00:03:30Z",
      {
        typedName: ALICE.userName,
      },
    ),
    aliceVerification: signInEvent(
      "new/alice/CredentialVerification",
      alice,
      "CredentialVerification",
      "2026-07-01T00:03:37Z",
    ),
    aliceTotpChallenge: signInEvent(
      "new/alice/CredentialChallenge-TOTP",
      alice,
      "CredentialChallenge",
      "2026-07-01T00:03:38Z",
      {
        credentialType: "TOTP",
      },
    ),
    aliceTotpVerification: signInEvent(
      "new/alice/CredentialVerification-TOTP",
      alice,
      "CredentialVerification",
      "2026-07-01T00:03:51Z",
      { credentialType: "TOTP" },
    ),
    aliceAuthentication: signInEvent(
      "new/alice/UserAuthentication",
      alice,
      "UserAuthentication",
      "2026-07-01T00:03:51Z",
      {
        credentialType: "PASSWORD,TOTP",
      },
    ),
    aliceAuthenticate: portalEvent("new/alice/Authenticate", alice, "Authenticate", "2026-07-01T00:03:53Z"),
    aliceListAccounts: portalEvent("new/alice/ListAccounts", alice, "ListAccounts", "2026-07-01T00:06:30Z"),
    aliceListApplications: portalEvent(
      "new/alice/ListApplications",
      alice,
      "ListApplications",
      "2026-07-01T00:06:41Z",
    ),
    aliceFederate: portalEvent("new/alice/Federate", alice, "Federate", "2026-07-01T00:06:55Z", {
      accountId: OTHER_MEMBER_ACCOUNT,
      roleName: "ReadOnlyAccess",
    }),
    aliceCreateToken: createTokenEvent("new/alice/CreateToken", alice, "2026-07-01T00:08:03Z", {
      eventSource: "sso-oauth.amazonaws.com",
    }),
    hiddenChallenge: signInEvent(
      "new/hidden/CredentialChallenge",
      hidden,
      "CredentialChallenge",
      "2026-07-01T00:05:02Z",
      {
        anonymous: true,
        typedName: HIDDEN,
      },
    ),
    hiddenVerification: signInEvent(
      "new/hidden/CredentialVerification",
      hidden,
      "CredentialVerification",
      "2026-07-01T00:05:09Z",
      {
        anonymous: true,
        outcome: "Failure",
      },
    ),
  };
  const admin = adminEvents("2026-07-01T00:09:00Z");
  const ignored = ignoredEvents(BOB, "2026-07-01T00:02:47Z");

  // 2024-05-14, old shape.
  const [oldChallenge, oldVerification, oldAuthentication] = signInSuccess(
    "old/bob",
    s.bobOld,
    "2024-05-14T12:51:03Z",
  );
  const oldPortal = portalVisit(
    "old/bob",
    s.bobOld,
    "2024-05-14T12:51:14Z",
    MEMBER_ACCOUNT,
    "ReadOnlyAccess",
  );
  const oldEra = {
    bobChallenge: oldChallenge,
    bobVerification: oldVerification,
    bobAuthentication: oldAuthentication,
    ...Object.fromEntries(Object.entries(oldPortal).map(([name, event]) => [`bob${name}`, event])),
    bobLogout: portalEvent("old/bob/Logout", s.bobOld, "Logout", "2024-05-14T12:58:40Z"),
  };

  // 2025-03-12, transitional shape.
  const [trChallenge, trVerification, trAuthentication] = signInSuccess(
    "transitional/bob",
    s.bobTransitional,
    "2025-03-12T09:21:44Z",
  );
  const trPortal = portalVisit(
    "transitional/bob",
    s.bobTransitional,
    "2025-03-12T09:21:55Z",
    MEMBER_ACCOUNT,
    "AdministratorAccess",
  );
  const [trAliceChallenge, trAliceVerification, trAliceAuthentication] = signInSuccess(
    "transitional/alice",
    s.aliceTransitional,
    "2025-03-12T09:24:02Z",
  );
  const transitionalEra = {
    bobChallenge: trChallenge,
    bobVerification: trVerification,
    bobAuthentication: trAuthentication,
    ...Object.fromEntries(Object.entries(trPortal).map(([name, event]) => [`bob${name}`, event])),
    bobListMfaDevicesForUser: mfaDeviceEvent(
      "transitional/bob/ListMfaDevicesForUser",
      s.bobTransitional,
      "ListMfaDevicesForUser",
      "2025-03-12T09:26:30Z",
    ),
    bobLogout: portalEvent("transitional/bob/Logout", s.bobTransitional, "Logout", "2025-03-12T09:29:12Z"),
    aliceChallenge: trAliceChallenge,
    aliceVerification: trAliceVerification,
    aliceAuthentication: trAliceAuthentication,
    aliceAuthenticate: portalEvent(
      "transitional/alice/Authenticate",
      s.aliceTransitional,
      "Authenticate",
      "2025-03-12T09:24:12Z",
    ),
    aliceListAccounts: portalEvent(
      "transitional/alice/ListAccounts",
      s.aliceTransitional,
      "ListAccounts",
      "2025-03-12T09:24:13Z",
    ),
  };
  return { newEra, admin, ignored, oldEra, transitionalEra };
}

/** The archive: file path (under events/archive) → records, in the order written. */
export function archiveFiles(events = story()) {
  const { newEra: n, admin, ignored, oldEra, transitionalEra } = events;
  const accountTrail = (account, region, day) => `AWSLogs/${account}/CloudTrail/${region}/${day}`;
  const orgTrail = (account, region, day) =>
    `AWSLogs/${ORGANIZATION_ID}/${account}/CloudTrail/${region}/${day}`;
  return [
    {
      path: `${accountTrail(ACCOUNT, REGION, "2026/07/01")}/${ACCOUNT}_CloudTrail_${REGION}_20260701T0010Z_abc123.json.gz`,
      records: [
        n.bobChallenge,
        n.bobVerification,
        n.aliceFailedChallenge,
        n.bobAuthentication,
        n.bobAuthenticate,
        n.bobListAccounts,
        n.aliceFailedVerification,
        n.bobListAccountRoles,
        n.bobGetRoleCredentials,
        n.aliceChallenge,
        n.aliceVerification,
        n.aliceTotpChallenge,
        n.aliceAuthentication,
        n.aliceTotpVerification,
        n.aliceAuthenticate,
        n.hiddenVerification,
        n.hiddenChallenge,
      ],
    },
    {
      path: `${orgTrail(ACCOUNT, REGION, "2026/07/01")}/${ACCOUNT}_CloudTrail_${REGION}_20260701T0015Z_def456.json.gz`,
      records: [
        n.bobCreateToken,
        n.bobGetRoleCredentials, // delivered again: same eventID as in the account trail's file
        n.aliceListAccounts,
        n.aliceListApplications,
        n.aliceFederate,
        n.bobLogout,
        n.aliceCreateToken,
        admin.CreateGroup,
        admin.UpdateGroup,
        admin.CreateGroupMembership,
        admin.CreatePermissionSet,
        admin.CreateAccountAssignment,
        admin.DeleteUser,
      ],
    },
    {
      path: `${orgTrail(MEMBER_ACCOUNT, "eu-west-1", "2026/07/01")}/${MEMBER_ACCOUNT}_CloudTrail_eu-west-1_20260701T0010Z_0f9e8d.json.gz`,
      records: [ignored.GetCallerIdentity, ignored.ListBuckets],
    },
    {
      path: `${accountTrail(ACCOUNT, REGION, "2024/05/14")}/${ACCOUNT}_CloudTrail_${REGION}_20240514T1300Z_a1b2c3.json.gz`,
      records: Object.values(oldEra),
    },
    {
      path: `${orgTrail(ACCOUNT, REGION, "2025/03/12")}/${ACCOUNT}_CloudTrail_${REGION}_20250312T0930Z_d4e5f6.json.gz`,
      records: Object.values(transitionalEra),
    },
  ];
}

function main() {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "events", "archive");
  rmSync(join(root, "AWSLogs"), { recursive: true, force: true });
  let records = 0;
  for (const file of archiveFiles()) {
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, gzipSync(`${JSON.stringify({ Records: file.records })}\n`, { level: 9 }));
    records += file.records.length;
    console.log(`${file.path} (${file.records.length} records)`);
  }
  console.log(`wrote ${records} records`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
