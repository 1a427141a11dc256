import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ReadItem } from "@idc-audit/core/cloudtrail";
import { type Alert, Detector, subjectKey } from "@idc-audit/core/detect";
import { ExportDirectory } from "@idc-audit/core/identity";
import { classifyItem, ingestBatch, MixedBatchBuilder } from "@idc-audit/core/ingest";
import { type NormalizedRecord, normalize } from "@idc-audit/core/normalize";
import { openRuntime, type Runtime } from "@idc-audit/core/runtime";
import { plantAttacks, steadySpray, synthDirectory, synthEvents } from "@idc-audit/core/synth";
import { type Item, ItemType, Keys } from "@idc-audit/core/timeline";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deferred } from "../support/deferred.ts";
import { attackArchive, detectingRuntime, RecordingSink, score } from "../support/detect.ts";
import { loadEvent } from "../support/fixtures.ts";
import { countItemsRead, dumpTable, fixtureDirectory, normalized } from "../support/store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Alerts minus nothing: the whole stored documents must match across deliveries. */
async function ingestAll(
  records: readonly NormalizedRecord[],
  batchSize: number,
  sink: RecordingSink,
  directory: Parameters<typeof detectingRuntime>[0],
) {
  const runtime = await detectingRuntime(directory, sink);
  for (let start = 0; start < records.length; start += batchSize) {
    await runtime.pipeline.ingest(records.slice(start, start + batchSize));
  }
  return runtime;
}

describe("detections on a generated archive with planted attacks", () => {
  const { planted, normalized, directory } = attackArchive(2500);

  it("finds every planted attack and nothing else, and pages each alert once", async () => {
    const sink = new RecordingSink();
    const runtime = await ingestAll(normalized, 400, sink, directory);
    try {
      const alerts = await runtime.alerts();
      const result = score(alerts, planted.expected);
      expect(result.missed).toEqual([]);
      expect(result.falsePositives).toEqual([]);
      expect(result.truePositives).toHaveLength(planted.expected.length);
      expect(sink.published.map((alert) => alert.id).sort()).toEqual(alerts.map((alert) => alert.id).sort());
      // Responders can pivot from the alert to the identity provider.
      const bruteForce = alerts.find((alert) => alert.rule === "brute-force");
      expect(bruteForce?.user?.userName).toBeTruthy();
      expect(bruteForce?.count).toBe(24);
      // Ingesting everything again raises nothing new and pages nobody.
      for (let start = 0; start < normalized.length; start += 400) {
        const result = await runtime.pipeline.ingest(normalized.slice(start, start + 400));
        expect(result.alerts).toEqual([]);
      }
      expect(sink.published).toHaveLength(alerts.length);
    } finally {
      await runtime.close();
    }
  });

  it("yields the same alerts for shuffled, duplicated and differently split deliveries (property)", async () => {
    const reference = await ingestAll(normalized, 500, new RecordingSink(), directory);
    // Alerts and their subject index; paging history legitimately depends on what was known when.
    const expected = (await dumpTable(reference)).filter((item) => String(item.pk).startsWith("ALERT"));
    await reference.close();
    expect(expected.length).toBe(2 * planted.expected.length);
    await fc.assert(
      fc.asyncProperty(
        fc.shuffledSubarray(normalized, { minLength: normalized.length, maxLength: normalized.length }),
        fc.integer({ min: 50, max: 700 }),
        fc.array(fc.nat({ max: normalized.length - 1 }), { maxLength: 200 }),
        async (shuffled, batchSize, duplicated) => {
          const deliveries = [...shuffled, ...duplicated.map((index) => shuffled[index] as NormalizedRecord)];
          const sink = new RecordingSink();
          const runtime = await ingestAll(deliveries, batchSize, sink, directory);
          try {
            const alerts = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
            expect(alerts).toEqual(expected);
            // An incident first seen in part, then whole, pages once.
            expect(sink.published).toHaveLength(planted.expected.length);
          } finally {
            await runtime.close();
          }
        },
      ),
      { numRuns: 3 },
    );
  });

  /** The alerts of the whole archive, and the first failure of its success-after-failures episode. */
  const lateFirstFailure = async () => {
    const reference = await ingestAll(normalized, 400, new RecordingSink(), directory);
    const expected = (await dumpTable(reference)).filter((item) => String(item.pk).startsWith("ALERT"));
    const alert = (await reference.alerts()).find((found) => found.rule === "success-after-failures");
    await reference.close();
    const first = normalized.find(
      (record) =>
        alert?.eventIds.includes(record.event.eventId) && record.event.eventTime === alert.firstSeen,
    );
    expect(first).toBeDefined();
    return { expected, first };
  };

  it("moves an alert whose first failure arrives last, leaving no copy under its earlier start", async () => {
    // Prepare: the reference alerts, and the first failure of the success-after-failures episode.
    const { expected, first } = await lateFirstFailure();
    // Act: everything else first (the alert is raised starting later), then that failure.
    const runtime = await ingestAll(
      normalized.filter((record) => record !== first),
      400,
      new RecordingSink(),
      directory,
    );
    try {
      await runtime.pipeline.ingest([first as NormalizedRecord]);
      // Assess
      const alerts = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
      expect(alerts).toEqual(expected);
    } finally {
      await runtime.close();
    }
  });

  it("moves such an alert on a table an older version wrote, whose subjects carry no presence marks", async () => {
    // Prepare: the reference alerts; then a table without the marker whose alerts were stored unmarked, as a
    // version before presence marks stored them.
    const { expected, first } = await lateFirstFailure();
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      await runtime.store.deleteAll([Keys.presenceMarksMarker]);
      const rest = normalized.filter((record) => record !== first);
      for (let start = 0; start < rest.length; start += 400)
        await runtime.pipeline.ingest(rest.slice(start, start + 400));
      const marks: Item[] = [];
      for await (const page of runtime.store.scan())
        marks.push(...page.filter((item) => item.type === ItemType.PresenceMark));
      expect(marks.length).toBeGreaterThan(0);
      await runtime.store.deleteAll(marks);
      // Act
      await runtime.pipeline.ingest([first as NormalizedRecord]);
      // Assess
      const alerts = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
      expect(alerts).toEqual(expected);
    } finally {
      await runtime.close();
    }
  });

  it("attributes a new-era failed verification that arrives before its challenge", async () => {
    // Failures first, challenges later: attribution through the workflow must still find the brute force.
    const failuresFirst = [...normalized].sort((a, b) => {
      const rank = (record: NormalizedRecord) =>
        record.event.eventName === "CredentialVerification" ? 0 : 1;
      return rank(a) - rank(b);
    });
    const runtime = await ingestAll(failuresFirst, 300, new RecordingSink(), directory);
    try {
      const result = score(await runtime.alerts(), planted.expected);
      expect(result.missed).toEqual([]);
      expect(result.falsePositives).toEqual([]);
    } finally {
      await runtime.close();
    }
  });
});

describe("role-credentials-new-address on a generated archive with role activity", () => {
  it("finds the planted stolen-credential use and none of its look-alikes, in any order", async () => {
    // Prepare: ordinary traffic with role activity (2 role-session records per Identity Center one) and the
    // planted role-session cases, delivered once in order and once reversed in other batches.
    const options = { users: 60, seed: 21 };
    const planted = plantAttacks({ ...options, roleSessions: true });
    const raws = [...synthEvents({ events: 3000, roleRatio: 2, ...options }), ...planted.records];
    const directory = ExportDirectory.fromJson(synthDirectory({ events: 3000, ...options }));
    const expectedRole = planted.expected.filter((entry) => entry.rule === "role-credentials-new-address");
    expect(expectedRole).toHaveLength(1);
    for (const [order, batchSize] of [
      [raws, 500],
      [[...raws].reverse(), 173],
    ] as const) {
      const sink = new RecordingSink();
      const runtime = await detectingRuntime(directory, sink);
      try {
        // Act
        for (let start = 0; start < order.length; start += batchSize) {
          const batch = new MixedBatchBuilder();
          for (const record of order.slice(start, start + batchSize))
            batch.add(classifyItem({ kind: "record", record, location: "synth" } as ReadItem));
          await ingestBatch(runtime.pipeline, batch.take());
        }
        // Assess
        const alerts = (await runtime.alerts()).filter(
          (alert) => alert.rule === "role-credentials-new-address",
        );
        expect(alerts.map((alert) => [subjectKey(alert.subject), alert.roleSessionId])).toEqual(
          expectedRole.map((entry) => [entry.subject, entry.roleSessionId]),
        );
        expect(alerts[0]?.sourceIps).toEqual(["198.18.0.80"]);
        expect(alerts[0]?.count).toBe(4);
        expect(sink.published.filter((alert) => alert.rule === "role-credentials-new-address")).toHaveLength(
          1,
        );
      } finally {
        await runtime.close();
      }
    }
  });
});

describe("privilege-granted-after-failures on a generated archive with directory changes", () => {
  const options = { users: 60, seed: 21 };
  const planted = plantAttacks({ ...options, directoryChanges: true });
  const { normalized: ordinary, directory } = attackArchive(1500, options);
  const plantedRecords = planted.records.flatMap((record) => {
    const classified = classifyItem({ kind: "record", record, location: "planted" } as ReadItem);
    return classified.kind === "audited" ? [classified.record] : [];
  });
  // attackArchive's planted records are the same as these without the directory-change cases: kept once.
  const ordinaryIds = new Set(ordinary.map((record) => record.event.eventId));
  const records = [...ordinary, ...plantedRecords.filter((record) => !ordinaryIds.has(record.event.eventId))];
  const privilege = (subjects: Iterable<string>) =>
    [...subjects].filter((key) => key.startsWith("privilege-granted-after-failures ")).sort();
  const expected = privilege(planted.expected.map((entry) => `${entry.rule} ${entry.subject}`));

  it("finds the four planted grants and none of the five look-alikes, whatever the order", async () => {
    expect(expected).toHaveLength(4);
    // In order; reversed (every change before the sign-ins it follows); shuffled with duplicates, small batches.
    const shuffled = fc.sample(fc.shuffledSubarray(records, { minLength: records.length }), {
      numRuns: 1,
      seed: 7,
    })[0];
    const deliveries: [readonly NormalizedRecord[], number][] = [
      [records, 400],
      [[...records].reverse(), 250],
      [[...(shuffled ?? []), ...records.slice(0, 300)], 120],
    ];
    let reference: Record<string, unknown>[] | undefined;
    for (const [order, batchSize] of deliveries) {
      const runtime = await ingestAll(order, batchSize, new RecordingSink(), directory);
      try {
        const alerts = await runtime.alerts();
        const found = alerts.map((alert) => `${alert.rule} ${subjectKey(alert.subject)}`);
        expect(privilege(found)).toEqual(expected);
        expect(score(alerts, planted.expected).falsePositives).toEqual([]);
        const grant = alerts.find(
          (alert) =>
            alert.rule === "privilege-granted-after-failures" && alert.grants?.[0]?.relation === "made-by",
        );
        expect(grant?.severity).toBe("high");
        expect(grant?.grants?.[0]?.eventName).toBe("CreateAccountAssignment");
        const stored = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
        if (reference === undefined) reference = stored;
        else expect(stored).toEqual(reference);
      } finally {
        await runtime.close();
      }
    }
  });

  it("finds a grant through a group when the person's addition to it arrives in a later batch", async () => {
    // Prepare: the alerts of one ordered delivery; the group additions, held back (a backfill of older months
    // after live ingestion), among them the one that made a planted person a member long before the group was
    // assigned a permission set after their sign-in succeeded after failures.
    const reference = await ingestAll(records, 400, new RecordingSink(), directory);
    const expectedStored = (await dumpTable(reference)).filter((item) => String(item.pk).startsWith("ALERT"));
    await reference.close();
    const additions = records.filter((record) => record.event.eventName === "CreateGroupMembership");
    expect(additions.length).toBeGreaterThan(0);
    const runtime = await ingestAll(
      records.filter((record) => !additions.includes(record)),
      400,
      new RecordingSink(),
      directory,
    );
    try {
      // Act
      await runtime.pipeline.ingest(additions);
      // Assess
      const alerts = await runtime.alerts();
      const found = alerts.map((alert) => `${alert.rule} ${subjectKey(alert.subject)}`);
      expect(privilege(found)).toEqual(expected);
      const stored = (await dumpTable(runtime)).filter((item) => String(item.pk).startsWith("ALERT"));
      expect(stored).toEqual(expectedStored);
    } finally {
      await runtime.close();
    }
  });

  it("withdraws a grant through a group when the person's removal from it arrives last", async () => {
    // Prepare: every planted record but the removal, which names only its membership id.
    const removal = plantedRecords.filter((record) => record.event.eventName === "DeleteGroupMembership");
    expect(removal).toHaveLength(1);
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      await runtime.pipeline.ingest(plantedRecords.filter((record) => !removal.includes(record)));
      const grants = async () =>
        (await runtime.alerts())
          .filter((alert) => alert.rule === "privilege-granted-after-failures")
          .map((alert) => subjectKey(alert.subject))
          .sort();
      // Without the removal, the person looks like a member of the group when it was assigned.
      const before = await grants();
      expect(before).toHaveLength(expected.length + 1);
      // Act
      await runtime.pipeline.ingest(removal);
      // Assess
      expect(await grants()).toEqual(
        expected.map((key) => key.replace("privilege-granted-after-failures ", "")),
      );
    } finally {
      await runtime.close();
    }
  });
});

describe("an alert ending in the last window of a later judgement's range", () => {
  const { normalized: records, directory } = attackArchive(1500);

  it("is kept when a batch touches the person a day before the alert's end (a backfill of older events)", async () => {
    // Prepare: everything stored; a user's alert lasting a second or more.
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      await runtime.pipeline.ingest(records);
      const before = await runtime.alerts();
      const alert = before.find(
        (found) => found.subject.type === "user" && Date.parse(found.lastSeen) > Date.parse(found.firstSeen),
      );
      if (alert?.subject.type !== "user") throw new Error("no user alert lasting a second or more");
      const user = { identityStoreId: alert.subject.identityStoreId, userId: alert.subject.userId };
      const record = records.find(({ event }) => event.eventId === alert.eventIds[0]);
      if (!record) throw new Error("no record of the alert's first event");
      // A sign-in of the person a day before the alert's end, less nine minutes: the judgement's range ends
      // nine minutes after the alert, so it trusts no episode ending in the alert's last minute.
      const at = isoSeconds(Date.parse(alert.lastSeen) - DAY_MS + 9 * 60_000);
      const older = { ...record.event, eventId: "older-sign-in-of-a-backfill", eventTime: at };
      // Act: another process (a backfill of the older archive) judges that sign-in.
      const detector = new Detector(runtime.store, runtime.queries, new RecordingSink());
      await detector.evaluate([{ event: older, users: [user] }]);
      // Assess: nothing new about the episode was learnt: its alert is still stored, as it was.
      expect(await runtime.alerts()).toEqual(before);
    } finally {
      await runtime.close();
    }
  });
});

describe("a success-after-failures alert whose success is in the hour after a later judgement's reading", () => {
  const { normalized: records, directory } = attackArchive(1500);
  /** The records, their times moved by `ms` and their ids (events, workflows, sessions) made new. */
  const moved = (from: readonly NormalizedRecord[], ms: number, tag: string) =>
    from.map(({ event, ...rest }) => ({
      ...rest,
      event: {
        ...event,
        eventId: `${event.eventId}-${tag}`,
        eventTime: isoSeconds(Date.parse(event.eventTime) + ms),
        ...(event.authWorkflowId ? { authWorkflowId: `${event.authWorkflowId}-${tag}` } : {}),
        ...(event.credentialId ? { credentialId: `${event.credentialId}-${tag}` } : {}),
      },
    }));

  it("is kept when a batch judges a success of the person half an hour before its first failure", async () => {
    // Prepare: the planted six failures (14:00–14:02:30, from 198.18.0.40) and success (14:05, from .41) of one
    // person, and the same moved: the failures to 14:32–14:34:30, the success to 15:01.
    const within = (from: string, to: string, address: string) =>
      records.filter(
        ({ event }) =>
          event.sourceIp === address &&
          event.eventTime >= `2024-06-05T${from}` &&
          event.eventTime <= `2024-06-05T${to}`,
      );
    const failures = within("14:00:00Z", "14:03:59Z", "198.18.0.40");
    const success = within("14:05:00Z", "14:05:59Z", "198.18.0.41");
    expect(failures.filter(({ event }) => event.eventName === "CredentialVerification")).toHaveLength(6);
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      await runtime.pipeline.ingest([
        ...failures,
        ...success,
        ...moved(failures, 32 * 60_000, "a"),
        ...moved(success, 56 * 60_000, "a"),
      ]);
      const before = await runtime.alerts();
      const times = (alerts: Alert[]) =>
        alerts.map((alert) => [alert.rule, alert.firstSeen.slice(11), alert.lastSeen.slice(11), alert.count]);
      expect(times(before)).toEqual([
        ["success-after-failures", "14:00:03Z", "14:05:05Z", 7],
        ["success-after-failures", "14:32:03Z", "15:01:05Z", 7],
      ]);
      // Act: one more failure before the first success, at 14:03. The judgement of that success reads up to the
      // end of the hour of 14:33; the second alert starts before 14:33, its success is at 15:01.
      await runtime.pipeline.ingest(moved(failures.slice(0, 2), 3 * 60_000, "b"));
      // Assess: the first alert counts the new failure; the second is still stored, as it was.
      expect(times(await runtime.alerts())).toEqual([
        ["success-after-failures", "14:00:03Z", "14:05:05Z", 8],
        ["success-after-failures", "14:32:03Z", "15:01:05Z", 7],
      ]);
    } finally {
      await runtime.close();
    }
  });
});

describe("detections of batches stored side by side", () => {
  it("runs one evaluation at a time: a second one reads nothing until the first has ended", async () => {
    // Prepare: a detector over a store whose first read waits until released.
    const runtime = await detectingRuntime(await fixtureDirectory(), new RecordingSink());
    try {
      // Reads by query and by key (the subjects' presence marks), one entry a request; the first one waits.
      const reads: string[] = [];
      const gate = deferred();
      const query = runtime.store.query.bind(runtime.store);
      runtime.store.query = async (pk, options) => {
        reads.push(pk);
        if (reads.length === 1) await gate.promise;
        return query(pk, options);
      };
      const getAll = runtime.store.getAll.bind(runtime.store);
      runtime.store.getAll = async (keys) => {
        reads.push(keys.map((key) => key.pk).join(" "));
        if (reads.length === 1) await gate.promise;
        return getAll(keys);
      };
      const detector = new Detector(runtime.store, runtime.queries, undefined);
      const failed = normalized(loadEvent("new/CredentialVerification__failure.json")).event;
      const user = { identityStoreId: "d-1234567890", userId: "a1b2c3d4-0000-0000-0000-000000000001" };
      // Act
      const first = detector.evaluate([{ event: failed, users: [user] }]);
      await new Promise((resolve) => setImmediate(resolve));
      const readsBeforeSecond = reads.length;
      const second = detector.evaluate([{ event: failed, users: [user] }]);
      for (let turn = 0; turn < 20; turn += 1) await new Promise((resolve) => setImmediate(resolve));
      const readsWhileFirstWaits = reads.length;
      gate.resolve();
      await Promise.all([first, second]);
      // Assess: the first was waiting on its first read; the second made none until the first ended, then read.
      expect(readsBeforeSecond).toBe(1);
      expect(readsWhileFirstWaits).toBe(1);
      expect(reads.length).toBeGreaterThan(2);
    } finally {
      await runtime.close();
    }
  });
});

describe("detections of subjects without a presence mark", () => {
  /** The partitions queried while `act` runs on a table idc-audit created, with no alert in it. */
  const partitionsQueried = async (act: (runtime: Runtime) => Promise<void>): Promise<string[]> => {
    const runtime = await detectingRuntime(await fixtureDirectory(), new RecordingSink());
    try {
      const reads: string[] = [];
      const query = runtime.store.query.bind(runtime.store);
      runtime.store.query = async (pk, options) => {
        reads.push(pk);
        return query(pk, options);
      };
      await act(runtime);
      return reads;
    } finally {
      await runtime.close();
    }
  };

  it("reads no subject's alerts when the subjects judged have no presence mark", async () => {
    const failed = normalized(loadEvent("new/CredentialVerification__failure.json")).event;
    const user = { identityStoreId: "d-1234567890", userId: "a1b2c3d4-0000-0000-0000-000000000001" };
    // Act: a failed verification of a person from an address: both are judged.
    const reads = await partitionsQueried(async (runtime) => {
      await new Detector(runtime.store, runtime.queries, undefined).evaluate([
        { event: failed, users: [user] },
      ]);
    });
    // Assess: the failed sign-ins were read, no subject's alerts.
    expect(reads.some((pk) => pk.startsWith("FAILED#"))).toBe(true);
    expect(reads.filter((pk) => pk.startsWith("ALERTSUBJ#"))).toEqual([]);
  });

  it("reads no alerts of a person granted a privilege when they have no presence mark", async () => {
    // Act: a person added to a group, whose privileges privilege-granted-after-failures judges.
    let stored = 0;
    const reads = await partitionsQueried(async (runtime) => {
      const result = await runtime.pipeline.ingest([
        normalized(loadEvent("admin/CreateGroupMembership__success.json")),
      ]);
      stored = result.stored.length;
    });
    // Assess: the group's changes were read, not the person's alerts.
    expect(stored).toBe(1);
    expect(reads.some((pk) => pk.startsWith("GROUP#"))).toBe(true);
    expect(reads.filter((pk) => pk.startsWith("ALERTSUBJ#"))).toEqual([]);
  });
});

describe("detections of two processes on one table", () => {
  const { normalized: records, directory } = attackArchive(1500);
  const alertItems = (items: Record<string, unknown>[]) =>
    items.filter((item) => String(item.pk).startsWith("ALERT"));
  /**
   * Holds `runtime`'s write of the alert pair with sort key `sk`: before the listing until `listing` resolves,
   * and after the index item until `afterIndex` does. `atListing` and `wroteIndex` resolve when it gets there.
   */
  function holdAlertPair(runtime: Runtime, sk: string) {
    const pair = {
      atListing: deferred(),
      listing: deferred(),
      wroteIndex: deferred(),
      afterIndex: deferred(),
      held: { listing: false, index: false },
    };
    const targeted = (items: readonly Item[], prefix: string) =>
      items.some((item) => item.pk.startsWith(prefix) && item.sk === sk);
    const holdListing = async (items: readonly Item[]) => {
      if (!pair.held.listing && targeted(items, "ALERT#v1")) {
        pair.held.listing = true;
        pair.atListing.resolve();
        await pair.listing.promise;
      }
    };
    // A listing the judgement read is written with a conditional put (`replaceIf`), the others in a batch.
    const replaceIf = runtime.store.replaceIf.bind(runtime.store);
    runtime.store.replaceIf = async (key, item, expected) => {
      if (item) await holdListing([item]);
      return replaceIf(key, item, expected);
    };
    const putAll = runtime.store.putAll.bind(runtime.store);
    runtime.store.putAll = async (items) => {
      await holdListing(items);
      await putAll(items);
      if (!pair.held.index && targeted(items, "ALERTSUBJ")) {
        pair.held.index = true;
        pair.wroteIndex.resolve();
        await pair.afterIndex.promise;
      }
    };
    return pair;
  }
  /** The alert items and alerts of one process storing every record in one batch. */
  async function referenceAlerts(): Promise<{ items: Record<string, unknown>[]; alerts: Alert[] }> {
    const reference = await detectingRuntime(directory, new RecordingSink());
    try {
      await reference.pipeline.ingest(records);
      return { items: alertItems(await dumpTable(reference)), alerts: await reference.alerts() };
    } finally {
      await reference.close();
    }
  }
  /** Two runtimes on one fresh data dir, as two processes; closed and removed after `use`. */
  async function twoProcesses(use: (partial: Runtime, whole: Runtime) => Promise<void>): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), "idc-audit-two-processes-"));
    const partial = await openRuntime({ dataDir, directory, alertSink: new RecordingSink() });
    const whole = await openRuntime({ dataDir, directory, alertSink: new RecordingSink() });
    try {
      await use(partial, whole);
    } finally {
      await partial.close();
      await whole.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
  /**
   * 1. The partial process runs until it holds before its listing; 2. the whole one until it holds (`wholeHolds`);
   * 3. the partial one goes on and ends; 4. the whole one goes on (`wholeGoes`) and ends.
   */
  async function partialThenWhole(
    pair: ReturnType<typeof holdAlertPair>,
    partial: () => Promise<unknown>,
    whole: () => Promise<unknown>,
    wholeHolds: ReturnType<typeof deferred>,
    wholeGoes: ReturnType<typeof deferred>,
  ): Promise<void> {
    const partialDone = partial();
    await pair.atListing.promise;
    const wholeDone = whole();
    await wholeHolds.promise;
    pair.listing.resolve();
    await partialDone;
    wholeGoes.resolve();
    await wholeDone;
  }
  /** Which of three parts a record goes to: each sign-in workflow whole, so each part attributes its own. */
  const third = ({ event }: NormalizedRecord) => {
    let hash = 0;
    for (const char of event.authWorkflowId ?? event.eventId) hash = (hash * 31 + char.charCodeAt(0)) | 0;
    return Math.abs(hash) % 3;
  };

  it("judging subjects again with nothing new writes none of their alerts again", async () => {
    // Prepare: everything stored by one process, with its alerts; then a spy on the table's writes.
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      const stored = (await runtime.pipeline.ingest(records)).stored;
      const alerts = await runtime.alerts();
      expect(alerts.length).toBeGreaterThan(0);
      const written: string[] = [];
      const putAll = runtime.store.putAll.bind(runtime.store);
      runtime.store.putAll = async (items) => {
        written.push(...items.map((item) => item.pk));
        return putAll(items);
      };
      // Act: a second process's detector judges every stored sign-in and its people again.
      const detector = new Detector(runtime.store, runtime.queries, new RecordingSink());
      const judged = await detector.evaluate(
        stored.map((event) => ({ event, users: event.actor.user ? [event.actor.user] : [] })),
      );
      // Assess: the same alerts, none published or written again.
      expect(judged).toEqual([]);
      expect(await runtime.alerts()).toEqual(alerts);
      expect(written.filter((pk) => pk.startsWith("ALERT"))).toEqual([]);
    } finally {
      await runtime.close();
    }
  });

  it("writes an alert's listing again when only its index item is left", async () => {
    // Prepare: everything stored, then one alert's listing deleted, as a delete of the pair racing a write of it
    // (or a crash between the pair's two deletes) can leave it.
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      const stored = (await runtime.pipeline.ingest(records)).stored;
      const before = alertItems(await dumpTable(runtime));
      // An address's alert: judged again from the failed sign-ins alone, whoever they are attributed to.
      const alert = (await runtime.alerts()).find((found) => found.subject.type === "address");
      if (!alert) throw new Error("the archive raised no alert about an address");
      await runtime.store.deleteItem({ pk: "ALERT#v1", sk: `${alert.firstSeen}#${alert.id}` });
      // Act: a second process's detector judges every stored sign-in again.
      const detector = new Detector(runtime.store, runtime.queries, new RecordingSink());
      await detector.evaluate(
        stored.map((event) => ({ event, users: event.actor.user ? [event.actor.user] : [] })),
      );
      // Assess
      expect(alertItems(await dumpTable(runtime))).toEqual(before);
    } finally {
      await runtime.close();
    }
  });

  it("an evaluation that read before the other process stored its events, and writes last, is judged again", async () => {
    // Prepare: the reference (one process, one batch), then two processes on one data dir, the first storing two
    // thirds of the sign-in workflows, the second the rest. The first holds its first alert write until the
    // second has ended: it read before the second stored anything, so it judged on part of an episode.
    const { items: expected } = await referenceAlerts();
    expect(expected.length).toBeGreaterThan(0);
    await twoProcesses(async (first, second) => {
      const released = deferred();
      const held = deferred();
      const putAll = first.store.putAll.bind(first.store);
      first.store.putAll = async (items) => {
        if (items.some((item) => item.pk.startsWith("ALERT"))) {
          held.resolve();
          await released.promise;
        }
        return putAll(items);
      };
      // Act
      const firstDone = first.pipeline.ingest(records.filter((record) => third(record) !== 0));
      const firstHeld = await Promise.race([held.promise.then(() => true), firstDone.then(() => false)]);
      await second.pipeline.ingest(records.filter((record) => third(record) === 0));
      released.resolve();
      await firstDone;
      // Assess: the first did write an alert from half the events last; the table is the reference's.
      expect(firstHeld).toBe(true);
      expect(alertItems(await dumpTable(second))).toEqual(expected);
    });
  });

  it("heals an alert whose write stored its index item but not its listing, when the batch is delivered again", async () => {
    // Prepare: the reference; then a store whose first alert write keeps only the index items and fails, as a
    // BatchWriteItem whose listing stayed unprocessed until the retries ran out (or a Lambda timeout) would.
    const { items: expected } = await referenceAlerts();
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      const putAll = runtime.store.putAll.bind(runtime.store);
      let failed = false;
      runtime.store.putAll = async (items) => {
        if (!failed && items.some((item) => item.pk.startsWith("ALERT"))) {
          failed = true;
          await putAll(items.filter((item) => item.pk.startsWith("ALERTSUBJ")));
          throw Object.assign(new Error("BatchWriteItem left items unprocessed"), { retryable: true });
        }
        return putAll(items);
      };
      // Act
      await expect(runtime.pipeline.ingest(records)).rejects.toThrow("unprocessed");
      await runtime.pipeline.ingest(records);
      // Assess
      expect(alertItems(await dumpTable(runtime))).toEqual(expected);
    } finally {
      await runtime.close();
    }
  });

  it("judges many addresses again with one read of the failed sign-ins, not one per address", async () => {
    // Prepare: the planted enumeration of unknown user names, made from 60 addresses in one batch: every
    // address's alert is written, so each is judged again.
    const planted = plantAttacks({ users: 60, seed: 21 });
    const enumeration = planted.records.filter(
      (record) => (record as { sourceIPAddress?: string }).sourceIPAddress === "198.18.0.50",
    );
    const addresses = 60;
    const batch: NormalizedRecord[] = [];
    for (let index = 0; index < addresses; index += 1) {
      for (const record of enumeration) {
        const text = JSON.stringify(record)
          .replaceAll("198.18.0.50", `203.0.113.${index + 1}`)
          .replace(
            /"eventID":"([^"]+)"/,
            (_, id: string) => `"eventID":"${id.slice(0, -3)}${String(index).padStart(3, "0")}"`,
          )
          .replace(/"AuthWorkflowID":"([^"]+)"/, (_, id: string) => `"AuthWorkflowID":"${id}-${index}"`);
        const result = normalize(JSON.parse(text));
        if (result.status === "audited") batch.push(result.record);
      }
    }
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      let failedReads = 0;
      const query = runtime.store.query.bind(runtime.store);
      runtime.store.query = async (pk, options) => {
        if (pk === "FAILED#v1") failedReads += 1;
        return query(pk, options);
      };
      // Act
      await runtime.pipeline.ingest(batch);
      // Assess: an alert per address, from two reads of the failed sign-ins (the judgement and the one after it).
      expect((await runtime.alerts()).filter((alert) => alert.rule === "unknown-user-names")).toHaveLength(
        addresses,
      );
      expect(failedReads).toBe(2);
    } finally {
      await runtime.close();
    }
  });

  it("refuses the listing of part of an episode once another process wrote the whole one, and judges again", async () => {
    // Prepare: the reference; then two processes on one data dir, gated so that the one that read part of the
    // unknown-user-names episode comes to write its listing after the other wrote the whole one's (and holds
    // before its index item). Before listings were written only as read, the part was written over the whole.
    const { items: expected, alerts } = await referenceAlerts();
    const target = alerts.find((alert) => alert.rule === "unknown-user-names");
    if (!target) throw new Error("the archive raised no unknown-user-names alert");
    const sk = `${target.firstSeen}#${target.id}`;
    await twoProcesses(async (partial, whole) => {
      const partialPair = holdAlertPair(partial, sk);
      partialPair.afterIndex.resolve();
      const refused = refusedListings(partial);
      const wholeAtIndex = deferred();
      const wholeIndex = deferred();
      let wholeHeld = false;
      const wholePut = whole.store.putAll.bind(whole.store);
      whole.store.putAll = async (items) => {
        if (!wholeHeld && items.some((item) => item.pk.startsWith("ALERTSUBJ") && item.sk === sk)) {
          wholeHeld = true;
          wholeAtIndex.resolve();
          await wholeIndex.promise;
        }
        return wholePut(items);
      };
      // Act: the partial process stores two thirds of the workflows and holds before its listing; the whole one
      // stores the rest, writes its listing and holds before its index item; the partial one goes on and ends;
      // then the whole one.
      await partialThenWhole(
        partialPair,
        () => partial.pipeline.ingest(records.filter((record) => third(record) !== 0)),
        () => whole.pipeline.ingest(records.filter((record) => third(record) === 0)),
        wholeAtIndex,
        wholeIndex,
      );
      // Assess: the partial process's write was refused, and the table holds the whole episode's alert.
      expect({ listing: partialPair.held.listing, wholeHeld }).toEqual({ listing: true, wholeHeld: true });
      expect(refused).toContain(sk);
      expect(alertItems(await dumpTable(partial))).toEqual(expected);
    });
  });

  it("leaves no listing without its index item when another process writes a listing it is deleting", async () => {
    // Prepare: the reference; then everything but the brute force's first failure, stored by one process: the
    // alert is stored under its second failure's time.
    const { items: expected, alerts } = await referenceAlerts();
    const alert = alerts.find((found) => found.rule === "brute-force");
    if (!alert) throw new Error("the archive raised no brute-force alert");
    const first = records.find(({ event }) => event.eventId === alert.eventIds[0]);
    if (!first) throw new Error("no record of the alert's first event");
    await twoProcesses(async (partial, whole) => {
      await partial.pipeline.ingest(records.filter((record) => record !== first));
      const moved = (await partial.alerts()).find((found) => found.rule === "brute-force");
      if (!moved) throw new Error("no brute-force alert without its first failure");
      const sk = `${moved.firstSeen}#${moved.id}`;
      const [listing] = await partial.store.getAll([{ pk: "ALERT#v1", sk }]);
      if (!listing) throw new Error("no listing of the moved alert");
      // When the whole process deletes the moved alert's index item (its listing already deleted), the other
      // process has just written that listing again, with other content, and its index item.
      let written = false;
      const wholeDelete = whole.store.deleteItem.bind(whole.store);
      whole.store.deleteItem = async (key) => {
        if (!written && key.pk.startsWith("ALERTSUBJ") && key.sk === sk) {
          written = true;
          const data = JSON.parse(String(listing.data)) as Alert;
          const rewritten = { ...listing, data: JSON.stringify({ ...data, count: data.count + 1 }) };
          await partial.store.putAll([rewritten]);
          await partial.store.putAll([
            {
              ...key,
              type: ItemType.AlertBySubject,
              alertId: moved.id,
              rule: moved.rule,
              firstSeen: moved.firstSeen,
            },
          ]);
        }
        return wholeDelete(key);
      };
      // Act: the whole process stores the first failure: the alert moves, and the moved one is deleted.
      await whole.pipeline.ingest([first]);
      // Assess: the listing written meanwhile kept an index item, was found, and was deleted in turn.
      expect(written).toBe(true);
      expect(alertItems(await dumpTable(partial))).toEqual(expected);
    });
  });

  it("deletes a moved alert only as it read it: a process rewriting it meanwhile is refused and judges again", async () => {
    // Prepare: the reference; then everything but the brute force's first failure and a middle one, stored by
    // one process: the alert is stored under its second failure's time.
    const { items: expected, alerts } = await referenceAlerts();
    const alert = alerts.find((found) => found.rule === "brute-force");
    if (!alert) throw new Error("the archive raised no brute-force alert");
    const byId = (id: string | undefined) => {
      const record = records.find(({ event }) => event.eventId === id);
      if (!record) throw new Error(`no record ${id}`);
      return record;
    };
    const first = byId(alert.eventIds[0]);
    const middle = byId(alert.eventIds[3]);
    await twoProcesses(async (partial, whole) => {
      await partial.pipeline.ingest(records.filter((record) => record !== first && record !== middle));
      const moved = (await partial.alerts()).find((found) => found.rule === "brute-force");
      if (!moved) throw new Error("no brute-force alert without its first failure");
      expect(moved.firstSeen).not.toBe(alert.firstSeen);
      const sk = `${moved.firstSeen}#${moved.id}`;
      const partialPair = holdAlertPair(partial, sk);
      partialPair.afterIndex.resolve();
      const refused = refusedListings(partial);
      const wholeDeletedListing = deferred();
      const wholeAfterDelete = deferred();
      let wholeHeld = false;
      const wholeReplace = whole.store.replaceIf.bind(whole.store);
      whole.store.replaceIf = async (key, item, expectedContent) => {
        const done = await wholeReplace(key, item, expectedContent);
        if (!wholeHeld && item === undefined && key.pk === "ALERT#v1" && key.sk === sk) {
          wholeHeld = true;
          wholeDeletedListing.resolve();
          await wholeAfterDelete.promise;
        }
        return done;
      };
      // Act: the partial process stores the middle failure, judges (still without the first) and holds before
      // rewriting the moved alert's listing; the whole one stores the first failure (the alert moves), writes
      // the whole alert, deletes the moved one's listing and holds; the partial one goes on and ends; then the
      // whole one.
      await partialThenWhole(
        partialPair,
        () => partial.pipeline.ingest([middle]),
        () => whole.pipeline.ingest([first]),
        wholeDeletedListing,
        wholeAfterDelete,
      );
      // Assess: the partial process's rewrite was refused, and the table holds the whole episode's alert alone.
      expect({ listing: partialPair.held.listing, wholeHeld }).toEqual({ listing: true, wholeHeld: true });
      expect(refused).toContain(sk);
      expect(alertItems(await dumpTable(partial))).toEqual(expected);
    });
  });
});

/** The sort keys of the listings whose conditional write (`replaceIf`) the store refused to `runtime`, as they come. */
function refusedListings(runtime: Runtime): string[] {
  const refused: string[] = [];
  const replaceIf = runtime.store.replaceIf.bind(runtime.store);
  runtime.store.replaceIf = async (key, item, expected) => {
    const done = await replaceIf(key, item, expected);
    if (!done) refused.push(key.sk);
    return done;
  };
  return refused;
}

/** Ingests `records` 300 at a time; for each batch, the items its queries of partitions `counted` returned. */
async function itemsReadPerBatch(
  runtime: Runtime,
  records: readonly NormalizedRecord[],
  counted: (pk: string) => boolean,
): Promise<number[]> {
  let read = 0;
  const query = runtime.store.query.bind(runtime.store);
  runtime.store.query = async (pk, options) => {
    const items = await query(pk, options);
    if (counted(pk)) read += items.length;
    return items;
  };
  const perBatch: number[] = [];
  for (let offset = 0; offset < records.length; offset += 300) {
    read = 0;
    await runtime.pipeline.ingest(records.slice(offset, offset + 300));
    perBatch.push(read);
  }
  return perBatch;
}

/**
 * A steady spray (by default a failure every 20 s, alternately for one of 25 people and a name that matches
 * nobody; with one person, a brute force on them).
 */
function normalizedSpray(
  failures: number,
  seed: number,
  sourceIp: string,
  start: string,
  { everyMs, users } = { everyMs: 20_000, users: 25 },
) {
  const spray = steadySpray({ failures, everyMs, users, seed, sourceIp, start });
  const records = spray.records.flatMap((record) => {
    const result = normalize(record);
    return result.status === "audited" ? [result.record] : [];
  });
  return { spray, records };
}

/** The alert items of a table's dump (listings and index items; `dumpTable` leaves marks and spans out). */
const alertItemsOf = (items: Record<string, unknown>[]) =>
  items.filter((item) => String(item.pk).startsWith("ALERT"));

/** A spray of five hours, a failure every 20 s, and the alert items of one process storing it all at once. */
async function fiveHourSpray(seed: number, sourceIp: string, start: string) {
  const { spray, records } = normalizedSpray(900, seed, sourceIp, start);
  const directory = ExportDirectory.fromJson(spray.directory);
  const reference = await detectingRuntime(directory, new RecordingSink());
  try {
    await reference.pipeline.ingest(records);
    return { records, directory, expected: alertItemsOf(await dumpTable(reference)) };
  } finally {
    await reference.close();
  }
}

describe("a steady password spray from one address", () => {
  it("reads the same few hours at each batch, however long it has run, and alerts on it whole", async () => {
    // Prepare: a failure every 20 s for 16 hours and 40 minutes, alternately for one of 25 people and a name that
    // matches nobody; batches of 150 failures (50 minutes).
    const { spray, records } = normalizedSpray(3000, 9, "198.18.0.77", "2026-06-01T00:00:00Z");
    const runtime = await detectingRuntime(ExportDirectory.fromJson(spray.directory), new RecordingSink());
    try {
      // Act: items the detections read of the failed sign-ins and of people's events, per batch.
      const perBatch = await itemsReadPerBatch(
        runtime,
        records,
        (pk) => pk === "FAILED#v1" || pk.startsWith("USER#"),
      );
      // Assess: the last batches read no more than the first ones did (reading the day so far, the last batch
      // read some 20 times the first's).
      const early = Math.max(...perBatch.slice(0, 3));
      expect(Math.max(...perBatch.slice(3))).toBeLessThanOrEqual(early * 1.5);
      const alerts = (await runtime.alerts()).map((alert) => [alert.rule, alert.count, alert.distinctUsers]);
      expect(alerts.sort()).toEqual([
        ["password-spray", spray.expected.passwordSpray, 25],
        ["unknown-user-names", spray.expected.unknownUserNames, undefined],
      ]);
    } finally {
      await runtime.close();
    }
  });
});

describe("a brute force on one person that never pauses", () => {
  it("reads the same few hours at each batch, however long it has run, and alerts on it whole", async () => {
    // Prepare: a failure every 10 s for 8 hours and 20 minutes from one address, alternately for the one person
    // in the directory and a name that matches nobody; batches of 150 failures (25 minutes).
    const { spray, records } = normalizedSpray(3000, 13, "198.18.0.78", "2026-06-03T00:00:00Z", {
      everyMs: 10_000,
      users: 1,
    });
    const runtime = await detectingRuntime(ExportDirectory.fromJson(spray.directory), new RecordingSink());
    try {
      // Act: items the detections read of the person's events, per batch.
      const perBatch = await itemsReadPerBatch(runtime, records, (pk) => pk.startsWith("USER#"));
      // Assess: the later batches read no more of the person's events than the first six did (with the hours
      // around a batch's failures, a batch reads three or four of the person's hours, 1,440 events at most; reading
      // a day either side, as before, the last batch read some 6,000).
      expect(Math.max(...perBatch.slice(6))).toBeLessThanOrEqual(Math.max(...perBatch.slice(0, 6)));
      expect(Math.max(...perBatch)).toBeLessThanOrEqual(4 * 360);
      const alerts = (await runtime.alerts()).map((alert) => [alert.rule, alert.count, alert.sourceIps]);
      expect(alerts.sort()).toEqual([
        ["brute-force", spray.expected.passwordSpray, ["198.18.0.78"]],
        ["unknown-user-names", spray.expected.unknownUserNames, ["198.18.0.78"]],
      ]);
    } finally {
      await runtime.close();
    }
  });
});

describe("a spray's alert extended by two processes at once", () => {
  it("is not left with one process's failures when the other rewrote it after it was read", async () => {
    // Prepare: a spray of five hours, a failure every 20 s; the reference alerts of one process storing it all.
    const { records, directory, expected } = await fiveHourSpray(11, "198.18.0.88", "2026-06-02T00:00:00Z");
    // Two stretches of five minutes arrive late, one to each process: at 01:30 and 03:30, hours apart, so that
    // neither reads the other's hour and both take the rest of the episode from the stored alerts.
    const failureOf = (index: number) => Math.floor(index / 2);
    const early = records.filter((_, index) => failureOf(index) >= 270 && failureOf(index) < 285);
    const late = records.filter((_, index) => failureOf(index) >= 630 && failureOf(index) < 645);
    const rest = records.filter((record) => !early.includes(record) && !late.includes(record));
    const dataDir = await mkdtemp(join(tmpdir(), "idc-audit-spray-two-processes-"));
    const first = await openRuntime({ dataDir, directory, alertSink: new RecordingSink() });
    const second = await openRuntime({ dataDir, directory, alertSink: new RecordingSink() });
    try {
      await first.pipeline.ingest(rest);
      // The second process holds after its judgement read the alerts' listings, before it writes its own.
      const held = deferred();
      const release = deferred();
      let listingReads = 0;
      const getAll = second.store.getAll.bind(second.store);
      second.store.getAll = async (keys) => {
        if (keys.some((key) => key.pk === "ALERT#v1")) {
          listingReads += 1;
          if (listingReads === 2) {
            held.resolve();
            await release.promise;
          }
        }
        return getAll(keys);
      };
      const refused = refusedListings(second);
      // Act: the second process judges its stretch on the stored alerts; the first stores its stretch and
      // rewrites them; then the second goes on.
      const secondDone = second.pipeline.ingest(late);
      await held.promise;
      await first.pipeline.ingest(early);
      release.resolve();
      await secondDone;
      // Assess: the second process's write of an alert it had read was refused, and the alerts count both
      // stretches, as one process storing everything made them.
      expect(refused.length).toBeGreaterThan(0);
      expect(alertItemsOf(await dumpTable(first))).toEqual(expected);
    } finally {
      await first.close();
      await second.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("a spray or brute force of a few seconds every day", () => {
  it.each([
    { who: "an address (25 people)", users: 25, rules: ["password-spray", "unknown-user-names"] },
    { who: "a person", users: 1, rules: ["brute-force", "unknown-user-names"] },
  ])(
    "reads the same few alerts of $who at each batch, however many days it has alerted",
    async ({ users, rules }) => {
      // Prepare: ten days, each with 40 failures 2 s apart at 08:00 from one address (half for the people, half
      // for names that match nobody): two alerts a day.
      const { spray } = normalizedSpray(400, 300 + users, "198.18.0.79", "2026-06-10T08:00:00Z", {
        everyMs: 2000,
        users,
      });
      const days = Array.from({ length: 10 }, (_, day) =>
        spray.records.slice(day * 80, day * 80 + 80).flatMap((record) => {
          const moved = {
            ...record,
            eventTime: isoSeconds(Date.parse(String(record.eventTime)) + day * DAY_MS),
          };
          const result = normalize(moved);
          return result.status === "audited" ? [result.record] : [];
        }),
      );
      const sink = new RecordingSink();
      const runtime = await detectingRuntime(ExportDirectory.fromJson(spray.directory), sink);
      try {
        // Act: each day in batches of ten records, counting the items read of the alerts, their index and their
        // paging markers.
        const read = countItemsRead(
          runtime.store,
          (item) =>
            (item.pk.startsWith("ALERT") || item.pk.startsWith("PAGED")) &&
            item.type !== ItemType.PresenceMark,
        );
        const perDay: number[] = [];
        for (const records of days) {
          for (let offset = 0; offset < records.length; offset += 10)
            await runtime.pipeline.ingest(records.slice(offset, offset + 10));
          perDay.push(read.take());
        }
        // Assess: from the third day on, no day read more of them than the second did (reading every alert of the
        // subject, as before 2026-12-04, the tenth day of the address read 610 items, the second 114).
        expect(perDay[1]).toBeGreaterThan(0);
        expect(Math.max(...perDay.slice(2))).toBeLessThanOrEqual(perDay[1] as number);
        // Each day's two alerts, 20 failures each, from its first failure for a person and for nobody.
        const alerts = (await runtime.alerts()).map(
          (alert) => `${alert.rule} ${alert.firstSeen} ${alert.count}`,
        );
        expect(alerts.sort()).toEqual(
          days
            .flatMap((records) => {
              const failures = records.filter(({ event }) => event.eventName === "CredentialVerification");
              return [
                `${rules[0]} ${failures[0]?.event.eventTime} 20`,
                `${rules[1]} ${failures[1]?.event.eventTime} 20`,
              ];
            })
            .sort(),
        );
        // Each alert paged once.
        expect(sink.published.map((alert) => alert.id).sort()).toEqual(
          (await runtime.alerts()).map((alert) => alert.id).sort(),
        );
      } finally {
        await runtime.close();
      }
    },
  );
});

describe("a subject's episode span", () => {
  it("is stored only for subjects with an alert, on a table without presence marks too", async () => {
    // Prepare: a table as AWS deployments have it (without the marker that lets a subject without a presence mark
    // go unread); three failures from one address, 40 from another (two alerts).
    const quiet = normalizedSpray(3, 23, "198.18.0.82", "2026-06-06T08:00:00Z", { everyMs: 2000, users: 25 });
    const loud = normalizedSpray(40, 23, "198.18.0.83", "2026-06-06T09:00:00Z", { everyMs: 2000, users: 25 });
    const runtime = await detectingRuntime(
      ExportDirectory.fromJson(loud.spray.directory),
      new RecordingSink(),
    );
    try {
      await runtime.store.deleteAll([Keys.presenceMarksMarker]);
      const spans = async () => {
        const found: Item[] = [];
        for await (const page of runtime.store.scan())
          found.push(...page.filter((item) => item.type === ItemType.AlertSpan));
        return found.map((item) => item.pk);
      };
      // Act and assess: no span for the quiet address or the people named; then one for the loud address.
      await runtime.pipeline.ingest(quiet.records);
      expect(await spans()).toEqual([]);
      await runtime.pipeline.ingest(loud.records);
      expect((await runtime.alerts()).map((alert) => alert.rule).sort()).toEqual([
        "password-spray",
        "unknown-user-names",
      ]);
      expect(await spans()).toEqual([
        Keys.alertSubjectPartition(subjectKey({ type: "address", sourceIp: "198.18.0.83" })),
      ]);
    } finally {
      await runtime.close();
    }
  });

  it("of each person judged in a batch is read in one request for all of them", async () => {
    // Prepare: a brute force on each of three people (and unknown names) from one address; a day later, one more
    // failure for each of them, which changes no alert.
    const { spray, records } = normalizedSpray(126, 29, "198.18.0.84", "2026-06-07T08:00:00Z", {
      everyMs: 2000,
      users: 3,
    });
    const dayLater = records.slice(240).map((record) => ({
      ...record,
      event: { ...record.event, eventTime: isoSeconds(Date.parse(record.event.eventTime) + DAY_MS) },
    }));
    const runtime = await detectingRuntime(ExportDirectory.fromJson(spray.directory), new RecordingSink());
    try {
      await runtime.pipeline.ingest(records.slice(0, 240));
      expect((await runtime.alerts()).filter((alert) => alert.rule === "brute-force")).toHaveLength(3);
      const spanReads: number[] = [];
      const getAll = runtime.store.getAll.bind(runtime.store);
      runtime.store.getAll = async (keys) => {
        const people = keys.filter((key) => key.sk === "SPAN" && key.pk.includes("#user#")).length;
        if (people > 0) spanReads.push(people);
        return getAll(keys);
      };
      // Act
      await runtime.pipeline.ingest(dayLater);
      // Assess: the three people's spans in one request (before, one request each).
      expect(spanReads).toEqual([3]);
    } finally {
      await runtime.close();
    }
  });
});

describe("a paging marker of an alert that started long before", () => {
  it.each([
    {
      span: "three days and two hours",
      outcome: "is read, and the overlapping alerts are not paged again",
      spanMs: 3 * DAY_MS + 2 * 3_600_000,
      paged: [],
    },
    {
      span: "0",
      outcome: "is not read (the control: the span is what reaches it)",
      spanMs: 0,
      paged: ["password-spray", "unknown-user-names"],
    },
  ])("with the subject's episode span $span, $outcome", async ({ spanMs, paged }) => {
    // Prepare: markers of both address rules for an alert from three days before the spray to an hour into it, as
    // a paged alert longer than a window leaves them, and the address's span; a table without presence marks.
    const sourceIp = "198.18.0.86";
    const start = "2026-06-12T08:00:00Z";
    const { spray, records } = normalizedSpray(40, 31, sourceIp, start, { everyMs: 2000, users: 25 });
    const sink = new RecordingSink();
    const runtime = await detectingRuntime(ExportDirectory.fromJson(spray.directory), sink);
    try {
      await runtime.store.deleteAll([Keys.presenceMarksMarker]);
      const subject = subjectKey({ type: "address", sourceIp });
      const firstSeen = isoSeconds(Date.parse(start) - 3 * DAY_MS);
      await runtime.store.putAll([
        { ...Keys.alertSubjectSpan(subject), type: ItemType.AlertSpan, spanMs },
        ...["password-spray", "unknown-user-names"].map((rule) => ({
          ...Keys.alertPaged(subject, rule, firstSeen, `earlier-${rule}`),
          type: ItemType.AlertPaged,
          alertId: `earlier-${rule}`,
          rule,
          firstSeen,
          lastSeen: isoSeconds(Date.parse(start) + 3_600_000),
        })),
      ]);
      // Act
      await runtime.pipeline.ingest(records);
      // Assess: the spray's two alerts are stored either way; paged only when the span does not reach back to
      // the markers (a judgement reads the markers that start no earlier than a window and the span before).
      expect((await runtime.alerts()).map((alert) => alert.rule).sort()).toEqual([
        "password-spray",
        "unknown-user-names",
      ]);
      expect(sink.published.map((alert) => alert.rule).sort()).toEqual(paged);
    } finally {
      await runtime.close();
    }
  });
});

describe("a failure delivered late in the middle of a long episode", () => {
  it("joins its alert, on a table with the subject's episode span and on one written before spans were kept", async () => {
    // Prepare: a spray of five hours, a failure every 20 s; the reference alerts of one process storing it all.
    const { records, directory, expected } = await fiveHourSpray(17, "198.18.0.81", "2026-06-04T00:00:00Z");
    // Two stretches of five minutes held back: at 02:30 and 04:00, two and a half and four hours after the alerts'
    // first failures, and an hour and a half apart.
    const at = (record: NormalizedRecord) => record.event.eventTime;
    const first = records.filter(
      (record) => at(record) >= "2026-06-04T02:30" && at(record) < "2026-06-04T02:35",
    );
    const second = records.filter(
      (record) => at(record) >= "2026-06-04T04:00" && at(record) < "2026-06-04T04:05",
    );
    const rest = records.filter((record) => !first.includes(record) && !second.includes(record));
    const runtime = await detectingRuntime(directory, new RecordingSink());
    try {
      for (let offset = 0; offset < rest.length; offset += 300)
        await runtime.pipeline.ingest(rest.slice(offset, offset + 300));
      const spanKey = Keys.alertSubjectSpan(subjectKey({ type: "address", sourceIp: "198.18.0.81" }));
      const spans = () => runtime.store.getAll([spanKey]);
      // The address's span is at least its alerts' length (about five hours).
      expect((await spans()).map((item) => Number(item.spanMs) > 4 * 3_600_000)).toEqual([true]);
      // Act: the first stretch; then, the span items deleted (as a table an older version wrote), the second.
      let failuresRead = 0;
      const query = runtime.store.query.bind(runtime.store);
      runtime.store.query = async (pk, options) => {
        const items = await query(pk, options);
        if (pk === "FAILED#v1") failuresRead += items.length;
        return items;
      };
      await runtime.pipeline.ingest(first);
      const readForFirst = failuresRead;
      await runtime.store.deleteItem(spanKey);
      await runtime.pipeline.ingest(second);
      const readForSecond = failuresRead - readForFirst;
      // Assess: the alerts of one delivery, and the span stored again from the alerts read whole.
      expect(alertItemsOf(await dumpTable(runtime))).toEqual(expected);
      // Each stretch was judged on the hours around it and the alerts that reach them: less than one reading of the
      // whole spray. (Without the alerts that start hours before the stretch, the judgement follows the episode
      // back to its start: 2,880 items read for each stretch.)
      const wholeSpray = (await query("FAILED#v1")).length;
      expect(readForFirst).toBeLessThan(wholeSpray);
      expect(readForSecond).toBeLessThan(wholeSpray);
      expect((await spans()).map((item) => Number(item.spanMs) > 4 * 3_600_000)).toEqual([true]);
    } finally {
      await runtime.close();
    }
  });
});
