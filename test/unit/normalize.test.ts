import { auditedEvents } from "@idc-audit/core/cloudtrail";
import { HIDDEN, identityStoreIdFromArn, normalize } from "@idc-audit/core/normalize";
import { describe, expect, it } from "vitest";
import { BOB, fixtureFiles, identityCenterFixtures, loadEvent } from "../support/fixtures.ts";

function audited(path: string) {
  const result = normalize(loadEvent(path));
  if (result.status !== "audited") throw new Error(`${path} was ${result.status}: ${JSON.stringify(result)}`);
  return result.record;
}

describe("normalize", () => {
  it.each(identityCenterFixtures())("audits %s", (path) => {
    const { event } = audited(path);
    const raw = loadEvent(path);
    expect(event.eventId).toBe(raw.eventID);
    expect(event.eventName).toBe(raw.eventName);
    expect(event.outcome).toBe(path.includes("__failure") ? "failure" : "success");
  });

  it("has fixtures for every sign-in, portal and token event name in all three shapes", () => {
    // The device flow's first steps are called by a client before anyone signs in: no user, so no shapes.
    const beforeSignIn = new Set(["RegisterClient", "StartDeviceAuthorization"]);
    const names = auditedEvents()
      .filter((entry) => ["sign-in", "portal", "token"].includes(entry.category))
      .map((entry) => entry.eventName)
      .filter((name) => !beforeSignIn.has(name));
    for (const shape of ["old", "transitional", "new"]) {
      const files = fixtureFiles(shape).map((file) => file.split("/")[1]?.split("__")[0]);
      for (const name of new Set(names)) expect(files, `${shape}/${name}`).toContain(name);
    }
  });

  it.each(fixtureFiles("ignored"))("ignores other services' event %s", (path) => {
    expect(normalize(loadEvent(path)).status).toBe("ignored");
  });

  it("gives the same user key to the new and the transitional shape of one person", () => {
    const fresh = audited("new/ListAccounts__success.json").event;
    const transitional = audited("transitional/ListAccounts__success.json").event;
    expect(fresh.actor.user).toEqual({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    expect(transitional.actor.user).toEqual(fresh.actor.user);
    expect(fresh.shape).toBe("new");
    expect(transitional.shape).toBe("transitional");
    // The transitional shape also carries the name: it teaches the name → id mapping.
    expect(transitional.actor.userName).toBe(BOB.userName);
  });

  it("leaves old-shape portal events to be resolved by name", () => {
    const { event } = audited("old/ListAccounts__success.json");
    expect(event.shape).toBe("old");
    expect(event.actor.user).toBeUndefined();
    expect(event.actor.userName).toBe(BOB.userName);
  });

  it("reads the outcome of sign-in events from serviceEventDetails", () => {
    expect(audited("new/CredentialVerification__failure.json").event.outcome).toBe("failure");
    expect(audited("new/CredentialVerification__success.json").event.outcome).toBe("success");
  });

  it("reads the outcome of other events from errorCode", () => {
    const { event } = audited("new/GetRoleCredentials__failure.json");
    expect(event.outcome).toBe("failure");
    expect(event.errorCode).toBeTruthy();
  });

  it("takes the target account and role from serviceEventDetails", () => {
    const { event } = audited("new/GetRoleCredentials__success.json");
    const raw = loadEvent("new/GetRoleCredentials__success.json").serviceEventDetails as Record<
      string,
      string
    >;
    expect(event.accountId).toBe(raw.account_id);
    expect(event.roleName).toBe(raw.role_name);
  });

  it("keeps the typed name of a failed sign-in out of the event, beside it for resolution only", () => {
    const record = audited("new/CredentialChallenge__success__failed-password.json");
    expect(record.typedUserName).toBe(BOB.userName);
    expect(JSON.stringify(record.event)).not.toContain(BOB.userName);
  });

  it("never treats HIDDEN_DUE_TO_SECURITY_REASONS as a user name", () => {
    const record = audited("new/CredentialChallenge__success__hidden-username.json");
    expect(record.typedUserName).toBeUndefined();
    expect(record.event.actor.kind).toBe("unknown");
    expect(JSON.stringify(record)).not.toContain(HIDDEN);
  });

  it("drops the LoginTo query string with its one-time codes, keeping the host", () => {
    const raw = loadEvent("aws-docs/awsdocs-ssoug-2025__UserAuthentication__3.json");
    const result = normalize(raw);
    if (result.status !== "audited") throw new Error("not audited");
    const stored = JSON.stringify(result.record.event);
    expect(stored).not.toContain("auth_code");
    expect(stored).not.toContain("wdc_csrf_token");
    expect(result.record.event.loginToHost).toBe("d-1234567890.awsapps.com");
    expect(result.record.event.credentialType).toBe("PASSWORD,TOTP");
  });

  it("keeps no token, secret or request body of CreateToken", () => {
    for (const path of ["new/CreateToken__success.json", "old/CreateToken__success.json"]) {
      const stored = JSON.stringify(audited(path).event);
      expect(stored).not.toContain(HIDDEN);
      expect(stored).not.toMatch(/deviceCode|clientSecret|accessToken|refreshToken/i);
    }
  });

  it("names the user of CreateTokenWithIAM from additionalEventData, not the application's role", () => {
    const { event } = audited("new/CreateTokenWithIAM__success.json");
    const extra = loadEvent("new/CreateTokenWithIAM__success.json").additionalEventData as Record<
      string,
      string
    >;
    expect(event.actor.user?.userId).toBe(extra["identitystore:UserId"]);
    expect(event.credentialId).toBe(extra["identitycenter:CredentialId"]);
    expect(event.actor.principal).toMatch(/assumed-role/);
  });

  it("treats admin principals as actors of their own kind", () => {
    const { event } = audited("admin/CreateGroup__success.json");
    expect(event.actor.kind).toBe("admin");
    expect(event.category).toBe("directory-admin");
    expect(event.actor.user).toBeUndefined();
  });

  it("rejects records missing a required field, naming it", () => {
    const event = loadEvent("new/ListAccounts__success.json");
    delete event.eventTime;
    const result = normalize(event);
    expect(result).toMatchObject({ status: "rejected", reason: expect.stringContaining("eventTime") });
  });

  it("rejects oversized identifiers instead of storing them", () => {
    const event = loadEvent("new/ListAccounts__success.json");
    event.eventID = "x".repeat(10_000);
    expect(normalize(event).status).toBe("rejected");
  });

  it("classifies an event by its source and name together, as the catalogue lists them", () => {
    const categoryFrom = (fixture: string, eventSource: string) => {
      const event = loadEvent(fixture);
      event.eventSource = eventSource;
      const result = normalize(event);
      return result.status === "audited" ? result.record.event.category : result.status;
    };
    // One name, two sources that both carry it.
    expect(categoryFrom("new/CreateToken__success.json", "sso.amazonaws.com")).toBe("token");
    expect(categoryFrom("new/CreateToken__success.json", "sso-oauth.amazonaws.com")).toBe("token");
    // A name from an Identity Center source that does not list it is kept as `other`; other services ignored.
    expect(categoryFrom("new/ListAccounts__success.json", "sso.amazonaws.com")).toBe("portal");
    expect(categoryFrom("new/ListAccounts__success.json", "sso-oauth.amazonaws.com")).toBe("other");
    expect(categoryFrom("new/ListAccounts__success.json", "s3.amazonaws.com")).toBe("ignored");
    expect(categoryFrom("new/ListMfaDevicesForUser__success.json", "sso-directory.amazonaws.com")).toBe(
      "mfa-device",
    );
    expect(categoryFrom("new/ListMfaDevicesForUser__success.json", "sso.amazonaws.com")).toBe("other");
  });

  it.each([
    "sso.amazonaws.com",
    "sso-oauth.amazonaws.com",
    "sso-directory.amazonaws.com",
    "identitystore.amazonaws.com",
    "identitystore-scim.amazonaws.com",
  ])("keeps an event name %s added tomorrow as `other`, with its actor, session and address", (source) => {
    // Prepare: a new-shape portal event renamed to something no catalogue lists.
    const event = loadEvent("new/ListAccounts__success.json");
    event.eventSource = source;
    event.eventName = "ListSomethingAwsAddedTomorrow";
    // Act
    const result = normalize(event);
    // Assess
    if (result.status !== "audited") throw new Error(`not kept: ${JSON.stringify(result)}`);
    const kept = result.record.event;
    expect(kept).toMatchObject({
      eventSource: source,
      eventName: "ListSomethingAwsAddedTomorrow",
      category: "other",
      shape: "new",
      actor: { kind: "user", user: { identityStoreId: BOB.identityStoreId, userId: BOB.userId } },
    });
    expect(kept.credentialId).toBeDefined();
    expect(kept.sourceIp).toBeDefined();
  });

  it("reads only the three Identity Center names of signin.amazonaws.com (console sign-in is IAM's)", () => {
    const event = loadEvent("new/UserAuthentication__success.json");
    for (const eventName of ["ConsoleLogin", "GetSigninToken", "SomethingNew"]) {
      expect(normalize({ ...event, eventName }).status, eventName).toBe("ignored");
    }
  });

  it("stores an unknown name that is a URL without its query string (portal URLs carry one-time codes)", () => {
    const event = loadEvent("old/ListAccounts__success.json");
    event.eventName = "https://portal.sso.us-east-1.amazonaws.com/auth?auth_code=secret&state=x#frag";
    const result = normalize(event);
    if (result.status !== "audited") throw new Error("not kept");
    expect(result.record.event.eventName).toBe("https://portal.sso.us-east-1.amazonaws.com/auth");
    expect(JSON.stringify(result.record.event)).not.toContain("secret");
  });

  it("stores any unknown name without what follows a ? or #, a path as much as a URL", () => {
    const event = loadEvent("old/ListAccounts__success.json");
    for (const [eventName, stored] of [
      ["/instance/appinstances?auth_code=secret", "/instance/appinstances"],
      ["appinstances#auth_code=secret", "appinstances"],
      ["?auth_code=secret", "?"],
    ] as const) {
      const result = normalize({ ...event, eventName });
      if (result.status !== "audited") throw new Error(`${eventName} not kept`);
      expect(result.record.event.eventName).toBe(stored);
      expect(JSON.stringify(result.record)).not.toContain("secret");
    }
  });

  it("rejects a sign-in whose verdict is neither Success nor Failure, never keeping its name as a success's", () => {
    const event = loadEvent("old/UserAuthentication__success.json");
    const typed = "TYPED-IN-THE-WRONG-FIELD";
    const identity = { ...(event.userIdentity as Record<string, unknown>), userName: typed };
    for (const serviceEventDetails of [
      undefined,
      '{"UserAuthentication":"Failure"',
      { UserAuthentication: "Failed" },
      { UserAuthentication: "" },
      { CredentialVerification: "Success" },
    ]) {
      const result = normalize({ ...event, userIdentity: identity, serviceEventDetails });
      expect(result, JSON.stringify(serviceEventDetails)).toMatchObject({
        status: "rejected",
        eventId: event.eventID,
        reason:
          "serviceEventDetails.UserAuthentication is neither Success nor Failure: a sign-in's outcome is unknown",
      });
      expect(JSON.stringify(result)).not.toContain(typed);
    }
    // Either verdict, in any case, is read; a failure's name is the typed one, never the actor's.
    for (const [verdict, outcome] of [
      ["SUCCESS", "success"],
      ["failure", "failure"],
    ] as const) {
      const result = normalize({
        ...event,
        userIdentity: identity,
        serviceEventDetails: { UserAuthentication: verdict },
      });
      if (result.status !== "audited") throw new Error(`${verdict} not kept`);
      expect(result.record.event.outcome).toBe(outcome);
      expect(result.record.event.actor.userName).toBe(outcome === "success" ? typed : undefined);
    }
  });

  it("reads the identity store id from its ARN", () => {
    expect(identityStoreIdFromArn("arn:aws:identitystore::111122223333:identitystore/d-1234567890")).toBe(
      "d-1234567890",
    );
    expect(identityStoreIdFromArn("arn:aws:iam::111122223333:role/x")).toBeUndefined();
  });
});
