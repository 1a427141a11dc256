import { userKeyString } from "../identity/port.ts";
import { type AuditEvent, byTimeThenId, type UserKey } from "../normalize/types.ts";
import { appendTo } from "../shared/collections.ts";
import { isoTime } from "../shared/time.ts";
import { eventOf, ItemType, userOfItem } from "../timeline/items.ts";
import { EVENT_SORT_PREFIX, Keys, SORT_END, USER_ROLE_SESSION_PREFIX } from "../timeline/keys.ts";
import type {
  SessionSummary,
  SessionTimeline,
  TimelineQueries,
  UserReport,
  UserTimeline,
  UserView,
} from "../timeline/queries.ts";
import { type Item, mapLimit, type TableStore } from "../timeline/store.ts";
import { RoleItemType, roleEventOf, sessionKeyOf } from "./items.ts";
import {
  Attribution,
  type AttributionResult,
  attribute,
  type Grant,
  isGrant,
  Link,
  type LinkResult,
  linkOf,
  PROBABLE_LINK_MS,
} from "./link.ts";
import {
  namedByIdentityCenter,
  permissionSetOf,
  type RoleEvent,
  type RoleSessionKey,
  roleSessionId,
} from "./types.ts";

/** A role session as every answer prints it. */
export interface RoleSessionView {
  readonly id: string;
  readonly accountId: string;
  readonly roleName: string;
  readonly permissionSet: string | null;
  readonly sessionName: string;
  readonly creationDate: string;
  readonly accessKeyIds: string[];
  readonly link: Link;
  readonly attribution: Attribution;
  /** The users the session name matched (two or more when `ambiguous`). */
  readonly candidates: UserKey[];
  /** The portal session whose grant issued it, when linked and that grant carried one. */
  readonly credentialId: string | null;
  /** The `GetRoleCredentials` / `Federate` event it is linked to. */
  readonly grantEventId: string | null;
  /** The role session this one was chained from (`sts:AssumeRole`). */
  readonly parentId: string | null;
  readonly childIds: string[];
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  readonly eventCount: number;
  readonly errorCount: number;
  readonly writeCount: number;
}

/** One event of a role session, as printed: nothing of its request or response. */
export interface RoleTimelineEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly kind: string;
  readonly readOnly: boolean | null;
  readonly errorCode: string | null;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
  readonly region: string | null;
  readonly accountId: string;
  readonly accessKeyId: string | null;
  readonly issuedAccessKeyId: string | null;
  readonly resources: readonly string[];
  readonly chainedRoleSessionId: string | null;
  readonly onBehalfOf: boolean;
}

export interface RoleSessionDetail {
  readonly roleSession: RoleSessionView;
  readonly user: UserView | null;
  readonly credentialId: string | null;
  readonly events: RoleTimelineEvent[];
}

export interface SignInSummary {
  readonly eventTime: string;
  readonly sourceIp: string | null;
  readonly credentialTypes: string[];
}

/** The responder's pivot: an access key id to the person, their portal session and their sign-in. */
export interface AccessKeyAnswer {
  readonly accessKeyId: string;
  readonly roleSession: RoleSessionView;
  /** Every role session the key was seen for (one, unless AWS reused a key id). */
  readonly roleSessionIds: string[];
  readonly user: UserView | null;
  readonly credentialId: string | null;
  readonly signIn: SignInSummary | null;
}

/** `timeline CRED`: the portal session and the role sessions its grants issued. */
export interface SessionWithRoles extends SessionTimeline {
  readonly roleSessions: RoleSessionView[];
}

/**
 * `user VALUE`: the person's portal sessions, each with its role sessions, and those linked to none; with a
 * `RoleSessionsPage`, that page of each list.
 */
export interface UserWithRoles extends Omit<UserReport, "sessions"> {
  readonly roleSessionCount: number;
  /** Portal sessions in all (`sessions` holds them all, or a page). */
  readonly sessionCount: number;
  readonly sessions: (SessionSummary & { readonly roleSessions: RoleSessionView[] })[];
  /** Role sessions of the person whose portal session is unknown (`unlinked`, or outside the archive). */
  readonly unlinkedRoleSessions: RoleSessionView[];
  /** Such role sessions in all (`unlinkedRoleSessions` holds them all, or a page). */
  readonly unlinkedRoleSessionCount: number;
}

/**
 * A page of a person's report (the API's): their portal sessions from `offset`, `limit` of them, and as many of
 * their role sessions linked to no portal session, by creation. Only the role sessions it lists have their events
 * read (all of them in one query each, when one page lists every role session).
 */
export interface RoleSessionsPage {
  readonly offset: number;
  readonly limit: number;
}

/** A call as detections judge it: when and from where. */
export interface JudgedCall {
  readonly eventId: string;
  readonly eventTime: string;
  readonly sourceIp?: string;
}

/**
 * Whether a role session can be judged (`RoleQueries.linkOf`): `no-calls`, nothing to judge; `unlinked` (`user`:
 * its person when known, then only a grant can link it); `linked` to a portal session of its person.
 */
export type RoleLinkOf<Linked = { readonly calls?: undefined }> =
  | { readonly status: "no-calls" }
  | { readonly status: "unlinked"; readonly user: UserKey | undefined; readonly creationDate: string }
  | ({
      readonly status: "linked";
      readonly accountId: string;
      readonly user: UserKey;
      readonly credentialId: string;
    } & Linked);

/**
 * The calls among a role session's event items: their ids, times and addresses, without their payloads (sessions
 * are judged often, and parsing every payload of a long session each time is the garbage that grows a busy
 * process's heap).
 */
function callsOf(events: readonly Item[]): JudgedCall[] {
  const calls = new Map<string, JudgedCall>();
  for (const item of events) {
    if (item.kind !== "call") continue;
    const eventId = item.sk.slice(item.sk.lastIndexOf("#") + 1);
    const sourceIp = typeof item.sourceIp === "string" ? item.sourceIp : undefined;
    calls.set(eventId, {
      eventId,
      eventTime: eventTimeOfSortKey(item.sk),
      ...(sourceIp !== undefined ? { sourceIp } : {}),
    });
  }
  return [...calls.values()].sort(byTimeThenId);
}

/** Heads of role sessions read for one answer, by id (`RoleQueries.headOf`). */
type Heads = Map<string, Promise<RoleSessionRead>>;

/**
 * A person's events already read (their timeline, `TimelineQueries.readUser`, or the hours around a portal
 * session's grants), by sort key: an answer links each of the person's role sessions to its grant from these
 * rather than reading the minutes around its creation again, one query a role session (`RoleQueries.link`). The
 * same items, as the same sort-key range selects them, for the times they cover.
 */
class PersonEvents {
  readonly key: string;
  private readonly sortKeys: string[];
  private readonly events: AuditEvent[];

  /** `covered`: the times (ms) the events were read for, from and to, both included; none: all of them. */
  constructor(
    user: UserKey,
    events: readonly AuditEvent[],
    private readonly covered?: readonly [number, number],
  ) {
    this.key = userKeyString(user);
    const keyed = events.map((event) => ({
      sk: Keys.userEvent(user, event.eventTime, event.eventId).sk,
      event,
    }));
    keyed.sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    this.sortKeys = keyed.map((entry) => entry.sk);
    this.events = keyed.map((entry) => entry.event);
  }

  /** Whether the events of `user` from `from` to `to` (ms) are all here. */
  holds(user: string, from: number, to: number): boolean {
    return (
      user === this.key && (this.covered === undefined || (from >= this.covered[0] && to <= this.covered[1]))
    );
  }

  /** The events whose sort key is from `low` to `high`, both included (a `between` query's range). */
  between(low: string, high: string): AuditEvent[] {
    const from = firstIndex(this.sortKeys, (key) => key >= low);
    return this.events.slice(
      from,
      firstIndex(this.sortKeys, (key) => key > high, from),
    );
  }
}

/** The index of the first of the sorted `keys` from `start` that `reached` holds for (their length when none). */
function firstIndex(keys: readonly string[], reached: (key: string) => boolean, start = 0): number {
  let low = start;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (reached(keys[middle] as string)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** What a role session's partition holds, read once. */
interface RoleSessionRead {
  readonly id: string;
  readonly session: RoleSessionKey | undefined;
  readonly named: UserKey[];
  readonly candidates: UserKey[];
  readonly parents: string[];
  readonly children: string[];
  readonly events: Item[];
}

/** A role session's partition, or part of it, as read (`RoleQueries.read`). */
function readOf(id: string, items: readonly Item[]): RoleSessionRead {
  let session: RoleSessionKey | undefined;
  const named: UserKey[] = [];
  const candidates: UserKey[] = [];
  const parents: string[] = [];
  const children: string[] = [];
  const events: Item[] = [];
  for (const item of items) {
    if (item.type === RoleItemType.Head) session = sessionKeyOf(item);
    else if (item.type === RoleItemType.Event) events.push(item);
    else if (item.type === RoleItemType.User) named.push(userOfItem(item));
    else if (item.type === RoleItemType.Candidate) candidates.push(userOfItem(item));
    else if (item.type === RoleItemType.Parent) parents.push(String(item.parentId));
    else if (item.type === RoleItemType.Child) children.push(String(item.childId));
  }
  return { id, session, named, candidates, parents, children, events };
}

/**
 * The sort-key ranges of a role session's partition around its events (`EVENT#…`): its candidates and children
 * before them, its head, parent and people after (every sort key is upper-case ASCII).
 */
const BEFORE_EVENTS: readonly [string, string] = ["0", "EVENT"];
const AFTER_EVENTS: readonly [string, string] = ["EVENT$", "~"];

/** Attributes a summary needs: no payload. */
const SUMMARY_ATTRIBUTES = [
  "type",
  "kind",
  "sourceIp",
  "accountId",
  "roleName",
  "sessionName",
  "creationDate",
  "identityStoreId",
  "userId",
  "parentId",
  "childId",
  "accessKeyId",
  "issuedAccessKeyId",
  "readOnly",
  "errorCode",
];

const MAX_CHAIN_DEPTH = 5;

/**
 * The read side of role sessions. Attribution and links are computed here from stored items, every time, so
 * that events arriving in any order, late or twice, give the same answer.
 */
export class RoleQueries {
  constructor(
    private readonly store: TableStore,
    private readonly timeline: TimelineQueries,
  ) {}

  private async read(id: string, withPayloads: boolean): Promise<RoleSessionRead> {
    const items = await this.store.query(
      Keys.roleSessionPartition(id),
      withPayloads ? undefined : { attributes: SUMMARY_ATTRIBUTES },
    );
    return readOf(id, items);
  }

  /**
   * `heads`: the heads of sessions read for one answer (`headOf`), so that a chained session's parent is read
   * once for its attribution and its link.
   */
  private async attribution(read: RoleSessionRead, depth = 0, heads?: Heads): Promise<AttributionResult> {
    let parent: AttributionResult | undefined;
    if (read.named.length === 0 && read.parents.length > 0 && depth < MAX_CHAIN_DEPTH) {
      const [first] = [...read.parents].sort();
      // Its head says whose it is: its events, however many, are not read.
      if (first) parent = await this.attribution(await this.headOf(first, heads), depth + 1, heads);
    }
    // A name Identity Center did not set (a chained session's) matches nobody, whatever an earlier version stored.
    const byName = read.session !== undefined && namedByIdentityCenter(read.session);
    let matches = byName ? read.candidates : [];
    if (read.named.length === 0 && !parent?.user && matches.length === 0 && byName && read.session) {
      // No directory answered at ingestion: profiles stored since may know the name.
      matches = await this.timeline.findUsers(read.session.sessionName);
    }
    return attribute(read.named, parent, matches);
  }

  /**
   * The grant of `user` that issued the session, among their portal events around its creation (stored, or
   * `pending`: in the batch being stored). `person`: that person's events, read already (a report's).
   */
  private async link(
    session: RoleSessionKey,
    user: UserKey,
    pending: readonly AuditEvent[] = [],
    person?: PersonEvents,
  ): Promise<LinkResult> {
    const permissionSet = permissionSetOf(session.roleName);
    if (permissionSet === undefined) return { link: Link.Unlinked, grant: undefined };
    const created = Date.parse(session.creationDate);
    const range: [string, string] = [
      `${EVENT_SORT_PREFIX}${isoTime(created - PROBABLE_LINK_MS)}`,
      `${EVENT_SORT_PREFIX}${isoTime(created + PROBABLE_LINK_MS)}${SORT_END}`,
    ];
    // Loops, not arrows made per call: V8 would compile such arrows again after each full garbage collection
    // (docs/benchmarks.md).
    const key = userKeyString(user);
    const events = new Map<string, AuditEvent>();
    if (person?.holds(key, created - PROBABLE_LINK_MS, created + PROBABLE_LINK_MS)) {
      for (const event of person.between(...range)) events.set(event.eventId, event);
    } else {
      for (const item of await this.store.query(Keys.userPartition(user), { between: range })) {
        if (item.type !== ItemType.UserEvent) continue;
        const event = eventOf(item);
        events.set(event.eventId, event);
      }
    }
    for (const event of pending) {
      const owner = event.actor.user ?? event.actor.directoryUser;
      if (owner !== undefined && userKeyString(owner) === key) events.set(event.eventId, event);
    }
    const grants: ReturnType<typeof toGrant>[] = [];
    for (const event of events.values())
      if (isGrantOf(event, session.accountId, permissionSet)) grants.push(toGrant(event));
    return linkOf(session.creationDate, grants);
  }

  /** The view of a role session already read, with its attribution and link worked out. */
  private async view(
    read: RoleSessionRead,
    pending: readonly AuditEvent[] = [],
    person?: PersonEvents,
  ): Promise<{ view: RoleSessionView; user: UserKey | undefined }> {
    const session = read.session;
    const heads: Heads = new Map();
    const attribution = await this.attribution(read, 0, heads);
    let linked: LinkResult = { link: Link.Unlinked, grant: undefined };
    if (attribution.basis === Attribution.Parent) {
      const [parentId] = [...read.parents].sort();
      if (parentId) linked = await this.linkOfSession(parentId, pending, 0, heads, person);
    } else if (attribution.user && session) {
      linked = await this.link(session, attribution.user, pending, person);
    }
    const stats = statsOf(read.events);
    const view: RoleSessionView = {
      id: read.id,
      accountId: session?.accountId ?? "",
      roleName: session?.roleName ?? "",
      permissionSet: session ? (permissionSetOf(session.roleName) ?? null) : null,
      sessionName: session?.sessionName ?? "",
      creationDate: session?.creationDate ?? "",
      accessKeyIds: stats.accessKeyIds,
      link: linked.link,
      attribution: attribution.basis,
      candidates: [...attribution.candidates],
      credentialId: linked.grant?.credentialId ?? null,
      grantEventId: linked.grant?.eventId ?? null,
      parentId: [...read.parents].sort()[0] ?? null,
      childIds: [...read.children].sort(),
      firstSeen: stats.firstSeen,
      lastSeen: stats.lastSeen,
      eventCount: stats.eventCount,
      errorCount: stats.errorCount,
      writeCount: stats.writeCount,
    };
    return { view, user: attribution.user };
  }

  /**
   * What says whose a role session is and where it belongs, without its events: its candidates and children,
   * then its head, parent and people (two range queries around the events). A listing works out every session's
   * link from these and reads the events of the sessions it shows only (`withEvents`).
   */
  private async readHead(id: string): Promise<RoleSessionRead> {
    const partition = Keys.roleSessionPartition(id);
    const [before, after] = await Promise.all([
      this.store.query(partition, { between: BEFORE_EVENTS, attributes: SUMMARY_ATTRIBUTES }),
      this.store.query(partition, { between: AFTER_EVENTS, attributes: SUMMARY_ATTRIBUTES }),
    ]);
    return readOf(id, [...before, ...after]);
  }

  /** `readHead`, once per session in `heads` when given. */
  private headOf(id: string, heads?: Heads): Promise<RoleSessionRead> {
    if (!heads) return this.readHead(id);
    let head = heads.get(id);
    if (!head) {
      head = this.readHead(id);
      heads.set(id, head);
    }
    return head;
  }

  /** A view worked out from its session's head (`readHead`), with the figures of its events read now. */
  private async withEvents(view: RoleSessionView): Promise<RoleSessionView> {
    return { ...view, ...statsOf(readOf(view.id, await this.eventsBetween(view.id)).events) };
  }

  private async linkOfSession(
    id: string,
    pending: readonly AuditEvent[] = [],
    depth = 0,
    heads?: Heads,
    person?: PersonEvents,
  ): Promise<LinkResult> {
    const read = await this.headOf(id, heads);
    const attribution = await this.attribution(read, 0, heads);
    if (attribution.basis === Attribution.Parent && depth < MAX_CHAIN_DEPTH) {
      const [parentId] = [...read.parents].sort();
      if (parentId) return this.linkOfSession(parentId, pending, depth + 1, heads, person);
    }
    if (!attribution.user || !read.session) return { link: Link.Unlinked, grant: undefined };
    return this.link(read.session, attribution.user, pending, person);
  }

  /** A role session's summary, or undefined when nothing of it is stored. */
  async summary(id: string): Promise<RoleSessionView | undefined> {
    return (await this.summaryAndPerson(id))?.view;
  }

  /** `summary`, with the person it is attributed to, from one read of the session. */
  private async summaryAndPerson(
    id: string,
    person?: PersonEvents,
  ): Promise<{ view: RoleSessionView; user: UserKey | undefined } | undefined> {
    const read = await this.read(id, false);
    if (!read.session && read.events.length === 0) return undefined;
    return this.view(read, [], person);
  }

  /**
   * `role-session ID`: the session, its person, its portal session and its events in time order. `page`: only
   * the events from `offset`, `limit` of them (the API's page), whose payloads alone are read: a session of
   * thousands of calls is summed up from its events without their payloads, as a listing is.
   */
  async roleSession(
    id: string,
    page?: { readonly offset: number; readonly limit: number },
  ): Promise<RoleSessionDetail | undefined> {
    const read = await this.read(id, page === undefined);
    if (!read.session && read.events.length === 0) return undefined;
    const { view, user } = await this.view(read);
    const profile = user ? ((await this.timeline.profiles([user])).get(userKeyString(user)) ?? null) : null;
    const session = read.session;
    let withPayloads = read;
    if (page !== undefined) {
      // Event items sort by time, then id (`EVENT#<time>#<id>`), as `payloads` sorts them.
      const keys = read.events.slice(page.offset, page.offset + page.limit).map(({ pk, sk }) => ({ pk, sk }));
      withPayloads = { ...read, events: await this.store.getAll(keys) };
    }
    const events = session ? payloads(withPayloads, session).map(toRoleTimelineEvent) : [];
    return { roleSession: view, user: profile, credentialId: view.credentialId, events };
  }

  /**
   * What detections judge a role session on: its stored calls, its person and its portal session. A session with
   * no call is not worth linking (nothing to judge); one not linked to a portal session of a known person has
   * nothing to compare its addresses with. `expectUnlinked` (the caller found it unlinked last time): its calls
   * are read only if it now links (`linkOf`), so that a session that stays unlinked is not read whole at every
   * batch holding one of its calls (2,000 calls in batches of ten read some 200,000 items); else the session is
   * read in one request, as a linked one needs. Either way the answer is the stored data's. `pending`: Identity
   * Center events of the batch being stored, not committed yet (a grant among them links).
   */
  async linkedCalls(
    id: string,
    pending: readonly AuditEvent[] = [],
    expectUnlinked = false,
  ): Promise<RoleLinkOf<{ readonly calls: JudgedCall[] }>> {
    if (expectUnlinked) {
      const link = await this.linkOf(id, pending);
      if (link.status !== "linked") return link;
      const calls = await this.callsBetween(id);
      return calls.length === 0 ? { status: "no-calls" } : { ...link, calls };
    }
    const head = await this.read(id, false);
    const calls = callsOf(head.events);
    const session = head.session;
    if (calls.length === 0 || !session) return { status: "no-calls" };
    const { view, user } = await this.view(head, pending);
    if (!user || view.credentialId === null)
      return { status: "unlinked", user, creationDate: session.creationDate };
    return { status: "linked", accountId: session.accountId, user, credentialId: view.credentialId, calls };
  }

  /**
   * `linkedCalls` without the calls: what says whose the session is and which portal session it is linked to,
   * read without its events (its head, parent and people; its candidates unless an event names the person).
   * `no-calls` here: nothing of the session's head is stored.
   */
  async linkOf(id: string, pending: readonly AuditEvent[] = []): Promise<RoleLinkOf> {
    const partition = Keys.roleSessionPartition(id);
    const after = await this.store.query(partition, {
      between: AFTER_EVENTS,
      attributes: SUMMARY_ATTRIBUTES,
    });
    const named = after.some((item) => item.type === RoleItemType.User);
    const before = named
      ? []
      : await this.store.query(partition, { between: BEFORE_EVENTS, attributes: SUMMARY_ATTRIBUTES });
    const head = readOf(id, [...before, ...after]);
    const session = head.session;
    if (!session) return { status: "no-calls" };
    const { view, user } = await this.view(head, pending);
    if (!user || view.credentialId === null)
      return { status: "unlinked", user, creationDate: session.creationDate };
    return { status: "linked", accountId: session.accountId, user, credentialId: view.credentialId };
  }

  /**
   * The session's calls made from the time `from` to the time `to`, each a prefix of ISO times (`2026-07-01T10:23`
   * is the minute from 10:23; none: from the first call, to the last), their times and addresses without
   * their payloads: a long session is judged by the time around a batch's calls.
   */
  async callsBetween(id: string, from = "", to = ""): Promise<JudgedCall[]> {
    return callsOf(await this.eventsBetween(id, from, to));
  }

  /** The session's event items from `from` to `to` (`callsBetween`'s prefixes), without their payloads. */
  private eventsBetween(id: string, from = "", to = ""): Promise<Item[]> {
    return this.store.query(Keys.roleSessionPartition(id), {
      between: [`${EVENT_SORT_PREFIX}${from}`, `${EVENT_SORT_PREFIX}${to}${SORT_END}`],
      attributes: SUMMARY_ATTRIBUTES,
    });
  }

  /** Role sessions of a person created within the link window of these times (their grants). */
  async idsNear(user: UserKey, times: readonly number[]): Promise<string[]> {
    const indexed = await this.indexedNear(user, times, ["roleSessionId"]);
    return [...new Set(indexed.map((item) => String(item.roleSessionId)))];
  }

  /** A person's role-session index entries created within the link window of these times. */
  private async indexedNear(
    user: UserKey,
    times: readonly number[],
    attributes?: readonly string[],
  ): Promise<Item[]> {
    if (times.length === 0) return [];
    return this.store.query(Keys.userPartition(user), {
      between: [
        `${USER_ROLE_SESSION_PREFIX}${isoTime(Math.min(...times) - PROBABLE_LINK_MS)}`,
        `${USER_ROLE_SESSION_PREFIX}${isoTime(Math.max(...times) + PROBABLE_LINK_MS)}${SORT_END}`,
      ],
      ...(attributes ? { attributes } : {}),
    });
  }

  /** These role sessions and every session chained from them (`sts:AssumeRole`), a few levels deep. */
  async withDescendants(ids: readonly string[]): Promise<string[]> {
    const all = new Set(ids);
    let frontier = [...all];
    for (let depth = 0; depth < MAX_CHAIN_DEPTH && frontier.length > 0; depth += 1) {
      const children = await mapLimit(frontier, 8, (id) =>
        this.store.query(Keys.roleSessionPartition(id), { prefix: "CHILD#", attributes: ["childId"] }),
      );
      frontier = children
        .flat()
        .map((item) => String(item.childId))
        .filter((id) => !all.has(id));
      for (const id of frontier) all.add(id);
    }
    return [...all];
  }

  /** `access-key ASIA…`: the person, their portal session and the sign-in that opened it. */
  async accessKey(accessKeyId: string): Promise<AccessKeyAnswer | undefined> {
    const items = await this.store.query(Keys.accessKeyPartition(accessKeyId));
    const ids = [...new Set(items.map((item) => String(item.roleSessionId)))].sort();
    const views = (await mapLimit(ids, 4, (id) => this.summaryAndPerson(id))).flatMap((entry) =>
      entry ? [entry] : [],
    );
    // A key is one session's; should AWS ever reuse one, the latest session is the likelier answer.
    const latest = views.sort((a, b) => (a.view.creationDate < b.view.creationDate ? 1 : -1))[0];
    if (!latest) return undefined;
    const { view: roleSession, user } = latest;
    const profile = user ? ((await this.timeline.profiles([user])).get(userKeyString(user)) ?? null) : null;
    const signIn = roleSession.credentialId
      ? signInOf(await this.timeline.session(roleSession.credentialId), roleSession.creationDate)
      : null;
    return {
      accessKeyId,
      roleSession,
      roleSessionIds: ids,
      user: profile,
      credentialId: roleSession.credentialId,
      signIn,
    };
  }

  /** Role sessions a portal session's grants issued, chained sessions included, by creation time. */
  async ofPortalSession(timeline: SessionTimeline): Promise<RoleSessionView[]> {
    const owner = timeline.user;
    // An unresolved name's inferred session has no person to hold role sessions (nor grants: old shape).
    if (!owner || owner.userId === null) return [];
    const user = { identityStoreId: owner.identityStoreId, userId: owner.userId };
    const grants = timeline.events.filter((event) => isGrant(event) && event.accountId);
    if (grants.length === 0) return [];
    const times = grants.map((event) => Date.parse(event.eventTime));
    const indexed = await this.indexedNear(user, times);
    const targets = new Set(grants.map((event) => `${event.accountId}\u0000${event.roleName}`));
    const ids = indexed
      .filter((item) => targets.has(`${String(item.accountId)}\u0000${String(item.permissionSet)}`))
      .map((item) => String(item.roleSessionId));
    const person = ids.length > 0 ? await this.eventsAround(user, times) : undefined;
    const views = await this.viewsOf(ids, true, person);
    const linked = views.filter((view) => view.credentialId === timeline.credentialId);
    return this.withChildren(linked, true, person);
  }

  /**
   * The person's events within two link windows of these times: every session found near them (`indexedNear`,
   * created within one window) links from these (`link`, one window around its creation), in one query where
   * a query each would read the same events piecemeal.
   */
  private async eventsAround(user: UserKey, times: readonly number[]): Promise<PersonEvents> {
    const from = Math.min(...times) - 2 * PROBABLE_LINK_MS;
    const to = Math.max(...times) + 2 * PROBABLE_LINK_MS;
    const items = await this.store.query(Keys.userPartition(user), {
      between: [`${EVENT_SORT_PREFIX}${isoTime(from)}`, `${EVENT_SORT_PREFIX}${isoTime(to)}${SORT_END}`],
    });
    const events: AuditEvent[] = [];
    for (const item of items) if (item.type === ItemType.UserEvent) events.push(eventOf(item));
    return new PersonEvents(user, events, [from, to]);
  }

  async sessionWithRoles(credentialId: string): Promise<SessionWithRoles> {
    const timeline = await this.timeline.session(credentialId);
    return { ...timeline, roleSessions: await this.ofPortalSession(timeline) };
  }

  /**
   * `read`: the person's timeline when the caller has read it already (the API does, for its own facts).
   * `page`: that page of the report (`RoleSessionsPage`); every role session of the person is still placed (the
   * counts and the page's lists need it), from its head alone, and the events of those the page lists are read.
   * With no page, every role session is read whole.
   */
  async userWithRoles(user: UserKey, read?: UserTimeline, page?: RoleSessionsPage): Promise<UserWithRoles> {
    const [timeline, indexed] = await Promise.all([
      read ?? this.timeline.readUser(user),
      this.indexedOf(user),
    ]);
    const report = this.timeline.reportOf(timeline);
    // A page that will list every role session reads each whole, in one query, where its head and then its calls
    // would take three: most people's report is one page.
    const whole =
      page === undefined ||
      (page.offset === 0 && report.sessions.length <= page.limit && indexed.length <= page.limit);
    // The person's grants are in their timeline, read above: each of their sessions is linked from it.
    const person = new PersonEvents(user, timeline.events);
    const roleSessions = await this.viewsOfUser(user, indexed, whole, person);
    const byPortalSession = new Map<string, RoleSessionView[]>();
    const parents = new Map(roleSessions.map((view) => [view.id, view]));
    // A chained session belongs where the session it came from does.
    const portalSessionOf = (view: RoleSessionView, depth = 0): string | null => {
      const parent = view.parentId ? parents.get(view.parentId) : undefined;
      if (view.credentialId !== null || !parent || depth >= MAX_CHAIN_DEPTH) return view.credentialId;
      return portalSessionOf(parent, depth + 1);
    };
    const unlinked: RoleSessionView[] = [];
    for (const view of roleSessions) {
      const portal = portalSessionOf(view);
      if (portal === null) unlinked.push(view);
      else appendTo(byPortalSession, portal, view);
    }
    const known = new Set(report.sessions.map((session) => session.credentialId));
    for (const [portal, views] of byPortalSession) if (!known.has(portal)) unlinked.push(...views);
    unlinked.sort(byCreation);
    let sessions = report.sessions;
    let unlinkedListed = unlinked;
    if (page !== undefined) {
      sessions = sessions.slice(page.offset, page.offset + page.limit);
      unlinkedListed = unlinked.slice(page.offset, page.offset + page.limit);
    }
    if (!whole && page !== undefined) {
      // Their figures, from their events: only for the role sessions this page lists.
      const listed = new Set(unlinkedListed);
      for (const session of sessions)
        for (const view of byPortalSession.get(session.credentialId) ?? []) listed.add(view);
      const complete = new Map(
        (await mapLimit([...listed], 8, (view) => this.withEvents(view))).map((view) => [view.id, view]),
      );
      const completed = (views: readonly RoleSessionView[]) =>
        views.map((view) => complete.get(view.id) ?? view);
      unlinkedListed = completed(unlinkedListed);
      for (const [portal, views] of byPortalSession) byPortalSession.set(portal, completed(views));
    }
    return {
      ...report,
      roleSessionCount: roleSessions.length,
      sessionCount: report.sessions.length,
      sessions: sessions.map((session) => ({
        ...session,
        roleSessions: byPortalSession.get(session.credentialId) ?? [],
      })),
      unlinkedRoleSessions: unlinkedListed,
      unlinkedRoleSessionCount: unlinked.length,
    };
  }

  /**
   * `user VALUE` for a sign-in name only events waiting for a name → user mapping carry: their inferred
   * sessions, labelled unresolved. No role session: those are attributed to people, never to bare names.
   */
  async unresolvedName(userName: string, read?: readonly AuditEvent[]): Promise<UserWithRoles | undefined> {
    const report = await this.timeline.unresolvedName(userName, read);
    if (!report) return undefined;
    return {
      ...report,
      roleSessionCount: 0,
      sessionCount: report.sessions.length,
      sessions: report.sessions.map((session) => ({ ...session, roleSessions: [] })),
      unlinkedRoleSessions: [],
      unlinkedRoleSessionCount: 0,
    };
  }

  /** The role sessions a person's index names (`Keys.userRoleSession`), each once. */
  private async indexedOf(user: UserKey): Promise<string[]> {
    const indexed = await this.store.query(Keys.userPartition(user), { prefix: USER_ROLE_SESSION_PREFIX });
    return [...new Set(indexed.map((item) => String(item.roleSessionId)))];
  }

  /**
   * A person's role sessions among those their index names: those that named them, or whose name only they match.
   * `withEvents` false: worked out from their heads alone (`readHead`), their figures from events zero until
   * `withEvents` reads them.
   */
  private async viewsOfUser(
    user: UserKey,
    ids: readonly string[],
    withEvents: boolean,
    person: PersonEvents,
  ): Promise<RoleSessionView[]> {
    const key = userKeyString(user);
    const reads = await mapLimit(ids, 8, (id) => (withEvents ? this.read(id, false) : this.readHead(id)));
    const views = await mapLimit(reads, 8, (read) => this.view(read, [], person));
    const own = views
      .filter((entry) => entry.user !== undefined && userKeyString(entry.user) === key)
      .map((entry) => entry.view);
    return this.withChildren(own, withEvents, person);
  }

  /** `withEvents` false: from their heads alone, as `viewsOfUser`'s. `person`: as `link`'s. */
  private async viewsOf(
    ids: readonly string[],
    withEvents = true,
    person?: PersonEvents,
  ): Promise<RoleSessionView[]> {
    const views = await mapLimit([...new Set(ids)], 8, async (id) => {
      if (withEvents) return (await this.summaryAndPerson(id, person))?.view;
      const head = await this.readHead(id);
      // Events with no head (not written by this version): read whole, as `summary` does.
      return head.session
        ? (await this.view(head, [], person)).view
        : (await this.summaryAndPerson(id, person))?.view;
    });
    return views.flatMap((view) => (view ? [view] : []));
  }

  /** Adds the sessions chained from these (they carry no person of their own), each once, by creation. */
  private async withChildren(
    views: readonly RoleSessionView[],
    withEvents = true,
    person?: PersonEvents,
  ): Promise<RoleSessionView[]> {
    const all = new Map(views.map((view) => [view.id, view]));
    let frontier = views.flatMap((view) => view.childIds).filter((id) => !all.has(id));
    for (let depth = 0; depth < MAX_CHAIN_DEPTH && frontier.length > 0; depth += 1) {
      const children = await this.viewsOf(frontier, withEvents, person);
      for (const child of children) all.set(child.id, child);
      frontier = children.flatMap((view) => view.childIds).filter((id) => !all.has(id));
    }
    return [...all.values()].sort(byCreation);
  }
}

function byCreation(a: RoleSessionView, b: RoleSessionView): number {
  if (a.creationDate !== b.creationDate) return a.creationDate < b.creationDate ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function isGrantOf(event: AuditEvent, accountId: string, permissionSet: string): boolean {
  return isGrant(event) && event.accountId === accountId && event.roleName === permissionSet;
}

function toGrant(event: AuditEvent): Grant {
  return {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventName: event.eventName,
    credentialId: event.credentialId,
  };
}

/** The figures of a role session's view that its events give (all of them, without their payloads). */
function statsOf(
  events: readonly Item[],
): Pick<
  RoleSessionView,
  "accessKeyIds" | "firstSeen" | "lastSeen" | "eventCount" | "errorCount" | "writeCount"
> {
  const keys = new Set<string>();
  let errorCount = 0;
  let writeCount = 0;
  for (const item of events) {
    if (typeof item.accessKeyId === "string") keys.add(item.accessKeyId);
    if (typeof item.issuedAccessKeyId === "string") keys.add(item.issuedAccessKeyId);
    if (item.errorCode !== undefined) errorCount += 1;
    if (item.readOnly === false) writeCount += 1;
  }
  const times: string[] = [];
  for (const item of events) times.push(eventTimeOfSortKey(item.sk));
  times.sort();
  return {
    accessKeyIds: [...keys].sort(),
    firstSeen: times[0] ?? null,
    lastSeen: times[times.length - 1] ?? null,
    eventCount: events.length,
    errorCount,
    writeCount,
  };
}

/** `EVENT#<time>#<eventId>` → `<time>`. */
function eventTimeOfSortKey(sortKey: string): string {
  return sortKey.slice(EVENT_SORT_PREFIX.length, sortKey.lastIndexOf("#"));
}

function payloads(read: RoleSessionRead, session: RoleSessionKey | undefined): RoleEvent[] {
  if (!session) return [];
  return read.events
    .filter((item) => item.data !== undefined)
    .map((item) => roleEventOf(item, session))
    .sort(byTimeThenId);
}

function toRoleTimelineEvent(event: RoleEvent): RoleTimelineEvent {
  return {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventSource: event.eventSource,
    eventName: event.eventName,
    kind: event.kind,
    readOnly: event.readOnly ?? null,
    errorCode: event.errorCode ?? null,
    sourceIp: event.sourceIp ?? null,
    userAgent: event.userAgent ?? null,
    region: event.region ?? null,
    accountId: event.accountId,
    accessKeyId: event.accessKeyId ?? null,
    issuedAccessKeyId: event.issuedAccessKeyId ?? null,
    resources: event.resources ?? [],
    chainedRoleSessionId: event.chained ? roleSessionId(event.chained.session) : null,
    onBehalfOf: event.user !== undefined,
  };
}

/**
 * The sign-in that opened a portal session: its last successful `UserAuthentication` at or before the role
 * session was created (else its first), with the factors used.
 */
function signInOf(timeline: SessionTimeline, before: string): SignInSummary | null {
  const signIns = timeline.events.filter(
    (event) => event.eventName === "UserAuthentication" && event.outcome === "success",
  );
  const chosen = [...signIns].reverse().find((event) => event.eventTime <= before) ?? signIns[0];
  if (!chosen) return null;
  return {
    eventTime: chosen.eventTime,
    sourceIp: chosen.sourceIp,
    credentialTypes: (chosen.credentialType ?? "").split(",").filter((factor) => factor.length > 0),
  };
}
