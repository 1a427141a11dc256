import type { ExternalId, UserProfile } from "../identity/port.ts";
import { userKeyString } from "../identity/port.ts";
import { type AuditEvent, byTimeThenId, type Resolution, type UserKey } from "../normalize/types.ts";
import { eventOf, ItemType, type ProfileStatus, userOfItem } from "./items.ts";
import {
  AliasKind,
  aliasSortPrefix,
  eventsOfDayPrefix,
  FAILED_PARTITION,
  Keys,
  linkDay,
  PENDING_EVENT_PREFIX,
  SORT_END,
} from "./keys.ts";
import { type Item, mapLimit, type TableStore } from "./store.ts";

/** A user as every query prints it. */
export interface UserView {
  readonly userId: string;
  readonly identityStoreId: string;
  readonly userName: string | null;
  readonly displayName: string | null;
  readonly emails: readonly string[];
  readonly externalIds: readonly ExternalId[];
  /** `enriched`, `deleted` (the directory no longer knows the user) or `unenriched` (no directory answer). */
  readonly status: ProfileStatus;
}

/** One event of a timeline, as printed. */
export interface TimelineEvent {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventSource: string;
  readonly eventName: string;
  readonly category: string;
  readonly outcome: string;
  readonly credentialType: string | null;
  readonly sourceIp: string | null;
  readonly userAgent: string | null;
  readonly accountId: string | null;
  readonly roleName: string | null;
  readonly authWorkflowId: string | null;
  readonly credentialId: string | null;
  readonly errorCode: string | null;
  readonly region: string | null;
  readonly shape: string;
  readonly resolution?: Resolution;
}

/**
 * A sign-in name that only old-shape events waiting for a name → user mapping carry (ingested with no
 * directory, or one that does not know the name): no person is known yet. The same fields as `UserView`, so
 * `user --json` keeps one shape; the ids are `null` and `status` says why. Those events move to the person as
 * soon as a transitional event (or the directory) teaches the mapping, and the name then answers the person.
 */
export interface UnresolvedUserView {
  readonly userId: null;
  readonly identityStoreId: null;
  /** The name as it was asked for. */
  readonly userName: string;
  readonly displayName: null;
  readonly emails: readonly string[];
  readonly externalIds: readonly ExternalId[];
  readonly status: "unresolved";
}

/** Whom a report is about: a person, or a name no person is known for yet. */
export type ReportedUser = UserView | UnresolvedUserView;

export function unresolvedUserView(userName: string): UnresolvedUserView {
  return {
    userId: null,
    identityStoreId: null,
    userName,
    displayName: null,
    emails: [],
    externalIds: [],
    status: "unresolved",
  };
}

export interface SessionTimeline {
  readonly credentialId: string;
  readonly user: ReportedUser | null;
  readonly events: TimelineEvent[];
}

export interface SessionSummary {
  readonly credentialId: string;
  /** True for a group of events that carried no session id (old shape, failed sign-ins), split by idle time. */
  readonly inferred: boolean;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly eventCount: number;
  readonly sourceIps: string[];
}

export interface UserTimeline {
  readonly view: UserView;
  readonly events: AuditEvent[];
}

export interface UserReport {
  readonly user: ReportedUser;
  readonly eventCount: number;
  readonly sessions: SessionSummary[];
}

export interface FailedSignIn {
  readonly eventId: string;
  readonly eventTime: string;
  readonly sourceIp: string | null;
  readonly userId: string | null;
  readonly identityStoreId: string | null;
  readonly userName: string | null;
  readonly credentialType: string | null;
  readonly authWorkflowId: string | null;
}

/** Sessionless events further apart than this start a new inferred session. */
export const INFERRED_SESSION_IDLE_MS = 60 * 60 * 1000;
export const INFERRED_PREFIX = "inferred:";

/** Whose events an inferred session groups: a person, or a sign-in name waiting for its person. */
export type InferredOwner = UserKey | { readonly unresolvedName: string };

/** Stands where an identity store id would (`d-…`): an inferred session of an unresolved name. */
const NAME_OWNER = "NAME";

/**
 * `inferred:<first eventId>:<identityStoreId>:<userId>`: an inferred session exists only within one person's
 * timeline, so its id names the person, and reading it back needs nothing but their partition. An unresolved
 * name's: `inferred:<first eventId>:NAME:<lower-case name>`, read back from the events waiting for that name.
 */
export function inferredSessionId(owner: InferredOwner, firstEventId: string): string {
  if ("unresolvedName" in owner)
    return `${INFERRED_PREFIX}${firstEventId}:${NAME_OWNER}:${owner.unresolvedName.toLowerCase()}`;
  return `${INFERRED_PREFIX}${firstEventId}:${owner.identityStoreId}:${owner.userId}`;
}

function ownerOfInferredSession(credentialId: string): InferredOwner | undefined {
  const [eventId, identityStoreId, ...rest] = credentialId.slice(INFERRED_PREFIX.length).split(":");
  const userId = rest.join(":");
  if (!eventId || !identityStoreId || !userId) return undefined;
  if (identityStoreId === NAME_OWNER) return { unresolvedName: userId };
  return { identityStoreId, userId };
}

export { byTimeThenId };

export function toTimelineEvent(event: AuditEvent, resolution?: Resolution): TimelineEvent {
  return {
    eventId: event.eventId,
    eventTime: event.eventTime,
    eventSource: event.eventSource,
    eventName: event.eventName,
    category: event.category,
    outcome: event.outcome,
    credentialType: event.credentialType ?? null,
    sourceIp: event.sourceIp ?? null,
    userAgent: event.userAgent ?? null,
    accountId: event.accountId ?? null,
    roleName: event.roleName ?? null,
    authWorkflowId: event.authWorkflowId ?? null,
    credentialId: event.credentialId ?? null,
    errorCode: event.errorCode ?? null,
    region: event.region ?? null,
    shape: event.shape,
    ...(resolution ? { resolution } : {}),
  };
}

function userView(user: UserKey, profileItem: Item | undefined): UserView {
  const profile =
    profileItem?.profile !== undefined ? (JSON.parse(String(profileItem.profile)) as UserProfile) : undefined;
  return {
    userId: user.userId,
    identityStoreId: user.identityStoreId,
    userName: profile?.userName ?? null,
    displayName: profile?.displayName ?? null,
    emails: profile?.emails ?? [],
    externalIds: profile?.externalIds ?? [],
    status: (profileItem?.status as ProfileStatus | undefined) ?? "unenriched",
  };
}

/** The read side: every answer is one `Query` (plus a `BatchGetItem` of profiles), never a `Scan`. */
export class TimelineQueries {
  constructor(private readonly store: TableStore) {}

  async profiles(users: readonly UserKey[]): Promise<Map<string, UserView>> {
    const items = await this.store.getAll(users.map((user) => Keys.userProfile(user)));
    const byKey = new Map(items.map((item) => [userKeyString(userOfItem(item)), item]));
    return new Map(
      users.map((user) => [userKeyString(user), userView(user, byKey.get(userKeyString(user)))]),
    );
  }

  /** A portal session's events in time order: those carrying its id and those of its sign-in workflows. */
  async session(credentialId: string): Promise<SessionTimeline> {
    if (credentialId.startsWith(INFERRED_PREFIX)) return this.inferredSession(credentialId);
    const items = await this.store.query(Keys.sessionPartition(credentialId));
    const events = await this.eventsWithLinks(items, (event) => event.credentialId === credentialId);
    const owner = sessionOwner(events);
    const user = owner ? ((await this.profiles([owner])).get(userKeyString(owner)) ?? null) : null;
    return { credentialId, user, events: events.map((event) => toTimelineEvent(event)) };
  }

  /** An inferred session is named by its user and first event; it is recomputed from that user's timeline. */
  private async inferredSession(credentialId: string): Promise<SessionTimeline> {
    const owner = ownerOfInferredSession(credentialId);
    if (owner === undefined) return { credentialId, user: null, events: [] };
    const { view, events } =
      "unresolvedName" in owner
        ? {
            view: unresolvedUserView(owner.unresolvedName),
            events: await this.readUnresolvedName(owner.unresolvedName),
          }
        : await this.readUser(owner);
    const group = groupSessions(owner, events).find((candidate) => candidate.credentialId === credentialId);
    if (!group) return { credentialId, user: null, events: [] };
    return { credentialId, user: view, events: group.events.map((entry) => toTimelineEvent(entry)) };
  }

  /**
   * Old-shape events that name `userName` and still wait for a name → user mapping, in time order. Only
   * authenticated events' own sign-in names are ever stored there (see `Pipeline`), never a typed one.
   */
  async readUnresolvedName(userName: string): Promise<AuditEvent[]> {
    const items = await this.store.query(Keys.pendingNamePartition(userName), {
      prefix: PENDING_EVENT_PREFIX,
    });
    return items.map(eventOf).sort(byTimeThenId);
  }

  /**
   * The report of a name no person is known for yet, from the events waiting for it (grouped into inferred
   * sessions like any old-shape events), or `undefined` when no event waits for it.
   */
  async unresolvedName(userName: string, read?: readonly AuditEvent[]): Promise<UserReport | undefined> {
    const events = read ?? (await this.readUnresolvedName(userName));
    if (events.length === 0) return undefined;
    return this.summarize(unresolvedUserView(userName), { unresolvedName: userName }, events);
  }

  /** Users a lookup value names: user id, sign-in name or email (any case). */
  async findUsers(value: string): Promise<UserKey[]> {
    const items = await this.store.query(Keys.aliasPartition(value));
    return distinctUsers(
      items.filter((item) => item.kind !== AliasKind.ExternalId || item.source === "directory"),
    );
  }

  /** Users an external id (Okta, Entra, AD …) names, optionally only from one issuer. */
  async findUsersByExternalId(id: string, issuer?: string): Promise<UserKey[]> {
    const items = await this.store.query(Keys.aliasPartition(id), {
      prefix: aliasSortPrefix(AliasKind.ExternalId, issuer),
    });
    return distinctUsers(issuer === undefined ? items : items.filter((item) => item.issuer === issuer));
  }

  /** One read of a person's partition: their profile and every event attributed to them, in time order. */
  async readUser(user: UserKey): Promise<UserTimeline> {
    const items = await this.store.query(Keys.userPartition(user));
    const profile = items.find((item) => item.type === ItemType.Profile);
    const events = items
      .filter((item) => item.type === ItemType.UserEvent)
      .map(eventOf)
      .sort(byTimeThenId);
    return { view: userView(user, profile), events };
  }

  /** A person's sessions across all eras, with inferred sessions for events that carry no session id. */
  async user(user: UserKey): Promise<UserReport> {
    return this.reportOf(await this.readUser(user));
  }

  /** The user report of a partition already read (callers that need more from the same read use this). */
  reportOf({ view, events }: UserTimeline): UserReport {
    return this.summarize(view, view, events);
  }

  private summarize(user: ReportedUser, owner: InferredOwner, events: readonly AuditEvent[]): UserReport {
    const sessions = groupSessions(owner, events).map(({ credentialId, inferred, events: members }) => ({
      credentialId,
      inferred,
      firstSeen: members[0]?.eventTime ?? "",
      lastSeen: members[members.length - 1]?.eventTime ?? "",
      eventCount: members.length,
      sourceIps: [...new Set(members.flatMap((event) => (event.sourceIp ? [event.sourceIp] : [])))].sort(),
    }));
    sessions.sort((a, b) =>
      a.firstSeen !== b.firstSeen
        ? a.firstSeen < b.firstSeen
          ? -1
          : 1
        : a.credentialId < b.credentialId
          ? -1
          : 1,
    );
    return { user, eventCount: events.length, sessions };
  }

  /** Failed `CredentialVerification`s in a time range, each with the person the sign-in workflow names. */
  async failedSignIns(since?: string, until?: string): Promise<FailedSignIn[]> {
    const items = await this.store.query(FAILED_PARTITION, {
      between: [since ?? "", `${until ?? "9999"}${SORT_END}`],
    });
    const failures = items.filter((item) => item.type === ItemType.FailedSignIn).map(eventOf);
    const usersByEvent = new Map<string, UserKey[]>();
    for (const item of items) {
      if (item.type !== ItemType.FailedSignInUser) continue;
      const list = usersByEvent.get(String(item.eventId)) ?? [];
      list.push(userOfItem(item));
      usersByEvent.set(String(item.eventId), list);
    }
    const firstUser = (eventId: string) =>
      (usersByEvent.get(eventId) ?? []).sort((a, b) => (userKeyString(a) < userKeyString(b) ? -1 : 1))[0];
    const people = failures.flatMap((event) => {
      const user = firstUser(event.eventId);
      return user ? [user] : [];
    });
    const profiles = await this.profiles(people);
    return failures.sort(byTimeThenId).map((event) => {
      const user = firstUser(event.eventId);
      return {
        eventId: event.eventId,
        eventTime: event.eventTime,
        sourceIp: event.sourceIp ?? null,
        userId: user?.userId ?? null,
        identityStoreId: user?.identityStoreId ?? null,
        userName: user ? (profiles.get(userKeyString(user))?.userName ?? null) : null,
        credentialType: event.credentialType ?? null,
        authWorkflowId: event.authWorkflowId ?? null,
      };
    });
  }

  /** Every event seen from one source address, in time order. */
  async address(sourceIp: string): Promise<TimelineEvent[]> {
    return (await this.readAddress(sourceIp)).map((event) => toTimelineEvent(event));
  }

  /** One read of an address's partition, as stored events in time order (callers needing more than the timeline). */
  async readAddress(sourceIp: string): Promise<AuditEvent[]> {
    const items = await this.store.query(Keys.addressPartition(sourceIp));
    return this.eventsWithLinks(items, (event) => event.sourceIp === sourceIp);
  }

  /**
   * The events of a session or address partition: the ones stored there, and through each link, the linked
   * person's events of that day that `belongs` accepts. In time order, each event once.
   */
  private async eventsWithLinks(
    items: readonly Item[],
    belongs: (event: AuditEvent) => boolean,
  ): Promise<AuditEvent[]> {
    const events = new Map<string, AuditEvent>();
    const links: Item[] = [];
    for (const item of items) {
      if (item.type === ItemType.SessionLink || item.type === ItemType.AddressLink) links.push(item);
      else {
        const event = eventOf(item);
        events.set(event.eventId, event);
      }
    }
    const days = await mapLimit(links, 4, (link) =>
      this.store.query(Keys.userPartition(userOfItem(link)), {
        prefix: eventsOfDayPrefix(linkDay(link.sk)),
      }),
    );
    for (const item of days.flat()) {
      if (item.type !== ItemType.UserEvent) continue;
      const event = eventOf(item);
      if (belongs(event)) events.set(event.eventId, event);
    }
    return [...events.values()].sort(byTimeThenId);
  }
}

function distinctUsers(items: readonly Item[]): UserKey[] {
  const users = new Map<string, UserKey>();
  for (const item of items) {
    const user = userOfItem(item);
    users.set(userKeyString(user), user);
  }
  return [...users.values()].sort((a, b) => (userKeyString(a) < userKeyString(b) ? -1 : 1));
}

/** The person a session belongs to: the user its own events name, most often. */
function sessionOwner(events: readonly AuditEvent[]): UserKey | undefined {
  const counts = new Map<string, { user: UserKey; count: number }>();
  for (const event of events) {
    const user = event.actor.user;
    if (!user) continue;
    const key = userKeyString(user);
    const entry = counts.get(key) ?? { user, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return [...counts.entries()].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1))[0]?.[1].user;
}

interface SessionGroup {
  readonly credentialId: string;
  readonly inferred: boolean;
  readonly events: AuditEvent[];
}

/**
 * Groups a user's events into sessions. Events with a session id join it; sign-in steps join the session
 * their workflow opened; everything else forms inferred sessions, split after an idle hour. Computed on read
 * from the full set, so it cannot depend on the order events arrived in.
 */
export function groupSessions(owner: InferredOwner, events: readonly AuditEvent[]): SessionGroup[] {
  const sessionOfWorkflow = new Map<string, string>();
  for (const event of events) {
    if (event.credentialId && event.authWorkflowId) {
      const current = sessionOfWorkflow.get(event.authWorkflowId);
      if (current === undefined || event.credentialId < current)
        sessionOfWorkflow.set(event.authWorkflowId, event.credentialId);
    }
  }
  const keyed = new Map<string, AuditEvent[]>();
  const loose: AuditEvent[] = [];
  for (const event of events) {
    const session =
      event.credentialId ?? (event.authWorkflowId ? sessionOfWorkflow.get(event.authWorkflowId) : undefined);
    if (session === undefined) {
      loose.push(event);
      continue;
    }
    const list = keyed.get(session) ?? [];
    list.push(event);
    keyed.set(session, list);
  }
  const groups: SessionGroup[] = [...keyed].map(([credentialId, members]) => ({
    credentialId,
    inferred: false,
    events: members.sort(byTimeThenId),
  }));
  loose.sort(byTimeThenId);
  let current: AuditEvent[] = [];
  const flush = () => {
    const first = current[0];
    if (first)
      groups.push({ credentialId: inferredSessionId(owner, first.eventId), inferred: true, events: current });
    current = [];
  };
  for (const event of loose) {
    const previous = current[current.length - 1];
    if (previous && Date.parse(event.eventTime) - Date.parse(previous.eventTime) > INFERRED_SESSION_IDLE_MS)
      flush();
    current.push(event);
  }
  flush();
  return groups;
}
