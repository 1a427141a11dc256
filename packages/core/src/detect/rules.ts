import { createHash } from "node:crypto";
import { type AuditEvent, byTimeThenId, isFailedVerification, type UserKey } from "../normalize/types.ts";

export { isFailedVerification };

/**
 * Detections of attacks on Identity Center sign-in. Every rule is a pure function of stored events: the same
 * events give the same alerts, whatever order and however often they arrived.
 */

export const Rule = {
  BruteForce: "brute-force",
  PasswordSpray: "password-spray",
  MfaAttack: "mfa-attack",
  SuccessAfterFailures: "success-after-failures",
  UnknownUserNames: "unknown-user-names",
  RoleCredentialsNewAddress: "role-credentials-new-address",
  PrivilegeGrantedAfterFailures: "privilege-granted-after-failures",
} as const;
export type Rule = (typeof Rule)[keyof typeof Rule];

export const Severity = { Medium: "medium", High: "high", Critical: "critical" } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export interface DetectionConfig {
  /** Failed first-factor verifications for one user within `windowMs`. */
  readonly bruteForceFailures: number;
  /** Distinct users failing from one address within `windowMs`. */
  readonly sprayDistinctUsers: number;
  /** Failed second-factor (TOTP, WebAuthn, email code) verifications for one user within `windowMs`. */
  readonly mfaFailures: number;
  /** Failures for a user within `successLookbackMs` before a successful sign-in. */
  readonly successAfterFailures: number;
  readonly successLookbackMs: number;
  /** Failed sign-ins for names AWS hid (no such user) from one address within `windowMs`. */
  readonly unknownNameFailures: number;
  readonly windowMs: number;
  /** How long after a success-after-failures sign-in a privilege granted to (or by) that person alerts. */
  readonly privilegeAfterFailuresMs: number;
}

export const DEFAULT_DETECTION_CONFIG: DetectionConfig = {
  bruteForceFailures: 20,
  sprayDistinctUsers: 10,
  mfaFailures: 5,
  successAfterFailures: 5,
  successLookbackMs: 30 * 60 * 1000,
  unknownNameFailures: 10,
  windowMs: 10 * 60 * 1000,
  privilegeAfterFailuresMs: 30 * 60 * 1000,
};

export type AlertSubject =
  | { readonly type: "user"; readonly identityStoreId: string; readonly userId: string }
  | { readonly type: "address"; readonly sourceIp: string };

/** An alert as the rules produce it; the detector adds the person's names and external ids. */
export interface Finding {
  readonly id: string;
  readonly rule: Rule;
  readonly severity: Severity;
  readonly subject: AlertSubject;
  readonly firstSeen: string;
  readonly lastSeen: string;
  /** Events that make up the finding (failures, and the success for success-after-failures). */
  readonly count: number;
  readonly eventIds: readonly string[];
  readonly sourceIps: readonly string[];
  /** Users involved, for rules about an address. */
  readonly users?: readonly UserKey[];
  /** For success-after-failures: where the successful sign-in came from. */
  readonly successSourceIp?: string;
  /** For role-session rules: the role session, its account and the portal session it was linked to. */
  readonly roleSessionId?: string;
  readonly accountId?: string;
  readonly credentialId?: string;
  /** For role-credentials-new-address: where the portal session was used from. */
  readonly portalSourceIps?: readonly string[];
  /** For privilege-granted-after-failures: the success-after-failures alert it follows. */
  readonly afterAlertId?: string;
  /** For privilege-granted-after-failures: the changes, and whether the person was changed or made them. */
  readonly grants?: readonly PrivilegeGrant[];
  /** For the episode rules: what the alert keeps of the episode (stored beside it, never published). */
  readonly episode?: EpisodeSummary;
}

/**
 * An hour of failed sign-ins: the prefix its events' sort keys share in the failed sign-ins' partition
 * (`2026-11-20T08`). A prefix, not a time range, so that a time written with milliseconds sorts inside it.
 */
export type Hour = string;

/**
 * What an alert of an episode rule (an address's or a person's) keeps of its episode, for the batches that
 * read only part of it (`episodes.ts`).
 */
export interface EpisodeSummary {
  /** The episode's failures in each hour (`Hour`), hours in order. */
  readonly hours: Readonly<Record<Hour, number>>;
  /** Its first failures, `[eventTime, eventId]`, oldest first, at most `MAX_EVENT_IDS`: those the alert lists. */
  readonly first: readonly (readonly [string, string])[];
}

/**
 * A failed verification as the episode rules see it: who it was attributed to, if anyone (for a person's rules,
 * that person).
 */
export interface AttributedFailure {
  readonly event: AuditEvent;
  readonly users: readonly UserKey[];
  /** The sign-in was for a name AWS hid because it matched no user. */
  readonly hiddenName: boolean;
}

const SECOND_FACTORS = new Set(["TOTP", "WEBAUTHN", "EMAIL_OTP", "RESYNC_TOTP"]);
/** The events an alert lists by id, at most; the rest are counted. */
export const MAX_EVENT_IDS = 100;

export const isSecondFactor = (event: AuditEvent) =>
  (event.credentialType ?? "").split(",").some((factor) => SECOND_FACTORS.has(factor.trim()));
export const isSuccessfulSignIn = (event: AuditEvent) =>
  event.eventName === "UserAuthentication" && event.outcome === "success";

export function subjectKey(subject: AlertSubject): string {
  return subject.type === "user"
    ? `user#${subject.identityStoreId}#${subject.userId}`
    : `address#${subject.sourceIp}`;
}

/** Deterministic alert id: the rule, the subject and the first event of the episode. */
export function alertId(rule: Rule, subject: AlertSubject, anchorEventId: string): string {
  return createHash("sha256")
    .update(`${rule}\u0000${subjectKey(subject)}\u0000${anchorEventId}`)
    .digest("hex")
    .slice(0, 32);
}

/** An event's time in milliseconds. */
export function eventTimeMs(event: { readonly eventTime: string }): number {
  return Date.parse(event.eventTime);
}

/**
 * Splits time-ordered items into episodes: a new episode starts after a quiet gap longer than the window.
 * An episode is the unit an alert covers, so late events extend an alert instead of opening a second one.
 */
export function episodes<T>(items: readonly T[], timeOf: (item: T) => number, gapMs: number): T[][] {
  const result: T[][] = [];
  let current: T[] = [];
  for (const item of items) {
    const previous = current[current.length - 1];
    if (previous !== undefined && timeOf(item) - timeOf(previous) > gapMs) {
      result.push(current);
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) result.push(current);
  return result;
}

/** The largest `weight` total of items inside any window of `windowMs` (two pointers over sorted items). */
export function peakInWindow<T>(
  items: readonly T[],
  timeOf: (item: T) => number,
  windowMs: number,
  key?: (item: T) => string[],
): number {
  let peak = 0;
  let start = 0;
  const counts = new Map<string, number>();
  const add = (item: T, delta: number) => {
    for (const value of key ? key(item) : ["*"]) {
      const next = (counts.get(value) ?? 0) + delta;
      if (next === 0) counts.delete(value);
      else counts.set(value, next);
    }
  };
  for (let end = 0; end < items.length; end += 1) {
    const last = items[end] as T;
    add(last, 1);
    while (timeOf(last) - timeOf(items[start] as T) > windowMs) {
      add(items[start] as T, -1);
      start += 1;
    }
    peak = Math.max(peak, key ? counts.size : (counts.get("*") ?? 0));
  }
  return peak;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** What a finding needs of an event: sign-in events and role-session calls alike. */
/** An event as a rule that counts events by time and address sees it. */
export interface TimedEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly sourceIp?: string;
}

function finding(
  rule: Rule,
  severity: Severity,
  subject: AlertSubject,
  events: readonly TimedEvent[],
  extra: Partial<Omit<Finding, "id" | "rule" | "severity" | "subject">> = {},
): Finding {
  const first = events[0] as TimedEvent;
  const last = events[events.length - 1] as TimedEvent;
  return {
    id: alertId(rule, subject, first.eventId),
    rule,
    severity,
    subject,
    firstSeen: first.eventTime,
    lastSeen: last.eventTime,
    count: events.length,
    eventIds: events.slice(0, MAX_EVENT_IDS).map((event) => event.eventId),
    sourceIps: sortedUnique(events.flatMap((event) => (event.sourceIp ? [event.sourceIp] : []))),
    ...extra,
  };
}

/** Rules about one person: brute force, MFA attack, success after failures. `events` are theirs, any order. */
export function evaluateUser(
  user: UserKey,
  events: readonly AuditEvent[],
  config: DetectionConfig,
): Finding[] {
  const { subject, failures } = signInsOf(user, events);
  const findings: Finding[] = [];
  const firstFactor = failures.filter((event) => !isSecondFactor(event));
  for (const episode of episodes(firstFactor, eventTimeMs, config.windowMs)) {
    if (peakInWindow(episode, eventTimeMs, config.windowMs) >= config.bruteForceFailures) {
      findings.push(finding(Rule.BruteForce, Severity.High, subject, episode));
    }
  }
  const secondFactor = failures.filter(isSecondFactor);
  for (const episode of episodes(secondFactor, eventTimeMs, config.windowMs)) {
    if (peakInWindow(episode, eventTimeMs, config.windowMs) >= config.mfaFailures) {
      findings.push(finding(Rule.MfaAttack, Severity.High, subject, episode));
    }
  }
  findings.push(...evaluateSuccessAfterFailures(user, events, config));
  return findings;
}

/**
 * success-after-failures alone (`evaluateUser`'s third rule): a finding per successful sign-in with enough of
 * the person's failures in the lookback before it. `events` are theirs, any order.
 */
export function evaluateSuccessAfterFailures(
  user: UserKey,
  events: readonly AuditEvent[],
  config: DetectionConfig,
): Finding[] {
  const { subject, signIns, failures } = signInsOf(user, events);
  const findings: Finding[] = [];
  for (const success of signIns.filter(isSuccessfulSignIn)) {
    const since = eventTimeMs(success) - config.successLookbackMs;
    const before = failures.filter(
      (event) => eventTimeMs(event) >= since && byTimeThenId(event, success) < 0,
    );
    if (before.length >= config.successAfterFailures) {
      // Anchored on the success: one alert per successful sign-in that followed an attack.
      findings.push({
        ...finding(Rule.SuccessAfterFailures, Severity.Critical, subject, [...before, success]),
        id: alertId(Rule.SuccessAfterFailures, subject, success.eventId),
        sourceIps: sortedUnique(before.flatMap((event) => (event.sourceIp ? [event.sourceIp] : []))),
        ...(success.sourceIp ? { successSourceIp: success.sourceIp } : {}),
      });
    }
  }
  return findings;
}

/** The person's sign-in events among `events`, each once, in time order, and the failed verifications among them. */
function signInsOf(
  user: UserKey,
  events: readonly AuditEvent[],
): { subject: AlertSubject; signIns: AuditEvent[]; failures: AuditEvent[] } {
  const signIns = [...new Map(events.map((event) => [event.eventId, event])).values()]
    .filter((event) => event.category === "sign-in")
    .sort(byTimeThenId);
  return {
    subject: { type: "user", identityStoreId: user.identityStoreId, userId: user.userId },
    signIns,
    failures: signIns.filter(isFailedVerification),
  };
}

/** Addresses AWS writes for calls its services make on a principal's behalf: never a stolen credential. */
export function isAwsServiceAddress(sourceIp: string): boolean {
  return sourceIp === "AWS Internal" || sourceIp.endsWith(".amazonaws.com");
}

/** A role session as the role-session rules see it, linked to its portal session and person. */
export interface RoleSessionActivity {
  readonly roleSessionId: string;
  readonly accountId: string;
  readonly credentialId: string;
  readonly user: UserKey;
  /** Every address the portal session (sign-in included) was used from. */
  readonly portalSourceIps: ReadonlySet<string>;
  /** Calls made with the session's credentials (not the `AssumeRoleWithSAML` that issued them). */
  readonly calls: readonly TimedEvent[];
}

/** A privilege a person was granted, or granted as an administrator (`made`). */
export interface PrivilegeGrant {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  readonly kind: string;
  readonly relation: "granted-to" | "made-by";
  readonly sourceIp?: string;
}

/** A successful sign-in that followed failures, as its success-after-failures alert records it. */
export interface FailedThenSucceeded {
  readonly alertId: string;
  /** The successful sign-in's time (the alert's `lastSeen`). */
  readonly successTime: string;
}

/**
 * privilege-granted-after-failures: a person added to a group, assigned a permission set or given a new MFA
 * device (`granted-to`), or making such a change as an administrator (`made-by`), within
 * `privilegeAfterFailuresMs` after a sign-in that succeeded after failures. One finding per such sign-in,
 * anchored on its alert, covering every grant of the window. Pure: the same stored facts give the same finding
 * whichever arrived first.
 */
export function evaluatePrivilegeGrants(
  user: UserKey,
  successes: readonly FailedThenSucceeded[],
  grants: readonly PrivilegeGrant[],
  config: DetectionConfig,
): Finding[] {
  const subject: AlertSubject = { type: "user", identityStoreId: user.identityStoreId, userId: user.userId };
  const unique = [
    ...new Map(grants.map((grant) => [`${grant.eventId}\u0000${grant.relation}`, grant])).values(),
  ].sort((a, b) => byTimeThenId(a, b) || (a.relation < b.relation ? -1 : a.relation > b.relation ? 1 : 0));
  const findings: Finding[] = [];
  const sorted = [...new Map(successes.map((success) => [success.alertId, success])).values()].sort((a, b) =>
    a.successTime !== b.successTime
      ? a.successTime < b.successTime
        ? -1
        : 1
      : a.alertId < b.alertId
        ? -1
        : 1,
  );
  for (const success of sorted) {
    const from = Date.parse(success.successTime);
    const within = unique.filter((grant) => {
      const at = Date.parse(grant.eventTime);
      return at >= from && at - from <= config.privilegeAfterFailuresMs;
    });
    if (within.length === 0) continue;
    const events = [...new Map(within.map((grant) => [grant.eventId, grant])).values()];
    const last = events[events.length - 1] as PrivilegeGrant;
    findings.push({
      id: alertId(Rule.PrivilegeGrantedAfterFailures, subject, success.alertId),
      rule: Rule.PrivilegeGrantedAfterFailures,
      severity: Severity.High,
      subject,
      firstSeen: success.successTime,
      lastSeen: last.eventTime,
      count: events.length,
      eventIds: events.slice(0, MAX_EVENT_IDS).map((grant) => grant.eventId),
      sourceIps: sortedUnique(events.flatMap((grant) => (grant.sourceIp ? [grant.sourceIp] : []))),
      afterAlertId: success.alertId,
      grants: within.slice(0, MAX_EVENT_IDS),
    });
  }
  return findings;
}
