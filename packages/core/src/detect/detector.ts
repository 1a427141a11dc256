import { LRUCache } from "lru-cache";
import { type ChangeRecord, isGroupRemoval, PrivilegeKind, privilegeOf } from "../changes/model.ts";
import { ChangeQueries } from "../changes/queries.ts";
import type { ExternalId } from "../identity/port.ts";
import { userKeyString } from "../identity/port.ts";
import { type AuditEvent, isFailedVerification, type UserKey } from "../normalize/types.ts";
import { isGrant, PROBABLE_LINK_MS } from "../roles/link.ts";
import type { RoleQueries } from "../roles/queries.ts";
import type { RoleEvent } from "../roles/types.ts";
import { appendTo } from "../shared/collections.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { isoTime } from "../shared/time.ts";
import { eventOf, Items, ItemType, userOfItem } from "../timeline/items.ts";
import {
  ALERT_PARTITION,
  FAILED_PARTITION,
  failedSignInTime,
  type ItemKey,
  Keys,
  SORT_END,
} from "../timeline/keys.ts";
import type { TimelineQueries, UserView } from "../timeline/queries.ts";
import { type Item, mapLimit, type TableStore } from "../timeline/store.ts";
import {
  ADDRESS_EPISODE_RULES,
  bucketsNear,
  type EpisodeJudgement,
  type EpisodeMember,
  type EpisodeRule,
  extentOf,
  HOUR_MS,
  HOURS,
  hoursOver,
  judgeEpisodes,
  MINUTES,
  type RoleCall,
  roleCall,
  roleSessionRule,
  type StoredEpisode,
  type TimeBuckets,
  USER_EPISODE_RULES,
} from "./episodes.ts";
import {
  type AlertSubject,
  type AttributedFailure,
  DEFAULT_DETECTION_CONFIG,
  type DetectionConfig,
  type EpisodeSummary,
  evaluatePrivilegeGrants,
  evaluateSuccessAfterFailures,
  evaluateUser,
  eventTimeMs,
  type FailedThenSucceeded,
  type Finding,
  type Hour,
  isAwsServiceAddress,
  isSuccessfulSignIn,
  type PrivilegeGrant,
  Rule,
  subjectKey,
} from "./rules.ts";

/** An alert as stored, printed and published: the finding plus what responders pivot on. */
export interface Alert extends Omit<Finding, "users" | "episode"> {
  /** The person, for rules about a user. */
  readonly user?: {
    readonly userName: string | null;
    readonly displayName: string | null;
    readonly emails: readonly string[];
  };
  /** The person's Okta / Entra / AD ids, to pivot into the identity provider. */
  readonly externalIds: readonly ExternalId[];
  /** Everyone an address rule involved. */
  readonly users?: readonly {
    readonly identityStoreId: string;
    readonly userId: string;
    readonly userName: string | null;
  }[];
  readonly distinctUsers?: number;
}

/** Where new alerts go: SNS in AWS, the terminal for the CLI. */
export interface AlertSink {
  publish(alert: Alert): Promise<void>;
}

/** A sign-in event the pipeline just stored or re-attributed, with everyone it is attributed to. */
export interface TouchedSignIn {
  readonly event: AuditEvent;
  readonly users: readonly UserKey[];
  /**
   * The portal sessions whose timelines hold the event: its own `credentialId` and, for a sign-in workflow's
   * member, its workflow's. Absent: its own `credentialId`.
   */
  readonly sessions?: readonly string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How far after a role session's creation an unlinked judgement reconciles its alerts (`judgeRoleSessions`). */
const UNLINKED_REACH_MS = 7 * DAY_MS;
const USER_EPISODE_RULE_NAMES = new Set<string>(USER_EPISODE_RULES.map(({ rule }) => rule));
const SUCCESS_RULES = new Set<string>([Rule.SuccessAfterFailures]);
const ADDRESS_RULES = new Set<string>(ADDRESS_EPISODE_RULES.map(({ rule }) => rule));
const ROLE_SESSION_RULES = new Set<string>([Rule.RoleCredentialsNewAddress]);
const PRIVILEGE_RULES = new Set<string>([Rule.PrivilegeGrantedAfterFailures]);
/**
 * Calls a role session has (as far as this process knows) before a judgement reads it by the minutes of a batch's
 * calls rather than whole: below it, one request for the whole session reads few items, and reading by the time
 * (its link, alerts and calls apart) takes five or six.
 */
const ROLE_CALLS_READ_WHOLE = 100;
/** Role sessions whose cleared addresses a process remembers (least recently used forgotten first). */
const CLEARED_SESSIONS = 50_000;
/**
 * Hours of failed sign-ins one judgement of addresses follows an alerting episode into, beyond those around the
 * batch's failures, at most (31 days): memory and reads stay bounded when an address fails without pause for
 * months. Past it, the alert starts or ends where the reading did.
 */
const MAX_HOURS_FOLLOWED = 31 * 24;
/**
 * Ranges of failed sign-ins to read this close together are read in one query, with the time between: a
 * batch spread over days (a backfill) reads its span once rather than one range per sign-in, and a batch of
 * live events, minutes long, reads minutes.
 */
const MERGED_READ_GAP_MS = 24 * 60 * 60 * 1000;
/** Subjects a process remembers having marked (`Detector.marked`); a forgotten one is marked again. */
const MARKED_SUBJECTS = 50_000;

interface Range {
  readonly from: number;
  readonly to: number;
}

/** What one reading of a subject's data found, over the range whose stored alerts it decides. */
interface SubjectJudgement {
  readonly findings: readonly Finding[];
  readonly range: Range;
  /**
   * The stored alerts (index items) the judgement decides, when it knows them: then every finding is whole,
   * and those of these no finding matches are removed. Otherwise, those of the range (`reconcile`).
   */
  readonly existing?: readonly Item[];
  /**
   * With `existing`: the listings of those alerts as the judgement read them, by sort key. The judgement took
   * part of its episodes from them, so it replaces or deletes one only if it is unchanged (a conditional write);
   * if another process rewrote one since, nothing more is written and the subject is judged again
   * (`reconcile`, `settleMany`).
   */
  readonly basis?: ReadonlyMap<string, ListingContent>;
  /**
   * Without `existing`: how long after its first event an alert of the rules judged can end, at most. A stored
   * alert is decided (kept only if a finding matches it) when it starts in the trusted range at least this long
   * before the range's end, so that its end was read too.
   */
  readonly spanMs?: number;
  /**
   * With `existing`: the subject's episode span as read (`Keys.alertSubjectSpan`; absent: none stored), the
   * longest any of its alerts of the rules has lasted. It bounds the paging markers read.
   */
  readonly episodeSpanMs?: number;
  /** With `existing`: the subject keeps no episode span (its alerts are read whole: `alertsReadWhole`). */
  readonly spanless?: true;
}

/** A subject's alerts made to match its judgement (`settle`). */
interface Settled {
  /** The alerts published for the first time. */
  readonly published: Alert[];
  /** The findings of the last judgement. */
  findings: readonly Finding[];
  /** Whether a reconcile wrote (removed an alert, or stored one added or different). */
  wrote: boolean;
}

/**
 * Reconciles of one subject in one evaluation, at most: each after the first needs another process to have
 * stored events of the subject meanwhile. A warning says when they ran out.
 */
const MAX_SETTLE_ROUNDS = 4;

/**
 * Evaluates the rules over stored data around what a batch touched, and makes the stored alerts match the
 * result: alerts appear, grow, or disappear (when late events merged two episodes into one). The episode rules
 * (an address's password-spray and unknown-user-names, a person's brute-force and mfa-attack) read the hours
 * around the touched failures and take the rest of an episode from its alert (`episodes.ts`);
 * success-after-failures reads the lookback before each success the touched events can change. A new alert is
 * published once; later updates are not re-paged.
 */
export class Detector {
  /**
   * Per role session, the addresses this process already found to be its portal session's: calls from them
   * cannot raise role-credentials-new-address while the session keeps that link, so a batch of such calls needs
   * no read (else every batch would read a long session whole). Known limit (README, Detections): a grant another
   * process stores later can move the link to another portal session, which this process does not see until a
   * call from an address it has not cleared makes it judge the session.
   */
  private readonly clearedAddresses = new LRUCache<string, ReadonlySet<string>>({ max: CLEARED_SESSIONS });
  /**
   * Role sessions this process last found unlinked: judged again, their calls are read only if they now link
   * (`RoleQueries.linkedCalls`). A hint of what to read first, not a judgement: the answer is the table's.
   */
  private readonly unlinkedRoleSessions = new LRUCache<string, true>({ max: CLEARED_SESSIONS });
  /**
   * Role sessions this process last judged on every call (`judgeRoleSessions`): the link and portal addresses
   * they were judged with (`roleJudgementBasis`), and about how many calls they have. A session with as many
   * calls as `ROLE_CALLS_READ_WHOLE`, judged again with the same basis, is read by the time around a batch's
   * calls. A hint of what to read, not a judgement: either reading gives the same alerts.
   */
  private readonly wholeRoleSessions = new LRUCache<string, { readonly basis: string; calls: number }>({
    max: CLEARED_SESSIONS,
  });
  /**
   * Role sessions this process indexed under their portal session (`Keys.portalRoleAlert`, by portal session, role
   * session and address): not written again.
   */
  private readonly indexedUnderPortal = new LRUCache<string, true>({ max: CLEARED_SESSIONS });
  /**
   * Whether the table holds any role session indexed under its portal session (`Keys.portalRoleAlertsPresence`), as
   * this process found or wrote it: until then each batch reads that one key, and nothing more.
   */
  private portalRoleAlertsPresent = false;
  /**
   * Portal sessions and addresses (`credentialId`, NUL, address) of events this process stored and then looked up
   * in that index: a judgement that reads the portal session after that finds the address, so no role session can
   * alert on it since, and another event of the pair has nothing to look up.
   */
  private readonly portalAddressesLookedUp = new LRUCache<string, true>({ max: CLEARED_SESSIONS });
  /** Subjects whose presence mark this process wrote (`Keys.alertSubjectPresence`): not written again. */
  private readonly marked = new LRUCache<string, true>({ max: MARKED_SUBJECTS });
  /**
   * Subjects' episode spans (`Keys.alertSubjectSpan`) as this process last read or raised them: the stored one
   * is at least as large (it only grows), so a span no larger need not be raised again.
   */
  private readonly spans = new LRUCache<string, number>({ max: MARKED_SUBJECTS });
  /**
   * Subjects the evaluation running now found without a presence mark on a table whose every writer marks
   * them (`Keys.presenceMarksMarker`): they had no alert stored, so their first reconcile reads nothing.
   */
  private unmarked = new Set<string>();

  constructor(
    private readonly store: TableStore,
    private readonly queries: TimelineQueries,
    private readonly sink: AlertSink | undefined,
    private readonly config: DetectionConfig = DEFAULT_DETECTION_CONFIG,
    private readonly logger: AuditLogger = silentLogger,
    private readonly roles?: RoleQueries,
  ) {
    this.changes = new ChangeQueries(store, queries);
  }

  private readonly changes: ChangeQueries;
  /**
   * The evaluation running now. Each makes the stored alerts of its subjects equal to what it read; two at once
   * (batches stored side by side, `ingestStream`) could let the one that read less write last. One at a time,
   * each reads everything the batches before it wrote, as in one ordered delivery.
   */
  private running: Promise<unknown> = Promise.resolve();

  /** Runs `evaluation` once every evaluation asked for before it has ended. */
  private async oneAtATime<T>(evaluation: () => Promise<T>): Promise<T> {
    const result = this.running.then(evaluation);
    this.running = result.catch(() => {});
    return result;
  }

  /**
   * Returns the alerts published for the first time. `changes`: the directory changes the batch indexed,
   * judged by privilege-granted-after-failures together with the people whose sign-ins the batch touched.
   */
  async evaluate(touched: readonly TouchedSignIn[], changes: readonly ChangeRecord[] = []): Promise<Alert[]> {
    return this.oneAtATime(() => this.evaluateNow(touched, changes));
  }

  private async evaluateNow(
    touched: readonly TouchedSignIn[],
    changes: readonly ChangeRecord[],
  ): Promise<Alert[]> {
    const judged: { user: UserKey; range: Range }[] = [];
    this.unmarked = new Set();
    try {
      const signInAlerts = await this.evaluateSignIns(touched, judged);
      const privileged = await this.evaluatePrivileges(judged, changes);
      return [...signInAlerts, ...privileged].sort((a, b) => (a.id < b.id ? -1 : 1));
    } finally {
      this.unmarked = new Set();
    }
  }

  /** `judged`: told every person whose sign-ins make a success-after-failures finding, and over which range. */
  private async evaluateSignIns(
    touched: readonly TouchedSignIn[],
    judged: { user: UserKey; range: Range }[],
  ): Promise<Alert[]> {
    // A grant arriving after the role session it issued links it: judge those sessions again.
    const afterGrants = await this.evaluateRoleSessionsNearGrants(touched);
    // What runs per event is written as loops, not arrows made per batch: V8 keeps a closure's optimized
    // code only while a closure holding it lives, so such an arrow is compiled again after each full garbage
    // collection (`--trace-opt`, docs/benchmarks.md).
    const signIns: TouchedSignIn[] = [];
    for (const entry of touched) if (entry.event.category === "sign-in") signIns.push(entry);
    if (signIns.length === 0) return afterGrants;
    // Only failed verifications and successful sign-ins can change a user rule's finding: a failure the
    // episode it falls in, and the successes of the half hour after it; a success its own finding.
    const userTimes = new Map<
      string,
      { user: UserKey; times: number[]; failures: number[]; successes: number[] }
    >();
    const addressTimes = new Map<string, number[]>();
    for (const { event, users } of signIns) {
      const at = Date.parse(event.eventTime);
      const failed = isFailedVerification(event);
      if (failed || isSuccessfulSignIn(event))
        for (const user of users) {
          const key = userKeyString(user);
          const entry = userTimes.get(key) ?? { user, times: [], failures: [], successes: [] };
          entry.times.push(at);
          if (failed) entry.failures.push(at);
          else entry.successes.push(at);
          userTimes.set(key, entry);
        }
      if (failed && event.sourceIp) appendTo(addressTimes, event.sourceIp, at);
    }
    // Every user rule needs failed verifications of that user, and an alert is made of them. A user whose
    // touched events include a failure has one; a user with only successes touched is judged if a failure of
    // theirs came in the half hour before one of them (one read of the failed sign-ins for all of them).
    const lookbacks: Range[] = [];
    for (const { failures, successes } of userTimes.values())
      if (failures.length === 0)
        for (const at of successes) lookbacks.push({ from: at - this.config.successLookbackMs, to: at });
    const beforeSuccesses = lookbacks.length > 0 ? await this.readFailed(lookbacks) : [];
    const failingUsers = new Map<string, number[]>();
    for (const item of beforeSuccesses) {
      if (item.type !== ItemType.FailedSignInUser) continue;
      appendTo(failingUsers, userKeyString(userOfItem(item)), Date.parse(failedSignInTime(item.sk)));
    }
    const published: Alert[] = [];
    // People to judge: those with a failure touched, or a failure before a success touched.
    const people: { user: UserKey; times: number[]; failures: number[] }[] = [];
    for (const { user, times, failures, successes } of userTimes.values()) {
      const failedBefore = failingUsers.get(userKeyString(user));
      const toJudge =
        failures.length > 0 ||
        successes.some((at) => anyWithin(failedBefore, { from: at - this.config.successLookbackMs, to: at }));
      if (toJudge) people.push({ user, times, failures });
    }
    // Which of the subjects about to be judged may have alerts stored: one key read for all of them.
    this.unmarked = await this.unmarkedSubjects([
      ...people.map(({ user }) => subjectKey({ type: "user", ...user })),
      ...[...addressTimes.keys()].map((address) => subjectKey({ type: "address", sourceIp: address })),
    ]);
    // The episode spans of the people whose episode rules are judged: one key read for all of them.
    const spanned = people
      .filter(({ failures }) => failures.length > 0)
      .map(({ user }) => subjectKey({ type: "user", ...user }));
    const spans = await this.episodeSpans(spanned);
    await mapLimit(people, 4, async ({ user, times, failures }) => {
      // A person with no alert stored whose events around the touched ones make no finding has nothing the
      // batch can change: their day is not read (a steady spray touches each person it tries every batch).
      if (
        this.unmarked.has(subjectKey({ type: "user", ...user })) &&
        !(await this.anyFindingNear(user, times))
      )
        return;
      const { published: raised, successAfterFailures } = await this.evaluateUser(
        user,
        times,
        failures,
        spans,
      );
      published.push(...raised);
      if (successAfterFailures) judged.push({ user, range: around(times) });
    });
    if (addressTimes.size > 0) published.push(...(await this.evaluateAddresses(addressTimes)));
    published.push(...afterGrants);
    return published;
  }

  /**
   * privilege-granted-after-failures, judged per person over a day either side of what the batch touched:
   * people whose sign-ins make a success-after-failures finding (its alert may have just appeared), people a
   * privilege change granted something to or was made by, and, for a permission set assigned to a group,
   * everyone the stored changes added to that group, and, for an addition to a group or a removal from it, the
   * person at the permission sets the group was assigned after it. Whichever of the sign-in, the assignment and
   * the membership change is stored last finds the others, so the verdict does not depend on arrival order.
   */
  private async evaluatePrivileges(
    judged: readonly { user: UserKey; range: Range }[],
    changes: readonly ChangeRecord[],
  ): Promise<Alert[]> {
    const people = new Map<string, { user: UserKey; times: number[] }>();
    const note = (user: UserKey, ...at: number[]) => {
      const entry = people.get(userKeyString(user)) ?? { user, times: [] };
      entry.times.push(...at);
      people.set(userKeyString(user), entry);
    };
    // Their range is a day either side of their sign-ins: the same range again, from its middle times.
    for (const { user, range } of judged) note(user, range.from + DAY_MS, range.to - DAY_MS);
    for (const record of changes) {
      const kind = privilegeOf(record);
      // A change of a person's membership decides what the grants made to the group after it give them: judge
      // the person again at those grants. A removal (known late: it names only its membership) withdraws them;
      // an addition delivered after them (a backfill of older months) brings them, which the grant, judged
      // when no addition was stored, could not see.
      const changesMembership = isGroupRemoval(record) || kind === PrivilegeKind.GroupMembership;
      if (changesMembership && record.user && record.group) {
        const after = await this.changes.changesOfGroup(record.group, {
          from: Date.parse(record.eventTime),
          to: LATEST_MS,
        });
        for (const assigned of after)
          if (privilegeOf(assigned) === PrivilegeKind.PermissionSet && !assigned.user)
            note(record.user, Date.parse(assigned.eventTime));
      }
      if (kind === undefined) continue;
      const at = Date.parse(record.eventTime);
      if (record.actor.user) note(record.actor.user, at);
      if (record.user) note(record.user, at);
      else if (kind === PrivilegeKind.PermissionSet && record.group) {
        for (const member of await this.changes.membersEverAdded(record.group)) note(member, at);
      }
    }
    // A person is judged on their stored alerts (`judgePrivileges`): one without any, as a missing presence mark
    // says, has nothing to judge. One key read for all of them, after this evaluation's sign-in alerts are stored.
    const candidates = [...people.values()].map((person) => ({
      ...person,
      subject: subjectKey({ type: "user", ...person.user }),
    }));
    const unmarked = await this.unmarkedSubjects(candidates.map(({ subject }) => subject));
    // Another process may have marked one since the sign-ins' read: its reconcile reads its alerts.
    for (const { subject } of candidates) if (!unmarked.has(subject)) this.unmarked.delete(subject);
    const judgeable = candidates.filter(({ subject }) => !unmarked.has(subject));
    const published = await mapLimit(judgeable, 4, ({ user, times }) =>
      this.judgePrivileges(user, around(times)),
    );
    return published.flat();
  }

  private async judgePrivileges(user: UserKey, range: Range): Promise<Alert[]> {
    const subject = subjectKey({ type: "user", ...user });
    const { published } = await this.settle(subject, PRIVILEGE_RULES, async () => {
      // One read says whether there is anything to judge: a success-after-failures alert, or an alert of this
      // rule that may have to go.
      const indexed = await this.store.query(Keys.alertSubjectPartition(subject), {
        between: [isoTime(range.from - DAY_MS), `${isoTime(range.to)}${SORT_END}`],
      });
      const successItems = indexed.filter((item) => item.rule === Rule.SuccessAfterFailures);
      if (
        successItems.length === 0 &&
        !indexed.some((item) => item.rule === Rule.PrivilegeGrantedAfterFailures)
      )
        return undefined;
      const stored = await this.store.getAll(
        successItems.map((item) => Keys.alertListing(String(item.firstSeen), String(item.alertId))),
      );
      const successes: FailedThenSucceeded[] = stored
        .map((item) => JSON.parse(String(item.data)) as Alert)
        .filter((alert) => {
          const at = Date.parse(alert.lastSeen);
          return at >= range.from && at <= range.to;
        })
        .map((alert) => ({ alertId: alert.id, successTime: alert.lastSeen }));
      const grants = successes.length > 0 ? await this.privilegeGrants(user, range) : [];
      return { findings: evaluatePrivilegeGrants(user, successes, grants, this.config), range };
    });
    return published;
  }

  /** Privileges granted to the person, or by them, in the range and the rule's window after it. */
  private async privilegeGrants(user: UserKey, range: Range): Promise<PrivilegeGrant[]> {
    const window = { from: range.from, to: range.to + this.config.privilegeAfterFailuresMs };
    const [{ to, by }, memberships] = await Promise.all([
      this.changes.changesToAndBy(user, window),
      this.changes.membershipsOf(user),
    ]);
    const grant = (record: ChangeRecord, relation: PrivilegeGrant["relation"]): PrivilegeGrant[] => {
      const kind = privilegeOf(record);
      if (kind === undefined) return [];
      return [
        {
          eventId: record.eventId,
          eventTime: record.eventTime,
          eventName: record.eventName,
          kind,
          relation,
          ...(record.sourceIp ? { sourceIp: record.sourceIp } : {}),
        },
      ];
    };
    const grants = [
      ...to.flatMap((record) => grant(record, "granted-to")),
      ...by.flatMap((record) => grant(record, "made-by")),
    ];
    // A permission set assigned to a group reaches the person if they were in it then, as far as the stored
    // additions and removals tell.
    const groupChanges = await mapLimit([...memberships.values()], 4, async ({ group, changes }) => ({
      changes,
      assigned: (await this.changes.changesOfGroup(group, window)).filter(
        (record) => record.user === undefined && privilegeOf(record) === PrivilegeKind.PermissionSet,
      ),
    }));
    for (const { changes, assigned } of groupChanges) {
      for (const record of assigned) {
        const before = changes
          .filter((change) => change.eventTime <= record.eventTime)
          .sort((a, b) => (a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : 0));
        const last = before[before.length - 1];
        if (last !== undefined && privilegeOf(last) === PrivilegeKind.GroupMembership)
          grants.push(...grant(record, "granted-to"));
      }
    }
    return grants;
  }

  /**
   * The calls of a batch whose role sessions role-credentials-new-address must judge once the batch is stored
   * (`judgeStoredRoleSessions`): those from an address that is not an AWS service's and not already found to be
   * their portal session's (only those can raise or change an alert). Nothing is read: a role session is judged
   * only on what is stored, after its batch's commit, so that of two processes storing calls of one session (or
   * one its calls and the other the grant or an event naming the person) the one judging last reads both. No
   * process remembers a session it found unlinked to skip its next calls: another process may link it at any
   * time.
   */
  callsToJudge(events: readonly RoleEvent[]): RoleEvent[] {
    const toJudge: RoleEvent[] = [];
    for (const event of events)
      if (
        event.kind === "call" &&
        event.sourceIp !== undefined &&
        !isAwsServiceAddress(event.sourceIp) &&
        !this.clearedAddresses.get(event.roleSessionId)?.has(event.sourceIp)
      )
        toJudge.push(event);
    return toJudge;
  }

  /**
   * Judges role sessions on what is stored, and again while their data changes (`settle`). `calls`: by session,
   * the times of the calls that make it worth judging (those of a batch): a long session is judged by the time
   * around them.
   */
  async judgeStoredRoleSessions(calls: ReadonlyMap<string, readonly string[]>): Promise<Alert[]> {
    return this.oneAtATime(() => this.judgeRoleSessions([...calls.keys()], [], calls));
  }

  /**
   * Judges again the role sessions the batch's Identity Center events may change: those a grant among them may
   * link (or link elsewhere), and those an event of their portal session from a new address may clear.
   */
  private async evaluateRoleSessionsNearGrants(touched: readonly TouchedSignIn[]): Promise<Alert[]> {
    if (!this.roles) return [];
    const grantTimes = new Map<string, { user: UserKey; times: number[] }>();
    // Everyone the pipeline attributed the grant to: its own user, or one a name or workflow join found.
    for (const { event, users } of touched) {
      if (!isGrant(event)) continue;
      for (const user of users) {
        const entry = grantTimes.get(userKeyString(user)) ?? { user, times: [] };
        entry.times.push(Date.parse(event.eventTime));
        grantTimes.set(userKeyString(user), entry);
      }
    }
    const roles = this.roles;
    // Only people who used role sessions created on the grants' days (one key read each) can have a session a
    // grant links: the sessions near the grants are looked for (a Query) only for them.
    const days: ItemKey[] = [];
    for (const { user, times } of grantTimes.values())
      for (const time of times)
        days.push(
          Keys.userRoleDay(user, isoTime(time - PROBABLE_LINK_MS).slice(0, 10)),
          Keys.userRoleDay(user, isoTime(time + PROBABLE_LINK_MS).slice(0, 10)),
        );
    const marked = new Set<string>();
    for (const item of await this.store.getAll(days)) marked.add(item.pk);
    const candidates: { user: UserKey; times: number[] }[] = [];
    for (const grant of grantTimes.values())
      if (marked.has(Keys.userPartition(grant.user))) candidates.push(grant);
    const near = await mapLimit(candidates, 4, ({ user, times }) => roles.idsNear(user, times));
    // Sessions chained from those carry no person of their own: a late grant links them too.
    const linked = await roles.withDescendants([...new Set(near.flat())]);
    // An event of a portal session from an address one of its role sessions alerted on withdraws that alert.
    const portal = await this.roleSessionsOfPortalAddresses(touched);
    const ids = [...new Set([...linked, ...portal.ids])];
    const pending: AuditEvent[] = [];
    for (const { event } of touched) pending.push(event);
    const alerts = await this.judgeRoleSessions(ids, pending);
    // Only once they are judged: a batch that fails before looks them up again when it is delivered again.
    for (const pair of portal.lookedUp) this.portalAddressesLookedUp.set(pair, true);
    return alerts;
  }

  /**
   * `pending`: Identity Center events of the batch being stored, which the table does not hold yet (they are
   * committed after detections run): a grant among them links. The role sessions' calls are all stored.
   * `callTimes`: by session, the times of the calls that made it worth judging (none: judged on all its calls).
   *
   * role-credentials-new-address is an episode rule (`roleSessionRule`): its alerts keep what they counted of
   * their episode by the minute, so a session whose calls this process read whole before, with the same link
   * and portal addresses, is judged on the minutes of a batch's calls (and those its episodes run on into) and
   * what its alerts keep of the rest. A session used all day from an address its portal session never was
   * (stolen credentials, or a person's copied to a build host) would otherwise be read whole at every batch of
   * its calls: 2,000 calls in batches of ten read some 400,000 items. Any other session, or one with a
   * different link or addresses, is read whole (one request; a short session costs no more).
   */
  private async judgeRoleSessions(
    ids: readonly string[],
    pending: readonly AuditEvent[] = [],
    callTimes?: ReadonlyMap<string, readonly string[]>,
  ): Promise<Alert[]> {
    const roles = this.roles;
    if (!roles || ids.length === 0) return [];
    const published = await mapLimit(ids, 4, async (id) => {
      const key = `role-session#${id}`;
      // The whole session is judged at once: its alerts are keyed by the session, not by the person, so
      // judging one session never touches another's alerts.
      // Whether a reading of this judgement read every call: then so does its check after writing. That reading
      // read the calls before the stored alerts (unlike a reading by the time), so an alert another process
      // stored in between may count calls it lacks, and its write undo them: the check must read them afresh.
      let readWhole = false;
      // Portal sessions and addresses its findings were indexed by in this evaluation (`indexUnderPortalSession`):
      // each is indexed, and the portal session read again after it, once.
      const indexedHere = new Set<string>();
      const judge = async (again: boolean): Promise<SubjectJudgement | undefined> => {
        const times = (callTimes?.get(id) ?? []).map(Date.parse);
        const known = this.wholeRoleSessions.get(id);
        const byTime =
          !(again && readWhole) &&
          times.length > 0 &&
          known !== undefined &&
          known.calls >= ROLE_CALLS_READ_WHOLE;
        const linked = byTime
          ? await roles.linkOf(id, pending)
          : await roles.linkedCalls(id, pending, this.unlinkedRoleSessions.has(id));
        if (linked.status === "unlinked") this.unlinkedRoleSessions.set(id, true);
        else this.unlinkedRoleSessions.delete(id);
        if (linked.status === "no-calls") return undefined;
        if (linked.status === "unlinked") {
          this.wholeRoleSessions.delete(id);
          // A session that lost its link (a second grant made it ambiguous) keeps no alert from when it had one:
          // all of them lie within its calls, made while its credentials were valid (12 hours at most from its
          // creation), well within the week after it.
          const created = Date.parse(linked.creationDate);
          return { findings: [], range: around([created, created + UNLINKED_REACH_MS]) };
        }
        const portal = await this.queries.session(linked.credentialId);
        const portalSourceIps = new Set<string>();
        for (const event of portal.events) if (event.sourceIp) portalSourceIps.add(event.sourceIp);
        for (const event of pending)
          if (event.credentialId === linked.credentialId && event.sourceIp)
            portalSourceIps.add(event.sourceIp);
        this.clearedAddresses.set(id, portalSourceIps);
        const activity = {
          roleSessionId: id,
          accountId: linked.accountId,
          credentialId: linked.credentialId,
          portalSourceIps,
        };
        const basis = roleJudgementBasis(linked.user, activity);
        const rule = roleSessionRule(activity);
        const subject = { key, subject: { type: "user", ...linked.user } as const };
        const readMinutes = async (hours: ReadonlySet<Hour>, read: Set<Hour>) => {
          const calls = await readHoursWith(hours, read, MINUTES, (from, to) =>
            roles.callsBetween(id, from, to),
          );
          return new Map([[key, calls.map(roleCall)]]);
        };
        let calls = linked.calls;
        // Read by the time around the batch only with the link and addresses of the whole reading before: an
        // address the portal session is now known to have used clears that address's alerts, wherever they are.
        if (calls === undefined && known?.basis !== basis) {
          calls = await roles.callsBetween(id);
          if (calls.length === 0) return undefined;
        }
        let judged: Map<string, EpisodeSubjectJudgement>;
        let range: Range;
        if (calls !== undefined) {
          readWhole = true;
          this.wholeRoleSessions.set(id, { basis, calls: calls.length });
          const members = new Map([[key, calls.map(roleCall)]]);
          const hours = bucketsNear(calls.map(eventTimeMs), this.config.windowMs, MINUTES);
          // Every call is read already. What the stored alerts keep of their episodes is not taken: every minute
          // a window or less from a call is read, and an alert of an address the portal session has used since
          // (or of a link since moved) has no call of the rule left to count; kept, it would be written again
          // with none. An alert the reading cannot see whole has the minutes it reaches read.
          judged = await this.judgeEpisodeSubjects<RoleCall>(
            [{ ...subject, times: [] }],
            [rule],
            readMinutes,
            {
              initial: { hours, read: async () => ({ failures: members, read: hours }) },
              buckets: MINUTES,
              alertsReadWhole: true,
              summariesIgnored: true,
            },
          );
          range = around(calls.map(eventTimeMs));
        } else {
          // Its check after writing judges the same calls again.
          if (known && !again) known.calls += times.length;
          judged = await this.judgeEpisodeSubjects<RoleCall>(
            [{ ...subject, times }],
            [rule],
            readMinutes,
            // Every call of the rule alerts, so the stored alerts hold the episodes of every call judged: a
            // batch's own minutes are read, and the minutes its episodes may run on into as the judgement asks.
            { buckets: MINUTES, nearMs: 0, alertsReadWhole: true },
          );
          range = around(times);
        }
        const found = judged.get(key);
        // A session that may alert is indexed under its portal session before the portal session is read a last
        // time (judging again, below): an event of the portal session from the alert's address that any process
        // stores later then finds it (`roleSessionsOfPortalAddresses`), and one stored earlier is read here.
        const addresses: string[] = [];
        for (const finding of found?.findings ?? [])
          for (const sourceIp of finding.sourceIps) {
            const indexed = `${linked.credentialId}\u0000${sourceIp}`;
            if (indexedHere.has(indexed)) continue;
            indexedHere.add(indexed);
            addresses.push(sourceIp);
          }
        // Each reading again adds an address to `indexedHere`, of the session's finitely many: it ends.
        if (addresses.length > 0 && (await this.indexUnderPortalSession(linked.credentialId, id, addresses)))
          return judge(true);
        return found && { ...found, range };
      };
      return (await this.settle(key, ROLE_SESSION_RULES, judge, true)).published;
    });
    return published.flat();
  }

  /**
   * Indexes a role session under the portal session it is linked to, by these (distinct) addresses its findings are
   * of (`Keys.portalRoleAlert`), with that partition's presence mark and the index's: true if this process had not
   * done so already for one of them (then the caller reads the portal session again, after these writes).
   */
  private async indexUnderPortalSession(
    credentialId: string,
    roleSessionId: string,
    addresses: readonly string[],
  ): Promise<boolean> {
    const entries: Item[] = [];
    const keys: string[] = [];
    for (const sourceIp of addresses) {
      const key = `${credentialId}\u0000${roleSessionId}\u0000${sourceIp}`;
      if (this.indexedUnderPortal.has(key)) continue;
      keys.push(key);
      entries.push({
        ...Keys.portalRoleAlert(credentialId, roleSessionId, sourceIp),
        type: ItemType.PortalRoleAlert,
        credentialId,
        roleSessionId,
        sourceIp,
      });
    }
    if (entries.length === 0) return false;
    await this.store.putAll([
      ...(this.portalRoleAlertsPresent ? [] : [Items.presenceMark(Keys.portalRoleAlertsPresence())]),
      Items.presenceMark(Keys.presence(Keys.portalRoleAlertsPartition(credentialId))),
      ...entries,
    ]);
    this.portalRoleAlertsPresent = true;
    for (const key of keys) this.indexedUnderPortal.set(key, true);
    return true;
  }

  /**
   * Role sessions whose role-credentials-new-address alert an event of the batch may withdraw: those indexed under
   * a portal session whose timeline holds the event, by the event's address, for pairs of portal session and
   * address this process has not looked up since the index had an entry (`indexUnderPortalSession`). The batch's events are stored (its timeline
   * items, phase 3) before this reads the index, and a session is indexed before its judgement reads its portal
   * session a last time: of the two, at least one sees the other, whatever the order or process. A table with no
   * session indexed costs one key read a batch. `lookedUp`: the pairs, to be remembered once the sessions are judged.
   */
  private async roleSessionsOfPortalAddresses(
    touched: readonly TouchedSignIn[],
  ): Promise<{ ids: string[]; lookedUp: ReadonlySet<string> }> {
    // With no session indexed once the batch's events are stored, any indexed later reads them: nothing to look
    // up now, nor to remember (no work per event on a table that never had such an alert).
    if (!this.portalRoleAlertsPresent)
      this.portalRoleAlertsPresent = (await this.store.getAll([Keys.portalRoleAlertsPresence()])).length > 0;
    if (!this.portalRoleAlertsPresent) return { ids: [], lookedUp: new Set() };
    const wanted = new Map<string, Set<string>>();
    const lookedUp = new Set<string>();
    for (const { event, sessions } of touched) {
      if (event.sourceIp === undefined) continue;
      for (const credentialId of sessions ?? (event.credentialId ? [event.credentialId] : [])) {
        const pair = `${credentialId}\u0000${event.sourceIp}`;
        if (this.portalAddressesLookedUp.has(pair) || lookedUp.has(pair)) continue;
        lookedUp.add(pair);
        const addresses = wanted.get(credentialId) ?? new Set<string>();
        addresses.add(event.sourceIp);
        wanted.set(credentialId, addresses);
      }
    }
    if (wanted.size === 0) return { ids: [], lookedUp };
    const marks = await this.store.getAll(
      [...wanted.keys()].map((credentialId) => Keys.presence(Keys.portalRoleAlertsPartition(credentialId))),
    );
    const pages = await mapLimit(marks, 4, (mark) => this.store.query(mark.pk));
    const ids = new Set<string>();
    for (const item of pages.flat())
      if (
        item.type === ItemType.PortalRoleAlert &&
        wanted.get(String(item.credentialId))?.has(String(item.sourceIp))
      )
        ids.add(String(item.roleSessionId));
    return { ids: [...ids], lookedUp };
  }

  /** Failed sign-in items over the given time ranges: one query per group of ranges a day or less apart. */
  private async readFailed(ranges: readonly Range[]): Promise<Item[]> {
    const pages = await mapLimit(mergedRanges(ranges), 4, (range) =>
      this.store.query(FAILED_PARTITION, {
        between: [isoTime(range.from), `${isoTime(range.to)}${SORT_END}`],
      }),
    );
    return pages.flat();
  }

  /**
   * Whether the user rules find anything in the person's events around these times: the windows and the half
   * hours that hold them (peaks and successes after failures a touched event can change) are read whole.
   */
  private async anyFindingNear(user: UserKey, times: readonly number[]): Promise<boolean> {
    const margin = Math.max(this.config.windowMs, this.config.successLookbackMs);
    const from = Math.min(...times) - margin;
    const to = Math.max(...times) + margin;
    const items = await this.store.query(Keys.userPartition(user), {
      between: [`EVENT#${isoTime(from)}`, `EVENT#${isoTime(to)}${SORT_END}`],
    });
    const events: AuditEvent[] = [];
    for (const item of items) if (item.type === ItemType.UserEvent) events.push(eventOf(item));
    return evaluateUser(user, events, this.config).length > 0;
  }

  /**
   * A person's rules over what the batch touched (`times`; `failureTimes` the failed verifications among them):
   * brute-force and mfa-attack on the hours around the touched failures and what their alerts keep of the rest
   * (`judgeEpisodeSubjects`), success-after-failures on the lookback before each success the touched events can
   * change (the touched ones, and those a lookback or less after a touched failure). One read of the person's
   * events serves the first judgement of both. `successAfterFailures`: whether the person has such a finding
   * there: only then can privilege-granted-after-failures change because of their sign-ins. Events are only ever
   * added, so a success-after-failures finding, anchored on its success, never goes away. `spans`: the episode
   * spans of the batch's people, read for all of them at once (one absent: none stored).
   */
  private async evaluateUser(
    user: UserKey,
    times: readonly number[],
    failureTimes: readonly number[],
    spans: ReadonlyMap<string, number>,
  ): Promise<{ published: Alert[]; successAfterFailures: boolean }> {
    const subject = subjectKey({ type: "user", ...user });
    const lookback = this.config.successLookbackMs;
    const windowMs = this.config.windowMs;
    const first = Math.min(...times);
    const last = Math.max(...times);
    // The range `reconcile` trusts is a lookback and a window in from its start, a window in from its end, and it
    // decides the stored alerts that start a lookback (their longest) before that end: it trusts every finding of
    // a success in [first, last + lookback], and decides every alert such a success had before the batch (an
    // earlier failure can move its start back), each read to its end.
    const successRange: Range = {
      from: Math.max(EARLIEST_MS, first - 2 * lookback - windowMs),
      to: Math.min(LATEST_MS, last + 2 * lookback + windowMs),
    };
    const successHours = new Set(hoursOver(successRange.from, successRange.to));
    let events: AuditEvent[] | undefined;
    const readFirst = async () => {
      const read = new Set<Hour>();
      events = await this.readUserEvents(user, successHours, read);
      return { events, read };
    };
    const published: Alert[] = [];
    if (failureTimes.length > 0) {
      const userSubject: AlertSubject = { type: "user", ...user };
      const failuresRead = (read: readonly AuditEvent[]) => new Map([[subject, userFailures(user, read)]]);
      const settled = await this.settle(subject, USER_EPISODE_RULE_NAMES, async (again) => {
        const judged = await this.judgeEpisodeSubjects(
          [{ key: subject, subject: userSubject, times: failureTimes }],
          USER_EPISODE_RULES,
          async (hours, read) => failuresRead(await this.readUserEvents(user, hours, read)),
          // Judged again after a write, it reads afresh.
          again
            ? {}
            : {
                initial: {
                  hours: successHours,
                  read: async () => {
                    const first = await readFirst();
                    return { failures: failuresRead(first.events), read: first.read };
                  },
                },
                spansRead: spans,
              },
        );
        const found = judged.get(subject);
        return found && { ...found, range: around(failureTimes) };
      });
      published.push(...settled.published);
    }
    const read = events ?? (await readFirst()).events;
    // No success there, no finding of this rule the batch can change.
    const changeable = read.some((event) => {
      if (!isSuccessfulSignIn(event)) return false;
      const at = eventTimeMs(event);
      return at >= first && at <= last + lookback;
    });
    if (!changeable) return { published, successAfterFailures: false };
    const { published: raised, findings } = await this.settle(subject, SUCCESS_RULES, async (again) => {
      const judged = again ? await this.readUserEvents(user, successHours, new Set()) : read;
      return {
        findings: evaluateSuccessAfterFailures(user, judged, this.config),
        range: successRange,
        spanMs: lookback,
      };
    });
    published.push(...raised);
    return { published, successAfterFailures: findings.length > 0 };
  }

  /**
   * The person's events in these hours (sort keys `EVENT#<hour>`), the hours added to `read`. Hours a day or
   * less apart are read as one range, the hours between too (`MERGED_READ_GAP_MS`).
   */
  private async readUserEvents(
    user: UserKey,
    hours: ReadonlySet<Hour>,
    read: Set<Hour>,
  ): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (const item of await this.queryHours(Keys.userPartition(user), "EVENT#", hours, read))
      if (item.type === ItemType.UserEvent) events.push(eventOf(item));
    return events;
  }

  /**
   * The items of partition `pk` whose sort keys are `prefix` and a time in these hours, the hours added to
   * `read` (`readHoursWith`).
   */
  private async queryHours(
    pk: string,
    prefix: string,
    hours: ReadonlySet<Hour>,
    read: Set<Hour>,
  ): Promise<Item[]> {
    return readHoursWith(hours, read, HOURS, (from, to) =>
      this.store.query(pk, { between: [`${prefix}${from}`, `${prefix}${to}${SORT_END}`] }),
    );
  }

  private async evaluateAddresses(addressTimes: Map<string, number[]>): Promise<Alert[]> {
    const subjects = new Map<string, { address: string; times: number[] }>();
    for (const [address, times] of addressTimes)
      subjects.set(subjectKey({ type: "address", sourceIp: address }), { address, times });
    // Judged again (`settle`), the addresses read the failed sign-ins afresh: one read for all of them.
    const settled = await this.settleMany([...subjects.keys()], ADDRESS_RULES, async (keys) => {
      const judging: { key: string; subject: AlertSubject; times: number[] }[] = [];
      const keyOf = new Map<string, string>();
      for (const key of keys) {
        const entry = subjects.get(key);
        if (!entry) continue;
        judging.push({ key, subject: { type: "address", sourceIp: entry.address }, times: entry.times });
        keyOf.set(entry.address, key);
      }
      // The hours read hold every address's failures: those of the judged addresses only are kept.
      const judgements = await this.judgeEpisodeSubjects(
        judging,
        ADDRESS_EPISODE_RULES,
        async (hours, read) => {
          const byKey = new Map<string, AttributedFailure[]>();
          for (const [address, failures] of attributedFailures(await this.readHours(hours, read))) {
            const key = keyOf.get(address);
            if (key !== undefined) byKey.set(key, failures);
          }
          return byKey;
        },
      );
      const judged = new Map<string, SubjectJudgement>();
      for (const { key, times } of judging) {
        const found = judgements.get(key);
        if (found) judged.set(key, { ...found, range: around(times) });
      }
      return judged;
    });
    return [...settled.values()].flatMap(({ published }) => published);
  }

  /**
   * The episode rules' judgements (`judgeEpisodes`) of these subjects, from the hours a window or less from
   * their failures (`times`), and the hours their episodes run on into; `readFailures` reads hours for all of
   * them at once (adding them to `read`) and gives their failures by subject key. `initial`: reads `hours` of
   * its own, taken as the first reading's (once the stored alerts are read: any alert stored before them was
   * stored after its events). `spansRead`: the subjects' episode spans read for this judgement (none: none stored),
   * instead of reading them.
   */
  private async judgeEpisodeSubjects<M extends EpisodeMember = AttributedFailure>(
    subjects: readonly { key: string; subject: AlertSubject; times: readonly number[] }[],
    rules: readonly EpisodeRule<M>[],
    readFailures: (hours: ReadonlySet<Hour>, read: Set<Hour>) => Promise<Map<string, M[]>>,
    options: {
      readonly initial?: {
        readonly hours: ReadonlySet<Hour>;
        readonly read: () => Promise<{ failures: Map<string, M[]>; read: ReadonlySet<Hour> }>;
      };
      readonly spansRead?: ReadonlyMap<string, number> | undefined;
      /** How the hours read are cut (`hours` of `readFailures`): hours by default. */
      readonly buckets?: TimeBuckets;
      /**
       * How far from the subjects' `times` the first reading goes: a window by default (what the rules with a
       * threshold need). The rest is read as the judgement asks for it.
       */
      readonly nearMs?: number;
      /**
       * The subjects' alerts are few (a role session's, all within its credentials' twelve hours): read whole at
       * every judgement, and no episode span is kept for them (a read and a write each spared).
       */
      readonly alertsReadWhole?: boolean;
      /**
       * What the stored alerts keep of their episodes is not taken (their listings are judged as an earlier
       * version's, without one): for a reading that holds every event of the subject.
       */
      readonly summariesIgnored?: boolean;
    } = {},
  ): Promise<Map<string, EpisodeSubjectJudgement>> {
    const {
      initial,
      buckets = HOURS,
      nearMs = this.config.windowMs,
      alertsReadWhole = false,
      summariesIgnored = false,
    } = options;
    const ruleNames = new Set<string>(rules.map(({ rule }) => rule));
    const firstHours = new Set<Hour>(initial?.hours);
    for (const { times } of subjects)
      for (const hour of bucketsNear(times, nearMs, buckets)) firstHours.add(hour);
    // The stored alerts that can reach the hours read; when an episode is followed beyond them (rare), those that
    // can reach the hours added. Those are read after some failures were: one another process stored in between
    // may then count failures of hours read that this reading lacks, and is judged short of them; the write
    // that makes has the subject judged again, on a reading that holds them (`settle`).
    let loaded = extentOf(firstHours, buckets);
    const spans = alertsReadWhole
      ? new Map<string, number>()
      : (options.spansRead ?? (await this.episodeSpans(subjects.map(({ key }) => key))));
    const stored = new Map<string, StoredAlerts>();
    const loadStored = () =>
      mapLimit(subjects, 4, async ({ key }) => {
        stored.set(
          key,
          await this.storedEpisodes(
            key,
            ruleNames,
            loaded,
            spans.get(key),
            stored.get(key),
            !alertsReadWhole,
          ),
        );
      });
    await loadStored();
    // Stored alerts first, then failures: an alert read was stored after its failures, so the reading holds them.
    const first = await initial?.read();
    const read = new Set<Hour>(first?.read);
    const bySubject = new Map<string, M[]>();
    for (const [key, failures] of first?.failures ?? [])
      for (const failure of failures) appendTo(bySubject, key, failure);
    let toRead = new Set<Hour>();
    for (const hour of firstHours) if (!read.has(hour)) toRead.add(hour);
    let followUntil = Number.POSITIVE_INFINITY;
    for (let round = 0; ; round += 1) {
      const readBefore = read.size;
      if (toRead.size > 0)
        for (const [key, failures] of await readFailures(toRead, read))
          for (const failure of failures) appendTo(bySubject, key, failure);
      // The bound counts from the hours the first reading took (those around the batch, and between them).
      if (round === 0) followUntil = read.size + (MAX_HOURS_FOLLOWED * HOUR_MS) / buckets.ms;
      // Past the bound, an episode is judged on the hours read: its alert starts (or ends) where they do. So it
      // is when a round asked for hours and read none (a reader that reads nothing new): else the rounds would
      // never end.
      const follow = read.size < followUntil && (round === 0 || read.size > readBefore);
      const judgements = new Map<string, EpisodeJudgement>();
      const need = new Set<Hour>();
      for (const { key, subject } of subjects) {
        const judgement = judgeEpisodes(
          subject,
          rules,
          {
            failures: bySubject.get(key) ?? [],
            hoursRead: read,
            buckets,
            stored: (stored.get(key)?.episodes ?? []).map(summariesIgnored ? withoutSummary : sameEpisode),
          },
          this.config,
          round,
          follow,
        );
        judgements.set(key, judgement);
        for (const hour of judgement.need) need.add(hour);
      }
      if (need.size === 0) {
        const result = new Map<string, EpisodeSubjectJudgement>();
        for (const [key, judgement] of judgements) {
          const subject = stored.get(key);
          const existing: Item[] = [];
          const basis = new Map<string, ListingContent>();
          for (const episode of judgement.seen) {
            const sk = `${episode.firstSeen}#${episode.id}`;
            const item = subject?.index.get(sk);
            if (item) existing.push(item);
            const listing = subject?.listings.get(sk);
            if (listing) basis.set(sk, listingContent(listing));
          }
          // An index item left without its listing (a write or delete cut short) in the hours read: removed,
          // unless the judgement makes that alert again (its listing is then written).
          for (const orphan of subject?.orphans ?? [])
            if (read.has(buckets.of(String(orphan.firstSeen)))) existing.push(orphan);
          const episodeSpanMs = subject?.spanMs;
          result.set(key, {
            findings: judgement.findings,
            existing,
            basis,
            ...(episodeSpanMs === undefined ? {} : { episodeSpanMs }),
            ...(alertsReadWhole ? { spanless: true as const } : {}),
          });
        }
        return result;
      }
      const wanted = extentOf(need, buckets);
      if (wanted.from < loaded.from || wanted.to > loaded.to) {
        loaded = { from: Math.min(loaded.from, wanted.from), to: Math.max(loaded.to, wanted.to) };
        await loadStored();
      }
      toRead = need;
    }
  }

  /**
   * The hours' failed sign-ins, added to `read`. Hours a day or less apart are read as one range, the hours
   * between too (`MERGED_READ_GAP_MS`).
   */
  private async readHours(hours: ReadonlySet<Hour>, read: Set<Hour>): Promise<Item[]> {
    return this.queryHours(FAILED_PARTITION, "", hours, read);
  }

  /**
   * The subjects' episode spans (`Keys.alertSubjectSpan`) as stored now, by subject key; none for a subject
   * without one (or without a presence mark: it has no alert).
   */
  private async episodeSpans(subjects: readonly string[]): Promise<Map<string, number>> {
    const spans = new Map<string, number>();
    const marked = subjects.filter((subject) => !this.unmarked.has(subject));
    if (marked.length === 0) return spans;
    const byPartition = new Map(marked.map((subject) => [Keys.alertSubjectPartition(subject), subject]));
    for (const item of await this.store.getAll(marked.map(Keys.alertSubjectSpan))) {
      const subject = byPartition.get(item.pk);
      if (subject === undefined || typeof item.spanMs !== "number") continue;
      spans.set(subject, item.spanMs);
      this.spans.set(subject, Math.max(item.spanMs, this.spans.get(subject) ?? 0));
    }
    return spans;
  }

  /**
   * Raises the subject's episode span to `spanMs` (it never shrinks) before an alert that long is written, unless
   * this process knows it is that long already.
   */
  private async raiseSpan(subject: string, spanMs: number): Promise<void> {
    if ((this.spans.get(subject) ?? -1) >= spanMs) return;
    await this.store.raiseTo(
      { ...Keys.alertSubjectSpan(subject), type: ItemType.AlertSpan, spanMs },
      "spanMs",
    );
    this.spans.set(subject, spanMs);
  }

  /**
   * The subject's stored alerts of these episode rules that can reach the hours from `hours.from` to `hours.to`
   * (those that start no earlier than a window and the subject's episode span, `spanMs`, before them; all of
   * them when the subject has no span stored yet, whose span is then stored if it has any alert), with what
   * each keeps of its episode, and their index items by `<firstSeen>#<alertId>`. None for a subject without a
   * presence mark (`unmarked`). The bound keeps a judgement's reads from growing with the subject's history: an
   * address that sprays a little every day for a year has hundreds of alerts, of which a batch can change one or
   * two. With `previous` (read for fewer hours by the same judgement), only what it did not cover is read.
   */
  private async storedEpisodes(
    subject: string,
    ruleNames: ReadonlySet<string>,
    hours: { readonly from: number; readonly to: number },
    spanMs: number | undefined,
    previous?: StoredAlerts,
    keepSpan = true,
  ): Promise<StoredAlerts> {
    if (this.unmarked.has(subject))
      return { episodes: [], index: new Map(), listings: new Map(), orphans: [], covered: "all" };
    if (previous?.covered === "all") return previous;
    const partition = Keys.alertSubjectPartition(subject);
    const index = new Map<string, Item>(previous?.index);
    // Whether the subject has an alert of any rule: read whole, it is then given a span (0 without episodes).
    let alerted = false;
    const add = (items: readonly Item[]) => {
      for (const item of items) {
        if (item.type !== ItemType.AlertBySubject) continue;
        alerted = true;
        if (ruleNames.has(String(item.rule)))
          index.set(`${String(item.firstSeen)}#${String(item.alertId)}`, item);
      }
    };
    let covered: StoredAlerts["covered"] = "all";
    if (spanMs === undefined) add(await this.store.query(partition));
    else {
      // A margin of an hour each side: the bound is a reading of hours, and costs nothing to widen.
      const from = isoTime(Math.max(EARLIEST_MS, hours.from - this.config.windowMs - spanMs - HOUR_MS));
      const to = `${isoTime(Math.min(LATEST_MS, hours.to + this.config.windowMs + HOUR_MS))}${SORT_END}`;
      const before = previous?.covered[0];
      const after = previous?.covered[1];
      if (before === undefined || after === undefined)
        add(await this.store.query(partition, { between: [from, to] }));
      else {
        if (from < before) add(await this.store.query(partition, { between: [from, before] }));
        if (to > after) add(await this.store.query(partition, { between: [after, to] }));
      }
      covered = [
        before !== undefined && before < from ? before : from,
        after !== undefined && after > to ? after : to,
      ];
    }
    const listings = new Map<string, Item>(previous?.listings);
    const unread = [...index.entries()].filter(([sk]) => !listings.has(sk));
    for (const listing of await this.store.getAll(
      unread.map(([, item]) => Keys.alertListing(String(item.firstSeen), String(item.alertId))),
    ))
      listings.set(listing.sk, listing);
    const episodes = [...listings.values()].map(storedEpisodeOf);
    const orphans: Item[] = [];
    for (const [sk, item] of index) if (!listings.has(sk)) orphans.push(item);
    // A subject without any alert keeps no span: storing one for every address and person judged would be a
    // write each on a table without presence marks (every table in AWS), and reading it whole reads nothing.
    if (spanMs !== undefined || !alerted || !keepSpan)
      return { episodes, index, listings, orphans, covered, ...(spanMs === undefined ? {} : { spanMs }) };
    // Alerts stored before spans were, or alerts of other rules only (a person's success-after-failures): every
    // one was read, so the longest of them is the subject's span, 0 when none is of these rules; stored, it bounds
    // the reads of every later judgement. (An older version writing a longer alert at this moment would not raise
    // it: stop older versions before upgrading.)
    let longest = 0;
    for (const { firstSeen, lastSeen } of episodes)
      longest = Math.max(longest, Date.parse(lastSeen) - Date.parse(firstSeen));
    // Written whatever this process remembers: the span item is not there.
    this.spans.delete(subject);
    await this.raiseSpan(subject, longest);
    return { episodes, index, listings, orphans, covered, spanMs: longest };
  }

  /**
   * Judges a subject and makes its stored alerts match (`reconcile`); with `recheck`, judges it again after a
   * reconcile that wrote, and reconciles again while the judgement differs. Another process (a second ingest
   * poller, a backfill) may judge the same subject at the same moment from a read that missed the events this one
   * stored, and whichever writes last decides what is stored. Every process stores its events before it reads
   * them back, so a read made after this one's write sees the events of any evaluation that wrote before it: if
   * that read judges differently, this write may have undone a fuller one. A reconcile that wrote nothing cannot
   * have undone anything. `judge(again)`: `again` on the later readings; `undefined`: nothing to judge.
   */
  private async settle(
    subject: string,
    rules: Set<string>,
    judge: (again: boolean) => Promise<SubjectJudgement | undefined>,
    recheck = true,
  ): Promise<Settled> {
    const settled = await this.settleMany(
      [subject],
      rules,
      async (_, again) => new Map([[subject, await judge(again)]]),
      recheck,
    );
    return settled.get(subject) ?? { published: [], findings: [], wrote: false };
  }

  /** `settle` for several subjects whose data one read gives: each later round reads once for all of them. */
  private async settleMany(
    subjects: readonly string[],
    rules: Set<string>,
    judge: (
      subjects: readonly string[],
      again: boolean,
    ) => Promise<ReadonlyMap<string, SubjectJudgement | undefined>>,
    recheck = true,
  ): Promise<Map<string, Settled>> {
    const settled = new Map<string, Settled>();
    let judged = await judge(subjects, false);
    let open = judgedOf(subjects, judged);
    for (let round = 1; open.length > 0; round += 1) {
      const wrote: string[] = [];
      // Judged on listings another process rewrote since: judged and reconciled again, whatever the judgement.
      const stale = new Set<string>();
      for (const [subject, judgement] of open) {
        const entry = settled.get(subject) ?? { published: [], findings: [], wrote: false };
        settled.set(subject, entry);
        const reconciled = await this.reconcile(subject, rules, judgement);
        entry.published.push(...reconciled.published);
        entry.findings = judgement.findings;
        if (reconciled.basisMoved) stale.add(subject);
        if (reconciled.wrote) {
          entry.wrote = true;
          wrote.push(subject);
        }
      }
      // Subjects whose alerts were written are judged again with `recheck`; those judged on listings rewritten
      // since, always: their judgement was not written.
      const again = [...new Set([...(recheck ? wrote : []), ...stale])];
      if (again.length === 0) break;
      if (round === MAX_SETTLE_ROUNDS) {
        this.logger.warn("alerts still written after judging again", {
          subjects: again.slice(0, 5),
          more: Math.max(0, again.length - 5),
          rounds: round,
          notWritten: stale.size,
        });
        break;
      }
      const judgedAgain = await judge(again, true);
      const before = judged;
      open = judgedOf(again, judgedAgain).filter(([subject, judgement]) => {
        const earlier = before.get(subject);
        return stale.has(subject) || earlier === undefined || !sameJudgement(judgement, earlier);
      });
      judged = judgedAgain;
    }
    return settled;
  }

  /**
   * Of these subjects, those without a presence mark on a table whose every writer marks a subject before its
   * first alert (`Keys.presenceMarksMarker`): none of them has an alert stored. None elsewhere. A mark this
   * process wrote is not read again: marks are never removed.
   */
  private async unmarkedSubjects(subjects: readonly string[]): Promise<Set<string>> {
    const unknown = subjects.filter((subject) => !this.marked.has(subject));
    if (unknown.length === 0) return new Set();
    const marked = await this.store.markedPartitions(unknown.map(Keys.alertSubjectPartition));
    return new Set(unknown.filter((subject) => marked && !marked.has(Keys.alertSubjectPartition(subject))));
  }

  /**
   * Makes the stored alerts of one subject, for the given rules and range, equal to `findings`. `wrote`: whether
   * that took a write (an alert removed, or one added or different from the one stored). A judgement that knows
   * the alerts it decides (`existing`, with the listings it read: `basis`) is reconciled by `reconcileRead`.
   */
  private async reconcile(
    subject: string,
    rules: Set<string>,
    judgement: SubjectJudgement,
  ): Promise<{ published: Alert[]; wrote: boolean; basisMoved?: boolean }> {
    const { range, findings, existing: known, basis } = judgement;
    if (known && basis)
      return this.reconcileRead(
        subject,
        rules,
        findings,
        known,
        basis,
        judgement.episodeSpanMs,
        judgement.spanless,
      );
    // Episodes within a window of the range's edges may continue outside it: leave their alerts as they are.
    const trustedFrom = range.from + this.config.successLookbackMs + this.config.windowMs;
    const trustedTo = range.to - this.config.windowMs;
    const trusted = findings.filter(
      (found) => Date.parse(found.firstSeen) >= trustedFrom && Date.parse(found.lastSeen) <= trustedTo,
    );
    const existing = this.unmarked.has(subject)
      ? []
      : await this.store.query(Keys.alertSubjectPartition(subject), {
          between: [isoTime(trustedFrom), `${isoTime(trustedTo - (judgement.spanMs ?? 0))}${SORT_END}`],
        });
    // An alert's keys hold its first event's time: when an earlier event joins the episode the id can stay
    // (success-after-failures is named by its success) while the keys move, so the old items are stale too.
    // An untrusted finding (its episode may reach past the range's edge) leaves its stored alert as it is.
    const keep = new Set(findings.map((found) => `${found.firstSeen}#${found.id}`));
    const stale = existing.filter(
      (item) =>
        rules.has(String(item.rule)) && !keep.has(`${String(item.firstSeen)}#${String(item.alertId)}`),
    );
    // Listing, index item, then the listing again: a crash leaves at most an index item (found again as stale),
    // and another process writing the pair (listing, then index item) while this deletes it cannot leave a
    // listing without its index item, which nothing would find again.
    for (const item of stale) {
      const listing = Keys.alertListing(String(item.firstSeen), String(item.alertId));
      await this.store.deleteItem(listing);
      await this.store.deleteItem({ pk: item.pk, sk: item.sk });
      await this.store.deleteItem(listing);
    }
    if (trusted.length === 0) return { published: [], wrote: stale.length > 0 };
    const alerts = await this.describe(trusted);
    const documents = this.documentsOf(alerts, trusted);
    // An alert stored alike (its index item, and its listing with the same content) is not written again. The
    // listing's content is read, not vouched for by the index item: two processes writing one alert's pair at
    // once can leave one's listing beside the other's index item, and a write or delete cut short can leave
    // either item alone.
    const indexed = new Set(existing.map((item) => `${String(item.firstSeen)}#${String(item.alertId)}`));
    const listed = new Map(
      (
        await this.store.getAll(
          documents.filter(({ listing }) => indexed.has(listing.sk)).map(({ listing }) => listing),
        )
      ).map((item) => [item.sk, item]),
    );
    const unwritten = documents.filter((document) => !storedAlike(listed.get(document.listing.sk), document));
    // The listings first, then their index items: against the deletes' order (listing, index item, listing
    // again), no interleaving of the two leaves a listing without its index item.
    // The subject's presence mark with the listings, before any index item: a process that finds no mark
    // finds no index item either.
    await this.store.putAll([...this.markFor(subject, unwritten.length), ...unwritten.map(listingItem)]);
    await this.writeIndexItems(subject, unwritten);
    // Every alert is offered for paging, written now or not: one stored just before a crash was not paged yet.
    return { published: await this.page(subject, alerts), wrote: stale.length > 0 || unwritten.length > 0 };
  }

  /**
   * `reconcile` for a judgement that took part of its episodes from the listings it read (`basis`): every
   * listing is written or deleted only as it was read (by the judgement, or just before the write for one the
   * judgement did not read: absent, or as then stored), so that of two processes writing one alert the second
   * is refused and judges again on what the first wrote (`basisMoved`). The new alerts are written before the
   * stale ones are deleted: a refused write leaves the alerts it would have merged in place.
   */
  private async reconcileRead(
    subject: string,
    rules: Set<string>,
    findings: readonly Finding[],
    existing: readonly Item[],
    basis: ReadonlyMap<string, ListingContent>,
    spanMs: number | undefined,
    spanless = false,
  ): Promise<{ published: Alert[]; wrote: boolean; basisMoved?: boolean }> {
    const keep = new Set(findings.map((found) => `${found.firstSeen}#${found.id}`));
    const stale = existing.filter(
      (item) =>
        rules.has(String(item.rule)) && !keep.has(`${String(item.firstSeen)}#${String(item.alertId)}`),
    );
    const alerts = findings.length > 0 ? await this.describe(findings) : [];
    const documents = this.documentsOf(alerts, findings);
    const current = new Map(
      (await this.store.getAll(documents.map(({ listing }) => listing))).map((item) => [item.sk, item]),
    );
    const unwritten = documents.filter(
      (document) => !storedAlike(current.get(document.listing.sk), document),
    );
    let wrote = false;
    const moved = () => ({ published: [], wrote, basisMoved: true });
    // The presence mark before any index item; each listing before its index item.
    const mark = this.markFor(subject, unwritten.length);
    if (mark.length > 0) await this.store.putAll(mark);
    // The subject's span before any listing: a judgement that reads it first reads every alert that reaches its
    // hours (`storedEpisodes`).
    let longest = spanMs ?? 0;
    for (const { alert } of unwritten)
      longest = Math.max(longest, Date.parse(alert.lastSeen) - Date.parse(alert.firstSeen));
    if (unwritten.length > 0 && !spanless) await this.raiseSpan(subject, longest);
    for (const document of unwritten) {
      // A judgement that read every alert of its subject (`spanless`) saw none by this key: one there now was
      // written since, by another process, maybe from calls this one did not read (a by-minute check after
      // writing reads no more than the batch's minutes, and would keep the shorter alert): refused, judged again.
      const expected =
        basis.get(document.listing.sk) ??
        (spanless ? ABSENT_LISTING : contentOrAbsent(current.get(document.listing.sk)));
      if (!(await this.store.replaceIf(document.listing, listingItem(document), expected))) return moved();
      wrote = true;
    }
    await this.writeIndexItems(subject, unwritten);
    // Listing (as read), then index item: a crash leaves at most an index item, found again. Then the listing is
    // looked at again: another process may have written it after the delete, and its index item before this one
    // deleted it. That index item is written again (a listing no index item leads to is never found again), and
    // the subject judged again on what the other process wrote.
    for (const item of stale) {
      const listing = Keys.alertListing(String(item.firstSeen), String(item.alertId));
      const expected: Readonly<Record<string, string | undefined>> = basis.get(listing.sk) ?? ABSENT_LISTING;
      if (!(await this.store.replaceIf(listing, undefined, expected))) return moved();
      wrote = true;
      await this.store.deleteItem({ pk: item.pk, sk: item.sk });
      if ((await this.store.getAll([listing])).length > 0) {
        await this.store.putAll([item]);
        return moved();
      }
    }
    // Every alert is offered for paging, written now or not: one stored just before a crash was not paged yet.
    return {
      published:
        alerts.length > 0 ? await this.page(subject, alerts, spanMs === undefined ? undefined : longest) : [],
      wrote,
    };
  }

  /** The listings of these alerts (`trusted` are their findings, in the same order). */
  private documentsOf(alerts: readonly Alert[], trusted: readonly Finding[]): AlertDocument[] {
    return alerts.map((alert, index) => {
      const episode = trusted[index]?.episode;
      return {
        alert,
        data: JSON.stringify(alert),
        episode: episode ? JSON.stringify(episode) : undefined,
        listing: Keys.alertListing(alert.firstSeen, alert.id),
      };
    });
  }

  /** The subject's presence mark, if `alerts` are about to be written and this process has not marked it. */
  private markFor(subject: string, alerts: number): Item[] {
    return alerts > 0 && !this.marked.has(subject)
      ? [Items.presenceMark(Keys.alertSubjectPresence(subject))]
      : [];
  }

  /** The alerts' index items, once their listings (and the subject's presence mark) are written. */
  private async writeIndexItems(subject: string, documents: readonly AlertDocument[]): Promise<void> {
    if (documents.length > 0) {
      this.marked.set(subject, true);
      this.unmarked.delete(subject);
    }
    await this.store.putAll(
      documents.map(({ alert }) => ({
        ...Keys.alertBySubject(subject, alert.firstSeen, alert.id),
        type: ItemType.AlertBySubject,
        alertId: alert.id,
        rule: alert.rule,
        firstSeen: alert.firstSeen,
      })),
    );
  }

  /**
   * Publishes alerts nobody was paged for yet. An alert seen earlier on part of its events may have had
   * another id (its first event arrived late): any paged alert of the same rule and subject overlapping this
   * one in time counts as the same incident. The marker is written after publishing: a crash re-pages, never
   * loses a page.
   */
  private async page(subject: string, alerts: readonly Alert[], spanMs?: number): Promise<Alert[]> {
    const margin = this.config.windowMs;
    const markers =
      spanMs === undefined
        ? await this.store.query(Keys.alertPagedPartition(subject))
        : await this.markersNear(subject, alerts, margin + spanMs);
    const overlaps = (alert: Alert) =>
      markers.some(
        (marker) =>
          marker.rule === alert.rule &&
          (marker.alertId === alert.id ||
            (Date.parse(String(marker.firstSeen)) <= Date.parse(alert.lastSeen) + margin &&
              Date.parse(String(marker.lastSeen)) >= Date.parse(alert.firstSeen) - margin)),
      );
    const fresh = alerts.filter((alert) => !overlaps(alert));
    for (const alert of fresh) {
      await this.sink?.publish(alert);
      await this.store.putAll([
        {
          ...Keys.alertPaged(subject, alert.rule, alert.firstSeen, alert.id),
          type: ItemType.AlertPaged,
          alertId: alert.id,
          rule: alert.rule,
          firstSeen: alert.firstSeen,
          lastSeen: alert.lastSeen,
        },
      ]);
      this.logger.info("alert raised", { alertId: alert.id, rule: alert.rule, severity: alert.severity });
    }
    return fresh;
  }

  /**
   * The subject's paging markers of these alerts' rules that start at most `reachMs` before one of them, up to
   * a window after: every marker `page` can match when no alert of those rules about the subject lasted
   * longer than `reachMs` less a window (a marker keeps the times of an alert that was stored).
   */
  private async markersNear(subject: string, alerts: readonly Alert[], reachMs: number): Promise<Item[]> {
    const byRule = new Map<string, { from: number; to: number }>();
    for (const alert of alerts) {
      const span = byRule.get(alert.rule) ?? { from: Number.POSITIVE_INFINITY, to: Number.NEGATIVE_INFINITY };
      span.from = Math.min(span.from, Date.parse(alert.firstSeen) - reachMs - HOUR_MS);
      span.to = Math.max(span.to, Date.parse(alert.lastSeen) + this.config.windowMs + HOUR_MS);
      byRule.set(alert.rule, span);
    }
    const markers: Item[] = [];
    for (const [rule, { from, to }] of byRule)
      markers.push(
        ...(await this.store.query(Keys.alertPagedPartition(subject), {
          between: [
            `${rule}#${isoTime(Math.max(EARLIEST_MS, from))}`,
            `${rule}#${isoTime(Math.min(LATEST_MS, to))}${SORT_END}`,
          ],
        })),
      );
    return markers;
  }

  private async describe(findings: readonly Finding[]): Promise<Alert[]> {
    const people = new Map<string, UserKey>();
    for (const found of findings) {
      if (found.subject.type === "user") people.set(userKeyString(found.subject), found.subject);
      for (const user of found.users ?? []) people.set(userKeyString(user), user);
    }
    const profiles = await this.queries.profiles([...people.values()]);
    return findings.map((found) => toAlert(found, profiles));
  }
}

function toAlert(found: Finding, profiles: Map<string, UserView>): Alert {
  // The episode's summary is kept beside the alert's listing (`reconcile`), not in it.
  const { users, episode: _episode, ...rest } = found;
  const profile = found.subject.type === "user" ? profiles.get(userKeyString(found.subject)) : undefined;
  return {
    ...rest,
    ...(profile
      ? { user: { userName: profile.userName, displayName: profile.displayName, emails: profile.emails } }
      : {}),
    externalIds: profile?.externalIds ?? [],
    ...(users
      ? {
          users: users.map((user) => ({
            ...user,
            userName: profiles.get(userKeyString(user))?.userName ?? null,
          })),
          distinctUsers: users.length,
        }
      : {}),
  };
}

/** Keys hold four-digit years: a day beyond year 9999 (or before year 0) would not sort as a time. */
const EARLIEST_MS = Date.parse("0000-01-01T00:00:00Z");
const LATEST_MS = Date.parse("9999-12-31T23:59:59Z");

/** The failed sign-ins among `items`, by address, each with the people its workflow names. */
function attributedFailures(items: readonly Item[]): Map<string, AttributedFailure[]> {
  const failures = new Map<string, { event: AuditEvent; users: UserKey[]; hiddenName: boolean }>();
  for (const item of items) {
    if (item.type !== ItemType.FailedSignIn) continue;
    const event = eventOf(item);
    const entry = failures.get(event.eventId);
    failures.set(event.eventId, { event, users: entry?.users ?? [], hiddenName: entry?.hiddenName ?? false });
  }
  for (const item of items) {
    const entry = failures.get(String(item.eventId));
    if (!entry) continue;
    if (item.type === ItemType.FailedSignInUser) entry.users.push(userOfItem(item));
    if (item.type === ItemType.FailedSignInHidden) entry.hiddenName = true;
  }
  const byAddress = new Map<string, AttributedFailure[]>();
  for (const failure of failures.values()) {
    const address = failure.event.sourceIp;
    if (!address) continue;
    const ofAddress = byAddress.get(address);
    if (ofAddress) ofAddress.push(failure);
    else byAddress.set(address, [failure]);
  }
  return byAddress;
}

/** A subject's episode rules judged (`judgeEpisodeSubjects`): what `reconcile` needs of the judgement. */
interface EpisodeSubjectJudgement {
  readonly findings: Finding[];
  readonly existing: Item[];
  readonly basis: Map<string, ListingContent>;
  readonly episodeSpanMs?: number;
  /** With `existing`: the subject keeps no episode span (its alerts are read whole: `alertsReadWhole`). */
  readonly spanless?: true;
}

/** A subject's stored alerts of the episode rules, as a judgement read them (`storedEpisodes`). */
interface StoredAlerts {
  readonly episodes: StoredEpisode[];
  /** Their index items by `<firstSeen>#<alertId>`. */
  readonly index: Map<string, Item>;
  /** Their listings by sort key. */
  readonly listings: Map<string, Item>;
  /** Index items read without their listing (a write or delete cut short). */
  readonly orphans: Item[];
  /** The index sort keys read: all, or those between these two. */
  readonly covered: "all" | readonly [string, string];
  /** The subject's episode span as read or stored; absent when it has none. */
  readonly spanMs?: number;
}

/** What a role session's judgement took as given (`Detector.wholeRoleSessions`): its person, link and addresses. */
function roleJudgementBasis(
  user: UserKey,
  activity: { accountId: string; credentialId: string; portalSourceIps: ReadonlySet<string> },
): string {
  return JSON.stringify([
    userKeyString(user),
    activity.accountId,
    activity.credentialId,
    [...activity.portalSourceIps].sort(),
  ]);
}

const sameEpisode = (episode: StoredEpisode): StoredEpisode => episode;

/** A stored alert as an earlier version stored it, without what it keeps of its episode. */
function withoutSummary({ episode: _summary, ...rest }: StoredEpisode): StoredEpisode {
  return rest;
}

/** A stored alert of an episode rule, from its listing. */
function storedEpisodeOf(listing: Item): StoredEpisode {
  const alert = JSON.parse(String(listing.data)) as Alert;
  return {
    id: alert.id,
    rule: alert.rule,
    firstSeen: alert.firstSeen,
    lastSeen: alert.lastSeen,
    users: (alert.users ?? []).map(({ identityStoreId, userId }) => ({ identityStoreId, userId })),
    sourceIps: alert.sourceIps,
    ...(typeof listing.episode === "string"
      ? { episode: JSON.parse(listing.episode) as EpisodeSummary }
      : {}),
  };
}

/** What a listing holds: the alert, and what it keeps of its episode (absent before summaries were kept). */
interface ListingContent extends Record<string, string | undefined> {
  readonly data: string;
  readonly episode: string | undefined;
}

function listingContent(listing: Item): ListingContent {
  return {
    data: String(listing.data),
    episode: typeof listing.episode === "string" ? listing.episode : undefined,
  };
}

/** An alert's listing about to be written. */
interface AlertDocument {
  readonly alert: Alert;
  readonly data: string;
  readonly episode: string | undefined;
  readonly listing: ItemKey;
}

/** What a listing's conditional write expects of a listing that is not there. */
const ABSENT_LISTING: Readonly<Record<string, string | undefined>> = { data: undefined };

function contentOrAbsent(listing: Item | undefined): Readonly<Record<string, string | undefined>> {
  return listing ? listingContent(listing) : ABSENT_LISTING;
}

/** Whether the stored listing holds what `document` would write. */
function storedAlike(stored: Item | undefined, document: AlertDocument): boolean {
  return stored?.data === document.data && stored.episode === document.episode;
}

function listingItem({ alert, data, episode }: AlertDocument): Item {
  return {
    ...Keys.alertListing(alert.firstSeen, alert.id),
    type: ItemType.Alert,
    data,
    ...(episode !== undefined ? { episode } : {}),
  };
}

/**
 * What `readRange` gives for these hours (or buckets), each range named by its first and last bucket, the buckets
 * added to `read`. Buckets a day or less apart are read as one range, the buckets between too
 * (`MERGED_READ_GAP_MS`).
 */
async function readHoursWith<T>(
  hours: ReadonlySet<Hour>,
  read: Set<Hour>,
  buckets: TimeBuckets,
  readRange: (from: Hour, to: Hour) => Promise<T[]>,
): Promise<T[]> {
  const starts: Range[] = [];
  for (const hour of hours) {
    const start = buckets.startMs(hour);
    starts.push({ from: start, to: start });
  }
  const pages = await mapLimit(mergedRanges(starts), 4, ({ from, to }) => {
    for (const hour of hoursOver(from, to, buckets)) read.add(hour);
    return readRange(buckets.of(isoTime(from)), buckets.of(isoTime(to)));
  });
  return pages.flat();
}

/** The ranges, those a day or less apart (`MERGED_READ_GAP_MS`) made one, in time order. */
function mergedRanges(ranges: readonly Range[]): Range[] {
  const merged: Range[] = [];
  for (const range of [...ranges].sort((a, b) => a.from - b.from)) {
    const last = merged[merged.length - 1];
    if (last && range.from - last.to <= MERGED_READ_GAP_MS)
      merged[merged.length - 1] = { from: last.from, to: Math.max(last.to, range.to) };
    else merged.push(range);
  }
  return merged;
}

/** A person's failed verifications among their events, as the episode rules see them. */
function userFailures(user: UserKey, events: readonly AuditEvent[]): AttributedFailure[] {
  const failures: AttributedFailure[] = [];
  for (const event of events)
    if (event.category === "sign-in" && isFailedVerification(event))
      failures.push({ event, users: [user], hiddenName: false });
  return failures;
}

/** The subjects judged (not `undefined`), with their judgements. */
function judgedOf(
  subjects: readonly string[],
  judged: ReadonlyMap<string, SubjectJudgement | undefined>,
): [string, SubjectJudgement][] {
  const found: [string, SubjectJudgement][] = [];
  for (const subject of subjects) {
    const judgement = judged.get(subject);
    if (judgement) found.push([subject, judgement]);
  }
  return found;
}

function sameJudgement(a: SubjectJudgement, b: SubjectJudgement): boolean {
  return (
    a.range.from === b.range.from &&
    a.range.to === b.range.to &&
    JSON.stringify(a.findings) === JSON.stringify(b.findings)
  );
}

/** Whether any of these times falls within the range. */
function anyWithin(times: readonly number[] | undefined, range: Range): boolean {
  if (times) for (const at of times) if (at >= range.from && at <= range.to) return true;
  return false;
}

function around(times: readonly number[]): Range {
  return {
    from: Math.max(EARLIEST_MS, Math.min(...times) - DAY_MS),
    to: Math.min(LATEST_MS, Math.max(...times) + DAY_MS),
  };
}

/**
 * The alerts as stored now, each once. An alert is paged when its episode first alerts and grows after (its id
 * and first event stay). One no longer stored under that first event (an earlier event, delivered later, joined
 * its episode, which then starts, and is named, there) is given as the alert of its rule and subject that now
 * holds its first event, looked for among the alerts that start up to a day before it; as it was raised when
 * there is none (its id then names nothing stored).
 */
export async function asStoredNow(store: TableStore, alerts: readonly Alert[]): Promise<Alert[]> {
  const keys = alerts.map((alert) => Keys.alertListing(alert.firstSeen, alert.id));
  const stored = new Map<string, Alert>();
  for (const item of await store.getAll(keys)) stored.set(item.sk, JSON.parse(String(item.data)) as Alert);
  const now = new Map<string, Alert>();
  for (const [index, alert] of alerts.entries()) {
    const found = stored.get((keys[index] as ItemKey).sk) ?? (await successorOf(store, alert)) ?? alert;
    now.set(found.id, found);
  }
  return [...now.values()];
}

/**
 * The stored alert of `alert`'s rule and subject whose episode holds `alert`'s first event, if any: for
 * role-credentials-new-address, of the same role session and address (a person's sessions, and a session's
 * addresses, alert apart).
 */
async function successorOf(store: TableStore, alert: Alert): Promise<Alert | undefined> {
  const first = Date.parse(alert.firstSeen);
  const candidates = await listAlerts(store, isoTime(Math.max(EARLIEST_MS, first - DAY_MS)), alert.firstSeen);
  return candidates.find(
    (candidate) =>
      sameIncident(candidate, alert) &&
      Date.parse(candidate.firstSeen) <= first &&
      Date.parse(candidate.lastSeen) >= first,
  );
}

function sameIncident(a: Alert, b: Alert): boolean {
  const of = (alert: Alert) =>
    JSON.stringify([
      alert.rule,
      alert.subject,
      alert.roleSessionId ?? null,
      alert.rule === Rule.RoleCredentialsNewAddress ? alert.sourceIps : null,
    ]);
  return of(a) === of(b);
}

/** Stored alerts whose episode started at or after `since`, oldest first. */
export async function listAlerts(store: TableStore, since?: string, until?: string): Promise<Alert[]> {
  const items: Item[] = await store.query(ALERT_PARTITION, {
    between: [since ?? "", `${until ?? "9999"}${SORT_END}`],
  });
  return items
    .filter((item) => item.type === ItemType.Alert)
    .map((item) => JSON.parse(String(item.data)) as Alert);
}
