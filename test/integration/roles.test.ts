import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ReadItem, readInputs } from "@idc-audit/core/cloudtrail";
import { ExportDirectory, type UserDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestBatch, ingestStream } from "@idc-audit/core/ingest";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import type { RoleEvent } from "@idc-audit/core/roles";
import type { Runtime } from "@idc-audit/core/runtime";
import { openRuntime } from "@idc-audit/core/runtime";
import { isoSeconds } from "@idc-audit/core/synth";
import type { Item, TableStore } from "@idc-audit/core/timeline";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { seededShuffle } from "../support/answers.ts";
import { deferred } from "../support/deferred.ts";
import { RecordingSink } from "../support/detect.ts";
import { BOB, eventsDir, loadEvent, publishedEventsDir } from "../support/fixtures.ts";
import {
  countItemsRead,
  dumpTable,
  fixtureDirectory,
  memoryRuntime,
  normalized,
  OutageDirectory,
} from "../support/store.ts";

const published = publishedEventsDir();
const CHAIN = [
  "blog-aidansteele__ListAccounts__1.json",
  "blog-aidansteele__ListAccountRoles__1.json",
  "blog-aidansteele__GetRoleCredentials__1.json",
  "blog-aidansteele__AssumeRoleWithSAML__1.json",
  "blog-aidansteele__GetCallerIdentity__1.json",
].map((name) => JSON.parse(readFileSync(join(published, name), "utf8")) as Record<string, unknown>);
const PORTAL_SESSION =
  "AAAAAGpEaIMIfeJrfG3s_yDz-3PQWeDwT9i9d62beJKyBZzks4jkECDTgbezwS8Wx7V8mHW9RyhiUxluexutOs";
const AIDAN = { identityStoreId: "d-976710cc5d", userId: "976710cc5d-9d976f61-3b89-4b98-88db-2ea3bbc1f3fa" };

/** A call of the published role session from another address, at 00:3<index>. */
function callFrom(sourceIPAddress: string, index: number): Record<string, unknown> {
  const call = CHAIN[4] as Record<string, unknown>;
  return {
    ...call,
    eventID: `22222222-0000-4000-8000-${String(index).padStart(12, "0")}`,
    eventTime: `2026-07-01T00:3${index}:00Z`,
    sourceIPAddress,
  };
}

/**
 * The published portal session's ListAccounts from another address (the person's own second one), at `eventTime`:
 * event `index` of such.
 */
function portalEventFrom(sourceIPAddress: string, eventTime: string, index: number): Record<string, unknown> {
  return {
    ...(CHAIN[0] as Record<string, unknown>),
    eventID: `33333333-0000-4000-8000-${String(index).padStart(12, "0")}`,
    eventTime,
    sourceIPAddress,
  };
}

/** Aidan as a `list-users` export lists him. */
const AIDAN_USER = {
  UserName: "aidan.steele@glassechidna.com.au",
  UserId: AIDAN.userId,
  IdentityStoreId: AIDAN.identityStoreId,
  DisplayName: "Aidan Steele",
};
const aidanDirectory = (users: readonly Record<string, unknown>[]) =>
  ExportDirectory.fromJson({ Users: users }, AIDAN.identityStoreId);

/**
 * The published role session as an older archive has it (no onBehalfOf: only its name says whose it is), with a
 * call from an address the portal session never used.
 */
function unnamedRoleSession(): Record<string, unknown>[] {
  return [CHAIN[3], callFrom("198.51.100.66", 1)].map((record) => {
    const { onBehalfOf: _, ...userIdentity } = (record as Record<string, unknown>).userIdentity as Record<
      string,
      unknown
    >;
    return { ...(record as Record<string, unknown>), userIdentity };
  });
}

const open: Runtime[] = [];
async function runtime(directory?: UserDirectory): Promise<Runtime> {
  const created = await memoryRuntime(directory);
  open.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((entry) => entry.close()));
});

interface Classified {
  readonly records: NormalizedRecord[];
  readonly roleEvents: RoleEvent[];
}

/** `count` more calls of the published chain's role session (`CHAIN[4]`'s), 10 s apart from 00:40, ids `<prefix>-…`. */
function moreCallsOfChainSession(count: number, idPrefix: string): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => ({
    ...(CHAIN[4] as Record<string, unknown>),
    eventID: `${idPrefix}-0000-4000-8000-${String(index).padStart(12, "0")}`,
    eventTime: isoSeconds(Date.parse("2026-07-01T00:40:00Z") + index * 10_000),
  }));
}

function classify(raws: readonly Record<string, unknown>[]): Classified {
  const records: NormalizedRecord[] = [];
  const roleEvents: RoleEvent[] = [];
  for (const raw of raws) {
    const result = classifyItem({ kind: "record", record: raw, location: "test" } as ReadItem);
    if (result.kind === "audited") records.push(result.record);
    else if (result.kind === "role") roleEvents.push(result.event);
    else throw new Error(`fixture ${String(raw.eventID)} was ${result.kind}`);
  }
  return { records, roleEvents };
}

describe("role sessions: the published portal session and its member-account role session", () => {
  it("links the role session exact to portal session AAAAAGpEaIMI… and answers its access keys with the person", async () => {
    // Prepare
    const store = await runtime();
    // Act
    await ingestBatch(store.pipeline, classify(CHAIN));
    const byCallKey = await store.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL");
    const byIssuedKey = await store.roleQueries.accessKey("ASIA52RQV423TWB3UWEE");
    const timeline = await store.roleQueries.sessionWithRoles(PORTAL_SESSION);
    // Assess
    expect(byCallKey?.roleSession).toMatchObject({
      accountId: "950363612855",
      permissionSet: "AdministratorAccess",
      sessionName: "aidan.steele@glassechidna.com.au",
      creationDate: "2026-07-01T00:08:20Z",
      link: "exact",
      attribution: "onBehalfOf",
      credentialId: PORTAL_SESSION,
      accessKeyIds: ["ASIA52RQV4232GGDZ2HL", "ASIA52RQV423TWB3UWEE"],
      eventCount: 2,
    });
    expect(byCallKey?.user).toMatchObject(AIDAN);
    expect(byCallKey?.credentialId).toBe(PORTAL_SESSION);
    expect(byIssuedKey?.roleSession.id).toBe(byCallKey?.roleSession.id);
    expect(timeline.roleSessions.map((view) => view.id)).toEqual([byCallKey?.roleSession.id]);
  });

  it("gives the same role session, link, alert and table whatever the order, duplication and batching", async () => {
    // Prepare: the chain and a use of its key from elsewhere (an alert), delivered in one ordered batch.
    const deliveredOnce = [...CHAIN, callFrom("198.51.100.66", 1)];
    const reference = await runtime();
    await ingestBatch(reference.pipeline, classify(deliveredOnce));
    expect((await reference.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    const expectedTable = await dumpTable(reference);
    const expected = await reference.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL");
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 4 }),
        async (seed, batchSize, duplicated) => {
          const store = await runtime();
          const deliveries = seededShuffle([...deliveredOnce, ...deliveredOnce.slice(0, duplicated)], seed);
          for (let start = 0; start < deliveries.length; start += batchSize)
            await ingestBatch(store.pipeline, classify(deliveries.slice(start, start + batchSize)));
          expect(await store.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL")).toEqual(expected);
          expect(await dumpTable(store)).toEqual(expectedTable);
          await store.close();
          open.splice(open.indexOf(store), 1);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("is unlinked when the portal session is outside the archive, and probable when the grant is 60 s away", async () => {
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const alone = await runtime();
    await ingestBatch(alone.pipeline, classify(member));
    expect((await alone.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL"))?.roleSession).toMatchObject({
      link: "unlinked",
      credentialId: null,
      attribution: "onBehalfOf",
    });
    const late = await runtime();
    const earlier = { ...grant, eventTime: "2026-07-01T00:07:20Z" };
    await ingestBatch(late.pipeline, classify([listAccounts, listRoles, earlier, ...member] as typeof CHAIN));
    expect((await late.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL"))?.roleSession).toMatchObject({
      link: "probable",
      credentialId: PORTAL_SESSION,
    });
  });

  it("writes one item per role-session event plus one per session and key when the session is long", async () => {
    // Prepare: 200 calls of one role session with one key, the way a CLI session looks.
    const [, , , , call] = CHAIN;
    const calls = Array.from({ length: 200 }, (_, index) => ({
      ...call,
      eventID: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
      eventTime: `2026-07-01T00:${String(10 + Math.floor(index / 60)).padStart(2, "0")}:${String(index % 60).padStart(2, "0")}Z`,
    }));
    const store = await runtime();
    const before = store.store.stats.itemsWritten;
    // Act
    for (let start = 0; start < calls.length; start += 50)
      await ingestBatch(store.pipeline, classify(calls.slice(start, start + 50)));
    // Assess: 200 events, head, person, person's index, key, and the person's profile (unenriched), and per
    // batch what it owes the session, deleted once judged. The detection judges the session (it has no grant:
    // unlinked) once per batch, after its commit (a grant another process stored meanwhile links it), with
    // five Queries (the session's items but its events, in two ranges; the person's events around its
    // creation; its stored alerts; and what an earlier batch may still owe it): the reads grow with batches,
    // not with calls.
    expect(store.store.stats.itemsWritten - before).toBeLessThanOrEqual(200 * 1.05);
    expect(store.store.stats.queries).toBeLessThanOrEqual(5 * 4);
  });
});

describe("role sessions named only by their session name", () => {
  /** Bob left and came back: two users, one email. */
  function rehireDirectory(): ExportDirectory {
    const document = JSON.parse(readFileSync(join(eventsDir, "directory.json"), "utf8")) as {
      Users: Record<string, unknown>[];
    };
    const bob = document.Users.find((user) => user.UserId === BOB.userId);
    if (!bob) throw new Error("fixture directory has no bob");
    return ExportDirectory.fromJson({
      ...document,
      Users: [
        ...document.Users,
        { ...bob, UserId: "0aa0aaaa-1111-4222-8333-444455556666", UserName: "bob2" },
      ],
    });
  }

  it("attributes the fixture archive's role session to bob by name and links it exact to his portal session", async () => {
    const store = await runtime(await fixtureDirectory());
    await ingestStream(readInputs([join(eventsDir, "archive")]), store.pipeline);
    const answer = await store.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1");
    expect(answer?.roleSession).toMatchObject({ attribution: "by-session-name", link: "exact" });
    expect(answer?.user?.externalIds).toEqual([
      { issuer: "https://example.okta.com", id: "00u1abcdEFGHijkl2345" },
    ]);
    expect(answer?.signIn).toEqual({
      eventTime: "2026-07-01T00:02:19Z",
      sourceIp: "203.0.113.24",
      credentialTypes: ["PASSWORD"],
    });
    const report = await store.roleQueries.userWithRoles(BOB);
    expect(report.roleSessionCount).toBe(1);
    const portal = report.sessions.find((session) => session.credentialId === answer?.credentialId);
    expect(portal?.roleSessions.map((view) => view.id)).toEqual([answer?.roleSession.id]);
  });

  it("reads the payloads of a page of a role session's events only", async () => {
    // Prepare: the published chain, then 300 calls of its role session; every payload read counted.
    const store = await runtime();
    const calls = moreCallsOfChainSession(300, "77777777");
    await ingestBatch(store.pipeline, classify([...CHAIN, ...calls]));
    const [{ roleSessionId: id }] = classify([CHAIN[4] as Record<string, unknown>]).roleEvents as [RoleEvent];
    const whole = await store.roleQueries.roleSession(id);
    const payloads = countItemsRead(
      store.store,
      (item) => item.data !== undefined && item.pk.startsWith("ROLESESSION#"),
    );
    // Act
    const page = await store.roleQueries.roleSession(id, { offset: 100, limit: 50 });
    // Assess: the same session and the same events as the whole answer's, 50 payloads read (before, 302).
    expect(page?.roleSession).toEqual(whole?.roleSession);
    expect(page?.events).toEqual(whole?.events.slice(100, 150));
    expect(payloads.take()).toBe(50);
  });

  it("answers an access key with one read of its role session", async () => {
    const store = await runtime(await fixtureDirectory());
    await ingestStream(readInputs([join(eventsDir, "archive")]), store.pipeline);
    const partitions: string[] = [];
    const query = store.store.query.bind(store.store);
    store.store.query = async (pk, options) => {
      if (pk.startsWith("ROLESESSION#")) partitions.push(pk);
      return query(pk, options);
    };
    // Act
    const answer = await store.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1");
    // Assess: the person as before, from one read of the session (before, two: its summary, then its person).
    expect(answer?.roleSession.attribution).toBe("by-session-name");
    expect(partitions).toEqual([`ROLESESSION#v1#${answer?.roleSession.id}`]);
  });

  it("calls a session ambiguous when two users share its name (a re-hire), and never links it", async () => {
    const store = await runtime(rehireDirectory());
    await ingestStream(readInputs([join(eventsDir, "archive")]), store.pipeline);
    const answer = await store.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1");
    expect(answer?.roleSession.attribution).toBe("ambiguous");
    expect(answer?.roleSession.candidates).toHaveLength(2);
    expect(answer?.roleSession.link).toBe("unlinked");
    expect(answer?.user).toBeNull();
    expect((await store.roleQueries.userWithRoles(BOB)).roleSessionCount).toBe(0);
  });

  it("calls a session ambiguous when a live directory names one user by an email a stored profile shares", async () => {
    // Prepare: two people with one email (who left in 2023, and the re-hire), both with profiles stored from
    // their portal sessions; a directory answering as Identity Store's GetUserId does: one user an email.
    const storeId = AIDAN.identityStoreId;
    const left = { identityStoreId: storeId, userId: "976710cc5d-00000000-0000-4000-8000-00000000000a" };
    const rehired = { identityStoreId: storeId, userId: "976710cc5d-00000000-0000-4000-8000-00000000000b" };
    const both = ExportDirectory.fromJson(
      {
        Users: [
          {
            UserName: "jdoe-2019",
            UserId: left.userId,
            IdentityStoreId: storeId,
            Emails: [{ Value: "jdoe@example.com" }],
          },
          {
            UserName: "jdoe-2025",
            UserId: rehired.userId,
            IdentityStoreId: storeId,
            Emails: [{ Value: "jdoe@example.com" }],
          },
        ],
      },
      storeId,
    );
    const oneByEmail: UserDirectory = {
      kind: "identity-store",
      identityStoreId: storeId,
      describe: (user) => both.describe(user),
      findByExternalId: (id) => both.findByExternalId(id),
      findByUserName: (name) => both.findByUserName(name),
      findByEmail: async (email) => (await both.findByEmail(email)).slice(-1),
    };
    const store = await runtime(oneByEmail);
    const portalEventOf = (user: typeof left, index: number) => {
      const grant = CHAIN[2] as Record<string, unknown>;
      const identity = grant.userIdentity as Record<string, unknown>;
      return {
        ...grant,
        eventID: `66666666-0000-4000-8000-00000000000${index}`,
        userIdentity: {
          ...identity,
          credentialId: `PORTAL-${index}`,
          onBehalfOf: {
            userId: user.userId,
            identityStoreArn: `arn:aws:identitystore::607481581596:identitystore/${storeId}`,
          },
        },
      };
    };
    await ingestBatch(store.pipeline, classify([portalEventOf(left, 1), portalEventOf(rehired, 2)]));
    // Act: a role session named by the shared email, none of whose events names the person.
    const call = CHAIN[4] as Record<string, unknown>;
    const { onBehalfOf: _, ...identity } = call.userIdentity as Record<string, unknown>;
    const byEmail = {
      ...call,
      userIdentity: {
        ...identity,
        arn: "arn:aws:sts::950363612855:assumed-role/AWSReservedSSO_AdministratorAccess_7243976e43c75fc5/jdoe@example.com",
        principalId: "AROA52RQV4237EYPOIPDF:jdoe@example.com",
        accessKeyId: "ASIAREHIRE0000000001",
      },
    };
    await ingestBatch(store.pipeline, classify([byEmail]));
    // Assess: both are candidates and nobody is chosen (before, the one GetUserId named: by-session-name).
    const answer = await store.roleQueries.accessKey("ASIAREHIRE0000000001");
    expect(answer?.roleSession).toMatchObject({ attribution: "ambiguous", link: "unlinked" });
    expect(answer?.roleSession.candidates).toHaveLength(2);
    expect(answer?.user).toBeNull();
  });

  it("counts an old-shape event attributed through the name its role session's person taught as a late attribution", async () => {
    // Prepare: name lookups fail, so an old-shape event of bob's waits for his name.
    const directory = new OutageDirectory(await fixtureDirectory());
    directory.down = true;
    const store = await runtime(directory);
    const old = normalized(loadEvent("old/ListAccounts__success.json"));
    expect((await store.pipeline.ingest([old])).coverage).toMatchObject({ unattributed: 1 });
    // Act: a batch of one role-session call naming bob, whose profile (fetched for it) teaches his name.
    const call = {
      ...(CHAIN[4] as Record<string, unknown>),
      userIdentity: {
        ...((CHAIN[4] as Record<string, unknown>).userIdentity as Record<string, unknown>),
        onBehalfOf: {
          userId: BOB.userId,
          identityStoreArn: `arn:aws:identitystore::607481581596:identitystore/${BOB.identityStoreId}`,
        },
      },
    };
    const result = await ingestBatch(store.pipeline, classify([call]));
    // Assess: the event is bob's, and the batch counts its late attribution (the canary's metric).
    const { events } = await store.queries.readUser({
      identityStoreId: BOB.identityStoreId,
      userId: BOB.userId,
    });
    expect(events.map((event) => event.eventId)).toContain(old.event.eventId);
    expect(result.coverage.lateAttributed).toBe(1);
  });

  it("lets an onBehalfOf event decide between the two, whichever batch it arrives in", async () => {
    const archive = [];
    for await (const item of readInputs([join(eventsDir, "archive")]))
      if (item.kind === "record") archive.push(item.record);
    const named = archive
      .filter((raw) =>
        String((raw.userIdentity as Record<string, unknown> | undefined)?.arn).includes("AWSReservedSSO_"),
      )
      .slice(0, 1)
      .map((raw) => ({
        ...raw,
        eventID: "11111111-2222-4333-8444-555555555555",
        userIdentity: {
          ...(raw.userIdentity as Record<string, unknown>),
          onBehalfOf: {
            userId: BOB.userId,
            identityStoreArn: `arn:aws:identitystore::111122223333:identitystore/${BOB.identityStoreId}`,
          },
        },
      }));
    for (const order of [
      [...archive, ...named],
      [...named, ...archive],
    ]) {
      const store = await runtime(rehireDirectory());
      for (const batch of [order.slice(0, 10), order.slice(10)])
        await ingestBatch(store.pipeline, classify(batch));
      const answer = await store.roleQueries.accessKey("ASIA3EXAMPLEROLEKEY1");
      expect(answer?.roleSession).toMatchObject({ attribution: "onBehalfOf", link: "exact" });
      expect(answer?.user?.userId).toBe(BOB.userId);
    }
  });
});

describe("detection role-credentials-new-address", () => {
  async function alertingRuntime(sink: RecordingSink): Promise<Runtime> {
    const created = await openRuntime({ inMemory: true, alertSink: sink });
    open.push(created);
    return created;
  }

  it("fails the role session's batch while the directory cannot say whose it is, and alerts once it is delivered again", async () => {
    // Prepare: the published role session as an older archive has it (no onBehalfOf: only its name says whose it
    // is), with a call from an address the portal session never used; a directory that knows Aidan by that name.
    const roleSession = classify(unnamedRoleSession());
    const directory = new OutageDirectory(aidanDirectory([AIDAN_USER]));
    const store = await openRuntime({ inMemory: true, alertSink: new RecordingSink(), directory });
    open.push(store);
    // Act: the role session while name lookups fail; then, the directory back, again; then the grant.
    directory.down = true;
    const failed = await ingestBatch(store.pipeline, roleSession).then(
      () => "stored",
      (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : "?"),
    );
    directory.down = false;
    const again = await ingestBatch(store.pipeline, roleSession);
    await ingestBatch(store.pipeline, classify(CHAIN.slice(0, 3)));
    // Assess: the first delivery failed, saying why and what to do, and stored no role-session event; the second
    // stored both; the grant then linked the session and raised the alert, and Aidan's report lists it.
    expect(failed).toMatch(
      /^DirectoryError: the directory did not answer who 1 role session\(s\) belong to \(rs-[0-9a-f]{24}: Error: directory unreachable\); .*deliver it again$/,
    );
    expect(again.storedRoleEvents).toHaveLength(2);
    expect((await store.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    expect((await store.roleQueries.userWithRoles(AIDAN)).roleSessionCount).toBe(1);
  });

  it("attributes a role session stored when the directory knew nobody by its name once it is delivered again", async () => {
    // Prepare: the published role session without onBehalfOf (only its name says whose it is), with a call from
    // an address the portal session never used. A first process whose directory knows nobody by that name (an
    // export without Aidan; or no directory), and a second, later, whose export knows Aidan.
    const roleSession = classify(unnamedRoleSession());
    const dataDir = await mkdtemp(join(tmpdir(), "idc-audit-role-name-later-"));
    try {
      const first = await openRuntime({
        dataDir,
        alertSink: new RecordingSink(),
        directory: aidanDirectory([]),
      });
      open.push(first);
      // Act: the role session, then the grant, in the first process; then the role session again in the second.
      await ingestBatch(first.pipeline, roleSession);
      await ingestBatch(first.pipeline, classify(CHAIN.slice(0, 3)));
      const before = {
        alerts: (await first.alerts()).length,
        roleSessions: (await first.roleQueries.userWithRoles(AIDAN)).roleSessionCount,
      };
      const second = await openRuntime({
        dataDir,
        alertSink: new RecordingSink(),
        directory: aidanDirectory([AIDAN_USER]),
      });
      open.push(second);
      const again = await ingestBatch(second.pipeline, roleSession);
      // Assess: before, no alert and no role session in Aidan's report; the second delivery stored nothing new,
      // wrote the session's index and raised the alert the grant could not (before 2026-12-04 a delivery of stored
      // events wrote nothing).
      expect(before).toEqual({ alerts: 0, roleSessions: 0 });
      expect(again.storedRoleEvents).toHaveLength(0);
      expect((await second.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
      expect((await second.roleQueries.userWithRoles(AIDAN)).roleSessionCount).toBe(1);
    } finally {
      await Promise.all(open.splice(0).map((entry) => entry.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("withdraws the alert when a grant from another portal session of the person makes the link a guess", async () => {
    // Prepare: the published chain and a call from an address the portal session never used: an alert.
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify([...CHAIN, callFrom("198.51.100.66", 1)]));
    expect((await store.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    // Act: a grant of the same account and permission set to Aidan, in the same second, from another portal session.
    const grant = CHAIN[2] as Record<string, unknown>;
    const otherPortalSession = {
      ...grant,
      eventID: "44444444-0000-4000-8000-000000000002",
      userIdentity: {
        ...(grant.userIdentity as Record<string, unknown>),
        credentialId: "ANOTHER-PORTAL-SESSION",
      },
    };
    await ingestBatch(store.pipeline, classify([otherPortalSession]));
    // Assess: the session is unlinked, and its alert, which named one of the two portal sessions, withdrawn.
    const answer = await store.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL");
    expect(answer?.roleSession).toMatchObject({ link: "unlinked", credentialId: null });
    expect(await store.alerts()).toEqual([]);
  });

  it("reads no more of a session it cannot link at each batch of its calls, however many it has", async () => {
    // Prepare: the published role session with no grant stored (its portal session lies outside the archive),
    // then 300 calls from another address, ten a batch, counting the items read of its partition.
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify([CHAIN[3], CHAIN[4]] as Record<string, unknown>[]));
    const reads = countItemsRead(store.store, (item) => item.pk.startsWith("ROLESESSION#"));
    const perBatch: number[] = [];
    // Act
    reads.take();
    for (let batch = 0; batch < 30; batch += 1) {
      const calls = Array.from({ length: 10 }, (_, index) => ({
        ...(CHAIN[4] as Record<string, unknown>),
        eventID: `55555555-0000-4000-8000-${String(batch * 10 + index).padStart(12, "0")}`,
        eventTime: isoSeconds(Date.parse("2026-07-01T00:10:00Z") + (batch * 10 + index) * 2000),
        sourceIPAddress: "198.51.100.66",
      }));
      await ingestBatch(store.pipeline, classify(calls));
      perBatch.push(reads.take());
    }
    // Assess: the last batch read what the first did (before 2026-12-04, every call stored so far: 291 more).
    expect(perBatch[0]).toBeGreaterThan(0);
    expect(perBatch.at(-1)).toBe(perBatch[0]);
    expect(await store.alerts()).toEqual([]);
  });

  it("reads the same few items at each batch of a linked session used for hours from a new address, and alerts on it whole", async () => {
    // Prepare: the published chain (linked, its portal session used from 54.79.161.228), then 600 calls from
    // another address, 30 s apart (five hours) and ten a batch, counting the items read of its partition.
    const calls = Array.from({ length: 600 }, (_, index) => ({
      ...(CHAIN[4] as Record<string, unknown>),
      eventID: `66666666-0000-4000-8000-${String(index).padStart(12, "0")}`,
      eventTime: isoSeconds(Date.parse("2026-07-01T00:40:00Z") + index * 30_000),
      sourceIPAddress: "198.51.100.66",
    }));
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify(CHAIN));
    const reads = countItemsRead(store.store, (item) => item.pk.startsWith("ROLESESSION#"));
    const perBatch: number[] = [];
    // Act
    reads.take();
    for (let batch = 0; batch < 60; batch += 1) {
      await ingestBatch(store.pipeline, classify(calls.slice(batch * 10, batch * 10 + 10)));
      perBatch.push(reads.take());
    }
    // Assess: once the session holds a hundred calls, a batch reads the minutes of its calls and the window
    // after them (twice: the judgement and its check after writing), not the session: 24 items a batch, against
    // every call stored so far, twice (1,208 items at the last batch, before 2026-12-04).
    const steady = perBatch.slice(15);
    expect(Math.max(...steady)).toBeLessThan(50);
    expect(Math.max(...steady)).toBeLessThan(Math.max(...perBatch.slice(0, 15)));
    // The same alert as one delivery of every call gives: the episode whole, counted from what each alert kept.
    const whole = await alertingRuntime(new RecordingSink());
    await ingestBatch(whole.pipeline, classify([...CHAIN, ...calls]));
    const alerts = await store.alerts();
    expect(alerts).toEqual(await whole.alerts());
    expect(alerts).toMatchObject([
      {
        rule: "role-credentials-new-address",
        count: 600,
        firstSeen: "2026-07-01T00:40:00Z",
        lastSeen: "2026-07-01T05:39:30Z",
      },
    ]);
  });

  /** A portal-session event (`ListAccounts`) of the published portal session, from this address. */
  const portalFrom = (sourceIPAddress: string) => ({
    ...(CHAIN[0] as Record<string, unknown>),
    eventID: "77777777-0000-4000-8000-000000000001",
    eventTime: "2026-07-01T00:35:00Z",
    sourceIPAddress,
  });

  it.each([
    ["from that address", "198.51.100.66", []],
    ["from a third address", "203.0.113.9", [["203.0.113.9"]]],
  ])(
    "withdraws the alert once the portal session is found used from its address, at the next call %s",
    async (_, next, expected) => {
      // Prepare: the chain and a call from an address the portal session had not used (an alert).
      const store = await alertingRuntime(new RecordingSink());
      await ingestBatch(store.pipeline, classify([...CHAIN, callFrom("198.51.100.66", 1)]));
      expect((await store.alerts()).map((alert) => alert.sourceIps)).toEqual([["198.51.100.66"]]);
      // Act: the portal session used from that address; then another call.
      await ingestBatch(store.pipeline, classify([portalFrom("198.51.100.66")]));
      await ingestBatch(store.pipeline, classify([callFrom(next, 2)]));
      // Assess: no alert of that address (64c1c4b wrote it again, with a count of 0).
      expect((await store.alerts()).map((alert) => alert.sourceIps)).toEqual(expected);
    },
  );

  it.each([
    ["from that address", "198.51.100.66", []],
    ["from a third address", "203.0.113.9", [["203.0.113.9"]]],
  ])(
    "withdraws a long session's alert once the portal session is found used from its address, at the next call %s",
    async (_, next, expected) => {
      // Prepare: 150 calls 30 s apart from an address the portal session had not used, ten a batch (judged by
      // the minute past the first hundred).
      const store = await alertingRuntime(new RecordingSink());
      const calls = Array.from({ length: 150 }, (_, index) => ({
        ...callFrom("198.51.100.66", 0),
        eventID: `66666666-0000-4000-8000-${String(index).padStart(12, "0")}`,
        eventTime: isoSeconds(Date.parse("2026-07-01T00:40:00Z") + index * 30_000),
      }));
      await ingestBatch(store.pipeline, classify(CHAIN));
      for (let offset = 0; offset < calls.length; offset += 10)
        await ingestBatch(store.pipeline, classify(calls.slice(offset, offset + 10)));
      expect((await store.alerts()).map((alert) => [alert.sourceIps, alert.count])).toEqual([
        [["198.51.100.66"], 150],
      ]);
      // Act: the portal session used from that address; then another call.
      await ingestBatch(store.pipeline, classify([portalFrom("198.51.100.66")]));
      const last = {
        ...callFrom(next, 0),
        eventID: "66666666-0000-4000-8000-999999999999",
        eventTime: "2026-07-01T01:55:00Z",
      };
      await ingestBatch(store.pipeline, classify([last]));
      // Assess
      expect((await store.alerts()).map((alert) => alert.sourceIps)).toEqual(expected);
    },
  );

  it("stores the alerts of one delivery of every call, whatever the order, split and duplicates, over two addresses", async () => {
    // Prepare: 400 calls, a few seconds to a minute and a half apart with a break now and then (new episodes),
    // most from one address the portal session never used, some from a second, a few from its own; shuffled
    // locally, 20 given twice, ten a batch. Seeded: the same every run.
    for (const seed of [1, 2]) {
      let state = seed;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
      let at = Date.parse("2026-07-01T00:40:00Z");
      const calls = Array.from({ length: 400 }, (_, index) => {
        at += random() < 0.05 ? 11 * 60_000 + Math.floor(random() * 600_000) : Math.floor(random() * 90_000);
        const address = random() < 0.3 ? "203.0.113.9" : random() < 0.1 ? "54.79.161.228" : "198.51.100.66";
        return {
          ...callFrom(address, 0),
          eventID: `66666666-0000-4000-8000-${String(index).padStart(12, "0")}`,
          eventTime: isoSeconds(at),
        };
      });
      const order = calls
        .map((call, index) => ({ call, key: index + (random() - 0.5) * 80 }))
        .sort((a, b) => a.key - b.key)
        .map(({ call }) => call);
      for (let n = 0; n < 20; n += 1)
        order.splice(
          Math.floor(random() * order.length),
          0,
          order[Math.floor(random() * order.length)] as (typeof order)[number],
        );
      const batched = await alertingRuntime(new RecordingSink());
      await ingestBatch(batched.pipeline, classify(CHAIN));
      for (let offset = 0; offset < order.length; offset += 10)
        await ingestBatch(batched.pipeline, classify(order.slice(offset, offset + 10)));
      const whole = await alertingRuntime(new RecordingSink());
      // Act
      await ingestBatch(whole.pipeline, classify([...CHAIN, ...calls]));
      // Assess: the same alert items (listings with their summaries, index items, presence marks); paging
      // markers apart (which id an alert was paged under depends on which of its calls came first).
      const alertItems = async (runtime: Runtime) =>
        (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
      const expected = await alertItems(whole);
      expect(expected.length).toBeGreaterThan(20);
      expect(await alertItems(batched)).toEqual(expected);
    }
  });

  it("alerts once, naming the person and the portal session, when the session's key is used from a new address", async () => {
    // Prepare: the published chain, then two calls from an address the portal session never used.
    const sink = new RecordingSink();
    const store = await alertingRuntime(sink);
    await ingestBatch(store.pipeline, classify(CHAIN));
    // Act
    const first = await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 1)]));
    const second = await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 2)]));
    // Assess
    expect(first.alerts).toHaveLength(1);
    expect(second.alerts).toHaveLength(0);
    const [alert] = await store.alerts();
    expect(alert).toMatchObject({
      rule: "role-credentials-new-address",
      severity: "high",
      subject: { type: "user", ...AIDAN },
      sourceIps: ["198.51.100.66"],
      count: 2,
      credentialId: PORTAL_SESSION,
      accountId: "950363612855",
      portalSourceIps: ["54.79.161.228"],
    });
    expect(sink.published).toHaveLength(1);
  });

  it("does not alert for calls AWS services make for the person, or from the portal session's own address", async () => {
    const store = await alertingRuntime(new RecordingSink());
    const result = await ingestBatch(
      store.pipeline,
      classify([
        ...CHAIN,
        callFrom("cloudformation.amazonaws.com", 1),
        callFrom("AWS Internal", 2),
        callFrom("54.79.161.228", 3),
      ]),
    );
    expect(result.alerts).toEqual([]);
    expect(await store.alerts()).toEqual([]);
  });

  it("withdraws the alert when an event of the portal session from the calls' address arrives after them", async () => {
    // Prepare: the published chain and a call from an address its portal session had not used (an alert); then the
    // portal session's ListAccounts from that address, delivered late (the person's own second address).
    const sink = new RecordingSink();
    const store = await alertingRuntime(sink);
    const fromThere = portalEventFrom("198.51.100.66", "2026-07-01T00:40:00Z", 1);
    await ingestBatch(store.pipeline, classify(CHAIN));
    await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 1)]));
    expect((await store.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    // Act
    const late = await ingestBatch(store.pipeline, classify([fromThere]));
    // Assess: no alert, as when the portal session's event comes first
    expect(late.alerts).toEqual([]);
    expect(await store.alerts()).toEqual([]);
    const ordered = await alertingRuntime(new RecordingSink());
    await ingestBatch(ordered.pipeline, classify([...CHAIN, fromThere]));
    await ingestBatch(ordered.pipeline, classify([callFrom("198.51.100.66", 1)]));
    expect(await ordered.alerts()).toEqual([]);
  });

  it("withdraws the alert when a failed sign-in of the portal session's workflow, from the calls' address, arrives after them", async () => {
    // Prepare: the portal session's sign-in, a workflow whose password was first mistyped from another address
    // (a failure that names nobody: the workflow makes it the portal session's) and then verified from the
    // portal session's address; in order, and with the failure delivered after a call from that other address.
    const workflow = "77777777-0000-4000-8000-000000000001";
    const verified = loadEvent("new/CredentialVerification__success.json");
    const ok = {
      ...verified,
      eventID: "77777777-0000-4000-8000-000000000002",
      eventTime: "2026-07-01T00:07:00Z",
      sourceIPAddress: "54.79.161.228",
      userIdentity: (CHAIN[0] as Record<string, unknown>).userIdentity,
      additionalEventData: { AuthWorkflowID: workflow, CredentialType: "PASSWORD" },
    };
    const failed = {
      ...loadEvent("new/CredentialVerification__failure.json"),
      eventID: "77777777-0000-4000-8000-000000000003",
      eventTime: "2026-07-01T00:06:00Z",
      sourceIPAddress: "198.51.100.66",
      additionalEventData: { AuthWorkflowID: workflow, CredentialType: "PASSWORD" },
    };
    const ordered = await alertingRuntime(new RecordingSink());
    await ingestBatch(ordered.pipeline, classify([...CHAIN, ok, failed]));
    await ingestBatch(ordered.pipeline, classify([callFrom("198.51.100.66", 1)]));
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify([...CHAIN, ok]));
    await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 1)]));
    expect((await store.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    // Act
    await ingestBatch(store.pipeline, classify([failed]));
    // Assess
    expect(await ordered.alerts()).toEqual([]);
    expect(await store.alerts()).toEqual([]);
  });

  it("withdraws the alert when the batch of the portal session's event from the calls' address fails once and is delivered again", async () => {
    // Prepare: the chain and a call from another address (an alert); the first reading of the role session the
    // portal session's late event has judged again fails.
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify(CHAIN));
    await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 1)]));
    const fromThere = portalEventFrom("198.51.100.66", "2026-07-01T00:40:00Z", 4);
    const query = store.store.query.bind(store.store);
    let indexRead = false;
    let failures = 0;
    store.store.query = async (pk, options) => {
      if (pk.startsWith("PORTALROLEALERTS#")) indexRead = true;
      else if (indexRead && failures === 0 && pk.startsWith("ROLESESSION#")) {
        failures += 1;
        throw new Error("the table timed out");
      }
      return query(pk, options);
    };
    // Act
    await expect(ingestBatch(store.pipeline, classify([fromThere]))).rejects.toThrow("the table timed out");
    await ingestBatch(store.pipeline, classify([fromThere]));
    // Assess
    expect(failures).toBe(1);
    expect(await store.alerts()).toEqual([]);
  });

  it("judges again only the sessions indexed by the late event's address, and withdraws only that address's alert", async () => {
    // Prepare: calls from two addresses the portal session had not used: two alerts.
    const store = await alertingRuntime(new RecordingSink());
    await ingestBatch(store.pipeline, classify(CHAIN));
    await ingestBatch(store.pipeline, classify([callFrom("198.51.100.66", 1), callFrom("198.51.100.77", 2)]));
    const addressesOf = async () => (await store.alerts()).map((alert) => alert.sourceIps);
    expect(await addressesOf()).toEqual([["198.51.100.66"], ["198.51.100.77"]]);
    const query = store.store.query.bind(store.store);
    let roleSessionReads = 0;
    store.store.query = async (pk, options) => {
      if (pk.startsWith("ROLESESSION#")) roleSessionReads += 1;
      return query(pk, options);
    };
    // Act: the portal session used from a third address, then from one of the two.
    await ingestBatch(store.pipeline, classify([portalEventFrom("203.0.113.9", "2026-07-01T00:40:00Z", 5)]));
    const readsForThird = roleSessionReads;
    await ingestBatch(
      store.pipeline,
      classify([portalEventFrom("198.51.100.66", "2026-07-01T00:41:00Z", 6)]),
    );
    // Assess
    expect(readsForThird).toBe(0);
    expect(roleSessionReads).toBeGreaterThan(0);
    expect(await addressesOf()).toEqual([["198.51.100.77"]]);
  });

  it("indexes a session alerting on several addresses once a judgement, even in a process that remembers none of it", async () => {
    // Prepare: a process whose memory of the sessions it indexed keeps nothing (as one that indexed more
    // addresses than it remembers: a session used from 50,001 addresses); each index write counted, and refused
    // past ten (a judgement that indexed again and again would never end).
    const store = await alertingRuntime(new RecordingSink());
    const detector = (
      store.pipeline as unknown as { detector: { indexedUnderPortal: { has(key: string): boolean } } }
    ).detector;
    detector.indexedUnderPortal.has = () => false;
    const putAll = store.store.putAll.bind(store.store);
    let indexWrites = 0;
    store.store.putAll = async (items) => {
      if (items.some((item) => item.type === "portal-role-alert")) {
        indexWrites += 1;
        if (indexWrites > 10) throw new Error("the session was indexed again and again");
      }
      return putAll(items);
    };
    await ingestBatch(store.pipeline, classify(CHAIN));
    // Act
    await ingestBatch(
      store.pipeline,
      classify([callFrom("198.51.100.66", 1), callFrom("198.51.100.77", 2), callFrom("198.51.100.88", 3)]),
    );
    // Assess
    expect(indexWrites).toBe(1);
    expect(await store.alerts()).toHaveLength(3);
  });

  it("alerts the same when the grant arrives after the calls, in another batch", async () => {
    const sink = new RecordingSink();
    const store = await alertingRuntime(sink);
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    await ingestBatch(store.pipeline, classify([...member, callFrom("198.51.100.66", 1)]));
    expect(sink.published).toHaveLength(0);
    await ingestBatch(store.pipeline, classify([listAccounts, listRoles, grant] as typeof CHAIN));
    expect(sink.published.map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
  });

  it("alerts the same when the grant arrives in the next batch, stored beside the calls' batch while their commit is slow", async () => {
    // Prepare: the calls, then the grant, in batches of 3 stored side by side. The calls' commit (their
    // role-session items, written after their batch's detection) takes 300 ms, the grant's timeline 100 ms, as
    // a commit of thousands of calls and a busy table can.
    const sink = new RecordingSink();
    const store = await alertingRuntime(sink);
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const delivery = [...member, callFrom("198.51.100.66", 1), listAccounts, listRoles, grant];
    const putAll = store.store.putAll.bind(store.store);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    store.store.putAll = async (items) => {
      if (items.some((item) => item.type === "role-event")) await pause(300);
      else if (items.some((item) => String(item.data ?? "").includes('"GetRoleCredentials"')))
        await pause(100);
      return putAll(items);
    };
    async function* items(): AsyncGenerator<ReadItem> {
      for (const [index, record] of delivery.entries())
        yield { kind: "record", record: record as Record<string, unknown>, location: `delivery:${index}` };
    }
    // Act
    await ingestStream(items(), store.pipeline, { batchSize: 3, batchesInFlight: 2 });
    // Assess
    expect(sink.published.map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
    expect((await store.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
  });
});

describe("role-credentials-new-address, two processes on one table", () => {
  const alertItems = (items: Record<string, unknown>[]) =>
    items.filter((item) => String(item.pk).startsWith("ALERT"));
  /** Call `index` of the published role session from an address its portal session never used. */
  const call = (index: number, eventTime: string) => ({
    ...(CHAIN[4] as Record<string, unknown>),
    eventID: `66666666-0000-4000-8000-${String(index).padStart(12, "0")}`,
    eventTime,
    sourceIPAddress: "198.51.100.66",
  });
  /** 120 calls 30 s apart from 00:40: past the first hundred, a process that read them judges by the minute. */
  const calls = Array.from({ length: 120 }, (_, index) =>
    call(index, isoSeconds(Date.parse("2026-07-01T00:40:00Z") + index * 30_000)),
  );
  const counted = (alerts: readonly { count: number; firstSeen: string; lastSeen: string }[]) =>
    alerts.map(({ count, firstSeen, lastSeen }) => [count, firstSeen, lastSeen]);
  /** The alerts of one delivery of the chain, the 120 calls and `later`, in memory (`counted`). */
  async function referenceCounted(...later: Record<string, unknown>[]) {
    const reference = await openRuntime({ inMemory: true, alertSink: new RecordingSink() });
    open.push(reference);
    await ingestBatch(reference.pipeline, classify([...CHAIN, ...calls, ...later]));
    return counted(await reference.alerts());
  }
  /** Stores the chain, then the 120 calls ten a batch, through `runtime`. */
  async function storeSession(runtime: Runtime): Promise<void> {
    await ingestBatch(runtime.pipeline, classify(CHAIN));
    for (let offset = 0; offset < 120; offset += 10)
      await ingestBatch(runtime.pipeline, classify(calls.slice(offset, offset + 10)));
  }
  /**
   * Holds the first of `store`'s queries whose answer `matches`, once made, until `release()`: `held` settles
   * when it is held, and `armed` stays true while none was.
   */
  function holdQuery(
    store: TableStore,
    matches: (pk: string, between: readonly string[], items: Item[]) => boolean,
  ) {
    const release = deferred();
    const held = deferred();
    const state = { armed: true, held: held.promise, release: () => release.resolve() };
    const query = store.query.bind(store);
    store.query = async (pk, options) => {
      const items = await query(pk, options);
      if (state.armed && matches(pk, options?.between ?? [], items)) {
        state.armed = false;
        held.resolve();
        await release.promise;
      }
      return items;
    };
    return state;
  }

  /** `judging` stores `record`, held where `hold` holds it while `meanwhile` runs. Returns the hold, all done. */
  async function whileHeld(
    hold: ReturnType<typeof holdQuery>,
    judging: Runtime,
    record: Record<string, unknown>,
    meanwhile: () => Promise<void>,
  ) {
    const judged = ingestBatch(judging.pipeline, classify([record]));
    await hold.held;
    await meanwhile();
    hold.release();
    await judged;
    return hold;
  }

  it("keeps the call another process alerted on while this one, judging by the minute, followed the same new episode", async () => {
    // Prepare: 120 calls 30 s apart from an address the portal session never used, stored by process A (which
    // judges the session by the minute past the first hundred); a new episode 16 minutes after the last call:
    // A's call, then B's 20 s later, in the next minute. The reference: every call in one delivery.
    const mine = call(500, "2026-07-01T01:55:50Z");
    const theirs = call(501, "2026-07-01T01:56:10Z");
    const expected = await referenceCounted(mine, theirs);
    await onOneDataDir("by-minute", async (start) => {
      const [a, b] = [await start(), await start()];
      await storeSession(a);
      // Act: A follows its call's episode into the minutes around it (01:45 to 02:05), and is held there, its
      // reading made, while B stores its call and writes the alert of both.
      const held = holdQuery(
        a.store,
        (pk, [from = "", to = ""]) =>
          pk.startsWith("ROLESESSION#") && from.includes("T01:45") && to.includes("T02:05"),
      );
      let written: unknown[] = [];
      const hold = await whileHeld(held, a, mine, async () => {
        await ingestBatch(b.pipeline, classify([theirs]));
        written = counted(await b.alerts());
      });
      // Assess: A was held where meant; B's alert was one delivery's; A's write did not shorten it (before the
      // fix, [1, 01:55:50, 01:55:50] was left: A's check after writing read its own minute only).
      expect(hold.armed).toBe(false);
      expect(written).toEqual(expected);
      expect(counted(await a.alerts())).toEqual(expected);
    });
  }, 60_000);

  /**
   * Holds `store`'s reading of the published portal session once made: its session partition's links, then the
   * person's events they lead to (`TimelineQueries.session`), the query held.
   */
  function holdPortalSessionRead(store: TableStore) {
    let linksRead = false;
    return holdQuery(store, (pk) => {
      if (pk === `SESSION#v1#${PORTAL_SESSION}`) linksRead = true;
      return linksRead && pk.startsWith("USER#");
    });
  }

  /**
   * `judging` stores `record` and is held once it has read the published portal session, while `storing` stores
   * the portal session's ListAccounts from 198.51.100.66 (event `index`). Returns the hold, both done.
   */
  async function storedWhileJudged(
    judging: Runtime,
    record: Record<string, unknown>,
    storing: Runtime,
    index: number,
  ) {
    return whileHeld(holdPortalSessionRead(judging.store), judging, record, async () => {
      await ingestBatch(
        storing.pipeline,
        classify([portalEventFrom("198.51.100.66", "2026-07-01T00:40:00Z", index)]),
      );
    });
  }

  it("raises no alert when the portal session's event from the call's address is stored while the call is judged", async () => {
    // Prepare: process A has stored the published chain (its portal session used from one address).
    await onOneDataDir("portal-address", async (start, sinks) => {
      const [a, b] = [await start(), await start()];
      await ingestBatch(a.pipeline, classify(CHAIN));
      // Act: A judges a call from another address and is held once it has read the portal session, while B
      // stores the portal session's ListAccounts from that address (and finds no role session to judge again).
      const hold = await storedWhileJudged(a, call(0, "2026-07-01T00:45:00Z"), b, 2);
      // Assess: A, about to alert, indexed the session and read the portal session again: no alert stored or
      // paged, as in one delivery of both.
      expect(hold.armed).toBe(false);
      expect(await a.alerts()).toEqual([]);
      expect(sinks[0]?.published).toEqual([]);
    });
  }, 60_000);

  it("withdraws an alert an earlier version stored when the portal session's event from its address is stored while it is judged", async () => {
    // Prepare: the chain and a call from another address, alerted on; the table as an earlier version left it
    // (the session not indexed under its portal session). Process C, new, judges the session on a call from the
    // portal session's own address, and is held once it has read the portal session, while B stores the portal
    // session's ListAccounts from the other address (and finds no role session indexed).
    await onOneDataDir("portal-index", async (start) => {
      const a = await start();
      await ingestBatch(a.pipeline, classify([...CHAIN, call(0, "2026-07-01T00:45:00Z")]));
      expect((await a.alerts()).map((alert) => alert.rule)).toEqual(["role-credentials-new-address"]);
      const index: Item[] = [];
      for await (const page of a.store.scan())
        for (const item of page) if (String(item.pk).startsWith("PORTALROLEALERTS#")) index.push(item);
      expect(index.length).toBeGreaterThan(0);
      await a.store.deleteAll(index);
      const [b, c] = [await start(), await start()];
      const fromPortal = { ...call(1, "2026-07-01T00:46:00Z"), sourceIPAddress: "54.79.161.228" };
      // Act
      const hold = await storedWhileJudged(c, fromPortal, b, 3);
      // Assess: C, finding the alert stands, indexed the session and read its portal session again.
      expect(hold.armed).toBe(false);
      expect(await c.alerts()).toEqual([]);
    });
  }, 60_000);

  it.each([
    ["as this version writes it", false],
    ["as an earlier version wrote it (no summary)", true],
  ])(
    "counts a call another process stored and alerted on while this one read the session whole, its alert %s",
    async (_, stripped) => {
      // Prepare: a session of 120 calls 30 s apart from an address its portal session never used, stored by
      // process B; the reference, every call in one delivery.
      const mine = call(500, "2026-07-01T01:45:00Z");
      const theirs = call(501, "2026-07-01T01:48:00Z");
      const expected = await referenceCounted(mine, theirs);
      await onOneDataDir("whole-reading", async (start) => {
        const [a, b] = [await start(), await start()];
        await storeSession(b);
        // Act: A reads the session whole (it never judged it), and is held there while B stores a later call
        // and writes the alert that counts it.
        const held = holdQuery(
          a.store,
          (pk, _, items) =>
            pk.startsWith("ROLESESSION#") && items.filter((item) => item.kind === "call").length > 100,
        );
        const hold = await whileHeld(held, a, mine, async () => {
          await ingestBatch(b.pipeline, classify([theirs]));
          if (stripped)
            for (const item of await dumpTable(b))
              if (item.type === "alert" && item.episode !== undefined) {
                const { episode: _summary, ...listing } = item;
                await b.store.putAll([listing as Item]);
              }
        });
        // Assess: A's alert counts B's call (64c1c4b: 121 of 122, or, against the earlier version's listing, a
        // judgement that never ended).
        expect(hold.armed).toBe(false);
        expect(counted(await a.alerts())).toEqual(expected);
        expect(counted(await a.alerts())).toEqual([[122, "2026-07-01T00:40:00Z", "2026-07-01T01:48:00Z"]]);
      });
    },
    60_000,
  );

  it("ends with one delivery's alert when each judged its call before the other's was stored", async () => {
    // Prepare: the reference (the chain, then both calls); then two processes on one data dir, each storing one
    // call. Neither stores its call (its batch's commit) until both have judged theirs: each judged without
    // the other's call, the second after the first had written its alert.
    const reference = await openRuntime({ inMemory: true, alertSink: new RecordingSink() });
    open.push(reference);
    await ingestBatch(reference.pipeline, classify(CHAIN));
    await ingestBatch(
      reference.pipeline,
      classify([callFrom("198.51.100.66", 1), callFrom("198.51.100.66", 2)]),
    );
    const expected = alertItems(await dumpTable(reference));
    expect(expected).toHaveLength(2);
    const dataDir = await mkdtemp(join(tmpdir(), "idc-audit-two-role-detectors-"));
    try {
      const first = await openRuntime({ dataDir, alertSink: new RecordingSink() });
      open.push(first);
      const second = await openRuntime({ dataDir, alertSink: new RecordingSink() });
      open.push(second);
      await ingestBatch(first.pipeline, classify(CHAIN));
      const firstAtCommit = deferred();
      const bothAtCommit = deferred();
      let arrived = 0;
      for (const process of [first, second]) {
        const putAll = process.store.putAll.bind(process.store);
        process.store.putAll = async (items) => {
          if (items.some((item) => item.type === "role-event")) {
            arrived += 1;
            if (arrived === 1) firstAtCommit.resolve();
            if (arrived === 2) bothAtCommit.resolve();
            await bothAtCommit.promise;
          }
          return putAll(items);
        };
      }
      // Act
      const firstDone = ingestBatch(first.pipeline, classify([callFrom("198.51.100.66", 1)]));
      await firstAtCommit.promise;
      await ingestBatch(second.pipeline, classify([callFrom("198.51.100.66", 2)]));
      await firstDone;
      // Assess: one alert counting both calls, as in the reference.
      expect(alertItems(await dumpTable(second))).toEqual(expected);
    } finally {
      await Promise.all(open.splice(0).map((entry) => entry.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });
  it("raises the alert when the calls' batch judged before the grant was stored and the grant's before the calls were", async () => {
    // Prepare: the reference (one process, the calls then the grant); then two processes on one data dir, the
    // calls' holding its commit (the role-event items) until the grant's process has ended: the calls were
    // judged with no grant stored, the grant with no calls stored.
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const callsBatch = classify([...member, callFrom("198.51.100.66", 1)]);
    const grantBatch = classify([listAccounts, listRoles, grant] as typeof CHAIN);
    const referenceSink = new RecordingSink();
    const reference = await openRuntime({ inMemory: true, alertSink: referenceSink });
    open.push(reference);
    await ingestBatch(reference.pipeline, callsBatch);
    await ingestBatch(reference.pipeline, grantBatch);
    const expected = alertItems(await dumpTable(reference));
    expect(expected).toHaveLength(2);
    expect(referenceSink.published).toHaveLength(1);
    const dataDir = await mkdtemp(join(tmpdir(), "idc-audit-grant-and-calls-"));
    try {
      const callsSink = new RecordingSink();
      const grantSink = new RecordingSink();
      const calls = await openRuntime({ dataDir, alertSink: callsSink });
      open.push(calls);
      const grants = await openRuntime({ dataDir, alertSink: grantSink });
      open.push(grants);
      const atCommit = deferred();
      const commit = deferred();
      const putAll = calls.store.putAll.bind(calls.store);
      calls.store.putAll = async (items) => {
        if (items.some((item) => item.type === "role-event")) {
          atCommit.resolve();
          await commit.promise;
        }
        return putAll(items);
      };
      // Act
      const callsDone = ingestBatch(calls.pipeline, callsBatch);
      await atCommit.promise;
      await ingestBatch(grants.pipeline, grantBatch);
      commit.resolve();
      await callsDone;
      // Assess: as the reference: the alert stored, and paged once.
      expect(alertItems(await dumpTable(calls))).toEqual(expected);
      expect(callsSink.published.length + grantSink.published.length).toBe(1);
    } finally {
      await Promise.all(open.splice(0).map((entry) => entry.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  /**
   * Makes `runtime` hold its next role-session commit (its role-event items) after writing the first `written`
   * of them, until `resume`. Then (`ending`): `stop`, the rest is written and every request after fails, as in a process
   * killed there; `stop-before`, the same without the rest; `fail`, the rest fails to be written (throttled),
   * once, and the process goes on.
   */
  function holdCommit(
    runtime: Runtime,
    { written = 0, ending = "stop" }: { written?: number; ending?: "stop" | "stop-before" | "fail" } = {},
  ) {
    const atCommit = deferred();
    let storedFirst: string[] = [];
    const resume = deferred();
    let held = false;
    let stopped = false;
    const stop = () => {
      if (stopped) throw new Error("the process has stopped");
    };
    const store = runtime.store;
    const [putAll, getAll, query, deleteAll] = [
      store.putAll.bind(store),
      store.getAll.bind(store),
      store.query.bind(store),
      store.deleteAll.bind(store),
    ];
    store.putAll = async (items) => {
      stop();
      if (held || !items.some((item) => item.type === "role-event")) return putAll(items);
      held = true;
      await putAll(items.slice(0, written));
      storedFirst = items.slice(0, written).map((item) => item.sk.slice(item.sk.lastIndexOf("#") + 1));
      atCommit.resolve();
      await resume.promise;
      if (ending === "fail") throw new Error("BatchWriteItem throttled");
      if (ending === "stop") await putAll(items.slice(written));
      stopped = true;
      stop();
    };
    store.getAll = async (keys) => {
      stop();
      return getAll(keys);
    };
    store.query = async (pk, range) => {
      stop();
      return query(pk, range);
    };
    store.deleteAll = async (keys) => {
      stop();
      return deleteAll(keys);
    };
    return { atCommit: atCommit.promise.then(() => storedFirst), resume: () => resume.resolve() };
  }

  /** The alert items one process stores for these batches, delivered in this order. */
  async function referenceAlerts(batches: readonly Classified[]): Promise<Record<string, unknown>[]> {
    const reference = await openRuntime({ inMemory: true, alertSink: new RecordingSink() });
    open.push(reference);
    for (const batch of batches) await ingestBatch(reference.pipeline, batch);
    return alertItems(await dumpTable(reference));
  }

  /** The calls then the grant in one process: the alerts a crash must not lose. */
  async function callsThenGrant() {
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const calls = classify([...member, callFrom("198.51.100.66", 1)]);
    const grants = classify([listAccounts, listRoles, grant] as typeof CHAIN);
    const expected = await referenceAlerts([calls, grants]);
    expect(expected).toHaveLength(2);
    return { calls, grants, expected };
  }

  /**
   * Runs `body` with processes on one fresh data dir (`start` opens one more, with an alert sink of its own,
   * gathered in `sinks`), then closes them and removes the dir.
   */
  async function onOneDataDir(
    name: string,
    body: (start: () => Promise<Runtime>, sinks: readonly RecordingSink[]) => Promise<void>,
  ): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), `idc-audit-${name}-`));
    const sinks: RecordingSink[] = [];
    try {
      await body(async () => {
        const sink = new RecordingSink();
        sinks.push(sink);
        const runtime = await openRuntime({ dataDir, alertSink: sink });
        open.push(runtime);
        return runtime;
      }, sinks);
    } finally {
      await Promise.all(open.splice(0).map((entry) => entry.close()));
      await rm(dataDir, { recursive: true, force: true });
    }
  }

  /** The reference's alert items, paged once by all the processes together, and nothing left owed. */
  async function expectAsReference(
    runtime: Runtime,
    sinks: readonly RecordingSink[],
    expected: readonly Record<string, unknown>[],
  ): Promise<void> {
    const table = await dumpTable(runtime);
    expect(alertItems(table)).toEqual(expected);
    expect(sinks.reduce((sum, sink) => sum + sink.published.length, 0)).toBe(1);
    expect(table.filter((item) => item.type === "role-judgement-owed")).toEqual([]);
  }

  it("raises that alert on the calls' next delivery when their process stopped between their commit and their judgement", async () => {
    // Prepare: as above, but the calls' process stops once their commit is stored, before the judgement it
    // owes the session. Then a third process gets the calls' batch again: all of it is stored already.
    const { calls: callsBatch, grants: grantBatch, expected } = await callsThenGrant();
    await onOneDataDir("stopped-after-commit", async (start, sinks) => {
      const [calls, grants] = [await start(), await start()];
      const stopping = holdCommit(calls);
      const callsDone = ingestBatch(calls.pipeline, callsBatch);
      await stopping.atCommit;
      await ingestBatch(grants.pipeline, grantBatch);
      stopping.resume();
      await expect(callsDone).rejects.toThrow("the process has stopped");
      expect(alertItems(await dumpTable(grants))).toEqual([]);
      const again = await start();
      // Act
      const result = await ingestBatch(again.pipeline, callsBatch);
      // Assess: every event a duplicate, and as the reference.
      expect([result.stored, result.storedRoleEvents]).toEqual([[], []]);
      expect(result.duplicates).toBe(callsBatch.records.length + callsBatch.roleEvents.length);
      await expectAsReference(again, sinks, expected);
    });
  });

  it("keeps what a batch owes while it is storing its calls, when a delivery of the ones it stored judges first", async () => {
    // Prepare: as above, but the calls' process holds its commit after one call is stored. Meanwhile the grant is
    // stored, and that one call is delivered again to a third process, which judges the session without the
    // other calls; then the calls' process stores them and stops before its judgement.
    const { calls: callsBatch, grants: grantBatch, expected } = await callsThenGrant();
    await onOneDataDir("owed-while-storing", async (start, sinks) => {
      const [calls, others] = [await start(), await start()];
      const stopping = holdCommit(calls, { written: 1 });
      const callsDone = ingestBatch(calls.pipeline, callsBatch);
      const [storedFirst] = await stopping.atCommit;
      await ingestBatch(others.pipeline, grantBatch);
      const early = await ingestBatch(others.pipeline, {
        records: [],
        roleEvents: callsBatch.roleEvents.filter((event) => event.eventId === storedFirst),
      });
      expect(early.duplicates).toBe(1);
      stopping.resume();
      await expect(callsDone).rejects.toThrow("the process has stopped");
      const again = await start();
      // Act
      await ingestBatch(again.pipeline, callsBatch);
      // Assess
      await expectAsReference(again, sinks, expected);
    });
  });

  it("raises that alert when the calls' commit failed and the same process is given them again", async () => {
    // Prepare: as above, but the calls' commit fails (throttled past its retries) after the grant is stored,
    // and the same process, still running, is given the calls again: none of them is stored.
    const { calls: callsBatch, grants: grantBatch, expected } = await callsThenGrant();
    await onOneDataDir("commit-failed", async (start, sinks) => {
      const [calls, grants] = [await start(), await start()];
      const failing = holdCommit(calls, { ending: "fail" });
      const callsDone = ingestBatch(calls.pipeline, callsBatch);
      await failing.atCommit;
      await ingestBatch(grants.pipeline, grantBatch);
      failing.resume();
      await expect(callsDone).rejects.toThrow("throttled");
      // Act
      await ingestBatch(calls.pipeline, callsBatch);
      // Assess
      await expectAsReference(calls, sinks, expected);
    });
  });

  it("leaves nothing owed when the calls' process stopped before its commit and another stores them", async () => {
    // Prepare: as above, but the calls' process stops at its commit, having stored what it owes and none of the
    // calls; a third process is given the calls again.
    const { calls: callsBatch, grants: grantBatch, expected } = await callsThenGrant();
    await onOneDataDir("stopped-before-commit", async (start, sinks) => {
      const [calls, grants] = [await start(), await start()];
      const stopping = holdCommit(calls, { ending: "stop-before" });
      const callsDone = ingestBatch(calls.pipeline, callsBatch);
      await stopping.atCommit;
      await ingestBatch(grants.pipeline, grantBatch);
      stopping.resume();
      await expect(callsDone).rejects.toThrow("the process has stopped");
      expect((await dumpTable(grants)).filter((item) => item.type === "role-judgement-owed")).toHaveLength(1);
      const again = await start();
      // Act
      await ingestBatch(again.pipeline, callsBatch);
      // Assess
      await expectAsReference(again, sinks, expected);
    });
  });

  it("keeps the alert when a batch's commit failed and its retry's commit comes after another process judged without it", async () => {
    // Prepare: the reference (the chain, a call from elsewhere, a call from the portal's address); then two
    // processes on one data dir. The first's batch with the call from elsewhere fails at its commit; its retry
    // holds its commit while the second process stores and judges its own call without that one.
    const call = classify([callFrom("198.51.100.66", 1)]);
    const portalCall = classify([callFrom("54.79.161.228", 2)]);
    const expected = await referenceAlerts([classify(CHAIN), call, portalCall]);
    expect(expected).toHaveLength(2);
    await onOneDataDir("failed-attempt-race", async (start) => {
      const [first, second] = [await start(), await start()];
      await ingestBatch(first.pipeline, classify(CHAIN));
      let commits = 0;
      const retryAtCommit = deferred();
      const retryCommit = deferred();
      const putAll = first.store.putAll.bind(first.store);
      first.store.putAll = async (items) => {
        if (items.some((item) => item.type === "role-event")) {
          commits += 1;
          if (commits === 1) throw new Error("BatchWriteItem throttled");
          if (commits === 2) {
            retryAtCommit.resolve();
            await retryCommit.promise;
          }
        }
        return putAll(items);
      };
      await expect(ingestBatch(first.pipeline, call)).rejects.toThrow("throttled");
      // A role session is judged only once its calls are stored: the failed attempt stored no alert.
      expect(alertItems(await dumpTable(first))).toEqual([]);
      // Act
      const retry = ingestBatch(first.pipeline, call);
      await retryAtCommit.promise;
      await ingestBatch(second.pipeline, portalCall);
      retryCommit.resolve();
      await retry;
      // Assess
      expect(alertItems(await dumpTable(second))).toEqual(expected);
    });
  });

  it("leaves nothing owed when a batch fails before its commit", async () => {
    // Prepare: the calls, with the grant stored before; the write of what the batch owes is stored but its answer
    // fails (throttled), so the batch fails before its commit.
    const { calls: callsBatch, grants: grantBatch, expected } = await callsThenGrant();
    const store = await openRuntime({ inMemory: true, alertSink: new RecordingSink() });
    open.push(store);
    await ingestBatch(store.pipeline, grantBatch);
    let failures = 1;
    const putAll = store.store.putAll.bind(store.store);
    store.store.putAll = async (items) => {
      await putAll(items);
      if (failures > 0 && items.some((item) => item.type === "role-judgement-owed")) {
        failures -= 1;
        throw new Error("BatchWriteItem throttled");
      }
    };
    // Act
    await expect(ingestBatch(store.pipeline, callsBatch)).rejects.toThrow("throttled");
    const afterFailure = await dumpTable(store);
    await ingestBatch(store.pipeline, callsBatch);
    // Assess: nothing owed after the failure; the retry stores the alert of the reference.
    expect(afterFailure.filter((item) => item.type === "role-judgement-owed")).toEqual([]);
    expect(alertItems(await dumpTable(store))).toEqual(expected);
  });
  it("raises the alert when another process stored the grant after this one found the session with no grant", async () => {
    // Prepare: the reference (the session's first calls, the grant, then a call from elsewhere); then two
    // processes on one data dir: the first stores the first calls (no grant yet: the session is unlinked), the
    // second the grant (it judges the session with only those calls stored), the first the call from elsewhere.
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const firstCalls = classify(member);
    const grantBatch = classify([listAccounts, listRoles, grant] as typeof CHAIN);
    const foreignCall = classify([callFrom("198.51.100.66", 1)]);
    const expected = await referenceAlerts([firstCalls, grantBatch, foreignCall]);
    expect(expected).toHaveLength(2);
    await onOneDataDir("unlinked-remembered", async (start) => {
      const [calls, grants] = [await start(), await start()];
      await ingestBatch(calls.pipeline, firstCalls);
      await ingestBatch(grants.pipeline, grantBatch);
      // Act
      await ingestBatch(calls.pipeline, foreignCall);
      // Assess
      expect(alertItems(await dumpTable(calls))).toEqual(expected);
    });
  });
});

describe("role chaining", () => {
  const assumeRole = {
    ...(CHAIN[4] as Record<string, unknown>),
    eventID: "33333333-0000-4000-8000-000000000001",
    eventName: "AssumeRole",
    eventTime: "2026-07-01T00:09:00Z",
    requestParameters: { roleArn: "arn:aws:iam::111111111111:role/deployer", roleSessionName: "chained" },
    responseElements: {
      credentials: { accessKeyId: "ASIACHAINEDKEY000001", sessionToken: "secret", expiration: "x" },
      assumedRoleUser: {
        assumedRoleId: "AROACHAINED:chained",
        arn: "arn:aws:sts::111111111111:assumed-role/deployer/chained",
      },
    },
  };
  /** A call made with credentials of `role`/`session` created at `created`, signed with `key`. */
  const roleCall = (eventID: string, role: string, session: string, created: string, key: string) => ({
    eventVersion: "1.11",
    userIdentity: {
      type: "AssumedRole",
      principalId: `AROAEXAMPLE:${session}`,
      arn: `arn:aws:sts::111111111111:assumed-role/${role}/${session}`,
      accountId: "111111111111",
      accessKeyId: key,
      sessionContext: {
        sessionIssuer: {
          type: "Role",
          // Identity Center's roles live under a path IAM reserves for it.
          arn: `arn:aws:iam::111111111111:role/${role.startsWith("AWSReservedSSO_") ? "aws-reserved/sso.amazonaws.com/us-east-1/" : ""}${role}`,
          userName: role,
        },
        attributes: { creationDate: created, mfaAuthenticated: "false" },
      },
    },
    eventTime: "2026-07-01T00:09:30Z",
    eventSource: "s3.amazonaws.com",
    eventName: "PutObject",
    awsRegion: "ap-southeast-2",
    sourceIPAddress: "54.79.161.228",
    eventID,
    readOnly: false,
  });
  const chainedCall = roleCall(
    "33333333-0000-4000-8000-000000000002",
    "deployer",
    "chained",
    "2026-07-01T00:09:00Z",
    "ASIACHAINEDKEY000001",
  );
  const unrelated = roleCall(
    "33333333-0000-4000-8000-000000000003",
    "order-processor",
    "lambda",
    "2026-07-01T00:00:00Z",
    "ASIAUNRELATEDKEY0001",
  );

  function items(raws: readonly Record<string, unknown>[]): ReadItem[] {
    return raws.map((record) => ({ kind: "record", record, location: "test" }) as ReadItem);
  }
  async function* stream(raws: readonly Record<string, unknown>[]) {
    yield* items(raws);
  }

  it("follows the person into the role they chained to, through the AssumeRole that opened it", async () => {
    // Prepare
    const store = await runtime();
    // Act: the chained call and an unrelated role's call in the same batch as the AssumeRole, then alone.
    const counts = await ingestStream(stream([...CHAIN, assumeRole, chainedCall, unrelated]), store.pipeline);
    // Assess
    expect(counts).toMatchObject({ read: 8, stored: 7, ignored: 1, rejected: 0 });
    const answer = await store.roleQueries.accessKey("ASIACHAINEDKEY000001");
    expect(answer?.roleSession).toMatchObject({
      accountId: "111111111111",
      roleName: "deployer",
      permissionSet: null,
      attribution: "parent",
      link: "exact",
      credentialId: PORTAL_SESSION,
      writeCount: 1,
    });
    expect(answer?.user).toMatchObject(AIDAN);
    const parent = await store.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL");
    expect(answer?.roleSession.parentId).toBe(parent?.roleSession.id);
    const timeline = await store.roleQueries.sessionWithRoles(PORTAL_SESSION);
    expect(timeline.roleSessions.map((view) => view.roleName)).toEqual([
      "AWSReservedSSO_AdministratorAccess_7243976e43c75fc5",
      "deployer",
    ]);
    expect(JSON.stringify(await dumpTable(store))).not.toContain("secret");
  });

  it("answers a chained session's key from its parent's head, without reading the parent's calls", async () => {
    // Prepare: the chain, then 200 more calls of the SSO role session it was chained from.
    const store = await runtime();
    const parentCalls = moreCallsOfChainSession(200, "88888888");
    await ingestStream(stream([...CHAIN, assumeRole, chainedCall, ...parentCalls]), store.pipeline);
    const parent = await store.roleQueries.accessKey("ASIA52RQV4232GGDZ2HL");
    expect(parent?.roleSession.eventCount).toBeGreaterThan(200);
    const parentPartition = `ROLESESSION#v1#${parent?.roleSession.id}`;
    const parentCallsRead = countItemsRead(
      store.store,
      (item) => item.pk === parentPartition && item.sk.startsWith("EVENT#"),
    );
    let parentQueries = 0;
    const query = store.store.query.bind(store.store);
    store.store.query = async (pk, options) => {
      if (pk === parentPartition) parentQueries += 1;
      return query(pk, options);
    };
    // Act
    const answer = await store.roleQueries.accessKey("ASIACHAINEDKEY000001");
    // Assess: attributed and linked through the parent as before, none of its calls read (before, 406: the parent read whole twice).
    expect(answer?.roleSession).toMatchObject({
      attribution: "parent",
      link: "exact",
      parentId: parent?.roleSession.id,
    });
    expect(answer?.user).toMatchObject(AIDAN);
    expect(parentCallsRead.take()).toBe(0);
    // Its head read once for the child's attribution and link: two queries around its calls (before, 4).
    expect(parentQueries).toBe(2);
  });

  it("counts other principals' calls (events/ignored) as ignored", async () => {
    const store = await runtime();
    const counts = await ingestStream(readInputs([join(eventsDir, "ignored")]), store.pipeline);
    expect(counts).toMatchObject({ read: 2, stored: 0, ignored: 2, rejected: 0 });
  });

  it("follows a chain of two in one batch, and judges a chained session's calls again when the grant comes late", async () => {
    // Prepare: deployer (chained from the SSO session) assumes auditor; auditor calls from a foreign address.
    const deployerAssumes = {
      ...roleCall(
        "33333333-0000-4000-8000-000000000004",
        "deployer",
        "chained",
        "2026-07-01T00:09:00Z",
        "ASIACHAINEDKEY000001",
      ),
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRole",
      eventTime: "2026-07-01T00:09:40Z",
      responseElements: {
        credentials: { accessKeyId: "ASIACHAINEDKEY000002", sessionToken: "secret", expiration: "x" },
        assumedRoleUser: {
          assumedRoleId: "AROAAUDITOR:audit",
          arn: "arn:aws:sts::111111111111:assumed-role/auditor/audit",
        },
      },
    };
    const auditorCall = {
      ...roleCall(
        "33333333-0000-4000-8000-000000000005",
        "auditor",
        "audit",
        "2026-07-01T00:09:40Z",
        "ASIACHAINEDKEY000002",
      ),
      sourceIPAddress: "198.51.100.99",
    };
    const [listAccounts, listRoles, grant, ...member] = CHAIN;
    const sink = new RecordingSink();
    const store = await openRuntime({ inMemory: true, alertSink: sink });
    open.push(store);
    // Act: everything but the grant, in one batch; then the grant.
    const first = await ingestStream(
      stream([...member, assumeRole, deployerAssumes, auditorCall]),
      store.pipeline,
    );
    const before = sink.published.length;
    await ingestStream(stream([listAccounts, listRoles, grant] as Record<string, unknown>[]), store.pipeline);
    // Assess
    expect(first).toMatchObject({ stored: 5, ignored: 0 });
    const auditor = await store.roleQueries.accessKey("ASIACHAINEDKEY000002");
    expect(auditor?.roleSession).toMatchObject({ roleName: "auditor", attribution: "parent", link: "exact" });
    expect(auditor?.user).toMatchObject(AIDAN);
    expect(before).toBe(0);
    expect(sink.published.map((alert) => [alert.rule, alert.roleSessionId, alert.sourceIps])).toEqual([
      ["role-credentials-new-address", auditor?.roleSession.id, ["198.51.100.99"]],
    ]);
  });

  it("never attributes a chained session by the name its caller chose, even one the directory knows", async () => {
    // Prepare: an Identity Center session without onBehalfOf whose name the directory does not know (an AD
    // NameID), which assumes a role with the session name alice@example.com, and a call made with that role.
    const store = await runtime(await fixtureDirectory());
    const created = "2026-07-01T00:08:20Z";
    const parentRole = "AWSReservedSSO_AdministratorAccess_7243976e43c75fc5";
    const parentCall = roleCall(
      "33333333-0000-4000-8000-000000000011",
      parentRole,
      "CORP\\mallory",
      created,
      "ASIAPARENTKEY0000001",
    );
    const assumeAsAlice = {
      ...roleCall(
        "33333333-0000-4000-8000-000000000012",
        parentRole,
        "CORP\\mallory",
        created,
        "ASIAPARENTKEY0000001",
      ),
      eventSource: "sts.amazonaws.com",
      eventName: "AssumeRole",
      eventTime: "2026-07-01T00:10:00Z",
      requestParameters: {
        roleArn: "arn:aws:iam::111111111111:role/deployer",
        roleSessionName: "alice@example.com",
      },
      responseElements: {
        credentials: { accessKeyId: "ASIACHAINEDKEY000011" },
        assumedRoleUser: { arn: "arn:aws:sts::111111111111:assumed-role/deployer/alice@example.com" },
      },
    };
    const asAlice = roleCall(
      "33333333-0000-4000-8000-000000000013",
      "deployer",
      "alice@example.com",
      "2026-07-01T00:10:00Z",
      "ASIACHAINEDKEY000011",
    );
    // Act
    await ingestStream(stream([parentCall, assumeAsAlice, asAlice]), store.pipeline);
    // Assess: the chained session is its parent's, nobody's; alice has no role session.
    const parent = await store.roleQueries.accessKey("ASIAPARENTKEY0000001");
    expect(parent?.roleSession.attribution).toBe("unattributed");
    const chained = await store.roleQueries.accessKey("ASIACHAINEDKEY000011");
    expect(chained?.roleSession).toMatchObject({
      attribution: "unattributed",
      parentId: parent?.roleSession.id,
    });
    expect(chained?.user).toBeNull();
    const alice = await (await fixtureDirectory()).findByUserName("alice@example.com");
    if (!alice) throw new Error("alice is in the fixture directory");
    expect((await store.roleQueries.userWithRoles(alice)).roleSessionCount).toBe(0);
  });

  it("recognises the chained session's calls in a later batch, from what the AssumeRole stored", async () => {
    const store = await runtime();
    await ingestStream(stream([...CHAIN, assumeRole]), store.pipeline);
    const counts = await ingestStream(stream([chainedCall, unrelated]), store.pipeline);
    expect(counts).toMatchObject({ read: 2, stored: 1, ignored: 1 });
    expect((await store.roleQueries.accessKey("ASIACHAINEDKEY000001"))?.user).toMatchObject(AIDAN);
    expect(await store.roleQueries.accessKey("ASIAUNRELATEDKEY0001")).toBeUndefined();
  });
});
