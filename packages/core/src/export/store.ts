import { type UserProfile, userKeyString } from "../identity/port.ts";
import { type AuditEvent, byTimeThenId, type Resolution, type UserKey } from "../normalize/types.ts";
import { RoleItemType, roleEventOf, sessionKeyOf } from "../roles/items.ts";
import type { RoleQueries } from "../roles/queries.ts";
import type { RoleEvent, RoleSessionKey } from "../roles/types.ts";
import { eventOf, ItemType, userOfItem } from "../timeline/items.ts";
import { Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore } from "../timeline/store.ts";
import { auditEventToOcsf, type OcsfEvent, type Person, personOf, roleEventToOcsf } from "./ocsf.ts";

/** Item types whose `data` is a whole `AuditEvent` (the same event is stored under several of them). */
const EVENT_PAYLOAD_TYPES: ReadonlySet<unknown> = new Set([
  ItemType.Event,
  ItemType.SessionEvent,
  ItemType.UserEvent,
  ItemType.WorkflowEvent,
  ItemType.FailedSignIn,
  ItemType.AddressEvent,
  ItemType.PendingName,
]);

export interface ExportRange {
  /** Inclusive, canonical UTC (`2026-07-01T00:00:00Z`). */
  readonly since?: string;
  /** Exclusive. */
  readonly until?: string;
}

export interface ExportCounts {
  readonly identityCenterEvents: number;
  readonly roleSessionEvents: number;
  readonly roleSessions: number;
}

interface Attributed {
  readonly user: UserKey;
  readonly resolution: Resolution;
}

/**
 * What one pass over the table gathers: each event of the range once, and what idc-audit worked out about it.
 * Events outside the range are dropped as they are read, so memory follows the window exported, not the table:
 * a large table is exported in windows (`--since`/`--until`).
 */
class Gathered {
  readonly events = new Map<string, AuditEvent>();
  readonly attribution = new Map<string, Attributed[]>();
  readonly profiles = new Map<string, UserProfile>();
  readonly heads = new Map<string, RoleSessionKey>();
  readonly roleEvents = new Map<string, Item[]>();

  constructor(private readonly range: ExportRange) {}

  add(item: Item): void {
    const range = this.range;
    if (EVENT_PAYLOAD_TYPES.has(item.type)) {
      const event = eventOf(item);
      if (!within(event.eventTime, range)) return;
      if (!this.events.has(event.eventId)) this.events.set(event.eventId, event);
    }
    if (item.type === ItemType.UserEvent) {
      const user = userOfPartition(item.pk);
      if (user) this.attribute(eventOf(item).eventId, user, item);
    } else if (item.type === ItemType.FailedSignInUser) {
      // Its sort key starts with the event's time (`Keys.failedSignInUser`).
      if (within(item.sk.slice(0, item.sk.indexOf("#")), range))
        this.attribute(String(item.eventId), userOfItem(item), item);
    } else if (item.type === ItemType.Profile && typeof item.profile === "string")
      this.profiles.set(userKeyString(userOfItem(item)), JSON.parse(item.profile) as UserProfile);
    else if (item.type === RoleItemType.Head) this.heads.set(item.pk, sessionKeyOf(item));
    else if (item.type === RoleItemType.Event) {
      // `EVENT#<time>#<eventId>` (`Keys.roleSessionEvent`).
      if (!within(item.sk.split("#")[1] ?? "", range)) return;
      const events = this.roleEvents.get(item.pk) ?? [];
      events.push(item);
      this.roleEvents.set(item.pk, events);
    }
  }

  private attribute(eventId: string, user: UserKey, item: Item): void {
    const users = this.attribution.get(eventId) ?? [];
    users.push({ user, resolution: String(item.resolution) as Resolution });
    this.attribution.set(eventId, users);
  }

  /** The person of an event; several (AWS's error, or a re-hire) resolve to the smallest key, as queries do. */
  personOf(event: AuditEvent): Person | undefined {
    const [first] = (this.attribution.get(event.eventId) ?? []).sort((a, b) =>
      userKeyString(a.user) < userKeyString(b.user) ? -1 : 1,
    );
    if (!first) return undefined;
    return personOf(first.user, first.resolution, this.profiles.get(userKeyString(first.user)));
  }
}

/** The person a timeline partition (`USER#v1#<storeId>#<userId>`) belongs to: its items do not repeat it. */
function userOfPartition(pk: string): UserKey | undefined {
  const prefix = Keys.userPartition({ identityStoreId: "", userId: "" }).slice(0, -1);
  if (!pk.startsWith(prefix)) return undefined;
  const rest = pk.slice(prefix.length);
  const separator = rest.indexOf("#");
  if (separator <= 0) return undefined;
  return { identityStoreId: rest.slice(0, separator), userId: rest.slice(separator + 1) };
}

const within = (time: string, range: ExportRange) =>
  (range.since === undefined || time >= range.since) && (range.until === undefined || time < range.until);

/**
 * Every stored event of `range` as OCSF, in time order: Identity Center events with the person the pipeline
 * attributed them to (and how) and the profile it fetched; role-session calls with their session's attribution
 * and portal-session link, computed by the same `RoleQueries` that answer `role-session`. Reads the whole
 * table once (a `Scan`): an export is a batch job, not a query. It holds the range's events (the table has no
 * time index to page them from).
 */
export async function exportFromStore(
  store: TableStore,
  roleQueries: RoleQueries,
  range: ExportRange = {},
): Promise<{ events: OcsfEvent[]; counts: ExportCounts }> {
  const gathered = new Gathered(range);
  for await (const page of store.scan()) for (const item of page) gathered.add(item);

  const auditEvents = [...gathered.events.values()].filter((event) => within(event.eventTime, range));
  const exported: { time: string; id: string; event: OcsfEvent }[] = auditEvents.map((event) => {
    const person = gathered.personOf(event);
    return {
      time: event.eventTime,
      id: event.eventId,
      event: auditEventToOcsf(event, person ? { person } : {}),
    };
  });

  const sessions = [...gathered.heads].flatMap(([pk, key]) => {
    const events = (gathered.roleEvents.get(pk) ?? [])
      .map((item) => roleEventOf(item, key))
      .filter((event) => within(event.eventTime, range));
    return events.length > 0 ? [{ key, events }] : [];
  });
  const details = await mapLimit(sessions, 4, async ({ events }) => {
    const [first] = events as [RoleEvent, ...RoleEvent[]];
    return roleQueries.roleSession(first.roleSessionId);
  });
  let roleSessionEvents = 0;
  sessions.forEach(({ events }, index) => {
    const detail = details[index];
    const person: Person | undefined = detail?.user
      ? {
          user: { identityStoreId: detail.user.identityStoreId, userId: detail.user.userId },
          basis: detail.roleSession.attribution,
          profile: {
            identityStoreId: detail.user.identityStoreId,
            userId: detail.user.userId,
            ...(detail.user.userName ? { userName: detail.user.userName } : {}),
            ...(detail.user.displayName ? { displayName: detail.user.displayName } : {}),
            emails: detail.user.emails,
            externalIds: detail.user.externalIds,
          },
        }
      : undefined;
    for (const event of events) {
      roleSessionEvents += 1;
      exported.push({
        time: event.eventTime,
        id: event.eventId,
        event: roleEventToOcsf(event, {
          ...(detail ? { roleSession: detail.roleSession } : {}),
          ...(person ? { person } : {}),
        }),
      });
    }
  });
  exported.sort((a, b) =>
    byTimeThenId({ eventTime: a.time, eventId: a.id }, { eventTime: b.time, eventId: b.id }),
  );
  return {
    events: exported.map((entry) => entry.event),
    counts: {
      identityCenterEvents: auditEvents.length,
      roleSessionEvents,
      roleSessions: sessions.length,
    },
  };
}
