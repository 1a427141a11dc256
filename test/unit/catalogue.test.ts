import { auditedEvents, catalogue, categorize, eventBridgePattern } from "@idc-audit/core/cloudtrail";
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

  it("categorizes by source and name together", () => {
    expect(categorize("signin.amazonaws.com", "CredentialVerification")).toBe("sign-in");
    expect(categorize("sso.amazonaws.com", "GetRoleCredentials")).toBe("portal");
    expect(categorize("sso-oauth.amazonaws.com", "CreateToken")).toBe("token");
    expect(categorize("identitystore.amazonaws.com", "DeleteMfaDeviceForUser")).toBe("mfa-device");
    expect(categorize("signin.amazonaws.com", "ConsoleLogin")).toBeUndefined();
    expect(categorize("sso-oauth.amazonaws.com", "ListAccounts")).toBeUndefined();
  });

  it("builds the EventBridge pattern from the catalogue, one branch per source", () => {
    const pattern = eventBridgePattern() as {
      source: string[];
      detail: { $or: { eventSource: string[] }[] };
    };
    expect(pattern.source).toEqual([
      "aws.identitystore",
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
