import {
  actorLookupValue,
  actorNameItems,
  actorNames,
  changeItems,
  changeRecordOf,
  PrivilegeKind,
  privilegeOf,
} from "@idc-audit/core/changes";
import {
  DEFAULT_DETECTION_CONFIG,
  evaluatePrivilegeGrants,
  type PrivilegeGrant,
} from "@idc-audit/core/detect";
import { Keys } from "@idc-audit/core/timeline";
import { describe, expect, it } from "vitest";
import { ALICE, BOB, loadEvent } from "../support/fixtures.ts";
import { normalized } from "../support/store.ts";

const STORE = BOB.identityStoreId;
const bob = { identityStoreId: STORE, userId: BOB.userId };
const DANA = "arn:aws:sts::111122223333:assumed-role/IdentityCenterAdmin/dana";

describe("directory change records", () => {
  it("reads whom a group membership added, to which group, by whom", () => {
    const { event } = normalized(loadEvent("admin/CreateGroupMembership__success.json"));
    expect(changeRecordOf(event)).toEqual({
      eventId: event.eventId,
      eventTime: "2026-07-01T00:09:41Z",
      eventSource: event.eventSource,
      eventName: "CreateGroupMembership",
      actor: { principal: DANA },
      identityStoreId: STORE,
      user: { identityStoreId: STORE, userId: ALICE.userId },
      group: { identityStoreId: STORE, groupId: "aaa6373a-a1a8-487e-ac4e-11e5c638e487" },
      membershipId: "5de82414-b69c-48ed-a665-623927d977c4",
      sourceIp: "198.51.100.14",
    });
  });

  it("reads an account assignment's person from its principal, in the directory's store", () => {
    const { event } = normalized(loadEvent("admin/CreateAccountAssignment__success.json"));
    const record = changeRecordOf(event, STORE);
    expect(record).toMatchObject({
      user: bob,
      accountId: "444455556666",
      permissionSetArn: "arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-5f3e1a2b3c4d5e6f",
    });
    expect(record?.group).toBeUndefined();
    // Without a store to put the principal in, the person cannot be keyed: the change still has its actor.
    expect(changeRecordOf(event)?.user).toBeUndefined();
    expect(privilegeOf(record as NonNullable<typeof record>)).toBe(PrivilegeKind.PermissionSet);
  });

  it("makes a person's own MFA device registration a change to them, made by them", () => {
    const { event } = normalized(loadEvent("new/CompleteVirtualMfaDeviceRegistration__success.json"));
    const record = changeRecordOf(event);
    expect(record?.user).toEqual(bob);
    expect(record?.actor.user).toEqual(bob);
    expect(privilegeOf(record as NonNullable<typeof record>)).toBe(PrivilegeKind.MfaDevice);
  });

  it("is not made for reads, failed calls or registration steps that change nothing yet", () => {
    for (const file of [
      "new/ListMfaDevicesForUser__success.json",
      "new/StartVirtualMfaDeviceRegistration__success.json",
      "new/CompleteVirtualMfaDeviceRegistration__failure.json",
      "admin/CreateGroup__failure.json",
      "new/Authenticate__success.json",
    ]) {
      expect(changeRecordOf(normalized(loadEvent(file)).event), file).toBeUndefined();
    }
  });

  it("never keeps a name AWS hid as an id", () => {
    const raw = loadEvent("admin/CreateGroup__success.json");
    const { event } = normalized({
      ...raw,
      responseElements: { groupId: "HIDDEN_DUE_TO_SECURITY_REASONS", identityStoreId: STORE },
    });
    expect(changeRecordOf(event)?.group).toBeUndefined();
  });

  it("indexes a change under the person, the group and the admin's ARN; the admin's other names point there", () => {
    const { event } = normalized(loadEvent("admin/CreateGroupMembership__success.json"));
    const record = changeRecordOf(event) as NonNullable<ReturnType<typeof changeRecordOf>>;
    const keys = changeItems(record).map((item) => `${item.pk} ${item.sk}`);
    const sort = `CHANGE#2026-07-01T00:09:41Z#${event.eventId}`;
    expect(keys.sort()).toEqual(
      [
        `USER#v1#${STORE}#${ALICE.userId} ${sort}`,
        `GROUP#v1#${STORE}#aaa6373a-a1a8-487e-ac4e-11e5c638e487 ${sort}`,
        `GROUPALIAS#v1#aaa6373a-a1a8-487e-ac4e-11e5c638e487 ${STORE}#aaa6373a-a1a8-487e-ac4e-11e5c638e487`,
        `ACTOR#v1#${DANA.toLowerCase()} ${sort}`,
      ].sort(),
    );
    expect(actorNameItems(record)).toEqual([
      { pk: "ACTOR#v1#identitycenteradmin", sk: `ARN#${DANA.toLowerCase()}`, type: "actor-name" },
      { pk: "ACTOR#v1#dana", sk: `ARN#${DANA.toLowerCase()}`, type: "actor-name" },
    ]);
  });

  it("stores a change a person made to themselves once, as a change to them", () => {
    const { event } = normalized(loadEvent("new/CompleteVirtualMfaDeviceRegistration__success.json"));
    const record = changeRecordOf(event) as NonNullable<ReturnType<typeof changeRecordOf>>;
    expect(record.user).toEqual(record.actor.user);
    expect(changeItems(record).map((item) => String(item.sk).replace(/#.*/, ""))).toEqual(["CHANGE"]);
  });
});

describe("change keys and actor names", () => {
  it("builds versioned keys", () => {
    expect(Keys.userChange(bob, "2026-07-01T00:00:00Z", "e1")).toEqual({
      pk: `USER#v1#${STORE}#${BOB.userId}`,
      sk: "CHANGE#2026-07-01T00:00:00Z#e1",
    });
    expect(Keys.userMadeChange(bob, "2026-07-01T00:00:00Z", "e1").sk).toBe("MADE#2026-07-01T00:00:00Z#e1");
    expect(Keys.groupProfile({ identityStoreId: STORE, groupId: "g1" })).toEqual({
      pk: `GROUP#v1#${STORE}#g1`,
      sk: "PROFILE",
    });
    expect(Keys.groupAlias("Prod Admins", { identityStoreId: STORE, groupId: "g1" })).toEqual({
      pk: "GROUPALIAS#v1#prod admins",
      sk: `${STORE}#g1`,
    });
    expect(Keys.membershipRemoval(STORE, "m1", "2026-07-01T00:00:00Z", "e2")).toEqual({
      pk: `MEMBERSHIP#v1#${STORE}#m1`,
      sk: "REMOVED#2026-07-01T00:00:00Z#e2",
    });
  });

  it("knows an admin by ARN, role and session name, or IAM user name", () => {
    expect(actorNames(DANA)).toEqual([DANA.toLowerCase(), "identitycenteradmin", "dana"]);
    expect(actorNames("arn:aws:iam::111122223333:user/ops/Terraform")).toEqual([
      "arn:aws:iam::111122223333:user/ops/terraform",
      "terraform",
    ]);
    expect(actorLookupValue("arn:aws:iam::111122223333:role/admin/IdentityCenterAdmin")).toBe(
      "identitycenteradmin",
    );
    expect(actorLookupValue("Dana")).toBe("dana");
  });
});

describe("privilege-granted-after-failures", () => {
  const success = { alertId: "saf-1", successTime: "2026-07-01T10:00:00Z" };
  const grant = (
    eventId: string,
    eventTime: string,
    relation: PrivilegeGrant["relation"] = "granted-to",
  ) => ({
    eventId,
    eventTime,
    eventName: "CreateGroupMembership",
    kind: PrivilegeKind.GroupMembership,
    relation,
    sourceIp: "198.51.100.14",
  });

  it("alerts on grants within 30 minutes after the success, one finding per success", () => {
    const findings = evaluatePrivilegeGrants(
      bob,
      [success],
      [grant("g2", "2026-07-01T10:29:59Z"), grant("g1", "2026-07-01T10:05:00Z", "made-by")],
      DEFAULT_DETECTION_CONFIG,
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      rule: "privilege-granted-after-failures",
      severity: "high",
      subject: { type: "user", ...bob },
      firstSeen: "2026-07-01T10:00:00Z",
      lastSeen: "2026-07-01T10:29:59Z",
      eventIds: ["g1", "g2"],
      afterAlertId: "saf-1",
    });
  });

  it("does not alert on grants before the success or more than 30 minutes after it", () => {
    const grants = [grant("early", "2026-07-01T09:59:59Z"), grant("late", "2026-07-01T10:30:01Z")];
    expect(evaluatePrivilegeGrants(bob, [success], grants, DEFAULT_DETECTION_CONFIG)).toEqual([]);
    expect(
      evaluatePrivilegeGrants(bob, [], [grant("g", "2026-07-01T10:01:00Z")], DEFAULT_DETECTION_CONFIG),
    ).toEqual([]);
  });

  it("gives the same finding whatever the order and duplication of its inputs", () => {
    const grants = [grant("a", "2026-07-01T10:01:00Z"), grant("b", "2026-07-01T10:02:00Z", "made-by")];
    const once = evaluatePrivilegeGrants(bob, [success], grants, DEFAULT_DETECTION_CONFIG);
    const again = evaluatePrivilegeGrants(
      bob,
      [success, success],
      [...grants].reverse().concat(grants),
      DEFAULT_DETECTION_CONFIG,
    );
    expect(again).toEqual(once);
  });
});
