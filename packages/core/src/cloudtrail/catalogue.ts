/**
 * The event catalogue: which CloudTrail events idc-audit reads, and what each one is.
 *
 * This table is the single source of truth for routing. The normalizer classifies with it, the reader counts
 * everything else as ignored, and the infrastructure builds its EventBridge rule pattern from it, so adding an
 * event name here is the whole change needed to start auditing it.
 */

export const Category = {
  SignIn: "sign-in",
  Portal: "portal",
  Token: "token",
  MfaDevice: "mfa-device",
  DirectoryAdmin: "directory-admin",
} as const;
export type Category = (typeof Category)[keyof typeof Category];

export interface CatalogueSource {
  /** `eventSource` as written in CloudTrail records. */
  readonly eventSource: string;
  /** `source` of the EventBridge event CloudTrail emits for it. */
  readonly eventBridgeSource: string;
  readonly events: Readonly<Record<string, Category>>;
}

const identityStoreEvents = {
  // MFA devices, managed by users from the access portal (their own session) or by admins.
  ListMfaDevicesForUser: Category.MfaDevice,
  DeleteMfaDeviceForUser: Category.MfaDevice,
  UpdateMfaDeviceForUser: Category.MfaDevice,
  StartWebAuthnDeviceRegistration: Category.MfaDevice,
  StartVirtualMfaDeviceRegistration: Category.MfaDevice,
  CompleteWebAuthnDeviceRegistration: Category.MfaDevice,
  CompleteVirtualMfaDeviceRegistration: Category.MfaDevice,
  // Directory administration: users, groups and memberships.
  CreateUser: Category.DirectoryAdmin,
  UpdateUser: Category.DirectoryAdmin,
  DeleteUser: Category.DirectoryAdmin,
  CreateGroup: Category.DirectoryAdmin,
  UpdateGroup: Category.DirectoryAdmin,
  DeleteGroup: Category.DirectoryAdmin,
  AddMemberToGroup: Category.DirectoryAdmin,
  RemoveMemberFromGroup: Category.DirectoryAdmin,
  CreateGroupMembership: Category.DirectoryAdmin,
  DeleteGroupMembership: Category.DirectoryAdmin,
  UpdatePassword: Category.DirectoryAdmin,
  DisableUser: Category.DirectoryAdmin,
  EnableUser: Category.DirectoryAdmin,
} as const satisfies Record<string, Category>;

export const catalogue: readonly CatalogueSource[] = [
  {
    eventSource: "signin.amazonaws.com",
    eventBridgeSource: "aws.signin",
    events: {
      CredentialChallenge: Category.SignIn,
      CredentialVerification: Category.SignIn,
      UserAuthentication: Category.SignIn,
    },
  },
  {
    eventSource: "sso.amazonaws.com",
    eventBridgeSource: "aws.sso",
    events: {
      Authenticate: Category.Portal,
      Federate: Category.Portal,
      ListAccounts: Category.Portal,
      ListAccountRoles: Category.Portal,
      ListApplications: Category.Portal,
      ListProfilesForApplication: Category.Portal,
      GetRoleCredentials: Category.Portal,
      Logout: Category.Portal,
      // Every published sample of the CLI/IDE device flow names sso.amazonaws.com.
      CreateToken: Category.Token,
      CreateTokenWithIAM: Category.Token,
      // Identity Center administration: who may reach which account with which permissions.
      CreatePermissionSet: Category.DirectoryAdmin,
      UpdatePermissionSet: Category.DirectoryAdmin,
      DeletePermissionSet: Category.DirectoryAdmin,
      ProvisionPermissionSet: Category.DirectoryAdmin,
      CreateAccountAssignment: Category.DirectoryAdmin,
      DeleteAccountAssignment: Category.DirectoryAdmin,
      AttachManagedPolicyToPermissionSet: Category.DirectoryAdmin,
      DetachManagedPolicyFromPermissionSet: Category.DirectoryAdmin,
      AttachCustomerManagedPolicyReferenceToPermissionSet: Category.DirectoryAdmin,
      DetachCustomerManagedPolicyReferenceFromPermissionSet: Category.DirectoryAdmin,
      PutInlinePolicyToPermissionSet: Category.DirectoryAdmin,
      DeleteInlinePolicyFromPermissionSet: Category.DirectoryAdmin,
      PutPermissionsBoundaryToPermissionSet: Category.DirectoryAdmin,
      DeletePermissionsBoundaryFromPermissionSet: Category.DirectoryAdmin,
      CreateInstanceAccessControlAttributeConfiguration: Category.DirectoryAdmin,
      UpdateInstanceAccessControlAttributeConfiguration: Category.DirectoryAdmin,
      DeleteInstanceAccessControlAttributeConfiguration: Category.DirectoryAdmin,
    },
  },
  {
    // The EventBridge reference names sso-oauth for OIDC; accept both sources.
    eventSource: "sso-oauth.amazonaws.com",
    eventBridgeSource: "aws.sso-oauth",
    events: {
      CreateToken: Category.Token,
      CreateTokenWithIAM: Category.Token,
    },
  },
  {
    eventSource: "sso-directory.amazonaws.com",
    eventBridgeSource: "aws.sso-directory",
    events: identityStoreEvents,
  },
  {
    eventSource: "identitystore.amazonaws.com",
    eventBridgeSource: "aws.identitystore",
    events: identityStoreEvents,
  },
];

// Source → name → category: looked up per record, so no key string is built per record.
const categoryBySource = new Map<string, Map<string, Category>>();
for (const source of catalogue) {
  const names = categoryBySource.get(source.eventSource) ?? new Map<string, Category>();
  for (const [eventName, category] of Object.entries(source.events)) names.set(eventName, category);
  categoryBySource.set(source.eventSource, names);
}

/** The category of an audited event, or `undefined` for events idc-audit ignores. */
export function categorize(eventSource: string, eventName: string): Category | undefined {
  return categoryBySource.get(eventSource)?.get(eventName);
}

/** Every (eventSource, eventName) pair the pipeline audits, for tests and documentation. */
export function auditedEvents(): { eventSource: string; eventName: string; category: Category }[] {
  return catalogue.flatMap((source) =>
    Object.entries(source.events).map(([eventName, category]) => ({
      eventSource: source.eventSource,
      eventName,
      category,
    })),
  );
}

/**
 * The EventBridge rule pattern for the whole catalogue: one `$or` branch per event source so that a name
 * audited on one source is not accepted from another.
 */
export function eventBridgePattern(): Record<string, unknown> {
  return {
    source: [...new Set(catalogue.map((source) => source.eventBridgeSource))].sort(),
    detail: {
      $or: catalogue.map((source) => ({
        eventSource: [source.eventSource],
        eventName: Object.keys(source.events).sort(),
      })),
    },
  };
}
