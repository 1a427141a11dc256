import { LRUCache } from "lru-cache";
import { ChangeIndexer, groupsOf } from "../changes/ingest.ts";
import {
  type BatchCoverage,
  batchCoverage,
  coverageDayItem,
  coverageEventItem,
  emptyCoverage,
  joinOutcome,
  storedEvents,
} from "../coverage/counts.ts";
import type { Alert, Detector } from "../detect/detector.ts";
import type { UserDirectory } from "../identity/port.ts";
import { userKeyString } from "../identity/port.ts";
import {
  type AuditEvent,
  byEventId,
  byTimeThenId,
  isFailedVerification,
  type NormalizedRecord,
  type UserKey,
} from "../normalize/types.ts";
import { RoleSessionIngester } from "../roles/ingest.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { silentLogger } from "../shared/logger.ts";
import { dayOf, eventOf, Items, namedUsers, userOfItem, workflowJoin } from "../timeline/items.ts";
import { AliasKind, aliasSortPrefix, itemKeyString, Keys, PENDING_EVENT_PREFIX } from "../timeline/keys.ts";
import { allOrFirstFailure, type Item, mapLimit, type TableStore, WrittenOnce } from "../timeline/store.ts";
import { Enricher, type EnricherOptions, GroupEnricher } from "./enrich.ts";

export interface BatchResult {
  /** Events written for the first time. */
  readonly stored: AuditEvent[];
  /** Deliveries of events already stored (same `eventID`), in this batch or before. */
  readonly duplicates: number;
  /** Alerts raised for the first time by what this batch stored. */
  readonly alerts: Alert[];
  /** What the canary counted of this batch (`coverage/`): attribution, unknown names, new fields. */
  readonly coverage: BatchCoverage;
}

/** Everything an event is attributed to once joins are done. */
interface Attribution {
  /** The event; a fresh one is replaced by its stored copy the directory resolved, if a join finds one. */
  event: AuditEvent;
  readonly fresh: boolean;
  readonly users: Map<string, UserKey>;
  readonly sessions: Set<string>;
  /** The sign-in workflow was for a name AWS hid (no such user). */
  hiddenName: boolean;
  /** `userIdentity` fields the event's shape is not known to carry (fresh events only: what the canary counts). */
  readonly newFields?: readonly string[] | undefined;
}

/** What phase 1 found and wrote, for the joins after it. */
interface JoinInputs {
  /** Workflow members (apart from heads) and events waiting for a name, with their presence marks. */
  readonly joinInputs: readonly Item[];
  /** Each workflow's earliest member in this batch: its head (phase 2b). */
  readonly headMembers: ReadonlyMap<string, AuditEvent>;
  /** Name (lower case) → user mappings the batch's transitional events teach. */
  readonly learnedNames: ReadonlyMap<string, UserKey>;
  /** Old-shape events that name nobody but a sign-in name, waiting for its mapping. */
  readonly awaitingName: readonly { readonly event: AuditEvent; readonly userName: string }[];
}

/** A batch's attributions by event id: its fresh events and the earlier ones its joins reach. */
class BatchAttributions {
  readonly touched = new Map<string, Attribution>();

  /** The event's attribution, started empty the first time the batch touches it. */
  entry(event: AuditEvent, isFresh = false, newFields?: readonly string[]): Attribution {
    let entry = this.touched.get(event.eventId);
    if (!entry) {
      entry = { event, fresh: isFresh, users: new Map(), sessions: new Set(), hiddenName: false, newFields };
      this.touched.set(event.eventId, entry);
    }
    return entry;
  }

  attribute(event: AuditEvent, user: UserKey): void {
    this.entry(event).users.set(userKeyString(user), user);
  }

  /** Every person attributed so far, once. */
  people(): UserKey[] {
    const people = new Map<string, UserKey>();
    for (const entry of this.touched.values())
      for (const user of entry.users.values()) people.set(userKeyString(user), user);
    return [...people.values()];
  }

  /** A sign-in workflow's partition, read or written: each member gets its people, sessions, hidden name. */
  joinWorkflow({ users, sessions, members, hidden }: ReturnType<typeof workflowJoin>): void {
    for (const member of members) {
      const entry = this.entry(this.touched.get(member.eventId)?.event ?? member);
      // This batch's event, delivered again after a batch that stored its member resolved through the
      // directory failed, while the directory cannot answer: it is stored as that copy, whatever the order.
      if (entry.fresh && !entry.event.actor.directoryUser && member.actor.directoryUser) {
        entry.event = member;
        this.attribute(member, member.actor.directoryUser);
      }
      for (const user of users) this.attribute(entry.event, user);
      for (const session of sessions) entry.sessions.add(session);
      if (hidden) entry.hiddenName = true;
      // A member from an earlier batch: rewrite its own attributions too, with the same content.
      if (!entry.fresh && member.actor.user) this.attribute(member, member.actor.user);
      if (!entry.fresh && member.actor.directoryUser) this.attribute(member, member.actor.directoryUser);
      if (!entry.fresh && member.credentialId) entry.sessions.add(member.credentialId);
    }
  }

  /** An event as stored: a fresh one may have been replaced by its copy the directory resolved (phase 2b). */
  asStored(event: AuditEvent): AuditEvent {
    return this.touched.get(event.eventId)?.event ?? event;
  }

  /**
   * The touched events with their people, as the detector takes them. Per-event work here and in the phases
   * is written as loops, methods and functions of the module, not arrows made per batch: V8 keeps a closure's
   * optimized code only while a closure holding it lives, so an arrow made per batch and called per event was
   * compiled again after each full garbage collection, some twenty times in a 100,000-record ingest
   * (`--trace-opt`, docs/benchmarks.md).
   */
  touchedEvents(): { event: AuditEvent; users: UserKey[]; sessions: string[] }[] {
    const touched: { event: AuditEvent; users: UserKey[]; sessions: string[] }[] = [];
    for (const entry of this.touched.values())
      touched.push({ event: entry.event, users: [...entry.users.values()], sessions: [...entry.sessions] });
    return touched;
  }

  /** What the canary counts of the batch's fresh events (`batchCoverage`). */
  coverageInputs(fresh: readonly NormalizedRecord[]): Parameters<typeof batchCoverage>[0] {
    const inputs: Parameters<typeof batchCoverage>[0][number][] = [];
    for (const { event, newFields } of fresh) {
      const entry = this.touched.get(event.eventId);
      inputs.push({
        event: this.asStored(event),
        attributed: (entry?.users.size ?? 0) > 0,
        hiddenName: entry?.hiddenName ?? false,
        newFields,
      });
    }
    return inputs;
  }
}

/**
 * One touched event's timeline items, added to `timeline` (its day's coverage item to `days`, once a day).
 * Returns its join outcome item (the canary's, `coverage/`) if it has one.
 */
function timelineItems(entry: Attribution, timeline: Item[], days: Map<string, Item>): Item | undefined {
  const { event } = entry;
  // The canary (`coverage/`): what the joins found for an event that does not name its person itself.
  const outcome = joinOutcome(event, entry.users.size > 0, entry.hiddenName);
  if (outcome) timeline.push(outcome);
  // An event that names its person lives in that person's timeline (written below: the event names them,
  // so they are among its users); its own session and its address get links to that person's day instead
  // of copies. Which it is depends on the event alone, never on what the joins found, so every order of
  // arrival writes the same items.
  const named = namedUsers(event);
  for (const session of entry.sessions) {
    if (named.length > 0 && session === event.credentialId)
      for (const user of named) timeline.push(Items.sessionLink(session, event, user));
    else timeline.push(Items.sessionEvent(session, event));
  }
  for (const user of entry.users.values()) {
    timeline.push(Items.userEvent(user, event));
    if (isFailedVerification(event)) timeline.push(Items.failedSignInUser(event, user));
  }
  if (entry.hiddenName && isFailedVerification(event)) timeline.push(Items.failedSignInHidden(event));
  if (entry.fresh) {
    if (isFailedVerification(event)) timeline.push(Items.failedSignIn(event));
    const day = dayOf(event);
    if (!days.has(day)) days.set(day, coverageDayItem(event));
    // An event naming nobody is kept whole under its address (or, without one, under its id): a join may
    // attribute it later, or never.
    if (named.length > 0 && event.sourceIp)
      for (const user of named) timeline.push(Items.addressLink(event.sourceIp, event, user));
    else if (named.length === 0)
      timeline.push(event.sourceIp ? Items.addressEvent(event.sourceIp, event) : Items.event(event));
  }
  return outcome;
}

export interface PipelineOptions extends EnricherOptions {
  readonly logger?: AuditLogger;
  /** Evaluates detections on what each batch stored, before the batch is committed. */
  readonly detector?: Detector;
  /**
   * Sign-in names whose directory lookup is remembered, at most (least recently used forgotten first).
   * Failed sign-ins carry whatever name was typed, so a password spray could otherwise grow this without end.
   * Default 50,000.
   */
  readonly nameCacheSize?: number;
  /**
   * How long a name's lookup (a sign-in name's, a role session's) is remembered, in ms: a user created or renamed
   * in the directory since is found within it, even by a process that runs for days (a warm Lambda).
   * Default 15 minutes.
   */
  readonly nameCacheTtlMs?: number;
}

export const DEFAULT_NAME_CACHE_SIZE = 50_000;
export const DEFAULT_NAME_CACHE_TTL_MS = 15 * 60 * 1000;

/**
 * Stores normalized events as timelines. Idempotent and order-independent:
 *
 * 1. Events already stored (their commit item exists, read strongly consistently) are counted as duplicates.
 *    Two deliveries of one event that are in flight at the same moment, in two processes, both find no
 *    commit item and are both counted as stored: they write the same items, so the table holds one copy
 *    either way; only that count is off. A conditional put per event would make the count exact at the price
 *    of one request per event, which made ingestion several times slower (docs/benchmarks.md). An event of a
 *    day with no coverage item stored (`coverageDayItem`, written in step 4 before any commit item of the
 *    day) is not stored: its commit item is not read (`daysWithNothingStored`).
 * 2. Join inputs are written first: sign-in workflow members and links, old-shape events waiting for a
 *    name → user mapping, and the mappings transitional events teach (a profile's sign-in name teaches too:
 *    its alias is written when the profile is fetched, before the batch reads the names waiting).
 * 3. The join partitions are then read back (strongly consistent). Because every writer writes before it
 *    reads, of two events that belong together at least one sees the other, whatever the order or process.
 *    A sign-in workflow is read unless this batch's head insert for it succeeds (phase 2b): every writer
 *    after the first inserter reads, so the same holds, once a batch that failed before its insert is redone.
 * 4. Timeline items (session, user, failed sign-in, and links from sessions and addresses to a person's day)
 *    are written for every event the joins touched, and detections are evaluated on the stored data around
 *    them.
 * 5. The commit items are written last, so a crash before them means a full redo: each event's canary item
 *    (`commitKey`, `coverage/`), which every stored event has and whose key is the event's own.
 */
export class Pipeline {
  readonly enricher: Enricher;
  /** Group names for directory changes (`DescribeGroup` or a `list-groups` export), cached like users. */
  readonly groupEnricher: GroupEnricher;
  private readonly changes: ChangeIndexer;
  /**
   * Role sessions in member accounts: a join of its own (`roles/`), fed by the same reader and batches, and
   * enriched through the same cache.
   */
  readonly roles: RoleSessionIngester<Alert>;
  private readonly logger: AuditLogger;
  /** Sign-in name (lower case) → its directory lookup, in memory only; bounded (see `nameCacheSize`). */
  private readonly nameCache: LRUCache<string, Promise<UserKey | undefined | typeof LOOKUP_FAILED>>;
  /** Learned name → user mappings whose waiting events this process has read and attributed. */
  private readonly pendingRead = new Set<string>();
  /**
   * Name → user mappings that profiles taught (`Enricher.takeLearnedNames`) and no batch of this process has
   * yet read the waiting events for (`learnedKey` → [lower-case name, user]); kept until a batch that read them
   * is stored.
   */
  private readonly untaughtNames = new Map<string, [string, UserKey]>();
  /**
   * Items whose content is their key alone that this process has written, so that it writes each once: aliases
   * (user id and sign-in name → user, profiles' lookup values), the names administrators go by → their ARN,
   * and the days that have canary items (those it found stored too: `daysWithNothingStored`).
   */
  private readonly writtenOnce: WrittenOnce;
  private readonly detector: Detector | undefined;
  /**
   * Batches of this process being stored right now (`ingestStream` stores two side by side), by the ids of
   * their events: a batch holding one of those events waits for that batch first, so that its duplicate
   * check finds the event stored, as it would had the batches come one after the other.
   */
  private readonly storing = new Map<string, Promise<void>>();
  /** Late attributions a batch in progress has counted (keys of their markers): another batch does not. */
  private readonly lateCounted = new Set<string>();

  constructor(
    private readonly store: TableStore,
    private readonly directory: UserDirectory,
    options: PipelineOptions = {},
  ) {
    this.writtenOnce = new WrittenOnce(options.nameCacheSize ?? DEFAULT_NAME_CACHE_SIZE);
    this.enricher = new Enricher(store, directory, { ...options, aliasesWritten: this.writtenOnce });
    this.groupEnricher = new GroupEnricher(store, directory, options);
    this.changes = new ChangeIndexer(store, directory.identityStoreId, this.writtenOnce);
    this.logger = options.logger ?? silentLogger;
    const nameCache = {
      max: options.nameCacheSize ?? DEFAULT_NAME_CACHE_SIZE,
      ttl: options.nameCacheTtlMs ?? DEFAULT_NAME_CACHE_TTL_MS,
    };
    this.roles = new RoleSessionIngester<Alert>(store, directory, {
      profiles: this.enricher,
      logger: this.logger,
      nameCache,
      ...(options.detector ? { detector: options.detector } : {}),
    });
    this.detector = options.detector;
    this.nameCache = new LRUCache(nameCache);
  }

  /**
   * Stores a batch. Batches may be stored side by side (`ingestStream`): the table is the one they give one
   * after the other, as for separate processes (see the class comment), and the stored and duplicate counts are
   * exact, since a batch holding an event that another batch is storing waits for that batch first. Which batch
   * finds a join (attributed at once or late) may differ.
   *
   * `detectAfter`: the detections wait for it to settle (`ingestStream` passes the previous batch, role
   * sessions included), so that they read everything the batches before this one stored, as one ordered
   * delivery's would: a role session's calls, committed at the end of their batch, are what a grant in the next
   * batch is judged with.
   */
  async ingest(
    records: readonly NormalizedRecord[],
    options: { readonly detectAfter?: Promise<unknown> } = {},
  ): Promise<BatchResult> {
    const ids = new Set<string>();
    for (const { event } of records) ids.add(event.eventId);
    const earlier = new Set<Promise<void>>();
    for (const id of ids) {
      const other = this.storing.get(id);
      if (other) earlier.add(other);
    }
    const result = (async () => {
      await Promise.all(earlier);
      return this.ingestNow(records, options.detectAfter);
    })();
    const settled = result.then(
      () => {},
      () => {},
    );
    for (const id of ids) this.storing.set(id, settled);
    try {
      return await result;
    } finally {
      for (const id of ids) if (this.storing.get(id) === settled) this.storing.delete(id);
    }
  }

  /**
   * One batch: the duplicate check (the class comment's step 1), then phases 1, 2a and 2b (its steps 2
   * and 3), 3 (its step 4) and 4 (its step 5). Each phase is a method of its own: V8 optimizes a function
   * whole, and this one, as a single body, was optimized five times over in a 40,000-record ingest (a new
   * event shape deoptimizes it) at 0.2–0.4 s of compiling each time (`--trace-opt`, docs/benchmarks.md).
   */
  private async ingestNow(
    records: readonly NormalizedRecord[],
    detectAfter: Promise<unknown> | undefined,
  ): Promise<BatchResult> {
    const { unique, duplicates } = await this.newEvents(records);
    // A batch of nothing new still reads the events waiting for names its process's profiles taught.
    if (unique.size === 0 && this.collectUntaughtNames() === 0)
      return { stored: [], duplicates, alerts: [], coverage: emptyCoverage() };
    // Directory resolution of names, for events that do not name their user themselves.
    const lookupFailed = new Set<string>();
    const fresh = await this.resolveNames([...unique.values()], lookupFailed);
    const batch = new BatchAttributions();
    const inputs = await this.writeJoinInputs(fresh, batch);
    const { unread, workflowLinks } = await this.joinNames(batch, inputs);
    await this.joinWorkflows(batch, inputs, workflowLinks, fresh, lookupFailed);
    // Enrich every person touched, once per cache lifetime (those the joins found; the others are done).
    await this.enricher.ensure(batch.people());
    const lateAttributed = await this.writeTimeline(batch);
    // Directory changes: indexed under the person and group changed and the administrator, before detections
    // read them (privilege-granted-after-failures).
    const changes = await this.changes.index(fresh.map(eventOfRecord));
    await allOrFirstFailure([
      this.groupEnricher.ensure(groupsOf(changes)),
      // The people changed are named in answers too, though no event of theirs may be stored.
      this.enricher.ensure(changes.flatMap((change) => (change.user ? [change.user] : []))),
    ]);

    // Detections run on the stored data before the commit: a crash before it re-runs them on redelivery.
    // The batch before, if it failed, fails the stream: this one's detections run all the same.
    await detectAfter?.catch(() => {});
    const alerts = this.detector ? await this.detector.evaluate(batch.touchedEvents(), changes) : [];

    const stored = await this.commit(batch, fresh);
    const coverage = { ...batchCoverage(batch.coverageInputs(fresh)), lateAttributed };
    // Only now is what the name joins read (`joinNames`) stored: a batch failing before here reads it again.
    for (const [userName, user] of unread) {
      this.pendingRead.add(learnedKey(userName, user));
      this.untaughtNames.delete(learnedKey(userName, user));
    }
    this.logger.debug("batch stored", {
      stored: stored.length,
      duplicates,
      joined: batch.touched.size - fresh.length,
    });
    // Profiles fetched after this batch's name joins (people its joins, directory changes or role sessions
    // found) taught names too: their waiting events are read now, in a pass of their own.
    const result = { stored, duplicates, alerts, coverage };
    if (this.collectUntaughtNames() === 0) return result;
    return withTeachingPass(result, await this.ingestNow([], undefined));
  }

  /** A batch's events by id, each once, without those already stored; the rest counted as duplicates. */
  private async newEvents(
    records: readonly NormalizedRecord[],
  ): Promise<{ unique: Map<string, NormalizedRecord>; duplicates: number }> {
    const unique = new Map<string, NormalizedRecord>();
    for (const record of records)
      if (!unique.has(record.event.eventId)) unique.set(record.event.eventId, record);
    let duplicates = records.length - unique.size;
    const events = [...unique.values()].map(eventOfRecord);
    const daysUnstored = await this.daysWithNothingStored(events);
    const onDaysStored: AuditEvent[] = [];
    for (const event of events) if (!daysUnstored.has(dayOf(event))) onDaysStored.push(event);
    const alreadyStored = await storedEvents(this.store, onDaysStored);
    for (const eventId of alreadyStored) if (unique.delete(eventId)) duplicates += 1;
    return { unique, duplicates };
  }

  /**
   * Phase 1: join inputs (workflow members, events waiting for a name) and the aliases the events teach,
   * written. Each workflow's earliest member in this batch is kept for its head (phase 2b) instead.
   */
  private async writeJoinInputs(
    fresh: readonly NormalizedRecord[],
    batch: BatchAttributions,
  ): Promise<JoinInputs> {
    const joinInputs: Item[] = [];
    const headMembers = new Map<string, AuditEvent>();
    const learnedNames = new Map<string, UserKey>();
    const awaitingName: { event: AuditEvent; userName: string }[] = [];
    const aliases: Item[] = [];
    for (const { event, newFields } of fresh) {
      const entry = batch.entry(event, true, newFields);
      if (event.credentialId) entry.sessions.add(event.credentialId);
      const own = event.actor.user;
      const byName = event.actor.directoryUser;
      const workflow = event.authWorkflowId;
      if (own) batch.attribute(event, own);
      if (byName) batch.attribute(event, byName);
      // A member's own person, session and hidden name are read back from its stored event (`workflowJoin`);
      // its key says whom the directory resolved it to (`Keys.workflowEvent`), so no redelivery erases that.
      if (workflow) {
        const head = headMembers.get(workflow);
        if (head && byTimeThenId(head, event) <= 0) joinInputs.push(Items.workflowEvent(workflow, event));
        else {
          if (head) joinInputs.push(Items.workflowEvent(workflow, head));
          headMembers.set(workflow, event);
        }
      }
      if (own) aliases.push(Items.alias(AliasKind.UserId, own.userId, own));
      const userName = event.actor.userName;
      if (userName && own) {
        // A transitional event names both: it teaches the pipeline this name → user mapping.
        aliases.push(Items.alias(AliasKind.UserName, userName, own));
        learnedNames.set(userName.toLowerCase(), own);
      } else if (userName && !own && !byName) {
        // With its presence mark: a batch that learns the name reads the mark first, and the waiting events
        // only if it is there (`unread` in `joinNames`).
        joinInputs.push(
          Items.pendingName(userName, event),
          Items.presenceMark(Keys.pendingNamePresence(userName)),
        );
        awaitingName.push({ event, userName });
      }
    }
    await this.writtenOnce.write(aliases, (items) => this.store.putAll(items), joinInputs);
    return { joinInputs, headMembers, learnedNames, awaitingName };
  }

  /**
   * Phase 2a: name joins (learned mappings ↔ old-shape events waiting for them). Returns the mappings the
   * batch took up (their waiting events read, or none marked as waiting), marked read once the batch is
   * stored, and the workflow links written.
   */
  private async joinNames(
    batch: BatchAttributions,
    { learnedNames, awaitingName }: JoinInputs,
  ): Promise<{ unread: [string, UserKey][]; workflowLinks: Item[] }> {
    const workflowLinks: Item[] = [];
    const gainUser = (event: AuditEvent, user: UserKey) => {
      batch.attribute(event, user);
      if (event.authWorkflowId) workflowLinks.push(Items.workflowUser(event.authWorkflowId, user));
    };
    // The people the batch's events name are enriched first: a profile's sign-in name is a mapping too (its
    // alias is written before the profile), taught like a transitional event's, with those that profiles
    // fetched since this process's last batch taught. Else an old-shape event stored while name lookups failed
    // would wait for a mapping that the profile wrote after it, unread.
    await this.enricher.ensure(batch.people());
    this.collectUntaughtNames();
    const taught = new Map(this.untaughtNames);
    for (const [userName, user] of learnedNames) taught.set(learnedKey(userName, user), [userName, user]);
    // Once this process has written a mapping and then read the names waiting for it, every later waiting
    // event finds the mapping itself (it writes, then reads the mappings): the read is not repeated.
    const unread = [...taught].filter(([key]) => !this.pendingRead.has(key)).map(([, mapping]) => mapping);
    // On a table where every writer marks a name when an event starts waiting for it (written with the event,
    // before the writer reads the mappings), a name without the mark has nothing waiting: one key read for all
    // of them instead of a query each. Of a mapping written and a waiting event stored at the same moment, the
    // mapping's writer misses the mark only if the event's writer, reading after its own write, finds the mapping.
    const waiting = await this.namesWaiting(unread.map(([userName]) => userName));
    await mapLimit(
      unread.filter(([userName]) => waiting.has(userName)),
      4,
      async ([userName, user]) => {
        for (const item of await this.store.query(Keys.pendingNamePartition(userName), {
          prefix: PENDING_EVENT_PREFIX,
        }))
          gainUser(eventOf(item), user);
      },
    );
    const awaitedNames = [...new Set(awaitingName.map(({ userName }) => userName.toLowerCase()))];
    const learned = new Map<string, UserKey | undefined>();
    await mapLimit(awaitedNames, 4, async (userName) => {
      const aliases = await this.store.query(Keys.aliasPartition(userName), {
        prefix: aliasSortPrefix(AliasKind.UserName),
      });
      // Several stores may know the name; the smallest key is chosen so every process chooses alike.
      learned.set(userName, aliases.map(userOfItem).sort(compareUsers)[0]);
    });
    for (const { event, userName } of awaitingName) {
      const user = learned.get(userName.toLowerCase());
      if (user) gainUser(event, user);
    }
    await this.store.putAll(workflowLinks);
    return { unread, workflowLinks };
  }

  /**
   * Phase 2b: sign-in workflow joins. Each workflow's head is inserted now, once everything this batch
   * stores of the workflow is written. The one writer whose insert succeeds was the first to insert: any later
   * writer's insert fails, so that writer reads the partition and joins every member, this one's included.
   * A writer whose insert fails stores its member at the member's own key and reads, as every writer did
   * before heads. The first writer reads nothing, unless the table may hold members stored without a head (by
   * an older version: hence the table's marker, `workflowHeadsTrusted`) or a name join may link the workflow
   * (below). A batch that stored members and failed before its insert is not seen by it: that batch's redo
   * (its events are not committed) reads the workflow and joins every member.
   */
  private async joinWorkflows(
    batch: BatchAttributions,
    { joinInputs, headMembers, awaitingName }: JoinInputs,
    workflowLinks: readonly Item[],
    fresh: readonly NormalizedRecord[],
    lookupFailed: ReadonlySet<string>,
  ): Promise<void> {
    const workflows = new Set<string>();
    const settled = new Set<string>();
    for (const entry of batch.touched.values())
      if (entry.event.authWorkflowId) workflows.add(entry.event.authWorkflowId);
    const heads: { workflow: string; event: AuditEvent; item: Item }[] = [];
    const headItems: Item[] = [];
    for (const [workflow, event] of headMembers) {
      const item = Items.workflowHead(workflow, event);
      heads.push({ workflow, event, item });
      headItems.push(item);
    }
    const [trusted, existed] = await Promise.all([
      this.workflowHeadsTrusted(),
      this.store.insertAll(headItems),
    ]);
    // A member whose head was refused is stored at its own key instead.
    const refused: Item[] = [];
    for (const { workflow, event, item } of heads)
      if (existed.has(itemKeyString(item))) refused.push(Items.workflowEvent(workflow, event));
    await this.store.putAll(refused);
    if (trusted)
      for (const { workflow, item } of heads) if (!existed.has(itemKeyString(item))) settled.add(workflow);
    // A workflow with a member stored before this batch (found by a name join) is read whatever its head says.
    for (const entry of batch.touched.values())
      if (!entry.fresh && entry.event.authWorkflowId) settled.delete(entry.event.authWorkflowId);
    // So is one with a member of this batch waiting for a name: the batch that learns the name (it found the
    // member's pending item, written in phase 1) links the person to the workflow and reads it, maybe before
    // this batch's head was inserted, so the head's member can only learn of that link by this read.
    for (const { event } of awaitingName) if (event.authWorkflowId) settled.delete(event.authWorkflowId);
    // So is one with a member the directory could not look up: an earlier attempt at this batch, failed before
    // its head insert, may have stored that member resolved, and only a read finds that copy.
    for (const { event } of fresh)
      if (event.authWorkflowId && lookupFailed.has(event.eventId)) settled.delete(event.authWorkflowId);
    const written = new Map<string, Item[]>();
    if (settled.size > 0)
      for (const item of [...joinInputs, ...workflowLinks, ...headItems]) {
        const own = written.get(item.pk);
        if (own) own.push(item);
        else written.set(item.pk, [item]);
      }
    // A bound method, not an arrow made per batch (`BatchAttributions.touchedEvents` says why).
    await mapLimit([...workflows], 8, this.joinWorkflowMembers.bind(this, batch, settled, written));
  }

  /**
   * Joins one workflow's members: for a workflow in `settled`, the items this batch wrote (`written`, by
   * partition); for any other, those its partition holds (a `Query`).
   */
  private async joinWorkflowMembers(
    batch: BatchAttributions,
    settled: ReadonlySet<string>,
    written: ReadonlyMap<string, readonly Item[]>,
    workflow: string,
  ): Promise<void> {
    const partition = Keys.workflowPartition(workflow);
    batch.joinWorkflow(
      workflowJoin(
        settled.has(workflow) ? (written.get(partition) ?? []) : await this.store.query(partition),
      ),
    );
  }

  /**
   * Phase 3: timeline items for every event the joins touched, and the days' coverage items. Returns how many
   * events stored earlier this batch attributed for the first time (the canary's late attributions).
   */
  private async writeTimeline(batch: BatchAttributions): Promise<number> {
    const timeline: Item[] = [];
    // A day's coverage item, once a batch (its events fall on a few days): built per event, most were dropped
    // by `writtenOnce` after costing an item and a key each.
    const days = new Map<string, Item>();
    // Events stored earlier that this batch's joins attribute: counted late only if no batch marked them before.
    const lateMarkers: Item[] = [];
    for (const entry of batch.touched.values()) {
      const outcome = timelineItems(entry, timeline, days);
      if (outcome && !entry.fresh && entry.users.size > 0) lateMarkers.push(outcome);
    }
    // A workflow's earlier members are joined again by each later step: only a first marker is a late attribution.
    const counting = lateMarkers.filter((marker) => !this.lateCounted.has(itemKeyString(marker)));
    for (const marker of counting) this.lateCounted.add(itemKeyString(marker));
    try {
      const marked = counting.length > 0 ? await this.store.getAll(counting) : [];
      await this.writtenOnce.write([...days.values()], (items) => this.store.putAll(items), timeline);
      return counting.length - marked.length;
    } finally {
      for (const marker of counting) this.lateCounted.delete(itemKeyString(marker));
    }
  }

  /**
   * Phase 4: commit markers, batched like every other write. Whether an event is new was decided by the
   * strongly consistent read at the start (see the class comment on concurrent deliveries). Returns the
   * events stored, as stored (a fresh one may be its copy the directory resolved, phase 2b), by id.
   */
  private async commit(batch: BatchAttributions, fresh: readonly NormalizedRecord[]): Promise<AuditEvent[]> {
    const markers: Item[] = [];
    const stored: AuditEvent[] = [];
    for (const { event, newFields } of fresh) {
      const asStored = batch.asStored(event);
      markers.push(coverageEventItem(asStored, newFields));
      stored.push(asStored);
    }
    await this.store.putAll(markers);
    return stored.sort(byEventId);
  }

  /**
   * Reads the old-shape events waiting for the names that profiles this process fetched taught since its last
   * batch (a role session's person, `idc-audit enrich`), and attributes them: a batch of no events. Nothing is
   * read when there are none.
   */
  async teachLearnedNames(): Promise<BatchResult> {
    return this.ingest([]);
  }

  /** Moves the names profiles taught into `untaughtNames`; returns how many are waiting to be read. */
  private collectUntaughtNames(): number {
    for (const { user, userName } of this.enricher.takeLearnedNames()) {
      const name = userName.toLowerCase();
      const key = learnedKey(name, user);
      if (!this.pendingRead.has(key)) this.untaughtNames.set(key, [name, user]);
    }
    return this.untaughtNames.size;
  }

  /**
   * Of these events' days, those with no event stored, so that the duplicate check reads no commit key of
   * theirs: a day's coverage item is written before any event of the day is committed (phase 3, then phase 4),
   * so a day without one has none, on a table where every writer does so (`Keys.coverageDaysMarker`). On a
   * backfill of trail never ingested, nearly every event's day is new when its first batch comes: one
   * `BatchGetItem` for the batch's days instead of one per hundred events. Days found stored are remembered with
   * those this process wrote (their items never change), and are neither read nor written again.
   */
  private async daysWithNothingStored(events: readonly AuditEvent[]): Promise<Set<string>> {
    const unknown = new Map<string, Item>();
    // A batch's events fall on a few days: each day is looked at once, not once an event.
    const days = new Set<string>();
    for (const event of events) {
      const day = dayOf(event);
      if (days.has(day)) continue;
      days.add(day);
      const item = coverageDayItem(event);
      if (!this.writtenOnce.has(item)) unknown.set(item.sk, item);
    }
    if (unknown.size === 0 || !(await this.store.hasMarker(Keys.coverageDaysMarker))) return new Set();
    const found = await this.store.getAll([...unknown.values()]);
    this.writtenOnce.written(found);
    for (const item of found) unknown.delete(item.sk);
    return new Set(unknown.keys());
  }

  /**
   * Whether a workflow head this process inserts proves that no member of its workflow was stored before: the
   * table says so when idc-audit created it (`Keys.workflowHeadsMarker`). A table an older version wrote, or
   * one in AWS, may hold members stored without heads: every workflow is read there, as before heads.
   */
  private workflowHeadsTrusted(): Promise<boolean> {
    return this.store.hasMarker(Keys.workflowHeadsMarker);
  }

  /**
   * Of these (lower-case) names, those events may wait for: those with a presence mark on a table whose every
   * writer marks them (`Keys.presenceMarksMarker`), every one elsewhere.
   */
  private async namesWaiting(userNames: readonly string[]): Promise<Set<string>> {
    if (userNames.length === 0) return new Set();
    const marked = await this.store.markedPartitions(userNames.map(Keys.pendingNamePartition));
    return new Set(userNames.filter((userName) => marked?.has(Keys.pendingNamePartition(userName)) ?? true));
  }

  /**
   * Resolves sign-in names through the directory (cached per process) and records the result on the event.
   * Typed names are only used here, in memory: they are never written anywhere. Events whose lookup failed
   * (the directory could not answer) are added to `lookupFailed`.
   */
  private async resolveNames(
    records: readonly NormalizedRecord[],
    lookupFailed: Set<string>,
  ): Promise<NormalizedRecord[]> {
    if (this.directory.kind === "none") return [...records];
    // A bound method, not an arrow made per batch: such an arrow, with the method inlined into it, would be
    // compiled again after each full garbage collection (`BatchAttributions.touchedEvents` says why).
    return mapLimit(records, 8, this.resolveName.bind(this, lookupFailed));
  }

  /** Resolves one record's sign-in name through the directory (`resolveNames`). */
  private async resolveName(lookupFailed: Set<string>, record: NormalizedRecord): Promise<NormalizedRecord> {
    const { event, typedUserName } = record;
    const name = event.actor.userName ?? typedUserName;
    if (event.actor.user || !name) return record;
    const key = name.toLowerCase();
    let lookup = this.nameCache.get(key);
    if (!lookup) {
      lookup = this.directory.findByUserName(name).catch((error: unknown) => {
        // A directory outage leaves the event unresolved, not lost; forget the failure so it is retried.
        this.nameCache.delete(key);
        this.logger.warn("user name lookup failed", {
          eventId: event.eventId,
          error: error instanceof Error ? error.name : "unknown",
        });
        return LOOKUP_FAILED;
      });
      this.nameCache.set(key, lookup);
    }
    const directoryUser = await lookup;
    if (directoryUser === LOOKUP_FAILED) lookupFailed.add(event.eventId);
    if (!directoryUser || directoryUser === LOOKUP_FAILED) return record;
    return { ...record, event: { ...event, actor: { ...event.actor, directoryUser } } };
  }
}

/** A batch's result with what a teaching pass after it (`Pipeline.teachLearnedNames`) alerted and attributed. */
export function withTeachingPass<T extends Pick<BatchResult, "alerts" | "coverage">>(
  result: T,
  pass: BatchResult,
): T {
  return {
    ...result,
    alerts: [...result.alerts, ...pass.alerts],
    // The events the pass attributed count as the batch's late attributions (the canary's metric).
    coverage: {
      ...result.coverage,
      lateAttributed: result.coverage.lateAttributed + pass.coverage.lateAttributed,
    },
  };
}

/** A name lookup the directory could not answer (an outage), as opposed to a name it does not know. */
const LOOKUP_FAILED = Symbol("lookup failed");

/** A record's event (a function of the module, not an arrow per batch: see `BatchAttributions.touchedEvents`). */
function eventOfRecord(record: NormalizedRecord): AuditEvent {
  return record.event;
}

const learnedKey = (userName: string, user: UserKey) => `${userName}\u0000${userKeyString(user)}`;

function compareUsers(a: UserKey, b: UserKey): number {
  const left = userKeyString(a);
  const right = userKeyString(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
