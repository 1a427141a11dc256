import {
  DEFAULT_DETECTION_CONFIG,
  episodes,
  evaluateAddress,
  evaluateUser,
  peakInWindow,
  Rule,
} from "@idc-audit/core/detect";
import type { AuditEvent, UserKey } from "@idc-audit/core/normalize";
import { describe, expect, it } from "vitest";

const bob: UserKey = { identityStoreId: "d-1234567890", userId: "bob" };
const start = Date.parse("2026-07-01T10:00:00Z");
let counter = 0;

function event(offsetMs: number, fields: Partial<AuditEvent>): AuditEvent {
  counter += 1;
  return {
    eventId: `e-${String(counter).padStart(5, "0")}`,
    eventTime: new Date(start + offsetMs).toISOString().replace(".000Z", "Z"),
    eventSource: "signin.amazonaws.com",
    eventName: "CredentialVerification",
    category: "sign-in",
    outcome: "failure",
    credentialType: "PASSWORD",
    sourceIp: "198.18.0.1",
    shape: "anonymous",
    actor: { kind: "user" },
    ...fields,
  };
}
const failures = (count: number, everyMs: number, fields: Partial<AuditEvent> = {}, from = 0) =>
  Array.from({ length: count }, (_, n) => event(from + n * everyMs, fields));
const success = (offsetMs: number, sourceIp = "203.0.113.5") =>
  event(offsetMs, { eventName: "UserAuthentication", outcome: "success", sourceIp });

const config = DEFAULT_DETECTION_CONFIG;

describe("detection rules", () => {
  it("finds brute force at 20 failures in 10 minutes, not at 19", () => {
    expect(evaluateUser(bob, failures(20, 25_000), config).map((found) => found.rule)).toEqual([
      Rule.BruteForce,
    ]);
    expect(evaluateUser(bob, failures(19, 25_000), config)).toEqual([]);
  });

  it("does not add up failures spread over hours", () => {
    expect(evaluateUser(bob, failures(40, 11 * 60_000), config)).toEqual([]);
  });

  it("gives one alert per episode, the same whatever the order or duplication of events", () => {
    const attack = failures(25, 10_000);
    const shuffled = [...attack].reverse().concat(attack.slice(0, 5));
    expect(evaluateUser(bob, shuffled, config)).toEqual(evaluateUser(bob, attack, config));
    const [found] = evaluateUser(bob, attack, config);
    expect(found).toMatchObject({
      count: 25,
      firstSeen: attack[0]?.eventTime,
      lastSeen: attack[24]?.eventTime,
    });
  });

  it("keeps the alert id when late events extend the episode", () => {
    const early = failures(21, 10_000);
    const late = failures(5, 10_000, {}, 21 * 10_000);
    const [before] = evaluateUser(bob, early, config);
    const [after] = evaluateUser(bob, [...late, ...early], config);
    expect(after?.id).toBe(before?.id);
    expect(after?.count).toBe(26);
  });

  it("finds an MFA attack in second-factor failures only", () => {
    const found = evaluateUser(bob, failures(5, 30_000, { credentialType: "TOTP" }), config);
    expect(found.map((entry) => entry.rule)).toEqual([Rule.MfaAttack]);
    expect(evaluateUser(bob, failures(4, 30_000, { credentialType: "WEBAUTHN" }), config)).toEqual([]);
    expect(evaluateUser(bob, failures(6, 30_000), config)).toEqual([]);
  });

  it("raises success after failures, naming where both came from", () => {
    const events = [...failures(5, 20_000, { sourceIp: "198.18.0.9" }), success(3 * 60_000)];
    const [found] = evaluateUser(bob, events, config);
    expect(found).toMatchObject({
      rule: Rule.SuccessAfterFailures,
      severity: "critical",
      sourceIps: ["198.18.0.9"],
      successSourceIp: "203.0.113.5",
      count: 6,
    });
  });

  it("does not alert on a typo followed by a successful sign-in", () => {
    expect(evaluateUser(bob, [event(0, {}), success(20_000)], config)).toEqual([]);
  });

  it("does not count failures long before a success", () => {
    expect(evaluateUser(bob, [...failures(6, 10_000), success(2 * 60 * 60_000)], config)).toEqual([]);
  });

  it("finds password spraying by distinct users from one address", () => {
    const users = (n: number) => ({ identityStoreId: "d-1234567890", userId: `u${n}` });
    const sprayed = Array.from({ length: 10 }, (_, n) => ({
      event: event(n * 20_000, {}),
      users: [users(n)],
      hiddenName: false,
    }));
    const [found] = evaluateAddress("198.18.0.1", sprayed, config);
    expect(found).toMatchObject({ rule: Rule.PasswordSpray, count: 10 });
    expect(found?.users).toHaveLength(10);
    // Ten failures of one user from one address is not spraying.
    const oneUser = sprayed.map((failure) => ({ ...failure, users: [users(1)] }));
    expect(evaluateAddress("198.18.0.1", oneUser, config)).toEqual([]);
  });

  it("finds bursts of names AWS hid, never attributing them to a person", () => {
    const hidden = Array.from({ length: 10 }, (_, n) => ({
      event: event(n * 30_000, {}),
      users: [],
      hiddenName: true,
    }));
    const [found] = evaluateAddress("192.0.2.7", hidden, config);
    expect(found).toMatchObject({
      rule: Rule.UnknownUserNames,
      subject: { type: "address", sourceIp: "192.0.2.7" },
    });
    expect(found?.users).toBeUndefined();
    expect(evaluateAddress("192.0.2.7", hidden.slice(1), config)).toEqual([]);
  });

  it("splits episodes at quiet gaps and measures the busiest window", () => {
    const times = [0, 1, 2, 20, 21].map((minute) => minute * 60_000);
    expect(episodes(times, (value) => value, 10 * 60_000)).toEqual([times.slice(0, 3), times.slice(3)]);
    expect(
      peakInWindow(
        [0, 5, 9, 11, 30].map((minute) => minute * 60_000),
        (value) => value,
        10 * 60_000,
      ),
    ).toBe(3);
  });
});
