import { byTimeThenId, isFailedVerification, type UserKey } from "../normalize/types.ts";
import { isoTime } from "../shared/time.ts";
import {
  type AlertSubject,
  type AttributedFailure,
  alertId,
  type DetectionConfig,
  type EpisodeSummary,
  eventTimeMs,
  type Finding,
  type Hour,
  isAwsServiceAddress,
  isSecondFactor,
  MAX_EVENT_IDS,
  peakInWindow,
  type RoleSessionActivity,
  Rule,
  Severity,
  type TimedEvent,
} from "./rules.ts";

/**
 * The episode rules, judged on part of an episode: password-spray and unknown-user-names about an address,
 * brute-force and mfa-attack about a person. An episode runs on for as long as failures come less than a
 * window apart, so a steady spray (or a brute force that never pauses) is one episode as long as the attack.
 * Judging it whole at every batch read the whole attack again at every batch: reads that grew with the square
 * of the failures (docs/benchmarks.md). An alert of these rules therefore keeps what its episode needs of
 * the hours a batch does not read (`EpisodeSummary`): how many of its failures each hour holds, and its
 * first failures. A batch reads the hours within a window of its failures, and takes the rest of an episode
 * from its alert. The result is the one a reading of every failure gives (`evaluateAddress`, `evaluateUser`).
 *
 * role-credentials-new-address is judged the same way (`roleSessionRule`): a role session used from an address
 * its portal session never was, for hours, is one episode of calls, thousands of them.
 */

export const HOUR_MS = 60 * 60 * 1000;
/** How far one round of reads follows an episode that runs on, at most (then as far again each round). */
const MAX_REACH_MS = 7 * 24 * 60 * 60 * 1000;

export const hourOf = (eventTime: string): Hour => eventTime.slice(0, 13);

/**
 * How a judgement's reads are cut: buckets of time, each named by the prefix its events' times (and sort keys)
 * share. Hours for failed sign-ins (one partition for every address and person: an hour holds few of one
 * subject's); minutes for a role session's calls (a partition of its own, where an hour can hold thousands, most
 * of them out of a batch's reach). An alert's summary counts by the buckets its judgements read: a role session
 * used for twelve hours without a pause keeps 720 counts.
 */
export interface TimeBuckets {
  readonly ms: number;
  /** The bucket holding this time (`2026-11-20T08` an hour, `2026-11-20T08:17` a minute). */
  readonly of: (eventTime: string) => Hour;
  /** When the bucket starts, in ms since the epoch. */
  readonly startMs: (bucket: Hour) => number;
}

export const HOURS: TimeBuckets = {
  ms: HOUR_MS,
  of: hourOf,
  startMs: (hour) => Date.parse(`${hour}:00:00Z`),
};

export const MINUTES: TimeBuckets = {
  ms: 60 * 1000,
  of: (eventTime) => eventTime.slice(0, 16),
  startMs: (bucket) => Date.parse(`${bucket}:00Z`),
};

/** Every bucket (hour, by default) from the one holding `from` to the one holding `to`. */
export function hoursOver(from: number, to: number, buckets: TimeBuckets = HOURS): Hour[] {
  const hours: Hour[] = [];
  for (let at = Math.floor(from / buckets.ms) * buckets.ms; at <= to; at += buckets.ms)
    hours.push(buckets.of(isoTime(at)));
  return hours;
}

/** When the hour starts, in ms since the epoch. */
export const hourStartMs = HOURS.startMs;

const bucketsOver = hoursOver;

/** The buckets a window or less from any of these times. */
export function bucketsNear(times: Iterable<number>, windowMs: number, buckets: TimeBuckets): Set<Hour> {
  const near = new Set<Hour>();
  for (const time of times)
    for (const bucket of hoursOver(time - windowMs, time + windowMs, buckets)) near.add(bucket);
  return near;
}

/** From the start of the earliest of these buckets to the end of the latest (none: an empty span). */
export function extentOf(hours: Iterable<Hour>, buckets: TimeBuckets = HOURS): { from: number; to: number } {
  let from = Number.POSITIVE_INFINITY;
  let to = Number.NEGATIVE_INFINITY;
  for (const hour of hours) {
    const start = buckets.startMs(hour);
    from = Math.min(from, start);
    to = Math.max(to, start + buckets.ms);
  }
  return { from, to };
}

/** A finding of an episode rule, with what its alert keeps of the episode. */
export interface EpisodeFinding extends Finding {
  readonly episode: EpisodeSummary;
}

/**
 * What an episode is made of: failed sign-ins (`AttributedFailure`) for the sign-in rules, a role session's calls
 * for role-credentials-new-address. `users`: the people it was attributed to (none for a call).
 */
export interface EpisodeMember {
  readonly event: TimedEvent;
  readonly users: readonly UserKey[];
}

/** A stored alert of an episode rule, as a judgement of its subject needs it. */
export interface StoredEpisode extends Pick<Finding, "id" | "rule" | "firstSeen" | "lastSeen" | "sourceIps"> {
  /** The people an address rule's alert names (none for a person's rules). */
  readonly users: readonly UserKey[];
  /** Absent for alerts stored before summaries were kept: their hours are read instead. */
  readonly episode?: EpisodeSummary;
}

/** What a judgement of one subject has: the failures of the hours read, and the subject's stored alerts. */
export interface EpisodeReading<M extends EpisodeMember = AttributedFailure> {
  /** The subject's failures (members) in the hours read, any order (one given twice counts once). */
  readonly failures: readonly M[];
  readonly hoursRead: ReadonlySet<Hour>;
  /** What `hoursRead` holds: hours (the default) or shorter buckets. */
  readonly buckets?: TimeBuckets;
  /** The subject's stored alerts of the rules judged (their listings). */
  readonly stored: readonly StoredEpisode[];
}

export interface EpisodeJudgement {
  /** Empty while `need` is not. */
  readonly findings: EpisodeFinding[];
  /**
   * The stored alerts the judgement decides (a window or less from an hour read): those no finding matches
   * are to be deleted.
   */
  readonly seen: StoredEpisode[];
  /** Hours to read before the judgement holds: an episode that alerts runs on into them. */
  readonly need: Set<Hour>;
}

/** An episode rule: which failures its episodes are made of, and when an episode alerts. */
export interface EpisodeRule<M extends EpisodeMember = AttributedFailure> {
  readonly rule: Rule;
  readonly severity: Severity;
  readonly member: (failure: M) => boolean;
  readonly alerts: (failures: readonly M[], config: DetectionConfig) => boolean;
  /** Whether the alert names the people its failures were attributed to (an address's alerts). */
  readonly withUsers: boolean;
  /**
   * Episodes kept apart by more than time: a member's group, and a stored alert's (one group's members never
   * join another's episode). None: one group.
   */
  readonly groupOf?: {
    readonly member: (failure: M) => string;
    readonly stored: (episode: StoredEpisode) => string;
  };
  /** Fields every finding of the rule carries (a role session's: the session, account and portal session). */
  readonly details?: Pick<Finding, "roleSessionId" | "accountId" | "credentialId" | "portalSourceIps">;
}

const at = (failure: EpisodeMember) => eventTimeMs(failure.event);
const userKeyOf = (user: UserKey) => `${user.identityStoreId}/${user.userId}`;
function userKeys(failure: EpisodeMember): string[] {
  const keys: string[] = [];
  for (const user of failure.users) keys.push(userKeyOf(user));
  return keys;
}

/** The rules about a source address. Their failures: every failed verification from it, whoever it named. */
export const ADDRESS_EPISODE_RULES: readonly EpisodeRule[] = [
  {
    rule: Rule.PasswordSpray,
    severity: Severity.High,
    member: (failure) => failure.users.length > 0,
    alerts: (failures, config) =>
      peakInWindow(failures, at, config.windowMs, userKeys) >= config.sprayDistinctUsers,
    withUsers: true,
  },
  {
    rule: Rule.UnknownUserNames,
    severity: Severity.Medium,
    member: (failure) => failure.hiddenName,
    alerts: (failures, config) => peakInWindow(failures, at, config.windowMs) >= config.unknownNameFailures,
    withUsers: false,
  },
];

/**
 * The episode rules about a person (`evaluateUser` judges them the same way on every event). Their failures:
 * the person's failed verifications.
 */
export const USER_EPISODE_RULES: readonly EpisodeRule[] = [
  {
    rule: Rule.BruteForce,
    severity: Severity.High,
    member: (failure) => isFailedVerification(failure.event) && !isSecondFactor(failure.event),
    alerts: (failures, config) => peakInWindow(failures, at, config.windowMs) >= config.bruteForceFailures,
    withUsers: false,
  },
  {
    rule: Rule.MfaAttack,
    severity: Severity.High,
    member: (failure) => isFailedVerification(failure.event) && isSecondFactor(failure.event),
    alerts: (failures, config) => peakInWindow(failures, at, config.windowMs) >= config.mfaFailures,
    withUsers: false,
  },
];

/** Rules about one source address: password spraying, unknown user names, over all of its failures. */
export function evaluateAddress(
  sourceIp: string,
  failures: readonly AttributedFailure[],
  config: DetectionConfig,
): EpisodeFinding[] {
  // Every hour a window or less from a failure counts as read: nothing else is stored.
  const hours = new Set<Hour>();
  for (const failure of failures)
    for (const hour of hoursOver(at(failure) - config.windowMs, at(failure) + config.windowMs))
      hours.add(hour);
  return judgeAddress(sourceIp, { failures, hoursRead: hours, stored: [] }, config, 0).findings;
}

/** `judgeEpisodes` of an address, by the address rules. */
export function judgeAddress(
  sourceIp: string,
  reading: EpisodeReading,
  config: DetectionConfig,
  round: number,
  follow = true,
): EpisodeJudgement {
  return judgeEpisodes({ type: "address", sourceIp }, ADDRESS_EPISODE_RULES, reading, config, round, follow);
}

/**
 * Judges the subject's episodes that the hours read reach. `round`: how many times hours were read for it
 * before (the hours asked for grow with it, so that following a long episode takes few reads). Without
 * `follow`, asks for no more hours: episodes are judged on what was read (a bound on a judgement's reads).
 */
export function judgeEpisodes<M extends EpisodeMember>(
  subject: AlertSubject,
  rules: readonly EpisodeRule<M>[],
  reading: EpisodeReading<M>,
  config: DetectionConfig,
  round: number,
  follow = true,
): EpisodeJudgement {
  const unique = new Map<string, M>();
  for (const failure of reading.failures) unique.set(failure.event.eventId, failure);
  const sorted = [...unique.values()].sort((a, b) => byTimeThenId(a.event, b.event));
  const judgement: EpisodeJudgement = { findings: [], seen: [], need: new Set() };
  for (const rule of rules) {
    const failures: M[] = [];
    for (const failure of sorted) if (rule.member(failure)) failures.push(failure);
    const stored = reading.stored.filter((episode) => episode.rule === rule.rule);
    const groupOf = rule.groupOf;
    if (!groupOf) {
      judgeRule(rule, subject, failures, stored, reading, config, round, follow, judgement);
      continue;
    }
    const groups = new Map<string, { failures: M[]; stored: StoredEpisode[] }>();
    const groupNamed = (name: string) => {
      const group = groups.get(name) ?? { failures: [], stored: [] };
      groups.set(name, group);
      return group;
    };
    for (const failure of failures) groupNamed(groupOf.member(failure)).failures.push(failure);
    for (const episode of stored) groupNamed(groupOf.stored(episode)).stored.push(episode);
    for (const [, group] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)))
      judgeRule(rule, subject, group.failures, group.stored, reading, config, round, follow, judgement);
  }
  if (judgement.need.size > 0) return { findings: [], seen: [], need: judgement.need };
  return judgement;
}

/** A failure, or a stored alert's episode, on the time line of one rule's components. */
type Node<M extends EpisodeMember> =
  | { readonly from: number; readonly to: number; readonly failure: M }
  | {
      readonly from: number;
      readonly to: number;
      readonly episode: StoredEpisode & { episode: EpisodeSummary };
    };

function judgeRule<M extends EpisodeMember>(
  rule: EpisodeRule<M>,
  subject: AlertSubject,
  failures: readonly M[],
  stored: readonly StoredEpisode[],
  reading: Pick<EpisodeReading<M>, "hoursRead" | "buckets">,
  config: DetectionConfig,
  round: number,
  follow: boolean,
  judgement: EpisodeJudgement,
): void {
  const windowMs = config.windowMs;
  const read = reading.hoursRead;
  const buckets = reading.buckets ?? HOURS;
  const hoursOver = (from: number, to: number) => bucketsOver(from, to, buckets);
  const allRead = (from: number, to: number) => hoursOver(from, to).every((hour) => read.has(hour));
  const needAll = (from: number, to: number) => {
    if (!follow) return false;
    let needed = false;
    for (const hour of hoursOver(from, to))
      if (!read.has(hour)) {
        judgement.need.add(hour);
        needed = true;
      }
    return needed;
  };
  const nodes: Node<M>[] = [];
  for (const failure of failures) nodes.push({ from: at(failure), to: at(failure), failure });
  // The stored alerts a window or less from an hour read: the judgement may extend, merge or remove them.
  const seen: StoredEpisode[] = [];
  /** Stored alerts the judgement cannot see whole and may not follow: left as they are. */
  const untouched = new Set<StoredEpisode>();
  for (const episode of stored) {
    const from = Date.parse(episode.firstSeen);
    const to = Date.parse(episode.lastSeen);
    const hours = hoursOver(from - windowMs, to + windowMs);
    if (!hours.some((hour) => read.has(hour))) continue;
    seen.push(episode);
    // An alert stored before summaries were kept is read whole instead, once: its next write keeps one.
    if (episode.episode) nodes.push({ from, to, episode: { ...episode, episode: episode.episode } });
    else if (!hours.every((hour) => read.has(hour)) && !needAll(from - windowMs, to + windowMs))
      untouched.add(episode);
  }
  // In the order of the rules' events (`byTimeThenId`, on the times as written), a stored episode at its first
  // failure.
  nodes.sort((a, b) => byTimeThenId(orderOf(a), orderOf(b)));
  // Components: failures a window or less after the one before (as `episodes` splits them), and stored episodes,
  // each unbroken from its first failure to its last.
  const components: Node<M>[][] = [];
  let previous = -Infinity;
  let episodeEnd = -Infinity;
  for (const node of nodes) {
    const current = components[components.length - 1];
    if (current !== undefined && node.from - Math.max(previous, episodeEnd) <= windowMs) current.push(node);
    else {
      components.push([node]);
      episodeEnd = -Infinity;
    }
    previous = node.to;
    if (!("failure" in node)) episodeEnd = Math.max(episodeEnd, node.to);
  }
  const reach = Math.min(windowMs * 2 ** round, MAX_REACH_MS);
  for (const component of components) {
    const own: M[] = [];
    let episodes: (StoredEpisode & { episode: EpisodeSummary })[] = [];
    for (const node of component)
      if ("failure" in node) own.push(node.failure);
      else episodes.push(node.episode);
    // Two stored episodes that overlap, or count one hour not read, are not both right: their failures are
    // read instead, and with all of them read the judgement takes nothing from either.
    if (conflicting(episodes, read)) {
      const whole = (episode: StoredEpisode) =>
        hoursOver(Date.parse(episode.firstSeen) - windowMs, Date.parse(episode.lastSeen) + windowMs).every(
          (hour) => read.has(hour),
        );
      if (!episodes.every(whole)) {
        let needed = false;
        for (const episode of episodes)
          if (needAll(Date.parse(episode.firstSeen) - windowMs, Date.parse(episode.lastSeen) + windowMs))
            needed = true;
        if (needed) continue;
        // Not to be followed further: the component is not judged, and its alerts are left as they are.
        for (const episode of episodes) untouched.add(episode);
        continue;
      }
      episodes = [];
    }
    // Failures next to an alert left as it is belong to it: not judged apart (no second alert for them).
    let beside = false;
    for (const node of component)
      for (const episode of untouched)
        if (
          node.from - Date.parse(episode.lastSeen) <= windowMs &&
          Date.parse(episode.firstSeen) - node.to <= windowMs
        )
          beside = true;
    if (beside) continue;
    // A stored alert says its episode reached the rule's threshold; without one, the failures read must.
    if (episodes.length === 0 && !rule.alerts(own, config)) continue;
    // An end made by a failure whose window reaches an hour not read may run on there: read on, further each
    // round. An end made by a stored episode is its end: the batch that stored a failure next to it merged it.
    let from = Infinity;
    let to = -Infinity;
    for (const node of component) {
      from = Math.min(from, node.from);
      to = Math.max(to, node.to);
    }
    const startsEpisode = episodes.some((episode) => Date.parse(episode.firstSeen) === from);
    const endsEpisode = episodes.some((episode) => Date.parse(episode.lastSeen) === to);
    let open = false;
    if (!startsEpisode && !allRead(from - windowMs, from) && needAll(from - reach, from)) open = true;
    if (!endsEpisode && !allRead(to, to + windowMs) && needAll(to, to + reach)) open = true;
    if (open) continue;
    judgement.findings.push(merged(rule, subject, own, episodes, read, buckets));
  }
  for (const episode of seen) if (!untouched.has(episode)) judgement.seen.push(episode);
}

/** Where a node sorts: a failure as its event, a stored episode as its first failure. */
function orderOf<M extends EpisodeMember>(node: Node<M>): { eventTime: string; eventId: string } {
  if ("failure" in node) return node.failure.event;
  const [eventTime, eventId] = node.episode.episode.first[0] ?? [node.episode.firstSeen, ""];
  return { eventTime, eventId };
}

/** Whether stored episodes of one component overlap, or count failures of one hour not read. */
function conflicting(
  episodes: readonly { firstSeen: string; lastSeen: string; episode: EpisodeSummary }[],
  read: ReadonlySet<Hour>,
): boolean {
  if (episodes.length < 2) return false;
  const byStart = [...episodes].sort((a, b) => Date.parse(a.firstSeen) - Date.parse(b.firstSeen));
  const counted = new Set<Hour>();
  for (let index = 0; index < byStart.length; index += 1) {
    const episode = byStart[index] as (typeof byStart)[number];
    const next = byStart[index + 1];
    if (next && Date.parse(next.firstSeen) <= Date.parse(episode.lastSeen)) return true;
    for (const hour of Object.keys(episode.episode.hours)) {
      if (read.has(hour)) continue;
      if (counted.has(hour)) return true;
      counted.add(hour);
    }
  }
  return false;
}

/** One episode's finding: the failures read, and what the stored episodes in it keep of the hours not read. */
function merged<M extends EpisodeMember>(
  rule: EpisodeRule<M>,
  subject: AlertSubject,
  failures: readonly M[],
  episodes: readonly (StoredEpisode & { episode: EpisodeSummary })[],
  read: ReadonlySet<Hour>,
  buckets: TimeBuckets,
): EpisodeFinding {
  const hours = new Map<Hour, number>();
  let count = failures.length;
  for (const failure of failures) {
    const hour = buckets.of(failure.event.eventTime);
    hours.set(hour, (hours.get(hour) ?? 0) + 1);
  }
  const firstById = new Map<string, readonly [string, string]>();
  for (const failure of failures.slice(0, MAX_EVENT_IDS))
    firstById.set(failure.event.eventId, [failure.event.eventTime, failure.event.eventId]);
  let last = failures[failures.length - 1]?.event.eventTime;
  const users = new Map<string, UserKey>();
  for (const failure of failures) for (const user of failure.users) users.set(userKeyOf(user), user);
  const sourceIps = new Set<string>();
  for (const failure of failures) if (failure.event.sourceIp) sourceIps.add(failure.event.sourceIp);
  for (const { episode, lastSeen, users: storedUsers, sourceIps: storedSourceIps } of episodes) {
    for (const [hour, inHour] of Object.entries(episode.hours)) {
      if (read.has(hour)) continue;
      count += inHour;
      hours.set(hour, (hours.get(hour) ?? 0) + inHour);
    }
    for (const pair of episode.first) firstById.set(pair[1], pair);
    if (last === undefined || lastSeen > last) last = lastSeen;
    for (const user of storedUsers) users.set(userKeyOf(user), user);
    // A stored episode's failures are all still in the episode (episodes only grow), so their addresses are.
    for (const sourceIp of storedSourceIps) sourceIps.add(sourceIp);
  }
  const first = [...firstById.values()]
    .sort((a, b) => byTimeThenId({ eventTime: a[0], eventId: a[1] }, { eventTime: b[0], eventId: b[1] }))
    .slice(0, MAX_EVENT_IDS);
  const [firstTime, firstId] = first[0] as readonly [string, string];
  const sortedHours: Record<Hour, number> = {};
  for (const hour of [...hours.keys()].sort()) sortedHours[hour] = hours.get(hour) as number;
  const sortedUsers = [...users.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map((entry) => entry[1]);
  return {
    id: alertId(rule.rule, subject, firstId),
    rule: rule.rule,
    severity: rule.severity,
    subject,
    firstSeen: firstTime,
    lastSeen: last as string,
    count,
    eventIds: first.map((pair) => pair[1]),
    sourceIps: [...sourceIps].sort(),
    ...(rule.withUsers ? { users: sortedUsers } : {}),
    ...rule.details,
    episode: { hours: sortedHours, first },
  };
}

/** A role session's call as role-credentials-new-address counts it: nobody's failure, a use of its credentials. */
export interface RoleCall extends EpisodeMember {
  readonly users: readonly [];
}

export const roleCall = (event: TimedEvent): RoleCall => ({ event, users: [] });

/**
 * role-credentials-new-address, for one role session linked to its portal session: calls from an address that
 * is neither one the portal session was used from nor an AWS service's (session credentials used somewhere the
 * person never signed in from). Every such call alerts; one alert per address and episode (a quiet gap longer
 * than the window ends one), kept apart by address (`groupOf`).
 */
export function roleSessionRule(
  activity: Omit<RoleSessionActivity, "calls" | "user">,
): EpisodeRule<RoleCall> {
  const foreign = (address: string | undefined): address is string =>
    address !== undefined && !isAwsServiceAddress(address) && !activity.portalSourceIps.has(address);
  return {
    rule: Rule.RoleCredentialsNewAddress,
    severity: Severity.High,
    member: (call) => foreign(call.event.sourceIp),
    alerts: (calls) => calls.length > 0,
    withUsers: false,
    groupOf: {
      member: (call) => call.event.sourceIp ?? "",
      // Its calls are all from one address: the alert names it.
      stored: (episode) => episode.sourceIps[0] ?? "",
    },
    details: {
      roleSessionId: activity.roleSessionId,
      accountId: activity.accountId,
      credentialId: activity.credentialId,
      portalSourceIps: [...activity.portalSourceIps].sort(),
    },
  };
}

/** role-credentials-new-address over every call of a role session (`roleSessionRule`). */
export function evaluateRoleSession(
  activity: RoleSessionActivity,
  config: DetectionConfig,
): EpisodeFinding[] {
  // Every hour a window or less from a call counts as read: nothing else is stored.
  const reading = {
    failures: activity.calls.map(roleCall),
    hoursRead: bucketsNear(activity.calls.map(eventTimeMs), config.windowMs, MINUTES),
    buckets: MINUTES,
    stored: [],
  };
  return judgeEpisodes({ type: "user", ...activity.user }, [roleSessionRule(activity)], reading, config, 0)
    .findings;
}
