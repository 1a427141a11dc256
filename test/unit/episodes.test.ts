import {
  type AttributedFailure,
  alertId,
  DEFAULT_DETECTION_CONFIG,
  type EpisodeFinding,
  type EpisodeJudgement,
  type EpisodeMember,
  type EpisodeReading,
  episodes,
  evaluateAddress,
  evaluateRoleSession,
  evaluateUser,
  type Finding,
  HOURS,
  type Hour,
  hourOf,
  hoursOver,
  judgeAddress,
  judgeEpisodes,
  MINUTES,
  peakInWindow,
  type RoleCall,
  roleCall,
  roleSessionRule,
  type StoredEpisode,
  type TimeBuckets,
  USER_EPISODE_RULES,
} from "@idc-audit/core/detect";
import { type AuditEvent, byTimeThenId, type UserKey } from "@idc-audit/core/normalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const ADDRESS = "198.18.0.99";
const config = DEFAULT_DETECTION_CONFIG;
const start = Date.parse("2026-07-01T10:00:00Z");
const MINUTE = 60_000;

function failure(index: number, at: number, user: number | undefined): AttributedFailure {
  const event: AuditEvent = {
    eventId: `e-${String(index).padStart(5, "0")}`,
    eventTime: new Date(at).toISOString().replace(".000Z", "Z"),
    eventSource: "signin.amazonaws.com",
    eventName: "CredentialVerification",
    category: "sign-in",
    outcome: "failure",
    credentialType: "PASSWORD",
    sourceIp: ADDRESS,
    shape: "anonymous",
    actor: { kind: "user" },
  };
  return user === undefined
    ? { event, users: [], hiddenName: true }
    : { event, users: [{ identityStoreId: "d-1234567890", userId: `user-${user}` }], hiddenName: false };
}

/**
 * The detector's way with one batch, on a table held in memory: read the hours a window or less from the
 * batch's failures, and more while the judgement asks; then store its findings and delete the alerts it saw
 * and did not make. Returns the hours read.
 */
function deliver(
  stored: Map<string, AttributedFailure>,
  alerts: Map<string, EpisodeFinding>,
  batch: readonly AttributedFailure[],
  judge: (reading: EpisodeReading, round: number) => EpisodeJudgement = (reading, round) =>
    judgeAddress(ADDRESS, reading, config, round),
): Set<Hour> {
  return deliverWith(stored, alerts, batch, judge, HOURS);
}

/** `deliver`, for any rule's members, reading by `buckets`. */
function deliverWith<M extends EpisodeMember>(
  stored: Map<string, M>,
  alerts: Map<string, EpisodeFinding>,
  batch: readonly M[],
  judge: (reading: EpisodeReading<M>, round: number) => EpisodeJudgement,
  buckets: TimeBuckets,
  nearMs = config.windowMs,
): Set<Hour> {
  for (const entry of batch) stored.set(entry.event.eventId, entry);
  const read = new Set<Hour>();
  let toRead = new Set<Hour>();
  for (const entry of batch) {
    const at = Date.parse(entry.event.eventTime);
    for (const hour of hoursOver(at - nearMs, at + nearMs, buckets)) toRead.add(hour);
  }
  for (let round = 0; ; round += 1) {
    for (const hour of toRead) read.add(hour);
    const failures = [...stored.values()].filter((entry) => read.has(buckets.of(entry.event.eventTime)));
    const episodes: StoredEpisode[] = [...alerts.values()].map((alert) => ({
      id: alert.id,
      rule: alert.rule,
      firstSeen: alert.firstSeen,
      lastSeen: alert.lastSeen,
      users: alert.users ?? [],
      sourceIps: alert.sourceIps,
      episode: alert.episode,
    }));
    const judgement = judge({ failures, hoursRead: read, stored: episodes }, round);
    if (judgement.need.size === 0) {
      const made = new Set(judgement.findings.map((found) => `${found.firstSeen}#${found.id}`));
      for (const episode of judgement.seen)
        if (!made.has(`${episode.firstSeen}#${episode.id}`))
          alerts.delete(`${episode.firstSeen}#${episode.id}`);
      for (const found of judgement.findings) alerts.set(`${found.firstSeen}#${found.id}`, found);
      return read;
    }
    toRead = judgement.need;
  }
}

/** By rule, first event's time and id: two addresses' episodes of a role session can start at one time. */
const sortedAlerts = <T extends Finding>(alerts: Iterable<T>) =>
  [...alerts].sort((a, b) => {
    const [left, right] = [
      `${a.rule}\u0000${a.firstSeen}\u0000${a.id}`,
      `${b.rule}\u0000${b.firstSeen}\u0000${b.id}`,
    ];
    return left < right ? -1 : left > right ? 1 : 0;
  });

/**
 * The address rules as they were written before episodes were judged in part (7e7aa0f), kept here as an
 * oracle of their own: every episode of every failure, from a list.
 */
function oracle(failures: readonly AttributedFailure[]): Finding[] {
  const subject = { type: "address", sourceIp: ADDRESS } as const;
  const unique = [...new Map(failures.map((entry) => [entry.event.eventId, entry])).values()].sort((a, b) =>
    byTimeThenId(a.event, b.event),
  );
  const at = (entry: AttributedFailure) => Date.parse(entry.event.eventTime);
  const userKeys = (entry: AttributedFailure) =>
    entry.users.map((user) => `${user.identityStoreId}/${user.userId}`);
  const make = (rule: Finding["rule"], severity: Finding["severity"], episode: AttributedFailure[]) => {
    const first = episode[0] as AttributedFailure;
    const last = episode[episode.length - 1] as AttributedFailure;
    return {
      id: alertId(rule, subject, first.event.eventId),
      rule,
      severity,
      subject,
      firstSeen: first.event.eventTime,
      lastSeen: last.event.eventTime,
      count: episode.length,
      eventIds: episode.slice(0, 100).map((entry) => entry.event.eventId),
      sourceIps: [ADDRESS],
    };
  };
  const found: Finding[] = [];
  for (const episode of episodes(
    unique.filter((entry) => entry.users.length > 0),
    at,
    config.windowMs,
  ))
    if (peakInWindow(episode, at, config.windowMs, userKeys) >= config.sprayDistinctUsers) {
      const users = new Map<string, UserKey>();
      for (const entry of episode)
        for (const user of entry.users) users.set(`${user.identityStoreId}/${user.userId}`, user);
      const sortedUsers = [...users.entries()]
        .sort((a, b) => (a[0] < b[0] ? -1 : 1))
        .map((entry) => entry[1]);
      found.push({ ...make("password-spray", "high", episode), users: sortedUsers });
    }
  for (const episode of episodes(
    unique.filter((entry) => entry.hiddenName),
    at,
    config.windowMs,
  ))
    if (peakInWindow(episode, at, config.windowMs) >= config.unknownNameFailures)
      found.push(make("unknown-user-names", "medium", episode));
  return found;
}

/**
 * The ways a list of failures (or calls) may be delivered: in order or shuffled, some given again, in batches of
 * one size. `all`: the list itself.
 */
const deliveries = <T>(lists: fc.Arbitrary<T[]>) =>
  lists.chain((all) =>
    fc
      .tuple(
        fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }),
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.nat({ max: all.length - 1 }), { maxLength: 50 }),
        fc.boolean(),
      )
      .map(([shuffled, batchSize, duplicated, ordered]) => {
        const delivered = [...(ordered ? all : shuffled), ...duplicated.map((index) => all[index] as T)];
        const batches: T[][] = [];
        for (let offset = 0; offset < delivered.length; offset += batchSize)
          batches.push(delivered.slice(offset, offset + batchSize));
        return { all, batches };
      }),
  );

/** A finding without what its alert keeps of the episode. */
const withoutSummary = ({ episode: _episode, ...rest }: Finding) => rest;

describe("address rules judged on the hours a batch reads", () => {
  it("give the alerts a reading of every failure gives, whatever the order, split and duplicates (property)", () => {
    // Stretches of failures: bursts (alerting), slow ones (a window or less apart, never alerting) and breaks
    // (new episodes), hours long in all, so that episodes run over hours a batch does not read.
    const gap = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 40_000 }) },
      { weight: 3, arbitrary: fc.integer({ min: 4 * MINUTE, max: 10 * MINUTE }) },
      { weight: 1, arbitrary: fc.integer({ min: 10 * MINUTE + 1, max: 5 * 60 * MINUTE }) },
    );
    const stretch = fc.tuple(gap, fc.integer({ min: 1, max: 60 }));
    const failures = fc
      .array(fc.tuple(stretch, fc.integer({ min: 0, max: 14 }), fc.boolean()), {
        minLength: 1,
        maxLength: 30,
      })
      .map((stretches) => {
        let at = start;
        const made: AttributedFailure[] = [];
        for (const [[step, count], firstUser, hidden] of stretches)
          for (let n = 0; n < count; n += 1) {
            at += step;
            made.push(failure(made.length, at, hidden && n % 3 === 0 ? undefined : (firstUser + n) % 15));
          }
        return made;
      });
    fc.assert(
      fc.property(deliveries(failures), ({ all, batches }) => {
        const stored = new Map<string, AttributedFailure>();
        const alerts = new Map<string, EpisodeFinding>();
        for (const batch of batches) deliver(stored, alerts, batch);
        const whole = sortedAlerts(evaluateAddress(ADDRESS, all, config));
        expect(sortedAlerts(alerts.values())).toEqual(whole);
        expect(whole.map(withoutSummary)).toEqual(sortedAlerts(oracle(all)));
      }),
      { numRuns: 200 },
    );
    // Seconds at most alone; under a full run beside the integration tests, more than the unit default of
    // five: a property test's time, not a measurement.
  }, 60_000);

  it("reads the same few hours at each batch of a steady spray, however long it has run", () => {
    // A failure every 20 s for two days, alternately for a user (15 in turn) and a name that matches nobody.
    const spray = Array.from({ length: 8640 }, (_, index) =>
      failure(index, start + index * 20_000, index % 2 === 0 ? (index / 2) % 15 : undefined),
    );
    const stored = new Map<string, AttributedFailure>();
    const alerts = new Map<string, EpisodeFinding>();
    const hoursRead: number[] = [];
    for (let offset = 0; offset < spray.length; offset += 180)
      hoursRead.push(deliver(stored, alerts, spray.slice(offset, offset + 180)).size);
    // Each batch of an hour reads its hour and the ones either side, never the day before it.
    expect(Math.max(...hoursRead)).toBeLessThanOrEqual(3);
    const found = sortedAlerts(alerts.values());
    expect(found.map((alert) => [alert.rule, alert.count, alert.firstSeen, alert.lastSeen])).toEqual([
      ["password-spray", 4320, "2026-07-01T10:00:00Z", "2026-07-03T09:59:20Z"],
      ["unknown-user-names", 4320, "2026-07-01T10:00:20Z", "2026-07-03T09:59:40Z"],
    ]);
    expect(found).toEqual(sortedAlerts(evaluateAddress(ADDRESS, spray, config)));
  });

  it("reads an alert stored without a summary whole, once", () => {
    // Prepare: a spray's alert as stored before summaries were kept (no episode), ten hours long.
    const spray = Array.from({ length: 1800 }, (_, index) =>
      failure(index, start + index * 20_000, index % 15),
    );
    const [whole] = evaluateAddress(ADDRESS, spray.slice(0, 1790), config);
    if (!whole) throw new Error("the spray raised no alert");
    const { episode: _summary, ...legacy } = whole;
    const stored = new Map(spray.slice(0, 1790).map((entry) => [entry.event.eventId, entry]));
    const alerts = new Map<string, EpisodeFinding>([
      [`${whole.firstSeen}#${whole.id}`, legacy as EpisodeFinding],
    ]);
    // Act: the last ten failures arrive, then a duplicate of the last.
    const first = deliver(stored, alerts, spray.slice(1790));
    const again = deliver(stored, alerts, spray.slice(1799));
    // Assess: the first batch read the alert's ten hours; the next, with the summary stored, a few.
    expect(first.size).toBeGreaterThanOrEqual(10);
    expect(again.size).toBeLessThanOrEqual(2);
    expect(sortedAlerts(alerts.values())).toEqual(sortedAlerts(evaluateAddress(ADDRESS, spray, config)));
  });

  it("judges an episode on the hours read when it is not to be followed further", () => {
    // Prepare: names that match nobody, one every 8 minutes for ten hours (never alerting), then 12 in 2 minutes.
    const slow = Array.from({ length: 75 }, (_, index) =>
      failure(index, start + index * 8 * MINUTE, undefined),
    );
    const burstStart = start + 75 * 8 * MINUTE;
    const burst = Array.from({ length: 12 }, (_, index) =>
      failure(100 + index, burstStart + index * 10_000, undefined),
    );
    const read = new Set(hoursOver(burstStart - config.windowMs, burstStart + 2 * MINUTE + config.windowMs));
    const failures = [...slow, ...burst].filter((entry) => read.has(hourOf(entry.event.eventTime)));
    const reading = { failures, hoursRead: read, stored: [] };
    // Act
    const followed = judgeAddress(ADDRESS, reading, config, 0);
    const bounded = judgeAddress(ADDRESS, reading, config, 0, false);
    // Assess: followed, the episode asks for the hours before; bounded, its alert starts in the hours read.
    expect(followed.need.size).toBeGreaterThan(0);
    expect(followed.findings).toEqual([]);
    expect(bounded.need.size).toBe(0);
    expect(bounded.findings.map((found) => [found.rule, found.count])).toEqual([
      ["unknown-user-names", failures.length],
    ]);
    expect(read.has(hourOf(bounded.findings[0]?.firstSeen ?? ""))).toBe(true);
  });

  it("leaves a stored alert it cannot see whole as it is when not to follow it further", () => {
    // Prepare: an alert stored before summaries were kept, over ten hours; one hour of it read.
    const spray = Array.from({ length: 1800 }, (_, index) =>
      failure(index, start + index * 20_000, index % 15),
    );
    const [whole] = evaluateAddress(ADDRESS, spray, config);
    if (!whole) throw new Error("the spray raised no alert");
    const { episode: _summary, ...legacy } = whole;
    const read = new Set([hourOf(spray[900]?.event.eventTime ?? "")]);
    const failures = spray.filter((entry) => read.has(hourOf(entry.event.eventTime)));
    const stored: StoredEpisode[] = [{ ...legacy, users: legacy.users ?? [] }];
    // Act
    const followed = judgeAddress(ADDRESS, { failures, hoursRead: read, stored }, config, 0);
    const bounded = judgeAddress(ADDRESS, { failures, hoursRead: read, stored }, config, 0, false);
    // Assess: followed, it asks for the alert's hours; bounded, it neither decides the alert nor makes another of
    // its failures.
    expect(followed.need.size).toBeGreaterThanOrEqual(10);
    expect(bounded.seen).toEqual([]);
    expect(bounded.findings).toEqual([]);
  });
});

const PERSON: UserKey = { identityStoreId: "d-1234567890", userId: "user-under-attack" };

/** A failed verification of `PERSON`: the password, or a second factor, from one of a few addresses. */
function personFailure(index: number, at: number, secondFactor: boolean, address: number): AttributedFailure {
  const { event } = failure(index, at, 0);
  return {
    event: { ...event, credentialType: secondFactor ? "TOTP" : "PASSWORD", sourceIp: `198.18.7.${address}` },
    users: [PERSON],
    hiddenName: false,
  };
}

const judgePerson = (reading: EpisodeReading, round: number) =>
  judgeEpisodes({ type: "user", ...PERSON }, USER_EPISODE_RULES, reading, config, round);

describe("a person's brute-force and mfa-attack judged on the hours a batch reads", () => {
  it("give the alerts evaluateUser gives on every event, whatever the order, split and duplicates (property)", () => {
    // Stretches of failures as above, of the password or of a second factor, from four addresses in turn.
    const gap = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 40_000 }) },
      { weight: 3, arbitrary: fc.integer({ min: 4 * MINUTE, max: 10 * MINUTE }) },
      { weight: 1, arbitrary: fc.integer({ min: 10 * MINUTE + 1, max: 5 * 60 * MINUTE }) },
    );
    const failures = fc
      .array(fc.tuple(gap, fc.integer({ min: 1, max: 60 }), fc.boolean(), fc.nat({ max: 3 })), {
        minLength: 1,
        maxLength: 30,
      })
      .map((stretches) => {
        let at = start;
        const made: AttributedFailure[] = [];
        for (const [step, count, secondFactor, address] of stretches)
          for (let n = 0; n < count; n += 1) {
            at += step;
            made.push(personFailure(made.length, at, secondFactor, (address + n) % 4));
          }
        return made;
      });
    fc.assert(
      fc.property(deliveries(failures), ({ all, batches }) => {
        const stored = new Map<string, AttributedFailure>();
        const alerts = new Map<string, EpisodeFinding>();
        for (const batch of batches) deliver(stored, alerts, batch, judgePerson);
        const whole = evaluateUser(
          PERSON,
          all.map((entry) => entry.event),
          config,
        );
        expect(sortedAlerts(alerts.values()).map(withoutSummary)).toEqual(sortedAlerts(whole));
      }),
      { numRuns: 200 },
    );
    // Seconds at most alone; under a full run beside the integration tests, more than the unit default of
    // five: a property test's time, not a measurement.
  }, 60_000);

  it("reads the same few hours at each batch of a brute force that never pauses", () => {
    // A wrong password every 10 s for two days, from two addresses in turn.
    const attack = Array.from({ length: 17_280 }, (_, index) =>
      personFailure(index, start + index * 10_000, false, index % 2),
    );
    const stored = new Map<string, AttributedFailure>();
    const alerts = new Map<string, EpisodeFinding>();
    const hoursRead: number[] = [];
    for (let offset = 0; offset < attack.length; offset += 360)
      hoursRead.push(deliver(stored, alerts, attack.slice(offset, offset + 360), judgePerson).size);
    expect(Math.max(...hoursRead)).toBeLessThanOrEqual(3);
    const found = sortedAlerts(alerts.values());
    expect(found.map((alert) => [alert.rule, alert.count, alert.sourceIps])).toEqual([
      ["brute-force", 17_280, ["198.18.7.0", "198.18.7.1"]],
    ]);
    expect(found.map(withoutSummary)).toEqual(
      evaluateUser(
        PERSON,
        attack.map((entry) => entry.event),
        config,
      ),
    );
  });
});

describe("role-credentials-new-address judged on the minutes of a batch's calls", () => {
  const PORTAL = "54.79.161.228";
  const ADDRESSES = ["198.51.100.66", "203.0.113.9", PORTAL, "AWS Internal"];
  const person = { identityStoreId: "d-1234567890", userId: "user-1" };
  const activity = {
    roleSessionId: "role-session-1",
    accountId: "111122223333",
    credentialId: "portal-session-1",
    user: person,
    portalSourceIps: new Set([PORTAL]),
  };
  const call = (index: number, at: number, address: string): RoleCall =>
    roleCall({
      eventId: `c-${String(index).padStart(5, "0")}`,
      eventTime: new Date(at).toISOString().replace(".000Z", "Z"),
      sourceIp: address,
    });
  const judge = (reading: EpisodeReading<RoleCall>, round: number) =>
    judgeEpisodes(
      { type: "user", ...person },
      [roleSessionRule(activity)],
      { ...reading, buckets: MINUTES },
      config,
      round,
    );

  /**
   * The rule as it was written before it was judged in part: every call of the session, from a list; an alert
   * per address (not the portal session's nor an AWS service's) and episode.
   */
  function roleOracle(calls: readonly RoleCall[]): Finding[] {
    const unique = [...new Map(calls.map((entry) => [entry.event.eventId, entry.event])).values()].sort(
      byTimeThenId,
    );
    const subject = { type: "user", ...person } as const;
    const found: Finding[] = [];
    for (const address of ["198.51.100.66", "203.0.113.9"])
      for (const episode of episodes(
        unique.filter((event) => event.sourceIp === address),
        (event) => Date.parse(event.eventTime),
        config.windowMs,
      )) {
        const first = episode[0] as (typeof episode)[number];
        found.push({
          id: alertId("role-credentials-new-address", subject, first.eventId),
          rule: "role-credentials-new-address",
          severity: "high",
          subject,
          firstSeen: first.eventTime,
          lastSeen: (episode[episode.length - 1] as (typeof episode)[number]).eventTime,
          count: episode.length,
          eventIds: episode.slice(0, 100).map((event) => event.eventId),
          sourceIps: [address],
          roleSessionId: activity.roleSessionId,
          accountId: activity.accountId,
          credentialId: activity.credentialId,
          portalSourceIps: [PORTAL],
        });
      }
    return found;
  }

  it("gives the alerts a reading of every call gives, whatever the order, split and duplicates (property)", () => {
    // Stretches of calls from one address each: quick ones, slow ones (a window or less apart) and breaks (new
    // episodes), hours long in all, so that episodes run over minutes a batch does not read.
    const gap = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 60_000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 4 * MINUTE, max: 10 * MINUTE }) },
      { weight: 1, arbitrary: fc.integer({ min: 10 * MINUTE + 1, max: 3 * 60 * MINUTE }) },
    );
    const calls = fc
      .array(fc.tuple(gap, fc.integer({ min: 1, max: 40 }), fc.constantFrom(...ADDRESSES)), {
        minLength: 1,
        maxLength: 30,
      })
      .map((stretches) => {
        let at = start;
        const made: RoleCall[] = [];
        for (const [step, count, address] of stretches)
          for (let n = 0; n < count; n += 1) {
            at += step;
            made.push(call(made.length, at, address));
          }
        return made;
      });
    fc.assert(
      fc.property(deliveries(calls), ({ all, batches }) => {
        const stored = new Map<string, RoleCall>();
        const alerts = new Map<string, EpisodeFinding>();
        for (const batch of batches) deliverWith(stored, alerts, batch, judge, MINUTES, 0);
        const whole = sortedAlerts(
          evaluateRoleSession({ ...activity, calls: all.map(({ event }) => event) }, config),
        );
        expect(sortedAlerts(alerts.values())).toEqual(whole);
        expect(whole.map(withoutSummary)).toEqual(sortedAlerts(roleOracle(all)));
      }),
      { numRuns: 200 },
    );
    // Two seconds alone on this machine; under a full run beside the integration tests, more than the default
    // five: a property test's time, not a measurement.
  }, 60_000);

  it("gives the same alerts when two addresses' episodes start at one time, delivered in either order", () => {
    const all = [
      call(0, start, "198.51.100.66"),
      call(1, start, "203.0.113.9"),
      call(2, start + MINUTE, "203.0.113.9"),
    ];
    const whole = sortedAlerts(
      evaluateRoleSession({ ...activity, calls: all.map(({ event }) => event) }, config),
    );
    expect(whole.map((alert) => `${alert.sourceIps[0]} ${alert.count}`).sort()).toEqual([
      "198.51.100.66 1",
      "203.0.113.9 2",
    ]);
    for (const order of [all, [...all].reverse()]) {
      const stored = new Map<string, RoleCall>();
      const alerts = new Map<string, EpisodeFinding>();
      for (const entry of order) deliverWith(stored, alerts, [entry], judge, MINUTES, 0);
      expect(sortedAlerts(alerts.values())).toEqual(whole);
    }
  });

  it("reads the same few minutes at each batch of a session used all day from a new address", () => {
    // A call every 10 s for twelve hours from an address the portal session never used, ten a batch.
    const all = Array.from({ length: 4320 }, (_, index) =>
      call(index, start + index * 10_000, "198.51.100.66"),
    );
    const stored = new Map<string, RoleCall>();
    const alerts = new Map<string, EpisodeFinding>();
    const read: number[] = [];
    for (let offset = 0; offset < all.length; offset += 10)
      read.push(deliverWith(stored, alerts, all.slice(offset, offset + 10), judge, MINUTES, 0).size);
    // The minutes of the batch, and the window after its last call (which its episode may run on into): 13 at
    // most, never the hours before.
    // (The first batch, with no alert stored, reads the window before it too: 22.)
    expect(Math.max(...read.slice(1))).toBeLessThanOrEqual(13);
    expect([...alerts.values()].map((alert) => [alert.count, alert.firstSeen, alert.lastSeen])).toEqual([
      [4320, "2026-07-01T10:00:00Z", "2026-07-01T21:59:50Z"],
    ]);
  });
});
