import {
  DescribeUserCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ResourceNotFoundException,
  ThrottlingException,
} from "@aws-sdk/client-identitystore";
import { ExportDirectory, IdentityStoreDirectory } from "@idc-audit/core/identity";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { BOB, loadEvent } from "../support/fixtures.ts";

const identityStore = mockClient(IdentitystoreClient);
afterEach(() => identityStore.reset());

const bob = { identityStoreId: BOB.identityStoreId, userId: BOB.userId };

function directory(sleeps: number[] = []) {
  return new IdentityStoreDirectory(new IdentitystoreClient({ region: "us-east-1" }), {
    identityStoreId: BOB.identityStoreId,
    requestsPerSecond: 1000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

describe("Identity Store directory", () => {
  it("maps DescribeUser to a profile with emails (primary first) and external ids", async () => {
    identityStore.on(DescribeUserCommand).resolves({
      UserId: BOB.userId,
      IdentityStoreId: BOB.identityStoreId,
      UserName: BOB.userName,
      DisplayName: "Bob Smith",
      Emails: [{ Value: "bob@home.example" }, { Value: BOB.userName, Primary: true }],
      ExternalIds: [{ Issuer: "https://example.okta.com", Id: "00u1" }],
    });
    const result = await directory().describe(bob);
    expect(result).toEqual({
      status: "found",
      profile: {
        ...bob,
        userName: BOB.userName,
        displayName: "Bob Smith",
        emails: [BOB.userName, "bob@home.example"],
        externalIds: [{ issuer: "https://example.okta.com", id: "00u1" }],
      },
    });
  });

  it("waits as long as ThrottlingException.RetryAfterSeconds asks, then succeeds", async () => {
    identityStore
      .on(DescribeUserCommand)
      .rejectsOnce(new ThrottlingException({ message: "slow down", $metadata: {}, RetryAfterSeconds: 7 }))
      .resolves({ UserId: BOB.userId, IdentityStoreId: BOB.identityStoreId, UserName: BOB.userName });
    const sleeps: number[] = [];
    const result = await directory(sleeps).describe(bob);
    expect(result.status).toBe("found");
    expect(sleeps).toContain(7000);
    expect(identityStore.commandCalls(DescribeUserCommand)).toHaveLength(2);
  });

  it("reports a deleted user as deleted, not as an error", async () => {
    identityStore
      .on(DescribeUserCommand)
      .rejects(new ResourceNotFoundException({ message: "gone", $metadata: {} }));
    expect(await directory().describe(bob)).toEqual({ status: "deleted" });
  });

  it("reports access denied as unavailable, so events are stored unenriched", async () => {
    identityStore
      .on(DescribeUserCommand)
      .rejects(Object.assign(new Error("denied"), { name: "AccessDeniedException" }));
    expect(await directory().describe(bob)).toMatchObject({ status: "unavailable" });
  });

  it("resolves a user name with GetUserId on the userName attribute", async () => {
    identityStore.on(GetUserIdCommand).resolves({ UserId: BOB.userId, IdentityStoreId: BOB.identityStoreId });
    expect(await directory().findByUserName(BOB.userName)).toEqual(bob);
    expect(identityStore.commandCalls(GetUserIdCommand)[0]?.args[0].input).toEqual({
      IdentityStoreId: BOB.identityStoreId,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: BOB.userName } },
    });
  });

  it("resolves an external id with GetUserId", async () => {
    identityStore.on(GetUserIdCommand).resolves({ UserId: BOB.userId, IdentityStoreId: BOB.identityStoreId });
    expect(await directory().findByExternalId({ issuer: "https://example.okta.com", id: "00u1" })).toEqual(
      bob,
    );
  });
});

describe("directory export", () => {
  it("reads the output of aws identitystore list-users", () => {
    const exported = ExportDirectory.fromJson(loadEvent("directory.json"));
    expect(exported.identityStoreId).toBe(BOB.identityStoreId);
  });

  it("finds users by name (any case), external id and key; unknown ids read as deleted", async () => {
    const exported = ExportDirectory.fromJson(loadEvent("directory.json"));
    expect(await exported.findByUserName("BOBSMITH@example.com")).toEqual(bob);
    expect(
      await exported.findByExternalId({ issuer: "https://example.okta.com", id: "00u1abcdEFGHijkl2345" }),
    ).toEqual(bob);
    expect(await exported.describe({ ...bob, userId: "nobody" })).toEqual({ status: "deleted" });
  });

  it("refuses a file that is not a list-users export, saying why", () => {
    expect(() => ExportDirectory.fromJson({ Groups: [] })).toThrow(/list-users/);
  });
});
