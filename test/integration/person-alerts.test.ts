import { DEFAULT_DETECTION_CONFIG, evaluateUser, type Finding } from "@idc-audit/core/detect";
import { ExportDirectory } from "@idc-audit/core/identity";
import { type NormalizedRecord, normalize } from "@idc-audit/core/normalize";
import { openRuntime } from "@idc-audit/core/runtime";
import { eventOf, ItemType, Keys } from "@idc-audit/core/timeline";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fmix32, Random } from "../../packages/core/src/synth/random.ts";
import { type Actor, type CloudTrailRecord, RecordFactory } from "../../packages/core/src/synth/records.ts";
import { directoryOf, IDENTITY_STORE_ID, makeUsers } from "../../packages/core/src/synth/world.ts";
import { countItemsRead } from "../support/store.ts";

// Written first by a helper reviewing the person's episode rules (ac9b729); its runs found a success-after-failures
// alert deleted by a later batch's judgement (fixed in a8f10fd, whose test in detect.test.ts builds that case:
// this property's 30 runs rarely come upon it; the second property is drawn around it).

const [target] = makeUsers(1, 5);
if (!target) throw new Error("no user made");
const person = { identityStoreId: IDENTITY_STORE_ID, userId: target.userId };

const Attempt = { WrongPassword: 0, WrongCode: 1, SignIn: 2 } as const;
type Attempt = (typeof Attempt)[keyof typeof Attempt];

/** Each attempt's records (its sign-in workflow), `gapMs` after the one before, from one of three addresses. */
function attempts(plan: readonly (readonly [number, Attempt])[]): CloudTrailRecord[][] {
  const make = new RecordFactory(new Random(fmix32(7)), 7);
  let at = Date.parse("2026-07-01T09:00:00Z");
  const made: CloudTrailRecord[][] = [];
  for (const [gapMs, attempt] of plan) {
    at += gapMs;
    const actor: Actor = {
      era: "new",
      user: target as NonNullable<typeof target>,
      ip: `198.18.0.${(attempt * 7 + made.length) % 3}`,
      userAgent: "Mozilla/5.0",
    };
    const common = { authWorkflowId: make.authWorkflowId(), typedName: actor.user.userName };
    const password = { ...common, anonymous: true, credentialType: "PASSWORD" };
    if (attempt === Attempt.WrongPassword)
      made.push([
        make.signIn(at, actor, "CredentialChallenge", password),
        make.signIn(at + 1000, actor, "CredentialVerification", { ...password, outcome: "Failure" }),
      ]);
    else if (attempt === Attempt.WrongCode)
      made.push([
        make.signIn(at, actor, "CredentialChallenge", password),
        make.signIn(at + 1000, actor, "CredentialVerification", password),
        make.signIn(at + 2000, actor, "CredentialChallenge", { ...password, credentialType: "TOTP" }),
        make.signIn(at + 3000, actor, "CredentialVerification", {
          ...password,
          credentialType: "TOTP",
          outcome: "Failure",
        }),
      ]);
    else {
      const signedIn: Actor = { ...actor, credentialId: make.credentialId() };
      const signIn = { ...common, credentialType: "PASSWORD" };
      made.push([
        make.signIn(at, signedIn, "CredentialChallenge", signIn),
        make.signIn(at + 1000, signedIn, "CredentialVerification", signIn),
        make.signIn(at + 2000, signedIn, "UserAuthentication", signIn),
      ]);
    }
  }
  return made;
}

const normalized = (records: readonly CloudTrailRecord[]): NormalizedRecord[] =>
  records.flatMap((record) => {
    const result = normalize(record);
    return result.status === "audited" ? [result.record] : [];
  });

/** What an alert and a finding share, to compare them. */
const compared = (found: Omit<Finding, "episode">) =>
  JSON.stringify([
    found.rule,
    found.firstSeen,
    found.id,
    found.lastSeen,
    found.count,
    found.eventIds,
    found.sourceIps,
  ]);

/** Ingests `deliveries` one after the other into a fresh runtime; the person's alerts against evaluateUser's. */
async function deliveredAlike(deliveries: readonly (readonly CloudTrailRecord[])[]): Promise<void> {
  const runtime = await openRuntime({
    inMemory: true,
    directory: ExportDirectory.fromJson(directoryOf([target as NonNullable<typeof target>])),
  });
  try {
    for (const records of deliveries) await runtime.pipeline.ingest(normalized(records));
    const items = await runtime.store.query(Keys.userPartition(person));
    const events = items.filter((item) => item.type === ItemType.UserEvent).map(eventOf);
    const expected = evaluateUser(person, events, DEFAULT_DETECTION_CONFIG).map(compared).sort();
    const stored = (await runtime.alerts()).filter((alert) => alert.subject.type === "user");
    expect(stored.map(compared).sort()).toEqual(expected);
  } finally {
    await runtime.close();
  }
}

describe("a person's alerts", () => {
  it("are evaluateUser's on every stored event, whatever the order and batching of delivery (property)", async () => {
    // Prepare: rounds of attempts, a few seconds to 40 minutes apart: wrong passwords and second factors, a few
    // seconds to three minutes apart, often ending with a sign-in up to 25 minutes later (success-after-failures
    // when five or more failures came in the half hour before it).
    const round = fc
      .tuple(
        fc.integer({ min: 0, max: 40 * 60_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * 60_000 }), fc.boolean()), { maxLength: 9 }),
        fc.option(fc.integer({ min: 0, max: 25 * 60_000 }), { freq: 3 }),
      )
      .map(([before, failures, signInAfter]) => {
        const steps: [number, Attempt][] = [];
        for (const [index, [gapMs, code]] of failures.entries())
          steps.push([index === 0 ? before : gapMs, code ? Attempt.WrongCode : Attempt.WrongPassword]);
        if (signInAfter !== null) steps.push([failures.length === 0 ? before : signInAfter, Attempt.SignIn]);
        return steps;
      });
    const plans = fc.array(round, { minLength: 2, maxLength: 12 }).map((rounds) => rounds.flat());
    await fc.assert(
      fc.asyncProperty(
        plans,
        fc.integer({ min: 1, max: 6 }),
        fc.integer(),
        fc.boolean(),
        async (plan, batchSize, seed, ordered) => {
          const all = attempts(plan);
          const order = ordered
            ? all
            : all
                .map((records, index) => ({ records, rank: fmix32(seed ^ index) }))
                .sort((a, b) => a.rank - b.rank)
                .map(({ records }) => records);
          // Act and assess: attempts delivered a few at a time, each whole.
          const deliveries: CloudTrailRecord[][] = [];
          for (let index = 0; index < order.length; index += batchSize)
            deliveries.push(order.slice(index, index + batchSize).flat());
          await deliveredAlike(deliveries);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("are evaluateUser's when a failure of an attack arrives after the next attack's alert (property)", async () => {
    // Prepare: two attacks, each five to seven failures seconds apart and a sign-in after them: the first in the
    // first ten minutes of an hour, its sign-in a few minutes later; the second 25 to 30 minutes after that, its
    // sign-in 24 to 29 minutes after its failures (so that its success-after-failures alert lasts into the next
    // hour). One failure of the first attack is held back and delivered last: the batch judging it reads the
    // hours around the first success, where the second alert starts but not where it ends. On b8564b9 (before
    // a8f10fd) such a batch deleted the second alert: the property above rarely comes upon that; this one failed
    // there at its 1st, 4th, 4th and 2nd run in four tries.
    const failures = fc.array(fc.tuple(fc.integer({ min: 10_000, max: 40_000 }), fc.boolean()), {
      minLength: 5,
      maxLength: 7,
    });
    const scenario = fc.record({
      startMs: fc.integer({ min: 0, max: 10 * 60_000 }),
      first: failures,
      firstSignInMs: fc.integer({ min: 60_000, max: 5 * 60_000 }),
      pauseMs: fc.integer({ min: 25 * 60_000, max: 30 * 60_000 }),
      second: failures,
      secondSignInMs: fc.integer({ min: 24 * 60_000, max: 29 * 60_000 }),
      heldBack: fc.nat(),
      batchSize: fc.integer({ min: 1, max: 3 }),
      seed: fc.integer(),
      ordered: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (drawn) => {
        const plan: [number, Attempt][] = [];
        const attack = (startMs: number, list: readonly (readonly [number, boolean])[], signInMs: number) => {
          for (const [index, [gapMs, code]] of list.entries())
            plan.push([index === 0 ? startMs : gapMs, code ? Attempt.WrongCode : Attempt.WrongPassword]);
          plan.push([signInMs, Attempt.SignIn]);
        };
        attack(drawn.startMs, drawn.first, drawn.firstSignInMs);
        attack(drawn.pauseMs, drawn.second, drawn.secondSignInMs);
        const all = attempts(plan);
        const held = drawn.heldBack % drawn.first.length;
        const rest = all.filter((_, index) => index !== held);
        const order = drawn.ordered
          ? rest
          : rest
              .map((records, index) => ({ records, rank: fmix32(drawn.seed ^ index) }))
              .sort((a, b) => a.rank - b.rank)
              .map(({ records }) => records);
        const deliveries: CloudTrailRecord[][] = [];
        for (let index = 0; index < order.length; index += drawn.batchSize)
          deliveries.push(order.slice(index, index + drawn.batchSize).flat());
        deliveries.push(all[held] as CloudTrailRecord[]);
        await deliveredAlike(deliveries);
      }),
      // A failing run is reported as found, not shrunk: each run stores a few dozen records.
      { numRuns: 40, endOnFailure: true },
    );
  });

  it("read the same few alert items each day of a person who signs in after wrong passwords every morning", async () => {
    // Prepare: eight mornings, each five wrong passwords 30 s apart and a sign-in a minute after them (a
    // success-after-failures alert a day, no brute force); a table as AWS deployments have it, without the marker
    // that lets a subject without a presence mark go unread.
    const DAY_MS = 86_400_000;
    const plan: [number, Attempt][] = [];
    for (let day = 0; day < 8; day += 1) {
      plan.push([day === 0 ? 0 : DAY_MS - 4 * 30_000 - 60_000, Attempt.WrongPassword]);
      for (let failure = 1; failure < 5; failure += 1) plan.push([30_000, Attempt.WrongPassword]);
      plan.push([60_000, Attempt.SignIn]);
    }
    const mornings = attempts(plan);
    const runtime = await openRuntime({
      inMemory: true,
      directory: ExportDirectory.fromJson(directoryOf([target as NonNullable<typeof target>])),
    });
    try {
      await runtime.store.deleteAll([Keys.presenceMarksMarker]);
      const read = countItemsRead(runtime.store, (item) => item.pk.startsWith("ALERT"));
      // Act: each morning's attempts in one delivery, counting the alert items read.
      const perDay: number[] = [];
      for (let day = 0; day < 8; day += 1) {
        await runtime.pipeline.ingest(normalized(mornings.slice(day * 6, day * 6 + 6).flat()));
        perDay.push(read.take());
      }
      // Assess: a success-after-failures alert each morning, and no morning after the third read more alert items
      // than the third (the second reads the person's alerts whole, once, and stores their span). Reading the whole
      // alert index each time, as before 2026-12-04, the mornings read 3, 7, 10, 11, 12, 13, 14 and 15 items.
      const stored = await runtime.alerts();
      expect(stored.map((alert) => alert.rule)).toEqual(Array(8).fill("success-after-failures"));
      expect(perDay[2]).toBeGreaterThan(0);
      expect(Math.max(...perDay.slice(3))).toBeLessThanOrEqual(perDay[2] as number);
    } finally {
      await runtime.close();
    }
  });
});
