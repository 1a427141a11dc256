/**
 * The event catalogue: which CloudTrail events idc-audit reads, and what each one is.
 *
 * This table is the single source of truth for routing. The normalizer classifies with it, the reader counts
 * everything else as ignored, and the infrastructure builds its EventBridge rule patterns from it.
 *
 * Every record of an Identity Center service (`sso`, `sso-oauth`, `sso-directory`, `identitystore`,
 * `identitystore-scim`) is kept: a name listed here gets its category, any other name (an event AWS added
 * after this table was written, or one nobody published) is stored as `other`, so nothing from those services
 * is ever dropped silently. `signin.amazonaws.com` is shared with IAM and root console sign-in
 * (`ConsoleLogin`, `GetSigninToken`, role sessions' console federation): only its three Identity Center
 * sign-in names are read.
 */

export const Category = {
  SignIn: "sign-in",
  Portal: "portal",
  Token: "token",
  MfaDevice: "mfa-device",
  /** A change to the directory or to Identity Center's configuration (users, groups, permission sets…). */
  DirectoryAdmin: "directory-admin",
  /**
   * A read-only administration call (`Describe…`, `List…`, `Get…` of users, groups, permission sets,
   * assignments): who looked, kept apart from `directory-admin` so that changes are never diluted by reads.
   */
  DirectoryRead: "directory-read",
  /** An event of an Identity Center service whose name the catalogue does not know (yet). */
  Other: "other",
} as const;
export type Category = (typeof Category)[keyof typeof Category];

export interface CatalogueSource {
  /** `eventSource` as written in CloudTrail records. */
  readonly eventSource: string;
  /** `source` of the EventBridge event CloudTrail emits for it. */
  readonly eventBridgeSource: string;
  readonly events: Readonly<Record<string, Category>>;
  /**
   * Every event of the source is Identity Center's: names not in `events` are stored as `other`, and the
   * EventBridge rule matches the source whatever the name. False only for sources other services share.
   */
  readonly everyEvent: boolean;
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
  // Directory reads: the Identity Store API, and the console's older directory calls (sso-directory).
  DescribeUser: Category.DirectoryRead,
  ListUsers: Category.DirectoryRead,
  GetUserId: Category.DirectoryRead,
  DescribeGroup: Category.DirectoryRead,
  ListGroups: Category.DirectoryRead,
  GetGroupId: Category.DirectoryRead,
  DescribeGroupMembership: Category.DirectoryRead,
  GetGroupMembershipId: Category.DirectoryRead,
  ListGroupMemberships: Category.DirectoryRead,
  ListGroupMembershipsForMember: Category.DirectoryRead,
  IsMemberInGroups: Category.DirectoryRead,
  SearchUsers: Category.DirectoryRead,
  SearchGroups: Category.DirectoryRead,
  DescribeUsers: Category.DirectoryRead,
  DescribeGroups: Category.DirectoryRead,
  ListGroupsForUser: Category.DirectoryRead,
  ListMembersInGroup: Category.DirectoryRead,
  DescribeDirectory: Category.DirectoryRead,
} as const satisfies Record<string, Category>;

/** OIDC: client registration and the device authorization flow of the CLI and IDE toolkits. */
const oidcEvents = {
  RegisterClient: Category.Token,
  StartDeviceAuthorization: Category.Token,
  CreateToken: Category.Token,
  CreateTokenWithIAM: Category.Token,
} as const satisfies Record<string, Category>;

/** SCIM provisioning from an external identity provider (the operations the SCIM logging page lists). */
const scimEvents = {
  CreateUser: Category.DirectoryAdmin,
  PutUser: Category.DirectoryAdmin,
  PatchUser: Category.DirectoryAdmin,
  DeleteUser: Category.DirectoryAdmin,
  CreateGroup: Category.DirectoryAdmin,
  PatchGroup: Category.DirectoryAdmin,
  DeleteGroup: Category.DirectoryAdmin,
  GetUser: Category.DirectoryRead,
  ListUsers: Category.DirectoryRead,
  GetGroup: Category.DirectoryRead,
  ListGroups: Category.DirectoryRead,
  GetSchema: Category.DirectoryRead,
  ListSchemas: Category.DirectoryRead,
  GetResourceType: Category.DirectoryRead,
  ListResourceTypes: Category.DirectoryRead,
  GetServiceProviderConfig: Category.DirectoryRead,
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
    // Shared with IAM users', root's and role sessions' console sign-in (ConsoleLogin, GetSigninToken…).
    everyEvent: false,
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
      ...oidcEvents,
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
      CreateInstance: Category.DirectoryAdmin,
      UpdateInstance: Category.DirectoryAdmin,
      DeleteInstance: Category.DirectoryAdmin,
      CreateApplication: Category.DirectoryAdmin,
      UpdateApplication: Category.DirectoryAdmin,
      DeleteApplication: Category.DirectoryAdmin,
      CreateApplicationAssignment: Category.DirectoryAdmin,
      DeleteApplicationAssignment: Category.DirectoryAdmin,
      PutApplicationAssignmentConfiguration: Category.DirectoryAdmin,
      CreateTrustedTokenIssuer: Category.DirectoryAdmin,
      UpdateTrustedTokenIssuer: Category.DirectoryAdmin,
      DeleteTrustedTokenIssuer: Category.DirectoryAdmin,
      TagResource: Category.DirectoryAdmin,
      UntagResource: Category.DirectoryAdmin,
      // Read-only administration: who looked at permission sets, assignments and the instance.
      DescribePermissionsPolicies: Category.DirectoryRead,
      DescribePermissionSet: Category.DirectoryRead,
      ListPermissionSets: Category.DirectoryRead,
      ListPermissionSetsProvisionedToAccount: Category.DirectoryRead,
      ListAccountAssignments: Category.DirectoryRead,
      ListAccountAssignmentsForPrincipal: Category.DirectoryRead,
      ListAccountsForProvisionedPermissionSet: Category.DirectoryRead,
      DescribePermissionSetProvisioningStatus: Category.DirectoryRead,
      ListPermissionSetProvisioningStatus: Category.DirectoryRead,
      DescribeAccountAssignmentCreationStatus: Category.DirectoryRead,
      DescribeAccountAssignmentDeletionStatus: Category.DirectoryRead,
      ListAccountAssignmentCreationStatus: Category.DirectoryRead,
      ListAccountAssignmentDeletionStatus: Category.DirectoryRead,
      ListManagedPoliciesInPermissionSet: Category.DirectoryRead,
      ListCustomerManagedPolicyReferencesInPermissionSet: Category.DirectoryRead,
      GetInlinePolicyForPermissionSet: Category.DirectoryRead,
      GetPermissionsBoundaryForPermissionSet: Category.DirectoryRead,
      DescribeInstanceAccessControlAttributeConfiguration: Category.DirectoryRead,
      DescribeInstance: Category.DirectoryRead,
      ListInstances: Category.DirectoryRead,
      DescribeApplication: Category.DirectoryRead,
      ListApplicationAssignments: Category.DirectoryRead,
      ListTagsForResource: Category.DirectoryRead,
    },
    everyEvent: true,
  },
  {
    // The EventBridge reference names sso-oauth for OIDC; accept both sources.
    eventSource: "sso-oauth.amazonaws.com",
    eventBridgeSource: "aws.sso-oauth",
    events: oidcEvents,
    everyEvent: true,
  },
  {
    eventSource: "sso-directory.amazonaws.com",
    eventBridgeSource: "aws.sso-directory",
    events: identityStoreEvents,
    everyEvent: true,
  },
  {
    eventSource: "identitystore.amazonaws.com",
    eventBridgeSource: "aws.identitystore",
    events: identityStoreEvents,
    everyEvent: true,
  },
  {
    // Listed last: the ingest rules are grouped in catalogue order, so new sources go at the end. The
    // EventBridge source follows CloudTrail's `aws.<service>` convention; no published sample shows it, and the
    // trail bucket's backfill reads these events whatever EventBridge calls them.
    eventSource: "identitystore-scim.amazonaws.com",
    eventBridgeSource: "aws.identitystore-scim",
    events: scimEvents,
    everyEvent: true,
  },
];

// Source → name → category: looked up per record, so no key string is built per record.
const categoryBySource = new Map<string, Map<string, Category>>();
for (const source of catalogue) {
  const names = categoryBySource.get(source.eventSource) ?? new Map<string, Category>();
  for (const [eventName, category] of Object.entries(source.events)) names.set(eventName, category);
  categoryBySource.set(source.eventSource, names);
}

const everyEventSources = new Set(
  catalogue.filter((source) => source.everyEvent).map((source) => source.eventSource),
);

/** The category the catalogue gives a known event, or `undefined` for a name it does not list. */
export function categorize(eventSource: string, eventName: string): Category | undefined {
  return categoryBySource.get(eventSource)?.get(eventName);
}

/** Whether every event of `eventSource` is Identity Center's (its unknown names are stored as `other`). */
export function isIdentityCenterSource(eventSource: string): boolean {
  return everyEventSources.has(eventSource);
}

/**
 * The category an event is stored under: its catalogue category, `other` for a name the catalogue does not
 * know from an Identity Center service, or `undefined` for events idc-audit ignores.
 */
export function storedCategory(eventSource: string, eventName: string): Category | undefined {
  return (
    categorize(eventSource, eventName) ?? (everyEventSources.has(eventSource) ? Category.Other : undefined)
  );
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
 * The EventBridge rule pattern for the whole catalogue: one `$or` branch per event source. A source whose
 * every event is Identity Center's is matched whatever the name (so tomorrow's names reach the pipeline too);
 * a shared source (`signin`) only by its listed names.
 */
export function eventBridgePattern(): Record<string, unknown> {
  return {
    source: [...new Set(catalogue.map((source) => source.eventBridgeSource))].sort(),
    detail: {
      $or: catalogue.map((source) =>
        source.everyEvent
          ? { eventSource: [source.eventSource] }
          : { eventSource: [source.eventSource], eventName: Object.keys(source.events).sort() },
      ),
    },
  };
}
