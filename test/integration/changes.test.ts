import {
  DescribeGroupCommand,
  DescribeUserCommand,
  IdentitystoreClient,
  ThrottlingException,
} from "@aws-sdk/client-identitystore";
import { ExportDirectory, IdentityStoreDirectory } from "@idc-audit/core/identity";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import type { Item } from "@idc-audit/core/timeline";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { ALICE, BOB, loadEvent } from "../support/fixtures.ts";
import { dumpTable, memoryRuntime, normalized } from "../support/store.ts";

const STORE = BOB.identityStoreId;
const GROUP_ID = "aaa6373a-a1a8-487e-ac4e-11e5c638e487";
const MEMBERSHIP_ID = "5de82414-b69c-48ed-a665-623927d977c4";
const DANA = "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/dana";
const bob = { identityStoreId: STORE, userId: BOB.userId };
const alice = { identityStoreId: STORE, userId: ALICE.userId };

const groupsExport = {
  Groups: [{ GroupId: GROUP_ID, IdentityStoreId: STORE, DisplayName: "Production admins" }],
};

function directory(): ExportDirectory {
  return ExportDirectory.merge([
    ExportDirectory.fromJson(loadEvent("directory.json")),
    ExportDirectory.fromJson(groupsExport),
  ]);
}

const admin = (name: string) => normalized(loadEvent(`admin/${name}.json`));

/** Alice leaves the group: the removal names only the membership id. */
function membershipRemoval(): NormalizedRecord {
  return normalized(membershipRemovalEvent());
}

function membershipRemovalEvent(): Record<string, unknown> {
  const raw = loadEvent("admin/CreateGroupMembership__success.json");
  return {
    ...raw,
    eventID: "7a1c0f52-0d44-4b6e-9a57-3f0d2b1c9e01",
    eventTime: "2026-07-01T00:12:00Z",
    eventName: "DeleteGroupMembership",
    requestParameters: { identityStoreId: STORE, membershipId: MEMBERSHIP_ID },
    responseElements: null,
  };
}

function allChanges(): NormalizedRecord[] {
  return [
    admin("CreateGroup__success"),
    admin("CreateGroup__failure"),
    admin("UpdateGroup__success"),
    admin("CreateGroupMembership__success"),
    admin("CreatePermissionSet__success"),
    admin("CreateAccountAssignment__success"),
    admin("DeleteUser__success"),
    normalized(loadEvent("new/CompleteVirtualMfaDeviceRegistration__success.json")),
    normalized(loadEvent("new/ListMfaDevicesForUser__success.json")),
    membershipRemoval(),
  ];
}

/** The change index of a table: what must not depend on delivery order. */
async function changeItems(runtime: Awaited<ReturnType<typeof memoryRuntime>>) {
  return (await dumpTable(runtime)).filter(
    (item) =>
      /^(ACTOR|GROUP|GROUPALIAS|MEMBERSHIP)#|^USER#/.test(String(item.pk)) &&
      !/^(PROFILE|EVENT#|ROLE)/.test(String(item.sk)),
  );
}

describe("directory changes, explained", () => {
  it("shows each change on the person it changed, newest first, with the admin who made it", async () => {
    const runtime = await memoryRuntime(directory());
    try {
      await runtime.pipeline.ingest(allChanges());
      const bobChanges = await runtime.changeQueries.userChanges(bob);
      expect(bobChanges.map((change) => [change.eventName, change.eventTime])).toEqual([
        ["CreateAccountAssignment", "2026-07-01T00:10:30Z"],
        ["CompleteVirtualMfaDeviceRegistration", "2026-07-01T00:05:09Z"],
      ]);
      expect(bobChanges[0]).toMatchObject({
        actor: DANA,
        permissionSet: "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-5f3e1a2b3c4d5e6f",
        accountId: "444455556666",
        user: { ...bob, userName: BOB.userName },
      });
      // Bob registered his own device: he is the actor, named.
      expect(bobChanges[1]?.actorUser).toEqual({ ...bob, userName: BOB.userName });

      // Alice was added to the group, then removed (the removal named only the membership id).
      const aliceChanges = await runtime.changeQueries.userChanges(alice);
      expect(aliceChanges.map((change) => change.eventName)).toEqual([
        "DeleteGroupMembership",
        "CreateGroupMembership",
      ]);
      for (const change of aliceChanges) {
        expect(change.group).toEqual({ groupId: GROUP_ID, displayName: "Production admins" });
        expect(change.actor).toBe(DANA);
      }
    } finally {
      await runtime.close();
    }
  });

  it("answers a group by id or display name: who was added, when, by whom", async () => {
    const runtime = await memoryRuntime(directory());
    try {
      await runtime.pipeline.ingest(allChanges());
      expect(await runtime.changeQueries.findGroups("PRODUCTION ADMINS")).toEqual([
        { identityStoreId: STORE, groupId: GROUP_ID },
      ]);
      expect(await runtime.changeQueries.findGroups(GROUP_ID)).toHaveLength(1);
      const report = await runtime.changeQueries.group({ identityStoreId: STORE, groupId: GROUP_ID });
      expect(report.group).toMatchObject({ displayName: "Production admins", status: "enriched" });
      // The failed CreateGroup changed nothing and is not listed.
      expect(report.changes.map((change) => change.eventName)).toEqual([
        "DeleteGroupMembership",
        "CreateGroupMembership",
        "UpdateGroup",
        "CreateGroup",
      ]);
      expect(report.changes[1]?.user).toEqual({ ...alice, userName: ALICE.userName });
    } finally {
      await runtime.close();
    }
  });

  it("lists an administrator's changes by ARN, role name or session name", async () => {
    const runtime = await memoryRuntime(directory());
    try {
      await runtime.pipeline.ingest(allChanges());
      const byArn = await runtime.changeQueries.actorChanges(DANA);
      // Seven successful changes; the failed CreateGroup is not one.
      expect(byArn.changes).toHaveLength(7);
      expect(byArn.changes[0]?.eventName).toBe("DeleteGroupMembership");
      const bySession = await runtime.changeQueries.actorChanges("Dana");
      expect(bySession.changes.map((change) => change.eventId)).toEqual(
        byArn.changes.map((change) => change.eventId),
      );
      const byRole = await runtime.changeQueries.actorChanges(
        "arn:aws:iam::111122223333:role/IdentityCenterAdmin",
      );
      expect(byRole.changes).toHaveLength(7);
      // A person's own changes (their MFA device) are found by their name.
      const byBob = await runtime.changeQueries.actorChanges(BOB.userName);
      expect(byBob.changes.map((change) => change.eventName)).toEqual([
        "CompleteVirtualMfaDeviceRegistration",
      ]);
      // Stored once, as a change to Bob; a table written before 2026-12-02 also holds it as one Bob made.
      const [mfa] = (await dumpTable(runtime)).filter(
        (item) => item.type === "user-change" && String(item.data).includes("CompleteVirtualMfaDevice"),
      );
      expect((await dumpTable(runtime)).filter((item) => item.type === "user-made-change")).toEqual([]);
      await runtime.store.putAll([
        {
          ...(mfa as Item),
          sk: String((mfa as Item).sk).replace("CHANGE#", "MADE#"),
          type: "user-made-change",
        },
      ]);
      expect((await runtime.changeQueries.actorChanges(BOB.userName)).changes).toHaveLength(1);
      expect((await runtime.changeQueries.actorChanges("nobody")).changes).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it("stores an administrator's change once, under its ARN, and still reads tables that hold it under each name", async () => {
    const runtime = await memoryRuntime(directory());
    try {
      await runtime.pipeline.ingest([admin("CreateGroup__success"), admin("UpdateGroup__success")]);
      const actorItems = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ACTOR#"));
      // Two changes under the ARN; the role and session names once each, pointing at it.
      expect(actorItems.map((item) => `${item.pk} ${String(item.sk).replace(/#.*/, "")}`).sort()).toEqual([
        `ACTOR#v1#${DANA.toLowerCase()} CHANGE`,
        `ACTOR#v1#${DANA.toLowerCase()} CHANGE`,
        "ACTOR#v1#dana ARN",
        "ACTOR#v1#identitycenteradmin ARN",
      ]);
      // A third change by the same administrator: its names are not written again (nor are they by a second
      // pipeline, a process of its own, which writes them once itself).
      const writtenBy = async (pipeline: typeof runtime.pipeline) => {
        const put = runtime.store.putAll.bind(runtime.store);
        const written: Item[] = [];
        runtime.store.putAll = async (items) => {
          written.push(...items);
          return put(items);
        };
        try {
          await pipeline.ingest([admin("CreateGroupMembership__success")]);
        } finally {
          runtime.store.putAll = put;
        }
        return written.filter((item) => item.type === "actor-name" || item.type === "actor-change");
      };
      expect((await writtenBy(runtime.pipeline)).map((item) => item.type)).toEqual(["actor-change"]);
      expect((await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ACTOR#"))).toHaveLength(
        5,
      );

      // A table written before names pointed at the ARN: the change under the session name itself.
      const [change] = actorItems.filter((item) => String(item.sk).startsWith("CHANGE#"));
      await runtime.store.putAll([{ ...(change as Item), pk: "ACTOR#v1#olddana" }]);
      const old = await runtime.changeQueries.actorChanges("OldDana");
      expect(old.changes.map((view) => view.eventId)).toEqual([(change as Item).sk.split("#").pop()]);
      expect((await runtime.changeQueries.actorChanges("dana")).changes).toHaveLength(3);
    } finally {
      await runtime.close();
    }
  });

  it("writes the same change index in either order for a removal that joins later and for ARNs differing in case", async () => {
    const asAlice = (raw: Record<string, unknown>): NormalizedRecord => {
      const identity = raw.userIdentity as Record<string, unknown>;
      return normalized({
        ...raw,
        userIdentity: {
          ...identity,
          onBehalfOf: {
            userId: ALICE.userId,
            identityStoreArn: `arn:aws:identitystore::111122223333:identitystore/${STORE}`,
          },
        },
      });
    };
    const byArn = (eventId: string, arn: string) => {
      const raw = loadEvent("admin/CreateGroup__success.json");
      return normalized({ ...raw, eventID: eventId, userIdentity: { ...(raw.userIdentity as object), arn } });
    };
    // Alice adds herself to the group and removes herself: the removal names her only through the join.
    const self = [
      asAlice(loadEvent("admin/CreateGroupMembership__success.json")),
      asAlice(membershipRemovalEvent()),
    ];
    expect(self[0]?.event.actor.user).toEqual(alice);
    const cased = [
      byArn("e1", "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/Dana@Example.com"),
      byArn("e2", "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/dana@example.com"),
    ];
    const tables = [];
    for (const order of [[...self, ...cased], [...self, ...cased].reverse()]) {
      const runtime = await memoryRuntime(directory());
      try {
        for (const record of order) await runtime.pipeline.ingest([record]);
        tables.push(await changeItems(runtime));
      } finally {
        await runtime.close();
      }
    }
    expect(tables[1]).toEqual(tables[0]);
  });

  it("joins a membership removal to its person with no directory at all (the events name the store)", async () => {
    const runtime = await memoryRuntime();
    try {
      await runtime.pipeline.ingest([membershipRemoval()]);
      await runtime.pipeline.ingest([admin("CreateGroupMembership__success")]);
      const changes = await runtime.changeQueries.userChanges(alice);
      expect(changes.map((change) => change.eventName)).toEqual([
        "DeleteGroupMembership",
        "CreateGroupMembership",
      ]);
      // No directory named the group: its id stands.
      expect(changes[0]?.group).toEqual({ groupId: GROUP_ID, displayName: null });
    } finally {
      await runtime.close();
    }
  });

  it("builds the same change index whatever the order, the batching and the duplicates", async () => {
    const records = allChanges();
    const reference = await memoryRuntime(directory());
    await reference.pipeline.ingest(records);
    const expected = await changeItems(reference);
    await reference.close();
    expect(expected.length).toBeGreaterThan(20);

    const reversed = await memoryRuntime(directory());
    try {
      // The removal first, alone; then everything else one by one, backwards, then all again.
      for (const record of [...records].reverse()) await reversed.pipeline.ingest([record]);
      await reversed.pipeline.ingest([...records, ...records]);
      expect(await changeItems(reversed)).toEqual(expected);
    } finally {
      await reversed.close();
    }
  });
});

describe("group names from Identity Store", () => {
  const identityStore = mockClient(IdentitystoreClient);
  afterEach(() => identityStore.reset());

  it("asks DescribeGroup once per group, waiting out throttling, and names the group", async () => {
    identityStore
      .on(DescribeGroupCommand)
      .rejectsOnce(new ThrottlingException({ message: "slow down", $metadata: {}, RetryAfterSeconds: 2 }))
      .resolves({ GroupId: GROUP_ID, IdentityStoreId: STORE, DisplayName: "Production admins" });
    identityStore.on(DescribeUserCommand).resolves({ UserId: ALICE.userId, UserName: ALICE.userName });
    const sleeps: number[] = [];
    const live = new IdentityStoreDirectory(new IdentitystoreClient({ region: "us-east-1" }), {
      identityStoreId: STORE,
      requestsPerSecond: 1000,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const runtime = await memoryRuntime(live);
    try {
      await runtime.pipeline.ingest([admin("CreateGroup__success"), admin("UpdateGroup__success")]);
      await runtime.pipeline.ingest([admin("CreateGroupMembership__success")]);
      // One group, three events: one successful DescribeGroup (plus the throttled attempt).
      expect(identityStore.commandCalls(DescribeGroupCommand)).toHaveLength(2);
      expect(sleeps).toContain(2000);
      const [change] = await runtime.changeQueries.userChanges(alice);
      expect(change?.group).toEqual({ groupId: GROUP_ID, displayName: "Production admins" });
    } finally {
      await runtime.close();
    }
  });
});
