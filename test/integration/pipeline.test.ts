import { CoverageItemType, coverageEventItem } from "@idc-audit/core/coverage";
import { ExportDirectory, noDirectory, type UserDirectory } from "@idc-audit/core/identity";
import { Pipeline } from "@idc-audit/core/ingest";
import type { AuditEvent, NormalizedRecord, UserKey } from "@idc-audit/core/normalize";
import type { Runtime } from "@idc-audit/core/runtime";
import {
  AnalystQueries,
  CoverageSort,
  eventOf,
  type Item,
  Items,
  Keys,
  TableStore,
} from "@idc-audit/core/timeline";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { synthExportDirectory, synthRecords } from "../support/answers.ts";
import { ALICE, BOB, fixtureFiles, loadEvent } from "../support/fixtures.ts";
import {
  CountingDirectory,
  dumpTable,
  fixtureDirectory,
  memoryRuntime,
  memoryRuntimePerTest,
  normalized,
  OutageDirectory,
} from "../support/store.ts";

const runtime = memoryRuntimePerTest();

/** The markers of a table idc-audit created: a table an older version created, or one in AWS, has none. */
const OLDER_TABLE_MARKERS = [Keys.workflowHeadsMarker, Keys.presenceMarksMarker, Keys.coverageDaysMarker];

const load = (path: string) => normalized(loadEvent(path));

/** Every event fixture of one person-centred story across the three eras. */
function storyRecords(): NormalizedRecord[] {
  return ["old", "transitional", "new"].flatMap((shape) => fixtureFiles(shape).map(load));
}

/**
 * A portal event of the fixtures that names its person, and its canary item as versions before 2026-12-01 wrote
 * it: without the `committed` mark, before their own commit item.
 */
function portalWithUnmarkedCanary(): { portal: NormalizedRecord; person: UserKey; unmarked: Item } {
  const portal = fixtureFiles("new")
    .map(load)
    .find((record) => record.event.category === "portal" && record.event.actor.user);
  const person = portal?.event.actor.user;
  if (!portal || !person) throw new Error("the fixtures have a portal event naming its person");
  const { committed: _mark, ...unmarked } = coverageEventItem(portal.event, undefined);
  return { portal, person, unmarked: unmarked as Item };
}

/** A runtime whose directory answers `DescribeUser` but no name lookup (one throttled API, say). */
async function nameLookupsFailing(): Promise<{ directory: OutageDirectory; store: Runtime }> {
  const directory = new OutageDirectory(await fixtureDirectory());
  directory.down = true;
  return { directory, store: await runtime(directory) };
}

/** The ids of the events in bob's timeline. */
async function bobsEventIds(store: Runtime): Promise<string[]> {
  const { events } = await store.queries.readUser({
    identityStoreId: BOB.identityStoreId,
    userId: BOB.userId,
  });
  return events.map((event) => event.eventId);
}

describe("pipeline: sessions and joins", () => {
  it("builds a new-era session timeline from the events carrying its credentialId and its sign-in workflow", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = fixtureFiles("new").map(load);
    await store.pipeline.ingest(records);
    const signIn = records.find((record) => record.event.eventName === "UserAuthentication")?.event;
    if (!signIn?.credentialId) throw new Error("fixture has no UserAuthentication with a credentialId");
    const timeline = await store.queries.session(signIn.credentialId);
    const names = timeline.events.map((event) => event.eventName);
    // The challenge and verification carry no credentialId: they join through AuthWorkflowID.
    expect(names.slice(0, 3)).toEqual([
      "CredentialChallenge",
      "CredentialVerification",
      "UserAuthentication",
    ]);
    expect(names).toContain("GetRoleCredentials");
    expect(timeline.user).toMatchObject({ userId: BOB.userId, userName: BOB.userName, status: "enriched" });
    expect(timeline.user?.externalIds).toEqual([
      { issuer: "https://example.okta.com", id: "00u1abcdEFGHijkl2345" },
    ]);
    const times = timeline.events.map((event) => `${event.eventTime}#${event.eventId}`);
    expect(times).toEqual([...times].sort());
  });

  it("keeps a workflow's person found through the directory when a redelivery finds the directory down", async () => {
    // Prepare: the challenge names alice (through the directory); its first batch fails before its commit.
    const directory = new OutageDirectory(await fixtureDirectory());
    const store = await runtime(directory);
    const challenge = load("new/CredentialChallenge__success__alice-failed.json");
    const failure = load("new/CredentialVerification__failure__alice-failed.json");
    const putAll = store.store.putAll.bind(store.store);
    let failures = 0;
    store.store.putAll = async (items) => {
      if (failures === 0 && items.some((item) => item.type === "coverage-event")) {
        failures += 1;
        throw new Error("injected: the batch failed before its commit");
      }
      return putAll(items);
    };
    await expect(store.pipeline.ingest([challenge])).rejects.toThrow("injected");
    // Act: redelivered to another process while the directory is down, then the failed attempt arrives.
    directory.down = true;
    const other = new Pipeline(store.store, directory);
    expect((await other.ingest([challenge])).stored).toHaveLength(1);
    await other.ingest([failure]);
    // Assess
    const failed = await store.queries.failedSignIns();
    expect(failed).toEqual([
      expect.objectContaining({ eventId: failure.event.eventId, userId: ALICE.userId }),
    ]);
    // The challenge is stored as the copy the directory resolved, in every item that holds it (not undone by
    // the later step), with no copy under its address.
    const table = await dumpTable(store);
    const holding = table.filter(
      (item) => typeof item.data === "string" && eventOf(item as Item).eventId === challenge.event.eventId,
    );
    expect(holding.map((item) => String(item.pk).split("#")[0]).sort()).toEqual([
      "USER",
      "WORKFLOW",
      "WORKFLOW",
    ]);
    const userEntry = holding.find((item) => String(item.pk).startsWith("USER#"));
    expect(userEntry?.resolution).toBe("directory");
    expect(eventOf(userEntry as Item).actor.directoryUser?.userId).toBe(ALICE.userId);
    const canary = table.find(
      (item) => item.type === "coverage-event" && String(item.sk).endsWith(challenge.event.eventId),
    );
    expect(canary).toMatchObject({ committed: true, self: true });
  });

  it("finds an event stored by the previous version (unmarked canary item, then its commit item) stored", async () => {
    const store = await runtime(await fixtureDirectory());
    // A table that version created: it has none of the markers.
    await store.store.deleteAll(OLDER_TABLE_MARKERS);
    const { portal, person, unmarked } = portalWithUnmarkedCanary();
    // What that version left: its canary item, then its last item, the person's timeline entry.
    await store.store.putAll([unmarked, Items.userEvent(person, portal.event)]);
    const result = await store.pipeline.ingest([portal]);
    expect(result).toMatchObject({ stored: [], duplicates: 1 });
  });

  it("names the person behind a failed sign-in from another address than the step that named them", async () => {
    const store = await runtime(await fixtureDirectory());
    const challenge = load("new/CredentialChallenge__success__alice-failed.json");
    const raw = load("new/CredentialVerification__failure__alice-failed.json");
    const elsewhere = "203.0.113.9";
    const failure = { ...raw, event: { ...raw.event, sourceIp: elsewhere } };
    await store.pipeline.ingest([challenge, failure]);
    const analyst = new AnalystQueries(store.store, store.queries);
    const seen = await analyst.addressUsersOf(await store.queries.readAddress(elsewhere));
    expect(seen.users.map((user) => user.userId)).toEqual([ALICE.userId]);
  });

  it("stores again an event whose canary item an earlier version wrote before its own commit", async () => {
    // That version's batch failed between the two: the canary item alone says nothing of whether it finished.
    const store = await runtime(await fixtureDirectory());
    await store.store.deleteAll(OLDER_TABLE_MARKERS);
    const { portal, person, unmarked } = portalWithUnmarkedCanary();
    await store.store.putAll([unmarked]);
    const result = await store.pipeline.ingest([portal]);
    expect(result.stored).toHaveLength(1);
    const report = await store.queries.user(person);
    expect(report.eventCount).toBe(1);
  });

  it("keeps a workflow's members only, keyed by whom the directory resolved them to", async () => {
    const store = await runtime(await fixtureDirectory());
    await store.pipeline.ingest(storyRecords());
    const workflowItems = (await dumpTable(store)).filter((item) => String(item.pk).startsWith("WORKFLOW#"));
    expect(workflowItems.length).toBeGreaterThan(5);
    // No link item for a person, session or hidden name a member names itself: they are read from the member.
    expect(new Set(workflowItems.map((item) => item.type))).toEqual(new Set(["workflow-event"]));
    const resolved = workflowItems.filter((item) => eventOf(item as Item).actor.directoryUser);
    expect(resolved.length).toBeGreaterThan(0);
    for (const item of workflowItems) {
      const person = eventOf(item as Item).actor.directoryUser;
      expect(
        String(item.sk).endsWith(
          person ? `#BY#${person.identityStoreId}#${person.userId}` : (item.sk as string),
        ),
      ).toBe(true);
      if (!person) expect(String(item.sk)).not.toContain("#BY#");
    }
  });

  it.each([
    ["challenge first", ["challenge", "failure"]],
    ["failure first", ["failure", "challenge"]],
  ])("attributes a new-era failed sign-in to its user through the workflow (%s)", async (_label, order) => {
    const store = await runtime(await fixtureDirectory());
    const events = {
      challenge: load("new/CredentialChallenge__success__alice-failed.json"),
      failure: load("new/CredentialVerification__failure__alice-failed.json"),
    } as const;
    for (const name of order as ("challenge" | "failure")[]) await store.pipeline.ingest([events[name]]);
    const failures = await store.queries.failedSignIns();
    expect(failures).toEqual([
      expect.objectContaining({
        eventId: events.failure.event.eventId,
        userId: ALICE.userId,
        userName: ALICE.userName,
        authWorkflowId: events.failure.event.authWorkflowId,
      }),
    ]);
    const report = await store.queries.user({ identityStoreId: ALICE.identityStoreId, userId: ALICE.userId });
    expect(report.eventCount).toBe(2);
    // A failed attempt opens no session: it belongs to the user, in an inferred group.
    expect(report.sessions).toEqual([expect.objectContaining({ inferred: true, eventCount: 2 })]);
  });

  it("never attributes a sign-in whose typed name AWS hid, and stores no trace of it", async () => {
    const store = await runtime(await fixtureDirectory());
    await store.pipeline.ingest([
      load("new/CredentialChallenge__success__hidden-username.json"),
      load("new/CredentialVerification__failure__hidden-username.json"),
    ]);
    const failures = await store.queries.failedSignIns();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ userId: null, userName: null });
    expect(JSON.stringify(await dumpTable(store))).not.toContain("HIDDEN_DUE_TO_SECURITY_REASONS");
  });

  it("remembers a bounded number of typed names: a spray of new names evicts the oldest, not memory", async () => {
    const counting = new CountingDirectory(await fixtureDirectory());
    const store = await runtime(counting);
    const { Pipeline } = await import("@idc-audit/core/ingest");
    const pipeline = new Pipeline(store.store, counting, { nameCacheSize: 3 });
    let sequence = 0;
    const failedAttempt = (typedName: string) => {
      const raw = loadEvent("old/CredentialVerification__failure.json");
      sequence += 1;
      raw.eventID = `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`;
      // Each attempt its own sign-in workflow: one workflow's members share their attribution.
      (raw.additionalEventData as Record<string, unknown>).AuthWorkflowID = raw.eventID;
      (raw.userIdentity as Record<string, unknown>).userName = typedName;
      return normalized(raw);
    };
    await pipeline.ingest([failedAttempt("bobsmith@example.com"), failedAttempt("BobSmith@example.com")]);
    expect(counting.nameLookups).toBe(1);
    // Three more names fill the cache past its bound of three: Bob's lookup, the least recently used, goes.
    await pipeline.ingest(["spray-1", "spray-2", "spray-3"].map(failedAttempt));
    expect(counting.nameLookups).toBe(4);
    await pipeline.ingest([failedAttempt("spray-3"), failedAttempt("bobsmith@example.com")]);
    expect(counting.nameLookups).toBe(5);
    // Eviction forgets a lookup, not an attribution: Bob's three failed attempts are all his.
    const failures = await store.queries.failedSignIns();
    expect(failures).toHaveLength(7);
    expect(failures.filter((failure) => failure.userName === BOB.userName)).toHaveLength(3);
  });

  it("forgets a name's lookup after its time to live: a user the directory knows since is found", async () => {
    // Prepare: a directory that does not know Bob yet, then does (created while the process runs).
    const directory = await fixtureDirectory();
    let created = false;
    const late: UserDirectory = {
      kind: directory.kind,
      identityStoreId: directory.identityStoreId,
      describe: (user) => directory.describe(user),
      findByUserName: async (name) => (created ? directory.findByUserName(name) : undefined),
      findByExternalId: (externalId) => directory.findByExternalId(externalId),
      findByEmail: async (email) => (created ? directory.findByEmail(email) : []),
    };
    const store = await runtime(late);
    const { Pipeline } = await import("@idc-audit/core/ingest");
    const pipeline = new Pipeline(store.store, late, { nameCacheTtlMs: 200 });
    let sequence = 0;
    const failedAttempt = () => {
      const raw = loadEvent("old/CredentialVerification__failure.json");
      sequence += 1;
      raw.eventID = `00000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`;
      raw.eventTime = `2026-07-01T10:0${sequence}:00Z`;
      (raw.additionalEventData as Record<string, unknown>).AuthWorkflowID = raw.eventID;
      (raw.userIdentity as Record<string, unknown>).userName = "bobsmith@example.com";
      return normalized(raw);
    };
    // Act: an attempt before Bob exists; one just after (the lookup remembered); one after the time to live.
    await pipeline.ingest([failedAttempt()]);
    created = true;
    await pipeline.ingest([failedAttempt()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await pipeline.ingest([failedAttempt()]);
    // Assess: the third attempt is Bob's (before 2026-12-04, no attempt by that name was until the process
    // restarted).
    const failures = await store.queries.failedSignIns();
    expect(failures).toHaveLength(3);
    // The first two stay nobody's: a failed attempt's typed name is not stored, and the second was looked up
    // within the time to live of the first's answer.
    const byId = new Map(failures.map((failure) => [failure.eventId.slice(-1), failure.userName]));
    expect([byId.get("1"), byId.get("2"), byId.get("3")]).toEqual([null, null, BOB.userName]);
  });

  it("stores no typed sign-in name, one-time code or token anywhere", async () => {
    const store = await runtime(await fixtureDirectory());
    const typo = loadEvent("new/CredentialChallenge__success__failed-password.json");
    (typo.additionalEventData as Record<string, unknown>).UserName = "b0bsmith-typo@example.com";
    const oldTypo = loadEvent("old/CredentialVerification__failure.json");
    (oldTypo.userIdentity as Record<string, unknown>).userName = "Sup3rSecretPassw0rd!";
    const records = [
      ...fixtureFiles("aws-docs").flatMap((path) => {
        try {
          return [load(path)];
        } catch {
          return [];
        }
      }),
      ...storyRecords(),
      normalized(typo),
      normalized(oldTypo),
    ];
    await store.pipeline.ingest(records);
    const dump = JSON.stringify(await dumpTable(store));
    for (const secret of [
      "b0bsmith-typo",
      "Sup3rSecretPassw0rd!",
      "auth_code",
      "wdc_csrf_token",
      "HIDDEN_DUE",
    ]) {
      expect(dump).not.toContain(secret);
    }
  });

  it.each([
    ["mapping learned first", true],
    ["old events first", false],
  ])(
    "resolves old-shape events through the name a transitional event teaches (%s)",
    async (_label, learnFirst) => {
      const store = await runtime(noDirectory);
      const old = load("old/ListAccounts__success.json");
      const teacher = load("transitional/ListAccounts__success.json");
      const batches = learnFirst ? [[teacher], [old]] : [[old], [teacher]];
      for (const batch of batches) await store.pipeline.ingest(batch);
      const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
      expect(report.eventCount).toBe(2);
      const [user] = await store.queries.findUsers(BOB.userName);
      expect(user).toEqual({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    },
  );

  it("reads the events waiting for a learned name again when the batch that learned it failed", async () => {
    // Prepare: an old-shape event waits for its name; the teacher's first delivery fails after reading it.
    const store = await runtime(noDirectory);
    const old = load("old/ListAccounts__success.json");
    const teacher = load("transitional/ListAccounts__success.json");
    const second = load("transitional/ListAccountRoles__success.json");
    await store.pipeline.ingest([old]);
    const putAll = store.store.putAll.bind(store.store);
    let failures = 0;
    store.store.putAll = async (items) => {
      if (
        failures === 0 &&
        items.some((item) => item.type === "user-event" && item.sk.endsWith(old.event.eventId))
      ) {
        failures += 1;
        throw new Error("injected: the table went away");
      }
      return putAll(items);
    };
    // Act: the failed batch, then a redelivery and another teacher in the same process.
    await expect(store.pipeline.ingest([teacher])).rejects.toThrow("injected");
    await store.pipeline.ingest([teacher]);
    await store.pipeline.ingest([second]);
    // Assess
    const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    expect(failures).toBe(1);
    expect(report.eventCount).toBe(3);
  });

  it.each([
    ["the old-shape event first", ["old", "new"]],
    ["the profile first", ["new", "old"]],
  ])(
    "attributes an old-shape event through the name its person's profile teaches, while name lookups fail (%s)",
    async (_order, shapes) => {
      // Prepare: the directory answers DescribeUser but not name lookups (one throttled API, say). The old-shape
      // event names bob only by sign-in name; the new-shape one names him by user id, so enrichment fetches
      // his profile, whose user name is the one the old-shape event waits for.
      const { store } = await nameLookupsFailing();
      const old = load("old/ListAccounts__success.json");
      const byId = load("new/ListAccounts__success.json");
      // Act
      for (const shape of shapes) await store.pipeline.ingest([shape === "old" ? old : byId]);
      // Assess: in either order both events are bob's, and the tables are those of a directory that answered
      // the name.
      const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
      expect(report.eventCount).toBe(2);
      const reference = await runtime(await fixtureDirectory());
      await reference.pipeline.ingest([byId]);
      await reference.pipeline.ingest([old]);
      const userItems = async (target: Runtime) =>
        (await dumpTable(target))
          .filter((item) => String(item.pk).startsWith("USER#"))
          .map((item) => item.sk);
      expect(await userItems(store)).toEqual(await userItems(reference));
    },
  );

  it.each([
    ["the old-shape event first", ["old", "change"]],
    ["the directory change first", ["change", "old"]],
  ])(
    "attributes an old-shape event through the name a profile fetched for a directory change teaches, while name lookups fail (%s)",
    async (_order, steps) => {
      // Prepare: only a directory change names bob (enriched after the batch's name joins).
      const { store } = await nameLookupsFailing();
      const old = load("old/ListAccounts__success.json");
      const assignment = load("admin/CreateAccountAssignment__success.json");
      // Act
      for (const step of steps) await store.pipeline.ingest([step === "old" ? old : assignment]);
      // Assess
      expect(await bobsEventIds(store)).toContain(old.event.eventId);
    },
  );

  it.each([
    ["the old-shape event first", ["old", "byId", "enrich"]],
    ["idc-audit enrich first", ["byId", "enrich", "old"]],
  ])(
    "attributes an old-shape event through the name idc-audit enrich's profile teaches (%s)",
    async (_order, steps) => {
      // Prepare: name lookups fail throughout; DescribeUser fails until `idc-audit enrich` retries it.
      class DescribeOutage extends OutageDirectory {
        describeDown = true;
        override describe(user: UserKey) {
          if (this.describeDown)
            return Promise.resolve({ status: "unavailable" as const, reason: "ThrottlingException" });
          return super.describe(user);
        }
      }
      const directory = new DescribeOutage(await fixtureDirectory());
      directory.down = true;
      const store = await runtime(directory);
      const old = load("old/ListAccounts__success.json");
      const byId = load("new/ListAccounts__success.json");
      // Act: each step in a process of its own; `enrich` as the command runs it.
      for (const step of steps) {
        const pipeline = new Pipeline(store.store, directory);
        if (step === "enrich") {
          directory.describeDown = false;
          await pipeline.enricher.retryPending();
          await pipeline.teachLearnedNames();
        } else await pipeline.ingest([step === "old" ? old : byId]);
      }
      // Assess
      expect(await bobsEventIds(store)).toContain(old.event.eventId);
    },
  );

  it("groups sessionless old-shape events of one person into inferred sessions split by idle time", async () => {
    const store = await runtime(await fixtureDirectory());
    // (Old-era CreateTokenWithIAM names a session in additionalEventData: it is not sessionless.)
    await store.pipeline.ingest(
      fixtureFiles("old")
        .map(load)
        .filter((record) => !record.event.credentialId),
    );
    const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    expect(report.sessions.length).toBeGreaterThan(0);
    expect(report.sessions.every((session) => session.inferred)).toBe(true);
    expect(report.sessions.reduce((sum, session) => sum + session.eventCount, 0)).toBe(report.eventCount);
    const first = report.sessions[0];
    if (!first) throw new Error("no session");
    const timeline = await store.queries.session(first.credentialId);
    expect(timeline.events).toHaveLength(first.eventCount);
  });

  it("finds a person by external id, user name, email and user id", async () => {
    const store = await runtime(await fixtureDirectory());
    await store.pipeline.ingest(storyRecords());
    const bob = { identityStoreId: BOB.identityStoreId, userId: BOB.userId };
    expect(await store.queries.findUsersByExternalId("00u1abcdEFGHijkl2345")).toEqual([bob]);
    expect(
      await store.queries.findUsersByExternalId("00u1abcdEFGHijkl2345", "https://example.okta.com"),
    ).toEqual([bob]);
    expect(
      await store.queries.findUsersByExternalId("00u1abcdEFGHijkl2345", "https://other.example"),
    ).toEqual([]);
    expect(await store.queries.findUsers("BobSmith@Example.com")).toEqual([bob]);
    expect(await store.queries.findUsers(BOB.userId)).toEqual([bob]);
    const report = await store.queries.user(bob);
    // All three eras count toward the same person.
    const eras = new Set<string>();
    for (const session of report.sessions) eras.add(session.firstSeen.slice(0, 4));
    expect(eras.size).toBeGreaterThanOrEqual(3);
  });

  it("indexes every event by source address", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = fixtureFiles("new").map(load);
    await store.pipeline.ingest(records);
    const address = records[0]?.event.sourceIp;
    if (!address) throw new Error("fixture has no address");
    const events = await store.queries.address(address);
    expect(events.length).toBe(records.filter((record) => record.event.sourceIp === address).length);
  });
});

describe("pipeline: one copy of a self-attributed event, found through session and address links", () => {
  it("answers sessions and addresses over many days and people exactly as the events say", async () => {
    // Prepare: 3,000 events of 12 people over weeks, every era, failures included.
    const synth = { events: 3_000, users: 12, seed: 5, failureRate: 0.2 };
    const generated = synthRecords(synth);
    // One session that goes on past midnight (the generator's sessions last minutes).
    const portal = generated.find(
      (record) => record.event.credentialId && record.event.actor.user && record.event.category === "portal",
    );
    if (!portal) throw new Error("the synthetic archive has no portal event");
    const nextDay = {
      ...portal,
      event: {
        ...portal.event,
        eventId: `${portal.event.eventId}-next-day`,
        eventTime: new Date(Date.parse(portal.event.eventTime) + 86_400_000)
          .toISOString()
          .replace(".000Z", "Z"),
      },
    };
    const records = [...generated, nextDay];
    const store = await runtime(synthExportDirectory(synth));
    // Act
    for (let start = 0; start < records.length; start += 500) {
      await store.pipeline.ingest(records.slice(start, start + 500));
    }
    // Assess: an address lists exactly the events seen from it.
    const events = records.map((record) => record.event);
    const addresses = [...new Set(events.flatMap((event) => (event.sourceIp ? [event.sourceIp] : [])))];
    for (const address of addresses) {
      const listed = (await store.queries.address(address)).map((event) => event.eventId).sort();
      const expected = events.filter((event) => event.sourceIp === address).map((event) => event.eventId);
      expect(listed).toEqual([...new Set(expected)].sort());
    }
    // A session lists every event carrying its id, over all its days, plus sign-in steps of its workflows.
    const sessions = [
      ...new Set(events.flatMap((event) => (event.credentialId ? [event.credentialId] : []))),
    ];
    const days = (ids: readonly string[]) =>
      new Set(
        events.filter((event) => ids.includes(event.eventId)).map((event) => event.eventTime.slice(0, 10)),
      );
    let spansDays = 0;
    for (const credentialId of sessions) {
      const timeline = await store.queries.session(credentialId);
      const listed = timeline.events.map((event) => event.eventId);
      const carrying = events
        .filter((event) => event.credentialId === credentialId)
        .map((event) => event.eventId);
      expect(listed).toEqual(expect.arrayContaining(carrying));
      for (const event of timeline.events) {
        expect(event.credentialId === credentialId || event.eventSource === "signin.amazonaws.com").toBe(
          true,
        );
      }
      if (days(carrying).size > 1) spansDays += 1;
    }
    expect(sessions.length).toBeGreaterThan(50);
    expect(spansDays).toBeGreaterThan(0);
    // The layout: an event that names its person (its onBehalfOf, or its sign-in name through the directory),
    // a sign-in step too, is stored once, in that person's timeline; its address and own session have links.
    const table = await dumpTable(store);
    const copies = new Map<string, string[]>();
    const storedEvents = new Map<string, AuditEvent>();
    for (const item of table) {
      const eventId = /^EVENT#[^#]+#(.+)$/.exec(String(item.sk))?.[1];
      const partition = String(item.pk).split("#")[0] as string;
      if (!eventId || !["USER", "ADDRESS", "SESSION", "EVENT"].includes(partition)) continue;
      copies.set(eventId, [...(copies.get(eventId) ?? []), partition]);
      storedEvents.set(eventId, eventOf(item as Item));
    }
    const named = [...storedEvents.values()].filter(
      (event) => event.actor.user !== undefined || event.actor.directoryUser !== undefined,
    );
    expect(named.filter((event) => event.category !== "sign-in").length).toBeGreaterThan(1_000);
    expect(named.filter((event) => event.category === "sign-in").length).toBeGreaterThan(300);
    expect(named.filter((event) => !event.actor.user).length).toBeGreaterThan(300);
    for (const event of named) expect(copies.get(event.eventId)).toEqual(["USER"]);
    // An event naming nobody is kept whole under its address, whatever the joins later found.
    const stored = (event: AuditEvent) => storedEvents.get(event.eventId)?.actor;
    const anonymous = events.filter((event) => !stored(event)?.user && !stored(event)?.directoryUser);
    expect(anonymous.length).toBeGreaterThan(50);
    for (const event of anonymous) expect(copies.get(event.eventId)).toContain("ADDRESS");
  });
});

describe("pipeline: idempotence and order", () => {
  it("counts re-delivered events as duplicates and writes nothing new", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = storyRecords();
    const first = await store.pipeline.ingest(records);
    const before = await dumpTable(store);
    const second = await store.pipeline.ingest([...records, ...records.slice(0, 3)]);
    expect(first.stored).toHaveLength(records.length);
    expect(second.stored).toHaveLength(0);
    expect(second.duplicates).toBe(records.length + 3);
    expect(await dumpTable(store)).toEqual(before);
  });

  it("counts an event in two batches stored side by side once as stored and once as a duplicate, as one after the other would", async () => {
    const records = storyRecords();
    const reference = await runtime(await fixtureDirectory());
    await reference.pipeline.ingest(records);
    const store = await runtime(await fixtureDirectory());
    const half = Math.floor(records.length / 2);
    // Three events in both batches: the first batch's last ones.
    const firstBatch = records.slice(0, half);
    const secondBatch = [...records.slice(half - 3, half), ...records.slice(half)];
    // Act
    const [first, second] = await Promise.all([
      store.pipeline.ingest(firstBatch),
      store.pipeline.ingest(secondBatch),
    ]);
    // Assess
    expect(first).toMatchObject({ duplicates: 0 });
    expect(first.stored).toHaveLength(firstBatch.length);
    expect(second.duplicates).toBe(3);
    expect(second.stored).toHaveLength(records.length - half);
    expect(await dumpTable(store)).toEqual(await dumpTable(reference));
  });

  it("gives the same tables for any order, duplication and batch split (property)", async () => {
    const records = storyRecords();
    const reference = await runtime(await fixtureDirectory());
    await reference.pipeline.ingest(records);
    const expected = await dumpTable(reference);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(records, { minLength: records.length, maxLength: records.length }),
        fc.array(fc.nat({ max: records.length - 1 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 20 }),
        async (shuffled, duplicated, batchSize) => {
          const store = await memoryRuntime(await fixtureDirectory());
          try {
            const deliveries = [
              ...shuffled,
              ...duplicated.map((index) => shuffled[index] as NormalizedRecord),
            ];
            for (let start = 0; start < deliveries.length; start += batchSize) {
              await store.pipeline.ingest(deliveries.slice(start, start + batchSize));
            }
            expect(await dumpTable(store)).toEqual(expected);
          } finally {
            await store.close();
          }
        },
      ),
      { numRuns: 12 },
    );
  });
});

describe("pipeline: days with no event stored", () => {
  /** Counts the commit keys (`commitKey`) a runtime's store reads from now on. */
  const countCommitKeyReads = (store: Runtime) => {
    const counter = { count: 0 };
    const getAll = store.store.getAll.bind(store.store);
    store.store.getAll = (keys) => {
      counter.count += keys.filter(
        (key) => key.pk.startsWith(Keys.coveragePartition("")) && key.sk.startsWith(CoverageSort.Event),
      ).length;
      return getAll(keys);
    };
    return counter;
  };

  it("reads no commit key of a day with nothing stored, and every one of a day with events stored", async () => {
    // Prepare: a table idc-audit created, nothing stored.
    const store = await runtime(await fixtureDirectory());
    const reads = countCommitKeyReads(store);
    const records = storyRecords();
    // Act: the story, then the story again from another process (which has not written the days itself).
    const first = await store.pipeline.ingest(records);
    const readsOfNewDays = reads.count;
    const again = await new Pipeline(store.store, await fixtureDirectory()).ingest(records);
    // Assess
    expect(first.stored).toHaveLength(records.length);
    expect(readsOfNewDays).toBe(0);
    expect(again).toMatchObject({ stored: [], duplicates: records.length });
    expect(reads.count).toBe(records.length);
  });

  it("stores a day's coverage item before any commit item of the day, in batches side by side and in another process", async () => {
    // Prepare: every write of commit items first checks that their days' items are stored.
    const store = await runtime(await fixtureDirectory());
    const putAll = store.store.putAll.bind(store.store);
    const getAll = store.store.getAll.bind(store.store);
    const uncovered: string[] = [];
    store.store.putAll = async (items) => {
      const days = new Set(
        items
          .filter((item) => item.type === CoverageItemType.Event)
          .map((item) => item.pk.slice(Keys.coveragePartition("").length)),
      );
      const stored = new Set((await getAll([...days].map(Keys.coverageDay))).map((item) => item.sk));
      uncovered.push(...[...days].filter((day) => !stored.has(day)));
      return putAll(items);
    };
    const records = storyRecords();
    const half = Math.floor(records.length / 2);
    // Act
    await Promise.all([
      store.pipeline.ingest(records.slice(0, half)),
      store.pipeline.ingest(records.slice(half)),
    ]);
    await new Pipeline(store.store, await fixtureDirectory()).ingest(records);
    // Assess
    expect(uncovered).toEqual([]);
  });

  it("reads every commit key on a table it did not create: an event committed there before its day's item is a duplicate", async () => {
    // Prepare: a table an older version created (no marker), holding an event's commit item and no item of its
    // day, as a version that did not write the day first could leave it.
    const store = await runtime(await fixtureDirectory());
    await store.store.deleteAll(OLDER_TABLE_MARKERS);
    const { portal, person } = portalWithUnmarkedCanary();
    await store.store.putAll([
      Items.userEvent(person, portal.event),
      coverageEventItem(portal.event, undefined),
    ]);
    // Act
    const result = await store.pipeline.ingest([portal]);
    // Assess
    expect(result).toMatchObject({ stored: [], duplicates: 1 });
  });
});

describe("pipeline: aliases written once per process", () => {
  // New-shape events of 4 people, in batches of 40, every batch naming most of them.
  const synth = { events: 2_000, users: 4, seed: 11 };

  /** Batches one after the other, or two at a time side by side (as `ingestStream` stores them). */
  const deliveries = {
    "one after the other": async (store: Runtime, batches: NormalizedRecord[][]) => {
      for (const batch of batches) await store.pipeline.ingest(batch);
    },
    "two side by side": async (store: Runtime, batches: NormalizedRecord[][]) => {
      for (let index = 0; index < batches.length; index += 2)
        await Promise.all(batches.slice(index, index + 2).map((batch) => store.pipeline.ingest(batch)));
    },
  };

  it.each([
    // No directory: the pipeline's user id alias is the only one.
    ["no directory", "one after the other", () => noDirectory],
    ["no directory", "two side by side", () => noDirectory],
    // A directory: each profile's aliases too, the user id among them, which the pipeline wrote first.
    ["a directory", "one after the other", () => synthExportDirectory(synth)],
    ["a directory", "two side by side", () => synthExportDirectory(synth)],
  ] as const)(
    "writes each of a person's aliases and each day once, and asks the directory once a person, however many batches name them (%s, %s)",
    async (_label, delivery, directory) => {
      const records = synthRecords(synth).filter((record) => record.event.shape === "new");
      expect(records.length).toBeGreaterThan(200);
      const counting = new CountingDirectory(directory());
      const store = await runtime(counting);
      const writes = new Map<string, number>();
      const putAll = store.store.putAll.bind(store.store);
      store.store.putAll = async (items) => {
        // Each key once per call, as putAll writes it.
        const keys = new Set(
          items
            .filter((item) => item.type === "alias" || item.type === "coverage-day")
            .map((item) => `${item.type} ${item.pk} ${item.sk}`),
        );
        for (const key of keys) writes.set(key, (writes.get(key) ?? 0) + 1);
        return putAll(items);
      };
      const batches: NormalizedRecord[][] = [];
      for (let start = 0; start < records.length; start += 40) batches.push(records.slice(start, start + 40));
      // Act
      await deliveries[delivery](store, batches);
      // Assess: each alias and day once, each person described once, and the person still found by their id.
      expect(batches.length).toBeGreaterThan(5);
      const aliases = [...writes.keys()].filter((key) => key.startsWith("alias "));
      expect(aliases.length).toBeGreaterThanOrEqual(4);
      expect(writes.size).toBeGreaterThan(aliases.length);
      expect([...writes.entries()].filter(([, count]) => count !== 1)).toEqual([]);
      const people = new Set(
        records.flatMap(({ event }) => (event.actor.user ? [event.actor.user.userId] : [])),
      );
      expect(counting.describes).toBe(people.size);
      const someone = records[0]?.event.actor.user;
      if (!someone) throw new Error("a new-shape event names its person");
      expect(await store.queries.findUsers(someone.userId)).toEqual([someone]);
    },
  );
});

describe("pipeline: enrichment", () => {
  it("calls DescribeUser once per user, whatever the number of events, batches and processes", async () => {
    const counting = new CountingDirectory(await fixtureDirectory());
    const store = await runtime(counting);
    for (const record of storyRecords()) await store.pipeline.ingest([record]);
    const profiles = (await dumpTable(store)).filter((item) => item.type === "profile");
    expect(profiles.length).toBeGreaterThanOrEqual(2);
    expect(counting.describes).toBe(profiles.length);
    // A second process on the same table finds the profile cached in the table.
    const secondProcess = new CountingDirectory(await fixtureDirectory());
    const { Pipeline } = await import("@idc-audit/core/ingest");
    const other = new Pipeline(store.store, secondProcess);
    const extra = loadEvent("new/ListAccounts__success.json");
    extra.eventID = "00000000-0000-4000-8000-000000000001";
    await other.ingest([normalized(extra)]);
    expect(secondProcess.describes).toBe(0);
  });

  it("keeps the events of a user the directory no longer knows, marked deleted", async () => {
    const store = await runtime(await fixtureDirectory());
    const ghost = loadEvent("new/ListAccounts__success.json");
    (ghost.userIdentity as { onBehalfOf: { userId: string } }).onBehalfOf.userId =
      "11111111-2222-3333-4444-555555555555";
    await store.pipeline.ingest([normalized(ghost)]);
    const report = await store.queries.user({
      identityStoreId: BOB.identityStoreId,
      userId: "11111111-2222-3333-4444-555555555555",
    });
    expect(report.user.status).toBe("deleted");
    expect(report.eventCount).toBe(1);
  });

  it("believes an export given later over the deleted mark an older export left", async () => {
    // Prepare: a person an older export does not list (marked deleted), then a process given an export that does.
    const store = await runtime(await fixtureDirectory());
    const userId = "11111111-2222-3333-4444-555555555556";
    const eventOfTheirs = (eventId: string) => {
      const event = loadEvent("new/ListAccounts__success.json");
      event.eventID = eventId;
      (event.userIdentity as { onBehalfOf: { userId: string } }).onBehalfOf.userId = userId;
      return normalized(event);
    };
    await store.pipeline.ingest([eventOfTheirs("00000000-0000-4000-8000-000000000011")]);
    const person = { identityStoreId: BOB.identityStoreId, userId };
    expect((await store.queries.user(person)).user.status).toBe("deleted");
    const newer = ExportDirectory.fromJson(
      { Users: [{ UserName: "xavier@example.com", UserId: userId, IdentityStoreId: BOB.identityStoreId }] },
      BOB.identityStoreId,
    );
    // Act: the next process, within the profile's lifetime, given the newer export.
    await new Pipeline(store.store, newer).ingest([eventOfTheirs("00000000-0000-4000-8000-000000000012")]);
    // Assess: named (before, deleted until the lifetime ran out, 24 hours).
    expect((await store.queries.user(person)).user).toMatchObject({
      status: "enriched",
      userName: "xavier@example.com",
    });
  });

  it("stores events unenriched when there is no directory", async () => {
    const store = await runtime(noDirectory);
    await store.pipeline.ingest([load("new/ListAccounts__success.json")]);
    const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    expect(report.user).toMatchObject({ status: "unenriched", userName: null });
    expect(report.eventCount).toBe(1);
  });
});

/** Counts the reads of sign-in workflow partitions a runtime's store makes from now on. */
function countWorkflowReads(store: Runtime): { readonly count: number } {
  const counter = { count: 0 };
  const query = store.store.query.bind(store.store);
  store.store.query = (pk, range) => {
    if (pk.startsWith("WORKFLOW#")) counter.count += 1;
    return query(pk, range);
  };
  return counter;
}

describe("pipeline: sign-in workflow heads", () => {
  const challengeFile = "new/CredentialChallenge__success__alice-failed.json";
  const failureFile = "new/CredentialVerification__failure__alice-failed.json";

  it.each([
    ["the challenge first", challengeFile, failureFile],
    ["the failed attempt first", failureFile, challengeFile],
  ])(
    "joins a workflow split over two batches (%s): the first reads nothing, the second reads the workflow",
    async (_order, first, second) => {
      const store = await runtime(await fixtureDirectory());
      const reads = countWorkflowReads(store);
      await store.pipeline.ingest([load(first)]);
      expect(reads.count).toBe(0);
      await store.pipeline.ingest([load(second)]);
      expect(reads.count).toBe(1);
      expect(await store.queries.failedSignIns()).toEqual([
        expect.objectContaining({ eventId: load(failureFile).event.eventId, userId: ALICE.userId }),
      ]);
    },
  );

  it("joins the two halves of a workflow stored side by side by two processes", async () => {
    const store = await runtime(await fixtureDirectory());
    const other = new Pipeline(store.store, await fixtureDirectory());
    await Promise.all([store.pipeline.ingest([load(challengeFile)]), other.ingest([load(failureFile)])]);
    expect(await store.queries.failedSignIns()).toEqual([
      expect.objectContaining({ eventId: load(failureFile).event.eventId, userId: ALICE.userId }),
    ]);
  });

  it("joins a workflow that a name join links while its first writer is between its writes and its head insert", async () => {
    // An old-shape workflow (its authentication names bob only by a sign-in name, which nothing resolves yet)
    // and a transitional event that teaches that name.
    const workflow = () =>
      ["CredentialChallenge", "CredentialVerification", "UserAuthentication"].map((name) =>
        load(`old/${name}__success.json`),
      );
    const teacher = () => [load("transitional/ListAccounts__success.json")];
    const reference = await runtime(noDirectory);
    await reference.pipeline.ingest(workflow());
    await reference.pipeline.ingest(teacher());
    // Act: the teaching batch runs whole, in another process, after the workflow's batch has written its members
    // and just before it inserts its head: it links bob to the workflow and reads it without the head's member.
    const store = await runtime(noDirectory);
    const workflowStore = new TableStore(store.store.client, { tableName: store.store.tableName });
    const teaching = new Pipeline(store.store, noDirectory);
    const insertAll = workflowStore.insertAll.bind(workflowStore);
    workflowStore.insertAll = async (items) => {
      await teaching.ingest(teacher());
      return insertAll(items);
    };
    await new Pipeline(workflowStore, noDirectory).ingest(workflow());
    // Assess
    expect(await dumpTable(store)).toEqual(await dumpTable(reference));
  });

  it("reads every workflow of a table it did not create: a member an older version stored without a head is joined", async () => {
    // Prepare: the table as a version before heads left it (no marker), holding the challenge it resolved.
    const store = await runtime(await fixtureDirectory());
    await store.store.deleteAll([Keys.workflowHeadsMarker]);
    const challenge = load(challengeFile).event;
    if (!challenge.authWorkflowId) throw new Error("the challenge fixture has a workflow");
    const resolved = {
      ...challenge,
      actor: {
        ...challenge.actor,
        directoryUser: { identityStoreId: ALICE.identityStoreId, userId: ALICE.userId },
      },
    };
    await store.store.putAll([Items.workflowEvent(challenge.authWorkflowId, resolved)]);
    const reads = countWorkflowReads(store);
    // Act: the failed attempt's head is inserted (no head was), yet the workflow is read.
    await store.pipeline.ingest([load(failureFile)]);
    // Assess
    expect(reads.count).toBe(1);
    expect(await store.queries.failedSignIns()).toEqual([
      expect.objectContaining({ eventId: load(failureFile).event.eventId, userId: ALICE.userId }),
    ]);
  });
  it("joins the copy an attempt that failed before its head insert resolved, when its redo inserts first with the directory down", async () => {
    // Prepare: a sign-in whose second factor fails, as the synthetic MFA attack writes it (synth/attacks.ts): the
    // password and TOTP challenges carry the typed name, which only the directory resolves.
    const totpChallenge = () => {
      const raw = loadEvent("new/CredentialChallenge__success__failed-totp.json");
      raw.eventID = "00000000-0000-4000-8000-0000000070b0";
      raw.eventTime = "2026-06-30T23:57:30Z";
      (raw.additionalEventData as Record<string, unknown>).CredentialType = "TOTP";
      return normalized(raw);
    };
    const workflow = () => [
      load("new/CredentialChallenge__success__failed-totp.json"),
      totpChallenge(),
      load("new/CredentialVerification__failure__totp.json"),
    ];
    // The batch fails between its member writes and its head insert, and is redone elsewhere, directory down.
    const failThenRedo = async (target: Runtime) => {
      const directory = new OutageDirectory(await fixtureDirectory());
      const failing = new TableStore(target.store.client, { tableName: target.store.tableName });
      failing.insertAll = () =>
        Promise.reject(new Error("injected: the batch failed before its head insert"));
      await expect(new Pipeline(failing, directory).ingest(workflow())).rejects.toThrow("injected");
      directory.down = true;
      await new Pipeline(target.store, directory).ingest(workflow());
    };
    // Reference: the same deliveries on a table that trusts no head, where every workflow is read.
    const reference = await runtime(await fixtureDirectory());
    await reference.store.deleteAll([Keys.workflowHeadsMarker]);
    await failThenRedo(reference);
    const store = await runtime(await fixtureDirectory());
    // Act
    await failThenRedo(store);
    // Assess: the failed TOTP attempt is bob's on both tables, which hold the same items.
    expect(await reference.queries.failedSignIns()).toEqual([
      expect.objectContaining({ userId: BOB.userId }),
    ]);
    expect(await store.queries.failedSignIns()).toEqual([expect.objectContaining({ userId: BOB.userId })]);
    expect(await dumpTable(store)).toEqual(await dumpTable(reference));
  });
});

describe("pipeline: presence marks of names that events wait for", () => {
  /** Counts the reads of pending-name partitions a runtime's store makes from now on. */
  const countPendingReads = (store: Runtime) => {
    const counter = { count: 0 };
    const query = store.store.query.bind(store.store);
    store.store.query = (pk, range) => {
      if (pk.startsWith("PENDING#")) counter.count += 1;
      return query(pk, range);
    };
    return counter;
  };

  it("reads the events waiting for a learned name only when its mark says some may wait", async () => {
    // Prepare: a table idc-audit created; no event waits for the name the first teacher teaches.
    const store = await runtime(noDirectory);
    const reads = countPendingReads(store);
    // Act: a teacher with nothing waiting, then an old-shape event and a teacher of its name in a new process.
    await store.pipeline.ingest([load("transitional/ListAccounts__success.json")]);
    const readsWithNothingWaiting = reads.count;
    await store.pipeline.ingest([load("old/ListAccounts__success.json")]);
    await new Pipeline(store.store, noDirectory).ingest([
      load("transitional/ListAccountRoles__success.json"),
    ]);
    // Assess: the first read nothing; the second read the marked name and attributed the waiting event.
    expect(readsWithNothingWaiting).toBe(0);
    expect(reads.count).toBe(1);
    const report = await store.queries.user({ identityStoreId: BOB.identityStoreId, userId: BOB.userId });
    expect(report.eventCount).toBe(3);
  });

  it("reads every learned name on a table it did not create: an event an older version left waiting, unmarked, is attributed", async () => {
    // Prepare: the table as a version before presence marks left it (no marker), an old-shape event waiting
    // for its name without a mark.
    const store = await runtime(noDirectory);
    await store.store.deleteAll([Keys.presenceMarksMarker]);
    const old = load("old/ListAccounts__success.json").event;
    const userName = old.actor.userName;
    if (!userName) throw new Error("the old-shape fixture names its user");
    await store.store.putAll([Items.pendingName(userName, old)]);
    // Act
    await store.pipeline.ingest([load("transitional/ListAccounts__success.json")]);
    // Assess
    expect(await bobsEventIds(store)).toContain(old.eventId);
  });
});
