import { readCoverage } from "@idc-audit/core/coverage";
import { noDirectory } from "@idc-audit/core/identity";
import type { NormalizedRecord } from "@idc-audit/core/normalize";
import { describe, expect, it } from "vitest";
import { fixtureFiles, loadEvent } from "../support/fixtures.ts";
import { fixtureDirectory, memoryRuntimePerTest, normalized } from "../support/store.ts";

const runtime = memoryRuntimePerTest();

const load = (path: string) => normalized(loadEvent(path));

let sequence = 0;
/** A copy of a fixture with its own event id (and its own name or extra identity field when given). */
function variant(
  path: string,
  change: (raw: Record<string, unknown>) => void = () => undefined,
): NormalizedRecord {
  const raw = loadEvent(path);
  sequence += 1;
  raw.eventID = `c0000000-0000-4000-8000-${String(sequence).padStart(12, "0")}`;
  change(raw);
  return normalized(raw);
}

const identity = (raw: Record<string, unknown>) => raw.userIdentity as Record<string, unknown>;

describe("coverage: the canary's counters", () => {
  it("counts every era's events and how many resolved to a person, by shape and by day", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = ["old", "transitional", "new"].flatMap((shape) => fixtureFiles(shape).map(load));
    await store.pipeline.ingest(records);
    const report = await readCoverage(store.store);
    expect(report.events).toBe(records.length);
    for (const shape of ["old", "transitional", "new"]) {
      expect(report.byShape[shape]?.events).toBe(
        records.filter((record) => record.event.shape === shape).length,
      );
    }
    // With the directory, only the sign-in steps whose typed name AWS hid name nobody (and expect nobody).
    expect(report.expected).toBeGreaterThan(0);
    expect(report.attributed).toBe(report.expected);
    expect(report.rate).toBe(1);
    const days = new Set(records.map((record) => record.event.eventTime.slice(0, 10)));
    expect(report.days.map((day) => day.day)).toEqual([...days].sort());
    expect(report.days.reduce((sum, day) => sum + day.events, 0)).toBe(records.length);
  });

  it("does not count an event twice when it is delivered again, alone or in another batch, or redone", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = fixtureFiles("new").map(load);
    await store.pipeline.ingest(records);
    const once = await readCoverage(store.store);
    await store.pipeline.ingest(records.slice(0, 5));
    await store.pipeline.ingest([...records].reverse());
    expect(await readCoverage(store.store)).toEqual(once);
    expect(once.events).toBe(records.length);
  });

  it("counts an event stored unresolved as attributed once a later batch resolves it, however often", async () => {
    const store = await runtime(await fixtureDirectory());
    const challenge = load("new/CredentialChallenge__success__alice-failed.json");
    const failure = load("new/CredentialVerification__failure__alice-failed.json");
    const first = await store.pipeline.ingest([failure]);
    expect(first.coverage).toMatchObject({ events: 1, expected: 1, attributed: 0, unattributed: 1 });
    expect((await readCoverage(store.store)).rate).toBe(0);

    const second = await store.pipeline.ingest([challenge]);
    expect(second.coverage).toMatchObject({ events: 1, attributed: 1, lateAttributed: 1 });
    // Another member of the same workflow touches the failure again: its late attribution is not counted twice
    // (the ingest metric the attribution-rate alarm adds up).
    const third = await store.pipeline.ingest([
      variant("new/CredentialChallenge__success__alice-failed.json"),
    ]);
    expect(third.coverage.lateAttributed).toBe(0);
    const report = await readCoverage(store.store);
    expect(report).toMatchObject({ events: 3, expected: 3, attributed: 3, rate: 1 });
  });

  it.each([
    ["challenge first", ["challenge", "failure"]],
    ["failure first", ["failure", "challenge"]],
  ])("does not expect a person of a sign-in for a name AWS hid (%s)", async (_label, order) => {
    const store = await runtime(await fixtureDirectory());
    const events = {
      challenge: load("new/CredentialChallenge__success__hidden-username.json"),
      failure: load("new/CredentialVerification__failure__hidden-username.json"),
    } as const;
    for (const name of order as ("challenge" | "failure")[]) await store.pipeline.ingest([events[name]]);
    expect(await readCoverage(store.store)).toMatchObject({
      events: 2,
      expected: 0,
      attributed: 0,
      rate: null,
    });
  });

  it("leaves old-shape events without a directory unattributed, then counts them when a mapping arrives", async () => {
    const store = await runtime(noDirectory);
    const old = load("old/ListAccounts__success.json");
    await store.pipeline.ingest([old]);
    expect(await readCoverage(store.store)).toMatchObject({ events: 1, expected: 1, attributed: 0, rate: 0 });
    // A transitional event names the same user by both name and id: it teaches the mapping.
    await store.pipeline.ingest([load("transitional/ListAccounts__success.json")]);
    const report = await readCoverage(store.store);
    expect(report.byShape.old).toMatchObject({ events: 1, expected: 1, attributed: 1, rate: 1 });
    expect(report.rate).toBe(1);
  });

  it("lists names the catalogue does not know and new userIdentity fields once each, with counts and first sight", async () => {
    const store = await runtime(await fixtureDirectory());
    const unknown = (time: string) =>
      variant("new/ListAccounts__success.json", (raw) => {
        raw.eventName = "ListAccountsV2";
        raw.eventTime = time;
      });
    const withField = (time: string) =>
      variant("new/ListAccountRoles__success.json", (raw) => {
        raw.eventTime = time;
        identity(raw).onBehalfOf = { ...(identity(raw).onBehalfOf as object), tenantId: "t-1" };
        identity(raw).sessionScope = "portal";
      });
    await store.pipeline.ingest([unknown("2026-08-02T10:00:00Z"), withField("2026-08-02T11:00:00Z")]);
    await store.pipeline.ingest([
      unknown("2026-08-01T09:00:00Z"),
      withField("2026-08-03T08:00:00Z"),
      load("new/ListAccounts__success.json"),
    ]);
    const report = await readCoverage(store.store);
    expect(report.unknown).toEqual([
      {
        eventSource: "sso.amazonaws.com",
        eventName: "ListAccountsV2",
        count: 2,
        firstSeen: "2026-08-01T09:00:00Z",
      },
    ]);
    expect(report.newFields).toEqual([
      { path: "onBehalfOf.tenantId", count: 2, firstSeen: "2026-08-02T11:00:00Z" },
      { path: "sessionScope", count: 2, firstSeen: "2026-08-02T11:00:00Z" },
    ]);
    const ranged = await readCoverage(store.store, "2026-08-03", "2026-08-03T23:59:59Z");
    expect(ranged.events).toBe(1);
    expect(ranged.unknown).toEqual([]);
    expect(ranged.newFields).toEqual([
      { path: "onBehalfOf.tenantId", count: 1, firstSeen: "2026-08-03T08:00:00Z" },
      { path: "sessionScope", count: 1, firstSeen: "2026-08-03T08:00:00Z" },
    ]);
  });

  it("reads one Query for the days and one per day, never the events themselves", async () => {
    const store = await runtime(await fixtureDirectory());
    const records = ["old", "transitional", "new"].flatMap((shape) => fixtureFiles(shape).map(load));
    await store.pipeline.ingest(records);
    const days = new Set(records.map((record) => record.event.eventTime.slice(0, 10)));
    const before = store.store.stats.queries;
    const report = await readCoverage(store.store);
    expect(store.store.stats.queries - before).toBe(1 + days.size);
    expect(report.events).toBe(records.length);
  });
});
