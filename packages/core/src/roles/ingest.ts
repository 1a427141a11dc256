import { randomUUID } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { UserDirectory } from "../identity/port.ts";
import { userKeyString } from "../identity/port.ts";
import type { UserKey } from "../normalize/types.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { itemKeyString, Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore, WrittenOnce } from "../timeline/store.ts";
import { OWED_EVENTS_PER_ITEM, type OwedJudgement, owedJudgementOf, RoleItems } from "./items.ts";
import { distinctUsers } from "./link.ts";
import { type RoleEvent, RoleEventKind, type RoleSessionKey, roleSessionId } from "./types.ts";

/**
 * What a batch owes the sessions it judges again after its commit: the events of each it stores, by day (the
 * partition a later delivery of them looks in), under a token of the batch's own.
 */
function owedJudgementItems(fresh: readonly RoleEvent[], ids: readonly string[]): Item[] {
  if (ids.length === 0) return [];
  const wanted = new Set(ids);
  const byPart = new Map<string, { day: string; id: string; events: RoleEvent[] }>();
  for (const event of fresh) {
    if (!wanted.has(event.roleSessionId)) continue;
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

/** What judging a batch's role sessions found. */
export interface RoleSessionJudgement<A> {
  /** The alerts published for the first time. */
  readonly alerts: A[];
  /**
   * Sessions whose alerts the judgement changed or found, or of a known person with no grant yet: judged again
   * once the batch's events are stored.
   */
  readonly judgeAfterCommit: readonly string[];
}

/**
 * Role-session alerts, evaluated on stored data after the support items and before the commit (a crash before
 * the commit evaluates them again on redelivery).
 */
export interface RoleSessionDetector<A> {
  evaluateRoleSessions(events: readonly RoleEvent[]): Promise<RoleSessionJudgement<A>>;
  /** Judges the sessions again on what is stored; returns the alerts published for the first time. */
  judgeRoleSessionsAgain(ids: readonly string[]): Promise<A[]>;
  /** Forgets what a judgement whose batch then failed remembered of these sessions. */
  forgetRoleSessions(ids: readonly string[]): void;
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
  /** Session names whose directory lookup is remembered. */
  readonly nameCacheSize?: number;
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
 * 3. The events themselves, last: their presence means stored. Sessions the detections judge again once they
 *    are stored (`judgeAfterCommit`) get an item saying so first, deleted once that judgement is made; a
 *    delivery of events stored before makes the judgements their batch still owes.
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
    this.names = new LRUCache({ max: options.nameCacheSize ?? 50_000 });
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
    const commitKeys = [...unique.values()].map((event) =>
      Keys.roleSessionEvent(event.roleSessionId, event.eventTime, event.eventId),
    );
    const storedBefore: RoleEvent[] = [];
    for (const item of await this.store.getAll(commitKeys)) {
      const eventId = item.sk.slice(item.sk.lastIndexOf("#") + 1);
      const event = unique.get(eventId);
      if (event && unique.delete(eventId)) {
        duplicates += 1;
        storedBefore.push(event);
      }
    }
    const fresh = [...unique.values()];
    // A delivery of events stored before may be that of a batch which stopped between its commit and the
    // judgement it owed: that judgement is made here.
    if (fresh.length === 0) {
      const owed = await this.judgementsOwed(storedBefore);
      return { stored: [], duplicates, ignored, alerts: await this.judgeAfterCommit([], [], owed) };
    }

    const support = new Map<string, Item>();
    const add = (item: Item) => {
      if (!this.written.has(item)) support.set(itemKeyString(item), item);
    };
    const sessions = new Map<string, RoleSessionKey>();
    const people = new Map<string, UserKey>();
    // Sessions used (a call, not only Identity Center issuing them): a grant arriving later looks for these.
    const used = new Set<string>();
    for (const event of fresh) {
      sessions.set(event.roleSessionId, event.session);
      add(RoleItems.head(event.session));
      if (event.kind === RoleEventKind.Call) used.add(event.roleSessionId);
      if (event.user) {
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
    // session's items must not depend on how its events were batched. Cached per name.
    await mapLimit([...sessions], 8, async ([id, session]) => {
      const candidates = await this.usersNamed(session.sessionName);
      for (const user of candidates) {
        people.set(userKeyString(user), user);
        add(RoleItems.candidate(id, user));
        if (candidates.length === 1) add(RoleItems.userRoleSession(user, session));
        if (candidates.length === 1 && used.has(id)) add(RoleItems.userRoleDay(user, session));
      }
    });
    await this.profiles?.ensure([...people.values()]);
    const supportItems = [...support.values()];
    await this.store.putAll(supportItems);
    this.written.written(supportItems);

    const alerts = await this.judgeAndCommit(fresh, storedBefore, [...sessions.keys()]);
    this.logger.debug("role sessions stored", { stored: fresh.length, duplicates, sessions: sessions.size });
    return { stored: fresh.sort((a, b) => (a.eventId < b.eventId ? -1 : 1)), duplicates, ignored, alerts };
  }

  /**
   * Detections, then the commit. Detections read the sessions' stored events and add these, which are not
   * committed yet. Another process may have judged one of these sessions at the same moment, from a read
   * without these calls (they are stored only now), and written its alerts last: the sessions whose alerts this
   * batch changed are judged again once its calls are stored, and of two such processes the one storing last
   * sees both. What this batch owes is stored before its commit, so that a stop between the commit and the
   * judgement leaves it to the next delivery of these events, which finds them all stored.
   */
  private async judgeAndCommit(
    fresh: readonly RoleEvent[],
    storedBefore: readonly RoleEvent[],
    sessions: readonly string[],
  ): Promise<A[]> {
    let committing = false;
    let owing: Item[] = [];
    try {
      const judged = await this.detector?.evaluateRoleSessions(fresh);
      const ids = judged?.judgeAfterCommit ?? [];
      const wanted = new Set(ids);
      // Owed by batches before this one: to the sessions of events stored before (a batch that stopped after its
      // commit), and to those this batch owes too (a batch that stopped or failed before or in its commit, whose
      // events this one stores).
      const owed = await this.judgementsOwed([
        ...storedBefore,
        ...fresh.filter((event) => wanted.has(event.roleSessionId)),
      ]);
      owing = owedJudgementItems(fresh, ids);
      await this.store.putAll(owing);
      committing = true;
      await this.store.putAll(fresh.map(RoleItems.event));
      return [...(judged?.alerts ?? []), ...(await this.judgeAfterCommit(ids, owing, owed))];
    } catch (error) {
      // What the failed attempt remembered of these sessions (found with no link) is forgotten: their calls are
      // judged again when delivered again. Had none of its events been stored, it owes nothing.
      this.detector?.forgetRoleSessions(sessions);
      if (!committing)
        await this.store.deleteAll(owing).catch((cleanup: unknown) => {
          // Left behind, it is read and deleted by a later delivery of these calls (README, Detections).
          this.logger.warn("owed judgements of a failed batch not deleted", {
            items: owing.length,
            error: cleanup instanceof Error ? cleanup.name : "unknown",
          });
        });
      throw error;
    }
  }

  /**
   * Judgements owed to the sessions of these stored events by batches that committed them (`judgeAfterCommit`),
   * not made yet: one `Query` per day of these events, only when a delivery holds events stored before or
   * owes a judgement itself.
   */
  private async judgementsOwed(stored: readonly RoleEvent[]): Promise<OwedJudgement[]> {
    if (!this.detector || stored.length === 0) return [];
    const sessions = new Set(stored.map((event) => event.roleSessionId));
    const days = [...new Set(stored.map((event) => event.eventTime.slice(0, 10)))];
    const found = await mapLimit(days, 4, (day) => this.store.query(Keys.roleJudgementOwedPartition(day)));
    return found
      .flat()
      .map(owedJudgementOf)
      .filter((owed) => sessions.has(owed.roleSessionId));
  }

  /**
   * Judges again, on what is stored, the sessions this batch's judgement asked for (`ids`, which `owing`
   * records) and those owed a judgement by a batch before (`owed`); then deletes what was owed and is now
   * made. A judgement owed by another batch is made only if every event it lists was stored before it began:
   * that batch may still be storing them, and will then judge for itself.
   */
  private async judgeAfterCommit(
    ids: readonly string[],
    owing: readonly Item[],
    owed: readonly OwedJudgement[],
  ): Promise<A[]> {
    const detector = this.detector;
    const sessions = [...new Set([...ids, ...owed.map((judgement) => judgement.roleSessionId)])].sort();
    if (!detector || sessions.length === 0) return [];
    const listed = owed.flatMap((judgement) =>
      judgement.events.map(({ eventTime, eventId }) =>
        Keys.roleSessionEvent(judgement.roleSessionId, eventTime, eventId),
      ),
    );
    const committed = new Set((await this.store.getAll(listed)).map(itemKeyString));
    const made = owed.filter((judgement) =>
      judgement.events.every(({ eventTime, eventId }) =>
        committed.has(itemKeyString(Keys.roleSessionEvent(judgement.roleSessionId, eventTime, eventId))),
      ),
    );
    const alerts = await detector.judgeRoleSessionsAgain(sessions);
    await this.store.deleteAll([...owing, ...made.map((judgement) => judgement.key)]);
    return alerts;
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

  /** Users the directory knows by this session name (user name or email); cached per process. */
  private usersNamed(sessionName: string): Promise<UserKey[]> {
    if (this.directory.kind === "none") return Promise.resolve([]);
    const key = sessionName.toLowerCase();
    let lookup = this.names.get(key);
    if (!lookup) {
      lookup = Promise.all([
        this.directory.findByUserName(sessionName),
        sessionName.includes("@") ? this.directory.findByEmail(sessionName) : Promise.resolve([]),
      ]).then(
        ([byName, byEmail]) => distinctUsers([...(byName ? [byName] : []), ...byEmail]),
        (error: unknown) => {
          // A directory outage leaves the session to be attributed on read (stored profiles), not lost.
          this.names.delete(key);
          this.logger.warn("session name lookup failed", {
            error: error instanceof Error ? error.name : "unknown",
          });
          return [];
        },
      );
      this.names.set(key, lookup);
    }
    return lookup;
  }
}
