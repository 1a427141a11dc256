import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeGroupCommand,
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

  it("refuses a file that is neither a list-users nor a list-groups export, saying why", () => {
    expect(() => ExportDirectory.fromJson({ Things: [] })).toThrow(
      /neither .*list-users.* nor .*list-groups/,
    );
    expect(() => ExportDirectory.fromJson({ Groups: [{ DisplayName: "no id" }] })).toThrow(
      /list-groups.*Groups\.0\.GroupId/,
    );
  });

  it("reads a list-groups export: groups by id, users none", async () => {
    const groups = ExportDirectory.fromJson({
      Groups: [
        {
          GroupId: "g-1",
          IdentityStoreId: BOB.identityStoreId,
          DisplayName: "Admins",
          Description: "break glass",
        },
      ],
    });
    expect(await groups.describeGroup({ identityStoreId: BOB.identityStoreId, groupId: "g-1" })).toEqual({
      status: "found",
      profile: {
        identityStoreId: BOB.identityStoreId,
        groupId: "g-1",
        displayName: "Admins",
        description: "break glass",
        externalIds: [],
      },
    });
    // Not listed is not the same as deleted: only DescribeGroup can tell that.
    expect(
      await groups.describeGroup({ identityStoreId: BOB.identityStoreId, groupId: "g-2" }),
    ).toMatchObject({
      status: "unavailable",
    });
    expect(await groups.findByUserName(BOB.userName)).toBeUndefined();
    // Nor is a user it cannot list: a groups-only directory must not mark people deleted.
    expect(await groups.describe(bob)).toMatchObject({ status: "unavailable" });
  });

  it("merges --directory files told apart by content, whatever their names", async () => {
    const folder = mkdtempSync(join(tmpdir(), "idc-directory-"));
    const usersFile = join(folder, "groups.json");
    const groupsFile = join(folder, "users.json");
    writeFileSync(usersFile, JSON.stringify(loadEvent("directory.json")));
    writeFileSync(
      groupsFile,
      JSON.stringify({
        Groups: [{ GroupId: "g-1", IdentityStoreId: BOB.identityStoreId, DisplayName: "Admins" }],
      }),
    );
    const merged = await ExportDirectory.fromFiles([usersFile, groupsFile]);
    expect(merged.identityStoreId).toBe(BOB.identityStoreId);
    expect(await merged.findByUserName(BOB.userName)).toEqual(bob);
    expect(merged.groupCount).toBe(1);
    // With a list-users export among them, a user it does not list is gone.
    expect(await merged.describe({ ...bob, userId: "not-listed" })).toEqual({ status: "deleted" });
    const other = join(folder, "other.json");
    writeFileSync(other, JSON.stringify({ Accounts: [] }));
    await expect(ExportDirectory.fromFiles([usersFile, other])).rejects.toThrow(/other\.json is neither/);
  });
});

describe("Identity Store groups", () => {
  const group = { identityStoreId: BOB.identityStoreId, groupId: "9067b4a8-1001-70c2-aa61-1a2b3c4d5e6f" };

  it("names a group with DescribeGroup on the configured store", async () => {
    identityStore.on(DescribeGroupCommand).resolves({
      GroupId: group.groupId,
      IdentityStoreId: BOB.identityStoreId,
      DisplayName: "Production admins",
      ExternalIds: [{ Issuer: "https://example.okta.com", Id: "00g1" }],
    });
    expect(await directory().describeGroup(group)).toEqual({
      status: "found",
      profile: {
        ...group,
        displayName: "Production admins",
        externalIds: [{ issuer: "https://example.okta.com", id: "00g1" }],
      },
    });
    expect(identityStore.commandCalls(DescribeGroupCommand)[0]?.args[0].input).toEqual({
      IdentityStoreId: BOB.identityStoreId,
      GroupId: group.groupId,
    });
  });

  it("waits out ThrottlingException on DescribeGroup through the same pacer as users", async () => {
    identityStore
      .on(DescribeGroupCommand)
      .rejectsOnce(new ThrottlingException({ message: "slow down", $metadata: {}, RetryAfterSeconds: 3 }))
      .resolves({ GroupId: group.groupId, IdentityStoreId: BOB.identityStoreId, DisplayName: "Admins" });
    identityStore
      .on(DescribeUserCommand)
      .resolves({ UserId: BOB.userId, IdentityStoreId: BOB.identityStoreId });
    const sleeps: number[] = [];
    const live = directory(sleeps);
    expect((await live.describeGroup(group)).status).toBe("found");
    await live.describe(bob);
    expect(sleeps).toContain(3000);
    // Two DescribeGroup attempts and one DescribeUser, counted by one quota.
    expect(live.calls).toBe(3);
  });

  it("gives up after the throttling retries and reports the group unavailable, not deleted", async () => {
    identityStore
      .on(DescribeGroupCommand)
      .rejects(new ThrottlingException({ message: "slow down", $metadata: {}, RetryAfterSeconds: 1 }));
    const sleeps: number[] = [];
    expect(await directory(sleeps).describeGroup(group)).toMatchObject({
      status: "unavailable",
      reason: expect.stringMatching(/Throttling/),
    });
    expect(identityStore.commandCalls(DescribeGroupCommand)).toHaveLength(6);
  });

  it("reports a deleted group as deleted", async () => {
    identityStore
      .on(DescribeGroupCommand)
      .rejects(new ResourceNotFoundException({ message: "gone", $metadata: {} }));
    expect(await directory().describeGroup(group)).toEqual({ status: "deleted" });
  });
});
