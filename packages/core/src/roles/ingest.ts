import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { UserDirectory } from "../identity/port.ts";
import { userKeyString } from "../identity/port.ts";
import { byEventId, type UserKey } from "../normalize/types.ts";
import { appendTo } from "../shared/collections.ts";
import { DirectoryError, describeError, StoreError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { userOfItem } from "../timeline/items.ts";
import { AliasKind, aliasSortPrefix, type ItemKey, itemKeyString, Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore, WrittenOnce } from "../timeline/store.ts";
import { OWED_EVENTS_PER_ITEM, type OwedJudgement, owedJudgementOf, RoleItems } from "./items.ts";
import { distinctUsers } from "./link.ts";
import {
  namedByIdentityCenter,
  type RoleEvent,
  RoleEventKind,
  type RoleSessionKey,
  roleSessionId,
} from "./types.ts";

/**
 * What a batch owes the sessions it judges once stored: the calls that make each worth judging, by day (the
 * partition a later delivery of them looks in), under a token of the batch's own.
 */
function owedJudgementItems(calls: readonly RoleEvent[]): Item[] {
  if (calls.length === 0) return [];
  const byPart = new Map<string, { day: string; id: string; events: RoleEvent[] }>();
  for (const event of calls) {
    const day = event.eventTime.slice(0, 10);
    const key = `${event.roleSessionId}\u0000${day}`;
    const part = byPart.get(key) ?? { day, id: event.roleSessionId, events: [] };
    part.events.push(event);
    byPart.set(key, part);
  }
  const token = randomUUID();
  return [...byPart.values()].flatMap(({ day, id, events }) => {
    const items: Item[] = [];
    for (let start = 0; start < events.length; start += OWED_EVENTS_PER_ITEM)
      items.push(
        RoleItems.judgementOwed(
          day,
          id,
          token,
          start / OWED_EVENTS_PER_ITEM,
          events.slice(start, start + OWED_EVENTS_PER_ITEM),
        ),
      );
    return items;
  });
}

/** Fetches and caches profiles of the people role sessions name (the pipeline's enricher). */
export interface ProfileEnsurer {
  ensure(users: readonly UserKey[]): Promise<unknown>;
}

/**
 * role-credentials-new-address: which role sessions a batch's events make worth judging, and the judgement, made
 * on what is stored once the batch is (a judgement owed is stored before the commit, so no stop loses it).
 */
export interface RoleSessionDetector<A> {
  /** The calls that make their sessions worth judging once stored (no read). */
  callsToJudge(events: readonly RoleEvent[]): readonly RoleEvent[];
  /**
   * Judges the sessions on what is stored; returns the alerts published for the first time. `calls`: by
   * session, the times of the calls that make it worth judging.
   */
  judgeStoredRoleSessions(calls: ReadonlyMap<string, readonly string[]>): Promise<A[]>;
}

export interface RoleBatchResult<A> {
  readonly stored: RoleEvent[];
  readonly duplicates: number;
  /** Chain candidates whose session no Identity Center role session opened. */
  readonly ignored: number;
  readonly alerts: A[];
}

export interface RoleSessionIngesterOptions<A> {
  readonly logger?: AuditLogger;
  readonly detector?: RoleSessionDetector<A>;
  readonly profiles?: ProfileEnsurer;
  /** Item keys this process remembers having written (least recently used forgotten first). */
  readonly writtenCacheSize?: number;
  /**
   * Session names whose directory lookup is remembered: how many at most, and for how long in ms (a user created
   * or renamed since is found within it). Default 50,000, for the life of the process.
   */
  readonly nameCache?: { readonly max: number; readonly ttl: number };
}

/**
 * Stores role-session events: the second join of idc-audit, beside the sign-in workflow. It needs no read
 * before it writes (a role session's id is a function of each of its events), so a batch costs one key read
 * per event (duplicates) and one write per event, plus a few items per role session and access key:
 *
 * 1. Events whose commit item exists (read strongly consistently) are duplicates.
 * 2. Support items: the session's head; the person an event names (`onBehalfOf`); directory matches of the
 *    session name (looked up for every session, whatever its events name, so the items never depend on how
 *    deliveries were batched); each access key seen; the
 *    chained sessions an `sts:AssumeRole` opened; and the person's index entry. Written before the commit, and
 *    remembered by this process so a long session does not rewrite them every batch.
 * 3. The events themselves, last: their presence means stored. Detections judge the sessions once their events
 *    are stored; each session to judge gets an item saying so first, deleted once the judgement is made, and a
 *    delivery of events stored before makes the judgements their batch still owes (`commitAndJudge`).
 *
 * Attribution and the link to the portal session are not stored: they are computed on read from what is
 * (`RoleQueries`), so no arrival order can leave a stale answer behind.
 */
export class RoleSessionIngester<A = unknown> {
  private readonly logger: AuditLogger;
  private readonly detector: RoleSessionDetector<A> | undefined;
  private readonly profiles: ProfileEnsurer | undefined;
  private readonly written: WrittenOnce;
  private readonly names: LRUCache<string, Promise<UserKey[]>>;

  constructor(
    private readonly store: TableStore,
    private readonly directory: UserDirectory,
    options: RoleSessionIngesterOptions<A> = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.detector = options.detector;
    this.profiles = options.profiles;
    this.written = new WrittenOnce(options.writtenCacheSize ?? 200_000);
    this.names = new LRUCache(options.nameCache ?? { max: 50_000 });
  }

  /**
   * `candidates`: calls of other roles' sessions. Those whose session was opened by `sts:AssumeRole` from an
   * Identity Center role session (its head was written by that call, in this batch or before) are stored with
   * it; the rest are counted as ignored. A chained session's calls that arrive before the `AssumeRole` that
   * opened it cannot be told from any other role's, and are ignored.
   */
  async ingest(
    identityCenterEvents: readonly RoleEvent[],
    candidates: readonly RoleEvent[] = [],
  ): Promise<RoleBatchResult<A>> {
    const chained = await this.chainedOnly(identityCenterEvents, candidates);
    const ignored = candidates.length - chained.length;
    const events = [...identityCenterEvents, ...chained];
    const unique = new Map<string, RoleEvent>();
    for (const event of events) if (!unique.has(event.eventId)) unique.set(event.eventId, event);
    let duplicates = events.length - unique.size;
    // What runs per event is a loop or a function of the module, not an arrow made per batch: V8 would
    // compile such an arrow again after each full garbage collection (docs/benchmarks.md).
    const commitKeys: ItemKey[] = [];
    for (const event of unique.values())
      commitKeys.push(Keys.roleSessionEvent(event.roleSessionId, event.eventTime, event.eventId));
    const storedBefore: RoleEvent[] = [];
    for (const item of await this.store.getAll(commitKeys)) {
      const eventId = item.sk.slice(item.sk.lastIndexOf("#") + 1);
      const event = unique.get(eventId);
      if (!event) continue;
      unique.delete(eventId);
      duplicates += 1;
      storedBefore.push(event);
    }
    const fresh = [...unique.values()];
    // A delivery of events stored before may be that of a batch which stopped between its commit and the
    // judgement it owed: that judgement is made here.
    if (fresh.length === 0) {
      const owed = await this.judgementsOwed(storedBefore);
      const repaired = await this.repairNames(storedBefore);
      // Judged on all their calls (no times: none of them is new).
      const calls = new Map(repaired.map((id) => [id, []]));
      return { stored: [], duplicates, ignored, alerts: await this.judgeOnceStored(calls, [], owed) };
    }

    const support = new Map<string, Item>();
    const add = (item: Item) => {
      if (!this.written.has(item)) support.set(itemKeyString(item), item);
    };
    const sessions = new Map<string, RoleSessionKey>();
    // Sessions an event of this batch names the person of (`onBehalfOf`): their index needs no name lookup.
    const attributed = new Set<string>();
    const people = new Map<string, UserKey>();
    // Sessions used (a call, not only Identity Center issuing them): a grant arriving later looks for these.
    const used = new Set<string>();
    for (const event of fresh) {
      sessions.set(event.roleSessionId, event.session);
      add(RoleItems.head(event.session));
      if (event.kind === RoleEventKind.Call) used.add(event.roleSessionId);
      if (event.user) {
        attributed.add(event.roleSessionId);
        people.set(userKeyString(event.user), event.user);
        add(RoleItems.user(event.roleSessionId, event.user));
        add(RoleItems.userRoleSession(event.user, event.session));
        if (event.kind === RoleEventKind.Call) add(RoleItems.userRoleDay(event.user, event.session));
      }
      if (event.accessKeyId) add(RoleItems.accessKey(event.accessKeyId, event.roleSessionId));
      if (event.issuedAccessKeyId) add(RoleItems.accessKey(event.issuedAccessKeyId, event.roleSessionId));
      if (event.chained) {
        const child = roleSessionId(event.chained.session);
        add(RoleItems.head(event.chained.session));
        add(RoleItems.parent(child, event.roleSessionId));
        add(RoleItems.child(event.roleSessionId, child));
        if (event.chained.accessKeyId) add(RoleItems.accessKey(event.chained.accessKeyId, child));
      }
    }
    // The directory may know the session name. The match is kept as a candidate; whether it is used is decided
    // on read (an `onBehalfOf` anywhere in the session wins). Looked up whatever this batch's events name: a
    // session's items must not depend on how its events were batched. Cached per name. Only names Identity
    // Center set: a chained session's name is its caller's choice (anyone may call theirs alice@example.com).
    const named = [...sessions].filter(([, session]) => namedByIdentityCenter(session));
    const unanswered: { id: string; error: unknown }[] = [];
    await mapLimit(named, 8, async ([id, session]) => {
      let candidates: UserKey[];
      try {
        candidates = await this.usersNamed(session.sessionName);
      } catch (error) {
        // The store failing is the store's error, raised as it is.
        if (error instanceof StoreError) throw error;
        // Stored without its person's index (and the day marks a late grant looks for), the session would stay
        // out of the person's report and detections for good: a later delivery of its events finds them
        // stored. So the batch fails before its commit, to be delivered again, unless an event of it names the
        // person (whose index it writes).
        if (!attributed.has(id)) unanswered.push({ id, error });
        candidates = [];
      }
      for (const user of candidates) {
        people.set(userKeyString(user), user);
        add(RoleItems.candidate(id, user));
        if (candidates.length === 1) add(RoleItems.userRoleSession(user, session));
        if (candidates.length === 1 && used.has(id)) add(RoleItems.userRoleDay(user, session));
      }
    });
    if (unanswered.length > 0)
      throw new DirectoryError(
        `the directory did not answer who ${unanswered.length} role session(s) belong to (${unanswered
          .map(({ id }) => id)
          .sort()
          .join(
            ", ",
          )}: ${reasonOf(unanswered[0]?.error)}); nothing of the batch's role sessions was stored: ` +
          "deliver it again",
        { cause: unanswered[0]?.error, retryable: true },
      );
    await this.profiles?.ensure([...people.values()]);
    const supportItems = [...support.values()];
    await this.store.putAll(supportItems);
    this.written.written(supportItems);

    const alerts = await this.commitAndJudge(fresh, storedBefore);
    this.logger.debug("role sessions stored", { stored: fresh.length, duplicates, sessions: sessions.size });
    return { stored: fresh.sort(byEventId), duplicates, ignored, alerts };
  }

  /**
   * The commit, then detections. A role session is judged on what is stored once this batch's calls are, so
   * that of two processes storing calls of one session at the same moment (or one its calls and the other the
   * grant, or an event naming the person) the one judging last reads both. The judgements this batch owes are
   * stored before its commit, so that a stop between the commit and them leaves them to the next delivery of
   * these events, which finds them all stored.
   */
  private async commitAndJudge(
    fresh: readonly RoleEvent[],
    storedBefore: readonly RoleEvent[],
  ): Promise<A[]> {
    const toJudge = this.detector?.callsToJudge(fresh) ?? [];
    // Owed by batches before this one: to the sessions of events stored before (a batch that stopped after its
    // commit), and to those this batch judges too (a batch that stopped or failed before or in its commit, whose
    // events this one stores).
    const owed = await this.judgementsOwed([...storedBefore, ...toJudge]);
    const owing = owedJudgementItems(toJudge);
    let commitStarted = false;
    try {
      await this.store.putAll(owing);
      commitStarted = true;
      await this.store.putAll(fresh.map(RoleItems.event));
    } catch (error) {
      // None of its events stored: it owes nothing, their next delivery judges them.
      if (!commitStarted)
        await this.store.deleteAll(owing).catch((cleanup: unknown) => {
          // Left behind, it is read and deleted by a later delivery of these calls (README, Detections).
          this.logger.warn("owed judgements of a failed batch not deleted", {
            items: owing.length,
            error: cleanup instanceof Error ? cleanup.name : "unknown",
          });
        });
      throw error;
    }
    const calls = new Map<string, string[]>();
    for (const { roleSessionId, eventTime } of toJudge) appendTo(calls, roleSessionId, eventTime);
    return this.judgeOnceStored(calls, owing, owed);
  }

  /**
   * Judgements owed to the sessions of these events by other batches (`commitAndJudge`) and not made yet: one
   * `Query` per day of these events. Asked for events stored before this delivery, and for the events of the
   * sessions this batch judges itself.
   */
  private async judgementsOwed(events: readonly RoleEvent[]): Promise<OwedJudgement[]> {
    if (!this.detector || events.length === 0) return [];
    const sessions = new Set<string>();
    const days = new Set<string>();
    for (const event of events) {
      sessions.add(event.roleSessionId);
      days.add(event.eventTime.slice(0, 10));
    }
    const found = await mapLimit([...days], 4, (day) =>
      this.store.query(Keys.roleJudgementOwedPartition(day)),
    );
    return found
      .flat()
      .map(owedJudgementOf)
      .filter((owed) => sessions.has(owed.roleSessionId));
  }

  /**
   * Judges, on what is stored, the sessions this batch's calls make worth judging (`calls`: by session, the
   * times of those calls, which `owing` records; none: judged on all of them) and those owed a judgement by a
   * batch before (`owed`); then deletes what was owed and is now
   * made. A judgement owed by another batch is made only if every event it lists was stored before it began:
   * that batch may still be storing them, and will then judge for itself.
   */
  private async judgeOnceStored(
    calls: Map<string, string[]>,
    owing: readonly Item[],
    owed: readonly OwedJudgement[],
  ): Promise<A[]> {
    const detector = this.detector;
    for (const { roleSessionId, events } of owed)
      for (const { eventTime } of events) appendTo(calls, roleSessionId, eventTime);
    if (!detector || calls.size === 0) return [];
    const listed = owed.map((judgement) =>
      judgement.events.map(({ eventTime, eventId }) =>
        Keys.roleSessionEvent(judgement.roleSessionId, eventTime, eventId),
      ),
    );
    const committed = new Set((await this.store.getAll(listed.flat())).map(itemKeyString));
    const made = owed.filter((_, index) =>
      (listed[index] ?? []).every((key) => committed.has(itemKeyString(key))),
    );
    const alerts = await detector.judgeStoredRoleSessions(
      new Map([...calls].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))),
    );
    await this.store.deleteAll([...owing, ...made.map((judgement) => judgement.key)]);
    return alerts;
  }

  /**
   * Sessions of events delivered again whose name the directory answers now but did not when they were stored
   * (ingested with no directory, or by an earlier version while a lookup failed): their candidates, the
   * person's index and day marks are written, and the sessions returned to be judged (a grant stored since
   * found no day mark to look for them). One key read for the batch's sessions the directory names; nothing for
   * a session an event of the batch names the person of. A lookup that fails leaves them as they are.
   */
  private async repairNames(delivered: readonly RoleEvent[]): Promise<string[]> {
    const sessions = new Map<string, { session: RoleSessionKey; used: boolean }>();
    const attributed = new Set<string>();
    for (const event of delivered) {
      if (event.user) attributed.add(event.roleSessionId);
      if (!namedByIdentityCenter(event.session)) continue;
      const entry = sessions.get(event.roleSessionId) ?? { session: event.session, used: false };
      if (event.kind === RoleEventKind.Call) entry.used = true;
      sessions.set(event.roleSessionId, entry);
    }
    for (const id of attributed) sessions.delete(id);
    if (sessions.size === 0 || this.directory.kind === "none") return [];
    const named = new Map<string, UserKey[]>();
    await mapLimit([...sessions], 8, async ([id, { session }]) => {
      const users = await this.usersNamed(session.sessionName).catch(() => []);
      if (users.length > 0) named.set(id, users);
    });
    const wanted = [...named].flatMap(([id, users]) => users.map((user) => RoleItems.candidate(id, user)));
    const found = new Set((await this.store.getAll(wanted)).map(itemKeyString));
    const items: Item[] = [];
    const people = new Map<string, UserKey>();
    const repaired: string[] = [];
    for (const [id, users] of named) {
      const entry = sessions.get(id);
      if (!entry || users.every((user) => found.has(itemKeyString(RoleItems.candidate(id, user))))) continue;
      repaired.push(id);
      for (const user of users) {
        people.set(userKeyString(user), user);
        items.push(RoleItems.candidate(id, user));
        if (users.length === 1) items.push(RoleItems.userRoleSession(user, entry.session));
        if (users.length === 1 && entry.used) items.push(RoleItems.userRoleDay(user, entry.session));
      }
    }
    if (repaired.length === 0) return [];
    await this.profiles?.ensure([...people.values()]);
    await this.store.putAll(items);
    this.written.written(items);
    this.logger.info("role sessions attributed on delivery again", { sessions: repaired.length });
    return repaired.sort();
  }

  /** The candidates whose session is a chained Identity Center session: opened in this batch, or stored. */
  private async chainedOnly(
    events: readonly RoleEvent[],
    candidates: readonly RoleEvent[],
  ): Promise<RoleEvent[]> {
    if (candidates.length === 0) return [];
    const known = new Set<string>();
    for (const event of events) if (event.chained) known.add(roleSessionId(event.chained.session));
    const unknown = [...new Set(candidates.map((event) => event.roleSessionId))].filter((id) => {
      if (known.has(id) || this.written.has(Keys.roleSessionHead(id))) {
        known.add(id);
        return false;
      }
      return true;
    });
    for (const item of await this.store.getAll(unknown.map((id) => Keys.roleSessionHead(id))))
      known.add(item.pk.slice(Keys.roleSessionPartition("").length));
    // A chained session may chain again: what an accepted candidate opens is known too, whatever the batching.
    for (let grew = true; grew; ) {
      grew = false;
      for (const event of candidates) {
        if (!known.has(event.roleSessionId) || !event.chained) continue;
        const child = roleSessionId(event.chained.session);
        if (!known.has(child)) {
          known.add(child);
          grew = true;
        }
      }
    }
    return candidates.filter((event) => known.has(event.roleSessionId));
  }

  /** The users whose stored profiles have this email (their lookup values, `profileAliases`). */
  private async storedWithEmail(email: string): Promise<UserKey[]> {
    const items = await this.store.query(Keys.aliasPartition(email), {
      prefix: aliasSortPrefix(AliasKind.Email),
    });
    return distinctUsers(items.map(userOfItem));
  }

  /**
   * Users the directory knows by this session name (user name or email); cached per process. Rejects while the
   * directory fails in a way that may pass (throttling beyond its retries, an outage); a failure that will not
   * pass (access denied, a bad request) is logged and answers nobody: the session is attributed on read, from
   * the profiles stored, as with no directory.
   */
  private usersNamed(sessionName: string): Promise<UserKey[]> {
    if (this.directory.kind === "none") return Promise.resolve([]);
    const key = sessionName.toLowerCase();
    let lookup = this.names.get(key);
    if (!lookup) {
      lookup = Promise.all([
        this.directory.findByUserName(sessionName),
        sessionName.includes("@") ? this.directory.findByEmail(sessionName) : Promise.resolve([]),
      ]).then(
        async ([byName, byEmail]) => {
          // Identity Store's GetUserId names one user by an email, which a re-hire may share with the person who
          // left: the profiles stored with that email count too (one query, per name and process).
          const shared =
            this.directory.kind === "identity-store" && byEmail.length === 1
              ? await this.storedWithEmail(sessionName)
              : [];
          return distinctUsers([...(byName ? [byName] : []), ...byEmail, ...shared]);
        },
        (error: unknown) => {
          // Not kept, even a failure that answers nobody: the next batch asks again.
          this.names.delete(key);
          const lasting = error instanceof DirectoryError && !error.retryable;
          this.logger.warn("session name lookup failed", {
            error: error instanceof Error ? error.name : "unknown",
            retryable: !lasting,
          });
          if (lasting) return [];
          throw error;
        },
      );
      // Nor a failure of the stored profiles' read (the store's), raised after the directory answered.
      const pending = lookup;
      pending.catch(() => {
        if (this.names.get(key) === pending) this.names.delete(key);
      });
      this.names.set(key, lookup);
    }
    return lookup;
  }
}

/** What went wrong, down to the first cause with a message of its own (the SDK's, under a DirectoryError). */
function reasonOf(error: unknown): string {
  let reason = describeError(error);
  let cause = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; cause instanceof Error && depth < 3; depth += 1) {
    reason = `${reason}: ${describeError(cause)}`;
    cause = cause.cause;
  }
  return reason;
}
