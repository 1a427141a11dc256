import type { GroupKey, GroupProfile } from "../identity/port.ts";
import { groupKeyString, userKeyString } from "../identity/port.ts";
import type { UserKey } from "../normalize/types.ts";
import { isoTime } from "../shared/time.ts";
import { ItemType, type ProfileStatus } from "../timeline/items.ts";
import {
  ACTOR_ARN_SORT_PREFIX,
  CHANGE_SORT_PREFIX,
  Keys,
  MADE_SORT_PREFIX,
  SORT_END,
} from "../timeline/keys.ts";
import type { TimelineQueries } from "../timeline/queries.ts";
import { mapLimit, type TableStore } from "../timeline/store.ts";
import { recordOf } from "./ingest.ts";
import { actorLookupValue, type ChangeRecord, isGroupRemoval, PrivilegeKind, privilegeOf } from "./model.ts";

/** A person as a change names them. */
export interface ChangeUserView {
  readonly identityStoreId: string;
  readonly userId: string;
  readonly userName: string | null;
}

/** A group as a change names it: its display name once the directory gave it (events hide it). */
export interface GroupView {
  readonly identityStoreId: string;
  readonly groupId: string;
  readonly displayName: string | null;
  readonly description: string | null;
  /** `enriched`, `deleted`, `unenriched` (no directory answer yet), or `unknown` (never asked). */
  readonly status: ProfileStatus | "unknown";
}

/** One directory change, as `user`, `group` and `changes` print it. */
export interface ChangeView {
  readonly eventId: string;
  readonly eventTime: string;
  readonly eventName: string;
  /** The administrator's ARN, or the person's key when an Identity Center user made the change. */
  readonly actor: string | null;
  /** The Identity Center person who made the change, when the event names one. */
  readonly actorUser?: ChangeUserView;
  /** The person changed. */
  readonly user?: ChangeUserView;
  readonly group?: Pick<GroupView, "groupId" | "displayName">;
  /** The permission set's ARN. */
  readonly permissionSet?: string;
  readonly accountId?: string;
  readonly sourceIp?: string;
}

export interface GroupReport {
  readonly group: GroupView;
  /** Newest first. */
  readonly changes: ChangeView[];
}

export interface ActorReport {
  readonly actor: string;
  readonly changes: ChangeView[];
}

/** A time range on `CHANGE#<time>#…` / `MADE#<time>#…` sort keys. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
}

const between = (prefix: string, range: TimeRange | undefined) =>
  range
    ? { between: [`${prefix}${isoTime(range.from)}`, `${prefix}${isoTime(range.to)}${SORT_END}`] as const }
    : { prefix };

const madeBy = (record: ChangeRecord, user: UserKey) =>
  record.actor.user !== undefined && userKeyString(record.actor.user) === userKeyString(user);

const newestFirst = (a: ChangeRecord, b: ChangeRecord) =>
  a.eventTime !== b.eventTime ? (a.eventTime < b.eventTime ? 1 : -1) : a.eventId < b.eventId ? 1 : -1;

/** The read side of the change index: one `Query` per partition, names joined by `BatchGetItem`. */
export class ChangeQueries {
  constructor(
    private readonly store: TableStore,
    private readonly timeline: TimelineQueries,
  ) {}

  /** Changes made to a person (optionally in a time range), any order. */
  async changesTo(user: UserKey, range?: TimeRange): Promise<ChangeRecord[]> {
    const items = await this.store.query(Keys.userPartition(user), between(CHANGE_SORT_PREFIX, range));
    return items.filter((item) => item.type === ItemType.UserChange).map(recordOf);
  }

  /**
   * Changes a person made: as an administrator (from their own role session), and to themselves (their MFA
   * devices), which are stored once, as changes to them (`changeItems`).
   */
  async changesBy(user: UserKey, range?: TimeRange): Promise<ChangeRecord[]> {
    return (await this.changesToAndBy(user, range)).by;
  }

  /** `changesTo` and `changesBy` together: the changes to the person are read once for both. */
  async changesToAndBy(
    user: UserKey,
    range?: TimeRange,
  ): Promise<{ to: ChangeRecord[]; by: ChangeRecord[] }> {
    const [made, to] = await Promise.all([
      this.store.query(Keys.userPartition(user), between(MADE_SORT_PREFIX, range)),
      this.changesTo(user, range),
    ]);
    const by = new Map<string, ChangeRecord>();
    for (const record of made.filter((item) => item.type === ItemType.UserMadeChange).map(recordOf))
      by.set(record.eventId, record);
    for (const record of to) if (madeBy(record, user)) by.set(record.eventId, record);
    return { to, by: [...by.values()] };
  }

  async changesOfGroup(group: GroupKey, range?: TimeRange): Promise<ChangeRecord[]> {
    const items = await this.store.query(Keys.groupPartition(group), between(CHANGE_SORT_PREFIX, range));
    return items.filter((item) => item.type === ItemType.GroupChange).map(recordOf);
  }

  /**
   * The groups a person was in, as far as the stored changes tell: for each group, the times they were added
   * and removed, so a grant to the group can be checked against the time it was made.
   */
  async membershipsOf(user: UserKey): Promise<Map<string, { group: GroupKey; changes: ChangeRecord[] }>> {
    const memberships = new Map<string, { group: GroupKey; changes: ChangeRecord[] }>();
    for (const record of await this.changesTo(user)) {
      if (!record.group) continue;
      if (privilegeOf(record) !== PrivilegeKind.GroupMembership && !isGroupRemoval(record)) continue;
      const key = groupKeyString(record.group);
      const entry = memberships.get(key) ?? { group: record.group, changes: [] };
      entry.changes.push(record);
      memberships.set(key, entry);
    }
    return memberships;
  }

  /** People a group's stored changes added to it (ever): whom a grant to the group may concern. */
  async membersEverAdded(group: GroupKey): Promise<UserKey[]> {
    const members = new Map<string, UserKey>();
    for (const record of await this.changesOfGroup(group))
      if (record.user && privilegeOf(record) === PrivilegeKind.GroupMembership)
        members.set(userKeyString(record.user), record.user);
    return [...members.values()];
  }

  /** `user --json`'s `changes`: every change made to the person, newest first. */
  async userChanges(user: UserKey): Promise<ChangeView[]> {
    return this.views(await this.changesTo(user));
  }

  /** Groups a value names: a group id or display name, any case. */
  async findGroups(value: string): Promise<GroupKey[]> {
    const items = await this.store.query(Keys.groupAliasPartition(value));
    const groups = new Map<string, GroupKey>();
    for (const item of items) {
      const group = { identityStoreId: String(item.identityStoreId), groupId: String(item.groupId) };
      groups.set(groupKeyString(group), group);
    }
    return [...groups.values()].sort((a, b) => (groupKeyString(a) < groupKeyString(b) ? -1 : 1));
  }

  /** `group VALUE`: the group and who was added to it, removed, or assigned through it, when, by whom. */
  async group(group: GroupKey): Promise<GroupReport> {
    const [views, changes] = await Promise.all([this.groupViews([group]), this.changesOfGroup(group)]);
    return {
      group: views.get(groupKeyString(group)) ?? unknownGroup(group),
      changes: await this.views(changes),
    };
  }

  /**
   * `changes --actor VALUE`: changes by an administrator named by ARN, role or session name, or by the
   * Identity Center person `people` names (their own role sessions), newest first.
   */
  async actor(value: string, people: readonly UserKey[] = []): Promise<ActorReport> {
    // The value's partition holds its changes if it is an ARN (or, in tables written before 2026-12-02, any
    // name), and the ARNs it names if it is a role, session or IAM user name.
    const items = await this.store.query(Keys.actorPartition(actorLookupValue(value)));
    const principals = items.flatMap((item) =>
      item.type === ItemType.ActorName ? [String(item.sk).slice(ACTOR_ARN_SORT_PREFIX.length)] : [],
    );
    const named = await mapLimit(principals, 4, (principal) =>
      this.store.query(Keys.actorPartition(principal), { prefix: CHANGE_SORT_PREFIX }),
    );
    const records = new Map<string, ChangeRecord>();
    for (const item of [...items, ...named.flat()]) {
      if (item.type !== ItemType.ActorChange) continue;
      const record = recordOf(item);
      records.set(record.eventId, record);
    }
    const made = await mapLimit(people, 4, (person) => this.changesBy(person));
    for (const record of made.flat()) records.set(record.eventId, record);
    return { actor: value, changes: await this.views([...records.values()]) };
  }

  /** `changes --actor VALUE`: an ARN, a role or session name, or an Identity Center person's name or id. */
  async actorChanges(value: string): Promise<ActorReport> {
    const people = value.startsWith("arn:") ? [] : await this.timeline.findUsers(value);
    return this.actor(value, people);
  }

  /** Group profiles as stored (the directory's answers); a group never asked about is `unknown`. */
  async groupViews(groups: readonly GroupKey[]): Promise<Map<string, GroupView>> {
    const items = await this.store.getAll(groups.map((group) => Keys.groupProfile(group)));
    const views = new Map<string, GroupView>();
    for (const item of items) {
      const group = { identityStoreId: String(item.identityStoreId), groupId: String(item.groupId) };
      const profile =
        item.profile === undefined ? undefined : (JSON.parse(String(item.profile)) as GroupProfile);
      views.set(groupKeyString(group), {
        ...group,
        displayName: profile?.displayName ?? null,
        description: profile?.description ?? null,
        status: item.status as ProfileStatus,
      });
    }
    return views;
  }

  /** Records as printed: newest first, people and groups named. */
  async views(records: readonly ChangeRecord[]): Promise<ChangeView[]> {
    const sorted = [...records].sort(newestFirst);
    const people = new Map<string, UserKey>();
    const groups = new Map<string, GroupKey>();
    for (const record of sorted) {
      if (record.user) people.set(userKeyString(record.user), record.user);
      if (record.actor.user) people.set(userKeyString(record.actor.user), record.actor.user);
      if (record.group) groups.set(groupKeyString(record.group), record.group);
    }
    const [profiles, groupViews] = await Promise.all([
      this.timeline.profiles([...people.values()]),
      this.groupViews([...groups.values()]),
    ]);
    const person = (user: UserKey): ChangeUserView => ({
      identityStoreId: user.identityStoreId,
      userId: user.userId,
      userName: profiles.get(userKeyString(user))?.userName ?? null,
    });
    return sorted.map((record) => ({
      eventId: record.eventId,
      eventTime: record.eventTime,
      eventName: record.eventName,
      actor: record.actor.principal ?? (record.actor.user ? userKeyString(record.actor.user) : null),
      ...(record.actor.user ? { actorUser: person(record.actor.user) } : {}),
      ...(record.user ? { user: person(record.user) } : {}),
      ...(record.group
        ? {
            group: {
              groupId: record.group.groupId,
              displayName: groupViews.get(groupKeyString(record.group))?.displayName ?? null,
            },
          }
        : {}),
      ...(record.permissionSetArn ? { permissionSet: record.permissionSetArn } : {}),
      ...(record.accountId ? { accountId: record.accountId } : {}),
      ...(record.sourceIp ? { sourceIp: record.sourceIp } : {}),
    }));
  }
}

function unknownGroup(group: GroupKey): GroupView {
  return { ...group, displayName: null, description: null, status: "unknown" };
}
