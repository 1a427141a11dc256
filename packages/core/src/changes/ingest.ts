import { groupKeyString, userKeyString } from "../identity/port.ts";
import type { AuditEvent } from "../normalize/types.ts";
import { Items, ItemType } from "../timeline/items.ts";
import { Keys } from "../timeline/keys.ts";
import { type Item, mapLimit, type TableStore, type WrittenOnce } from "../timeline/store.ts";
import { actorNames, type ChangeRecord, changeRecordOf, isGroupRemoval } from "./model.ts";

/** The items that index one change: under the person, the group, the administrator's names, the acting person. */
export function changeItems(record: ChangeRecord): Item[] {
  const data = JSON.stringify(record);
  const items: Item[] = [];
  if (record.user) {
    items.push({
      ...Keys.userChange(record.user, record.eventTime, record.eventId),
      type: ItemType.UserChange,
      data,
    });
  }
  if (record.group) {
    items.push(
      {
        ...Keys.groupChange(record.group, record.eventTime, record.eventId),
        type: ItemType.GroupChange,
        data,
      },
      // The id always finds the group, whether or not the directory ever named it.
      Items.groupAlias(record.group.groupId, record.group),
    );
  }
  // Once, under the administrator's ARN: the other names it goes by point to that partition (`actorNameItems`).
  if (record.actor.principal) {
    items.push({
      ...Keys.actorChange(record.actor.principal, record.eventTime, record.eventId),
      type: ItemType.ActorChange,
      data,
    });
  }
  // A change a person made to themselves (their MFA devices) is stored once, as a change to them: `changesBy`
  // reads those too. (Tables written before 2026-12-02 hold a second copy; it is read as the same change.) Not
  // a group removal: whom it removed comes from a join with the membership's creation, which may arrive later,
  // so whether it was the actor would depend on the order of arrival; it keeps both, as before.
  const toThemselves =
    !isGroupRemoval(record) &&
    record.user !== undefined &&
    record.actor.user !== undefined &&
    userKeyString(record.user) === userKeyString(record.actor.user);
  if (record.actor.user && !toThemselves) {
    items.push({
      ...Keys.userMadeChange(record.actor.user, record.eventTime, record.eventId),
      type: ItemType.UserMadeChange,
      data,
    });
  }
  return items;
}

/**
 * The role, session or IAM user names an administrator goes by, each → its ARN (`Keys.actorName`): key-only
 * items (the ARN, lower case, is in the sort key), so two ARNs that differ in case write the same item.
 */
export function actorNameItems(record: ChangeRecord): Item[] {
  const principal = record.actor.principal;
  if (!principal) return [];
  return actorNames(principal)
    .filter((name) => name !== principal.toLowerCase())
    .map((name) => ({ ...Keys.actorName(name, principal), type: ItemType.ActorName }));
}

export function recordOf(item: Item): ChangeRecord {
  return JSON.parse(String(item.data)) as ChangeRecord;
}

/**
 * Writes the change index of what a batch stored. Idempotent and order-independent like the pipeline: every
 * item is a function of its key and of immutable events. The one join, a `DeleteGroupMembership` (which names
 * only the membership id) with the `CreateGroupMembership` that says whose membership of which group it was,
 * is done write-then-read: each side writes its half to the membership's partition, then reads the partition,
 * so whichever arrives second (in any batch, any process) finds the other.
 */
export class ChangeIndexer {
  constructor(
    private readonly store: TableStore,
    /** The directory's store, for account assignments (which name a principal but not its store). */
    private readonly defaultStoreId: string | undefined,
    /** Name → ARN items this process has written: an administrator's names are written once, not per change. */
    private readonly namesWritten: WrittenOnce,
  ) {}

  /** Indexes the changes among `events`; returns every change record written (removals joined included). */
  async index(events: readonly AuditEvent[]): Promise<ChangeRecord[]> {
    // A loop, not an arrow made per batch: V8 would compile such an arrow again after each full garbage
    // collection (docs/benchmarks.md).
    const records: ChangeRecord[] = [];
    for (const event of events) {
      const record = changeRecordOf(event, this.defaultStoreId);
      if (record) records.push(record);
    }
    if (records.length === 0) return [];
    const memberships = new Map<string, { identityStoreId: string; membershipId: string }>();
    const joinInputs: Item[] = [];
    for (const record of records) {
      const storeId = record.identityStoreId;
      if (!record.membershipId || storeId === undefined) continue;
      memberships.set(`${storeId}/${record.membershipId}`, {
        identityStoreId: storeId,
        membershipId: record.membershipId,
      });
      if (record.user && record.group) {
        joinInputs.push({
          ...Keys.membershipHead(storeId, record.membershipId),
          type: ItemType.MembershipHead,
          identityStoreId: record.user.identityStoreId,
          userId: record.user.userId,
          groupId: record.group.groupId,
        });
      } else if (!record.user) {
        joinInputs.push({
          ...Keys.membershipRemoval(storeId, record.membershipId, record.eventTime, record.eventId),
          type: ItemType.MembershipRemoval,
          data: JSON.stringify(record),
        });
      }
    }
    await this.store.putAll(joinInputs);
    const resolved = new Map(records.map((record) => [record.eventId, record]));
    await mapLimit([...memberships.values()], 8, async ({ identityStoreId, membershipId }) => {
      const items = await this.store.query(Keys.membershipPartition(identityStoreId, membershipId));
      const head = items.find((item) => item.type === ItemType.MembershipHead);
      if (!head) return;
      const user = { identityStoreId: String(head.identityStoreId), userId: String(head.userId) };
      const group = { identityStoreId: String(head.identityStoreId), groupId: String(head.groupId) };
      for (const item of items) {
        if (item.type !== ItemType.MembershipRemoval) continue;
        const removal = recordOf(item);
        resolved.set(removal.eventId, { ...removal, user, group });
      }
    });
    const written = [...resolved.values()];
    await this.namesWritten.write(
      records.flatMap(actorNameItems),
      (items) => this.store.putAll(items),
      written.flatMap(changeItems),
    );
    return written;
  }
}

/** Groups the records name, once each. */
export function groupsOf(records: readonly ChangeRecord[]) {
  const groups = new Map<string, NonNullable<ChangeRecord["group"]>>();
  for (const record of records) if (record.group) groups.set(groupKeyString(record.group), record.group);
  return [...groups.values()];
}
