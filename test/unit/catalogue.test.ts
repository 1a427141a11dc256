import {
  auditedEvents,
  catalogue,
  categorize,
  eventBridgePattern,
  storedCategory,
} from "@idc-audit/core/cloudtrail";
import { describe, expect, it } from "vitest";

describe("event catalogue", () => {
  it("covers every event the product promises", () => {
    const names = new Set(auditedEvents().map((entry) => `${entry.eventSource} ${entry.eventName}`));
    for (const name of ["CredentialChallenge", "CredentialVerification", "UserAuthentication"]) {
      expect(names).toContain(`signin.amazonaws.com ${name}`);
    }
    for (const name of [
      "Authenticate",
      "Federate",
      "ListAccounts",
      "ListAccountRoles",
      "ListApplications",
      "ListProfilesForApplication",
      "GetRoleCredentials",
      "Logout",
    ]) {
      expect(names).toContain(`sso.amazonaws.com ${name}`);
    }
    for (const source of ["sso.amazonaws.com", "sso-oauth.amazonaws.com"]) {
      expect(names).toContain(`${source} CreateToken`);
      expect(names).toContain(`${source} CreateTokenWithIAM`);
    }
    for (const source of ["sso-directory.amazonaws.com", "identitystore.amazonaws.com"]) {
      expect(names).toContain(`${source} StartWebAuthnDeviceRegistration`);
      expect(names).toContain(`${source} CreateGroup`);
      expect(names).toContain(`${source} AddMemberToGroup`);
    }
    expect(names).toContain("sso.amazonaws.com CreatePermissionSet");
  });

  it("names every event of the AWS Security Blog's table (seed 003), each under every source it gives", () => {
    // The table "relevant IAM Identity Center CloudTrail event groups, event sources, and event names".
    const table: [string[], string[]][] = [
      [
        ["sso.amazonaws.com"],
        [
          "Authenticate",
          "Federate",
          "ListAccountRoles",
          "ListAccounts",
          "ListApplications",
          "ListProfilesForApplication",
          "GetRoleCredentials",
          "Logout",
          "CreateToken",
        ],
      ],
      [["signin.amazonaws.com"], ["CredentialChallenge", "CredentialVerification", "UserAuthentication"]],
      [
        ["sso-directory.amazonaws.com", "identitystore.amazonaws.com"],
        [
          "ListMfaDevicesForUser",
          "DeleteMfaDeviceForUser",
          "UpdateMfaDeviceForUser",
          "StartWebAuthnDeviceRegistration",
          "StartVirtualMfaDeviceRegistration",
          "CompleteWebAuthnDeviceRegistration",
          "CompleteVirtualMfaDeviceRegistration",
          "CreateGroup",
          "UpdateGroup",
        ],
      ],
    ];
    for (const [sources, names] of table)
      for (const source of sources)
        for (const name of names) expect(categorize(source, name), `${source} ${name}`).toBeDefined();
  });

  it("names read-only administration calls as directory-read, kept apart from changes", () => {
    const reads: [string, string][] = [
      ["sso.amazonaws.com", "DescribePermissionsPolicies"],
      ["sso.amazonaws.com", "DescribePermissionSet"],
      ["sso.amazonaws.com", "ListPermissionSets"],
      ["sso.amazonaws.com", "ListAccountAssignments"],
      ["sso.amazonaws.com", "ListInstances"],
      ["identitystore.amazonaws.com", "DescribeUser"],
      ["identitystore.amazonaws.com", "ListUsers"],
      ["identitystore.amazonaws.com", "ListGroups"],
      ["identitystore.amazonaws.com", "DescribeGroup"],
      ["identitystore.amazonaws.com", "GetGroupId"],
      ["identitystore.amazonaws.com", "ListGroupMemberships"],
      ["sso-directory.amazonaws.com", "DescribeGroup"],
      ["identitystore-scim.amazonaws.com", "ListUsers"],
    ];
    for (const [source, name] of reads)
      expect(categorize(source, name), `${source} ${name}`).toBe("directory-read");
    expect(categorize("sso.amazonaws.com", "CreateAccountAssignment")).toBe("directory-admin");
    expect(categorize("identitystore-scim.amazonaws.com", "PatchUser")).toBe("directory-admin");
  });

  it("stores unknown names of Identity Center services as other, and ignores everything else", () => {
    for (const source of catalogue.filter((entry) => entry.everyEvent)) {
      expect(storedCategory(source.eventSource, "AnythingNew"), source.eventSource).toBe("other");
    }
    expect(storedCategory("signin.amazonaws.com", "ConsoleLogin")).toBeUndefined();
    expect(storedCategory("signin.amazonaws.com", "GetSigninToken")).toBeUndefined();
    expect(storedCategory("signin.amazonaws.com", "AnythingNew")).toBeUndefined();
    expect(storedCategory("s3.amazonaws.com", "ListBuckets")).toBeUndefined();
    expect(storedCategory("sso.amazonaws.com", "GetRoleCredentials")).toBe("portal");
  });

  it("categorizes by source and name together", () => {
    expect(categorize("signin.amazonaws.com", "CredentialVerification")).toBe("sign-in");
    expect(categorize("sso.amazonaws.com", "GetRoleCredentials")).toBe("portal");
    expect(categorize("sso-oauth.amazonaws.com", "CreateToken")).toBe("token");
    expect(categorize("identitystore.amazonaws.com", "DeleteMfaDeviceForUser")).toBe("mfa-device");
    expect(categorize("signin.amazonaws.com", "ConsoleLogin")).toBeUndefined();
    expect(categorize("sso-oauth.amazonaws.com", "ListAccounts")).toBeUndefined();
    expect(storedCategory("sso-oauth.amazonaws.com", "ListAccounts")).toBe("other");
  });

  it("builds the EventBridge pattern from the catalogue, one branch per source", () => {
    const pattern = eventBridgePattern() as {
      source: string[];
      detail: { $or: { eventSource: string[] }[] };
    };
    expect(pattern.source).toEqual([
      "aws.identitystore",
      "aws.identitystore-scim",
      "aws.signin",
      "aws.sso",
      "aws.sso-directory",
      "aws.sso-oauth",
    ]);
    expect(pattern.detail.$or.map((branch) => branch.eventSource[0])).toEqual(
      catalogue.map((s) => s.eventSource),
    );
  });
});
