import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { normalize } from "../../packages/core/src/normalize/index.ts";
import { normalizeRoleRecord, type RoleEvent } from "../../packages/core/src/roles/index.ts";
import {
  foreignRoleSession,
  hashString,
  hashStringPair,
  plantAttacks,
  SynthRoleSessionKind,
  synthDirectory,
  synthEvents,
  synthRoleSessions,
  writeArchive,
} from "../../packages/core/src/synth/index.ts";

type AnyRecord = Record<string, unknown>;

function take(options: Parameters<typeof synthEvents>[0]): AnyRecord[] {
  return [...synthEvents(options)];
}

function userIdentity(record: AnyRecord): AnyRecord {
  return (record.userIdentity ?? {}) as AnyRecord;
}

/** Every user id an event names: onBehalfOf, or the user fields of CreateTokenWithIAM. */
function namedUserIds(record: AnyRecord): string[] {
  const ids: string[] = [];
  const onBehalfOf = userIdentity(record).onBehalfOf as AnyRecord | undefined;
  if (typeof onBehalfOf?.userId === "string") ids.push(onBehalfOf.userId);
  const extra = record.additionalEventData as AnyRecord | undefined;
  if (typeof extra?.["identitystore:UserId"] === "string") ids.push(extra["identitystore:UserId"]);
  return ids;
}

describe("synthEvents", () => {
  it("gives the same records for the same seed and different ones for another seed", () => {
    // Prepare / Act
    const first = take({ events: 1500, seed: 42 });
    const second = take({ events: 1500, seed: 42 });
    const other = take({ events: 1500, seed: 43 });

    // Assess
    expect(second).toEqual(first);
    expect(other.map((r) => r.eventID)).not.toEqual(first.map((r) => r.eventID));
  });

  it("stops after exactly the requested number of records", () => {
    for (const events of [0, 1, 7, 1234]) {
      expect(take({ events, seed: 5 })).toHaveLength(events);
    }
  });

  it("gives every record a unique eventID", () => {
    const ids = take({ events: 30_000, seed: 11 }).map((r) => r.eventID);

    expect(new Set(ids).size).toBe(ids.length);
  });

  it("gives every record an eventID, an ISO eventTime, an eventSource and an eventName", () => {
    for (const record of synthEvents({ events: 5000, seed: 3 })) {
      expect(record.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(record.eventTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(record.eventSource).toMatch(/\.amazonaws\.com$/);
      expect(typeof record.eventName).toBe("string");
    }
  });

  it("writes each era's userIdentity shape, and new-era failed sign-ins without a user id", () => {
    const old = take({ events: 2000, seed: 8, eras: ["old"] });
    const fresh = take({ events: 4000, seed: 8, eras: ["new"], failureRate: 0.3 });

    const portalNames = ["Authenticate", "ListAccounts", "ListAccountRoles", "GetRoleCredentials", "Logout"];
    const oldPortal = old.filter(
      (r) => r.eventSource === "sso.amazonaws.com" && portalNames.includes(String(r.eventName)),
    );
    expect(oldPortal.length).toBeGreaterThan(0);
    for (const record of oldPortal) {
      expect(userIdentity(record)).toMatchObject({ type: "Unknown", userName: expect.any(String) });
      expect(userIdentity(record).onBehalfOf).toBeUndefined();
    }
    const failures = fresh.filter(
      (r) => (r.serviceEventDetails as AnyRecord | undefined)?.CredentialVerification === "Failure",
    );
    expect(failures.length).toBeGreaterThan(0);
    for (const record of failures) {
      expect(userIdentity(record)).toEqual({
        type: "Unknown",
        arn: "",
        accountId: "111122223333",
        accessKeyId: "",
      });
      expect(Object.keys(record.additionalEventData as AnyRecord).sort()).toEqual([
        "AuthWorkflowID",
        "CredentialType",
      ]);
    }
    const portal = fresh.filter(
      (r) => r.eventSource === "sso.amazonaws.com" && r.eventName === "ListAccounts",
    );
    for (const record of portal) {
      expect(userIdentity(record).type).toBe("IdentityCenterUser");
      expect(userIdentity(record).userName).toBeUndefined();
    }
  });

  it("keeps records inside the window that starts at `start`", () => {
    const start = Date.parse("2026-03-01T00:00:00Z");
    for (const record of synthEvents({ events: 3000, seed: 2, start: "2026-03-01T00:00:00Z", days: 2 })) {
      const time = Date.parse(String(record.eventTime));
      expect(time).toBeGreaterThanOrEqual(start);
      expect(time).toBeLessThan(start + 3 * 86_400_000);
    }
  });
});

describe("hashStringPair", () => {
  it("hashes two strings as hashString hashes them joined by a NUL, for every seed", () => {
    for (const [first, second] of [
      ["USER#v1#d-1#u-1", "EVENT#2025-01-01T00:00:00Z#e-1"],
      ["", ""],
      ["ALIAS#v1#josé", "ID#d-1#u-1"],
    ] as const)
      for (const seed of [0, 1, 2])
        expect(hashStringPair(first, second, seed)).toBe(hashString(`${first}\u0000${second}`, seed));
    expect(hashStringPair("a", "bc")).not.toBe(hashStringPair("ab", "c"));
  });
});

describe("synthDirectory", () => {
  it("lists every user id the events name, in the list-users format", () => {
    const options = { events: 8000, users: 12, seed: 21 };
    const directory = synthDirectory(options);
    const known = new Set(directory.Users.map((user) => user.UserId));

    const named = take(options).flatMap(namedUserIds);

    expect(directory.Users).toHaveLength(12);
    expect(named.length).toBeGreaterThan(0);
    for (const userId of named) expect(known).toContain(userId);
    for (const user of directory.Users) {
      expect(user).toMatchObject({
        UserName: expect.any(String),
        UserId: expect.stringMatching(
          /^([0-9a-f]{10}-)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        ),
        IdentityStoreId: "d-1234567890",
      });
    }
  });
});

describe("writeArchive", () => {
  it("writes gzipped CloudTrail log files in the S3 layout, holding every record once", async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), "idc-audit-synth-"));
    try {
      // Act
      const result = await writeArchive(dir, { events: 3000, seed: 17, recordsPerFile: 200 });

      // Assess
      const files = (await readdir(dir, { recursive: true }))
        .filter((name) => name.endsWith(".json.gz"))
        .sort();
      expect(result).toEqual({ files: files.length, records: 3000 });
      const layout =
        /^AWSLogs\/(\d{12})\/CloudTrail\/([a-z0-9-]+)\/(\d{4})\/(\d{2})\/(\d{2})\/\1_CloudTrail_\2_\d{8}T\d{4}Z_\d+\.json\.gz$/;
      const ids = new Set<unknown>();
      for (const file of files) {
        const path = file.split("\\").join("/");
        const match = layout.exec(path);
        expect(match, path).not.toBeNull();
        const [, account, region, year, month, day] = match ?? [];
        const { Records } = JSON.parse(gunzipSync(await readFile(join(dir, file))).toString("utf8")) as {
          Records: AnyRecord[];
        };
        expect(Records.length).toBeGreaterThan(0);
        expect(Records.length).toBeLessThanOrEqual(200);
        for (const record of Records) {
          expect(record.recipientAccountId).toBe(account);
          expect(record.awsRegion).toBe(region);
          expect(String(record.eventTime).slice(0, 10)).toBe(`${year}-${month}-${day}`);
          ids.add(record.eventID);
        }
      }
      expect(ids.size).toBe(3000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("synthEvents with role activity", () => {
  const ROLES = { events: 6000, users: 12, seed: 9, roleRatio: 2 };

  /** Every record read as CloudTrail's pipeline reads it: Identity Center, role session, or neither. */
  function classify(records: readonly AnyRecord[]) {
    const identityCenter: AnyRecord[] = [];
    const roles: { raw: AnyRecord; event: RoleEvent }[] = [];
    const rejected: string[] = [];
    for (const raw of records) {
      const result = normalize(raw);
      if (result.status === "audited") identityCenter.push(raw);
      else if (result.status === "ignored") {
        const role = normalizeRoleRecord(result.record);
        if (role.status === "role") roles.push({ raw, event: role.event });
        else if (role.status === "rejected") rejected.push(role.reason);
      } else rejected.push(result.reason);
    }
    return { identityCenter, roles, rejected };
  }

  it("gives the same records and the same ground truth for the same seed, others for another", () => {
    expect(take(ROLES)).toEqual(take(ROLES));
    expect(synthRoleSessions(ROLES)).toEqual(synthRoleSessions(ROLES));
    expect(take({ ...ROLES, seed: 10 }).map((r) => r.eventID)).not.toEqual(take(ROLES).map((r) => r.eventID));
  });

  it("stops after exactly the requested number of records, in time order, with unique event ids", () => {
    const records = take(ROLES);
    const times = records.map((r) => String(r.eventTime));

    expect(records).toHaveLength(ROLES.events);
    expect(times).toEqual([...times].sort());
    expect(new Set(records.map((r) => r.eventID)).size).toBe(records.length);
  });

  it("keeps the ratio of role-session records to Identity Center records it is given", () => {
    for (const roleRatio of [1, 2, 10]) {
      const { identityCenter, roles, rejected } = classify(take({ ...ROLES, roleRatio }));

      expect(rejected).toEqual([]);
      const ratio = roles.length / identityCenter.length;
      expect(ratio, `roleRatio ${roleRatio}`).toBeGreaterThan(roleRatio * 0.9);
      expect(ratio, `roleRatio ${roleRatio}`).toBeLessThan(roleRatio * 1.1);
    }
  });

  it("writes role-session records that idc-audit reads as role events, in the shapes AWS writes", () => {
    const { roles } = classify(take(ROLES));
    const issues = roles.filter(({ event }) => event.kind === "issue");
    const calls = roles.filter(({ event }) => event.kind === "call");

    expect(issues.length).toBeGreaterThan(20);
    for (const { raw, event } of issues) {
      // Identity Center calls STS itself, from an AWS address with the SDK for Java; the response names a key.
      expect(raw.userAgent).toMatch(/^aws-sdk-java\//);
      expect(raw.sourceIPAddress).toMatch(/^13\.239\./);
      expect(userIdentity(raw).type).toBe("SAMLUser");
      expect(event.issuedAccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(event.session.roleName).toMatch(/^AWSReservedSSO_[A-Za-z]+_[0-9a-f]{16}$/);
      expect(event.session.creationDate).toBe(raw.eventTime);
    }
    for (const { raw, event } of calls) {
      expect(userIdentity(raw).arn).toBe(
        `arn:aws:sts::${event.accountId}:assumed-role/${event.session.roleName}/${event.session.sessionName}`,
      );
      expect(event.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
      expect(event.eventTime >= event.session.creationDate).toBe(true);
    }
    const names = new Set(calls.map(({ event }) => `${event.eventSource} ${event.eventName}`));
    for (const name of [
      "s3.amazonaws.com ListBuckets",
      "s3.amazonaws.com GetObject",
      "ec2.amazonaws.com DescribeInstances",
      "iam.amazonaws.com ListRoles",
      "sts.amazonaws.com GetCallerIdentity",
      "cloudformation.amazonaws.com DescribeStacks",
      "signin.amazonaws.com GetSigninToken",
      "signin.amazonaws.com ConsoleLogin",
      "sts.amazonaws.com AssumeRole",
    ])
      expect(names).toContain(name);
    expect(calls.some(({ event }) => event.readOnly === false)).toBe(true);
    expect(calls.some(({ event }) => event.readOnly === true)).toBe(true);
    expect(calls.some(({ event }) => event.errorCode === "AccessDenied")).toBe(true);
    expect(calls.some(({ event }) => (event.resources ?? []).some((arn) => arn.startsWith("arn:aws:")))).toBe(
      true,
    );
    expect(new Set(calls.map(({ event }) => event.accountId)).size).toBeGreaterThanOrEqual(3);
    // Chained roles: an AssumeRole from the SSO session into a role that is not Identity Center's.
    const chained = calls.flatMap(({ event }) => (event.chained ? [event.chained] : []));
    expect(chained.length).toBeGreaterThan(0);
    for (const chain of chained) {
      expect(chain.session.roleName.startsWith("AWSReservedSSO_")).toBe(false);
      expect(chain.accessKeyId).toMatch(/^ASIA/);
    }
  });

  it("names the person on most role-session events since 2025, on none before", () => {
    const { roles } = classify(take({ ...ROLES, events: 20_000 }));
    const calls = roles.filter(({ event }) => event.kind === "call");
    const before = calls.filter(({ event }) => event.eventTime < "2025-01-01");
    const since = calls.filter(({ event }) => event.eventTime >= "2025-01-01");

    expect(before.length).toBeGreaterThan(100);
    expect(before.filter(({ event }) => event.user).length).toBe(0);
    const share = since.filter(({ event }) => event.user).length / since.length;
    expect(share).toBeGreaterThan(0.8);
    expect(share).toBeLessThan(0.95);
  });

  it("gives console sessions a new access key every few requests", () => {
    const sessions = synthRoleSessions(ROLES).filter(
      (session) => session.kind === SynthRoleSessionKind.Console && session.records > 12,
    );

    expect(sessions.length).toBeGreaterThan(0);
    for (const session of sessions) expect(session.accessKeyIds.length).toBeGreaterThanOrEqual(3);
  });

  it("states the ground truth: the grant in the stream, or none for sessions issued before the archive", () => {
    const records = take(ROLES);
    const byId = new Map(records.map((record) => [String(record.eventID), record]));
    const { roles } = classify(records);
    const sessions = synthRoleSessions(ROLES);
    const kinds = new Set(sessions.map((session) => session.kind));

    for (const kind of Object.values(SynthRoleSessionKind)) expect(kinds).toContain(kind);
    for (const session of sessions) {
      const events = roles.filter(({ event }) => event.roleSessionId === session.id);
      expect(events).toHaveLength(session.records);
      if (session.grantEventId === null) {
        expect(events.some(({ event }) => event.kind === "issue")).toBe(false);
        continue;
      }
      const grant = byId.get(session.grantEventId) as AnyRecord;
      expect(["GetRoleCredentials", "Federate"]).toContain(grant.eventName);
      expect(grant.eventTime).toBe(session.creationDate);
      expect(grant.serviceEventDetails).toEqual({
        role_name: session.permissionSet,
        account_id: session.accountId,
      });
      expect(userIdentity(grant).credentialId ?? null).toBe(session.credentialId);
    }
  });

  it("lists a re-hire: two users sharing an email, the session named by it naming nobody", () => {
    const directory = synthDirectory(ROLES);
    const emails = directory.Users.map((user) => (user.Emails as { Value: string }[])[0]?.Value);
    const shared = emails.filter((email, index) => emails.indexOf(email) !== index);
    const [rehire] = synthRoleSessions(ROLES).filter(
      (session) => session.kind === SynthRoleSessionKind.Rehire,
    );
    const { roles } = classify(take(ROLES));

    expect(directory.Users).toHaveLength(ROLES.users + 2);
    expect(shared).toHaveLength(1);
    expect(rehire?.sessionName).toBe(shared[0]);
    const events = roles.filter(({ event }) => event.roleSessionId === rehire?.id);
    expect(events.length).toBeGreaterThan(0);
    for (const { event } of events) expect(event.user).toBeUndefined();
  });

  it("keeps the stream without role activity as it was: roleRatio 0 is the default", () => {
    expect(take({ events: 2000, seed: 4 })).toEqual(take({ events: 2000, seed: 4, roleRatio: 0 }));
    expect(synthDirectory({ events: 0, users: 7, seed: 4 }).Users).toHaveLength(7);
    expect(synthRoleSessions({ events: 2000, seed: 4 })).toEqual([]);
  });
});

describe("plantAttacks with role sessions", () => {
  it("plants a stolen-credential use from an address its portal session never had, and two look-alikes", () => {
    const plain = plantAttacks({ users: 60, seed: 21 });
    const planted = plantAttacks({ users: 60, seed: 21, roleSessions: true });
    const [stolen] = planted.expected.filter((alert) => alert.rule === "role-credentials-new-address");

    expect(plain.expected.map((alert) => alert.rule)).not.toContain("role-credentials-new-address");
    expect(planted.records.slice(0, plain.records.length)).toEqual(plain.records);
    expect(planted.decoys.length).toBe(plain.decoys.length + 2);
    expect(stolen?.roleSessionId).toMatch(/^rs-[0-9a-f]{24}$/);
    const roleEvents = planted.records.flatMap((raw) => {
      const result = normalize(raw);
      if (result.status !== "ignored") return [];
      const role = normalizeRoleRecord(result.record);
      return role.status === "role" ? [role.event] : [];
    });
    const addresses = new Set(
      roleEvents
        .filter((event) => event.roleSessionId === stolen?.roleSessionId && event.kind === "call")
        .map((event) => event.sourceIp),
    );
    const portalAddresses = new Set(
      planted.records
        .filter(
          (raw) => raw.eventSource === "sso.amazonaws.com" || raw.eventSource === "signin.amazonaws.com",
        )
        .map((raw) => raw.sourceIPAddress),
    );
    expect(addresses).toContain("198.18.0.80");
    expect(portalAddresses).not.toContain("198.18.0.80");
    expect([...addresses].filter((address) => !portalAddresses.has(address))).toEqual(["198.18.0.80"]);
  });
});

describe("a role session used from another address (the benchmark's)", () => {
  it("is one role session, issued by the portal session's grant, every call of it from the other address", () => {
    const session = foreignRoleSession({
      calls: 50,
      everyMs: 2000,
      seed: 23,
      sourceIp: "192.0.2.77",
      start: "2026-11-20T08:00:00Z",
    });
    const portal = session.signIn.map((record) => normalize(record));
    const grant = portal.flatMap((result) => (result.status === "audited" ? [result.record.event] : []));
    expect(grant.map((event) => event.eventName)).toEqual([
      "CredentialChallenge",
      "CredentialVerification",
      "UserAuthentication",
      "Authenticate",
      "GetRoleCredentials",
    ]);
    const events = session.roleSession.map((record) => {
      const read = normalize(record);
      const result = read.status === "ignored" ? normalizeRoleRecord(read.record) : undefined;
      if (result?.status !== "role") throw new Error(`a record of the role session was ${read.status}`);
      return result.event;
    });
    expect(new Set(events.map((event) => event.roleSessionId)).size).toBe(1);
    expect(events.map((event) => event.kind)).toEqual(["issue", ...Array.from({ length: 50 }, () => "call")]);
    const calls = events.slice(1);
    expect(new Set(calls.map((event) => event.sourceIp))).toEqual(new Set(["192.0.2.77"]));
    expect(grant.every((event) => event.sourceIp !== "192.0.2.77")).toBe(true);
    expect(calls.map((event) => event.eventTime)).toEqual([...calls.map((event) => event.eventTime)].sort());
    expect(session.directory.Users).toHaveLength(1);
  });
});
