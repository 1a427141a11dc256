import { Category } from "../cloudtrail/catalogue.ts";
import { ActorKind, type AuditEvent } from "../normalize/types.ts";
import { commitKey, dayOf, formerCommitKey, namedUsers } from "../timeline/items.ts";
import { type ItemKey, itemKeyString, Keys } from "../timeline/keys.ts";
import type { Item, TableStore } from "../timeline/store.ts";

/** Item types of the coverage partitions. */
export const CoverageItemType = {
  Event: "coverage-event",
  Attributed: "coverage-attributed",
  Nobody: "coverage-nobody",
  Day: "coverage-day",
} as const;

/** The shapes the canary counts by, in era order. */
export const SHAPES = [
  "old",
  "transitional",
  "new",
  "anonymous",
  "admin",
] as const satisfies readonly AuditEvent["shape"][];

/**
 * Whether an event names or implies a person: what the attribution rate divides by. A workforce user's event
 * in any of the three eras, or a sign-in step (a new-era failed verification names nobody, its workflow does).
 * Not an administrator's call, not a name AWS hid (no such user), not SCIM's bearer token.
 */
export function expectsPerson(event: AuditEvent): boolean {
  if (event.actor.kind !== ActorKind.User) return false;
  return event.shape === "old" || event.shape === "transitional" || event.shape === "new"
    ? true
    : event.category === Category.SignIn;
}

/** What one batch stored, as the ingest function's metrics report it. */
export interface BatchCoverage {
  /** Identity Center events stored for the first time. */
  events: number;
  /** Of those, events that name or imply a person (`expectsPerson`). */
  expected: number;
  /** Of those, events resolved to a person by the end of the batch. */
  attributed: number;
  /** `expected` − `attributed`: stored waiting for a name mapping, a sign-in workflow, or never. */
  unattributed: number;
  /**
   * Events stored earlier without a person of their own that this batch's joins attributed for the first time
   * (their join marker did not exist yet: one key read per such event). Two processes attributing the same
   * event at the same moment may both count it; the table's counts (`readCoverage`) stay exact.
   */
  lateAttributed: number;
  /** Events whose name the catalogue does not know (stored as `other`). */
  unknownNames: number;
  /** Events carrying a `userIdentity` field their shape is not known to have. */
  newFields: number;
}

export function emptyCoverage(): BatchCoverage {
  return {
    events: 0,
    expected: 0,
    attributed: 0,
    unattributed: 0,
    lateAttributed: 0,
    unknownNames: 0,
    newFields: 0,
  };
}

/** The separator of an unknown name's key (`<eventSource> <eventName>`): neither contains a space. */
export const UNKNOWN_NAME_SEPARATOR = " ";

/** Attributed by its own fields when stored: `onBehalfOf` and its kind, or its sign-in name through the directory. */
export function selfAttributed(event: AuditEvent): boolean {
  return namedUsers(event).length > 0;
}

/**
 * The canary's item of one stored event: its shape, whether it names or implies a person and names one itself,
 * and, when there are any, its uncatalogued name and new `userIdentity` fields. Like every item of the table,
 * a function of its key and of one immutable event (and its record's field names), so writing it again, in any
 * order or batch, leaves the same item. It is also the event's commit item (`commitKey`): the pipeline writes
 * it last.
 */
export function coverageEventItem(event: AuditEvent, newFields: readonly string[] | undefined): Item {
  const item: Item = {
    ...commitKey(event),
    type: CoverageItemType.Event,
    shape: event.shape,
    committed: true,
  };
  if (expectsPerson(event)) item.expects = true;
  if (selfAttributed(event)) item.self = true;
  const unknown = event.category === Category.Other;
  if (unknown) item.unknown = `${event.eventSource}${UNKNOWN_NAME_SEPARATOR}${event.eventName}`;
  if (newFields && newFields.length > 0) item.fields = [...newFields];
  if (unknown || item.fields) item.time = event.eventTime;
  return item;
}

/**
 * Whether an event's commit item, read back, says the event is stored. The item carries `committed`: versions
 * before 2026-12-01 wrote the canary item unmarked, before their own commit item (`formerCommitKey`).
 */
export function isCommitted(item: Item): boolean {
  return item.type === CoverageItemType.Event && item.committed === true;
}

/**
 * Of `events`, the ids of those stored: their commit item is marked (`isCommitted`), or, in a table an earlier
 * version wrote, their canary item is there unmarked and so is the item that version wrote last. One
 * `BatchGetItem` of commit keys, and one of former commit keys for the unmarked ones only. An event stored by a
 * version before the canary has neither: it is stored again when delivered again.
 */
export async function storedEvents(store: TableStore, events: readonly AuditEvent[]): Promise<Set<string>> {
  const stored = new Set<string>();
  const unmarked = new Map<string, AuditEvent>();
  for (const [event, item] of await readByKey(store, events, commitKey)) {
    if (isCommitted(item)) stored.add(event.eventId);
    else if (item.type === CoverageItemType.Event) unmarked.set(event.eventId, event);
  }
  for (const [event] of await readByKey(store, [...unmarked.values()], formerCommitKey))
    stored.add(event.eventId);
  return stored;
}

/** Each event's item at `keyOf(event)`, for the events whose item exists (one `BatchGetItem`). */
async function readByKey(
  store: TableStore,
  events: readonly AuditEvent[],
  keyOf: (event: AuditEvent) => ItemKey,
): Promise<[AuditEvent, Item][]> {
  if (events.length === 0) return [];
  // Loops, not arrows made per batch: V8 would compile such arrows again after each full garbage collection
  // (docs/benchmarks.md).
  const byKey = new Map<string, AuditEvent>();
  const keys: ItemKey[] = [];
  for (const event of events) {
    const key = keyOf(event);
    byKey.set(itemKeyString(key), event);
    keys.push(key);
  }
  const found: [AuditEvent, Item][] = [];
  for (const item of await store.getAll(keys)) {
    const event = byKey.get(itemKeyString(item));
    if (event) found.push([event, item]);
  }
  return found;
}

/** The day's entry in the list of days that have canary items. */
export function coverageDayItem(event: AuditEvent): Item {
  return { ...Keys.coverageDay(dayOf(event)), type: CoverageItemType.Day };
}

/**
 * What a batch's joins found about an event (new or stored earlier) that does not name its person itself: a
 * person (`ATTR`), or nobody after all (`NOBODY`: its sign-in workflow was for a name AWS hid). Markers are only
 * ever added, whatever the order: an event is attributed when one exists, as its timeline entries exist.
 */
export function joinOutcome(event: AuditEvent, attributed: boolean, hiddenName: boolean): Item | undefined {
  if (selfAttributed(event) || !expectsPerson(event)) return undefined;
  const day = dayOf(event);
  if (attributed)
    return { ...Keys.coverageAttributed(day, event.eventId), type: CoverageItemType.Attributed };
  if (hiddenName) return { ...Keys.coverageNobody(day, event.eventId), type: CoverageItemType.Nobody };
  return undefined;
}

/** One batch's counts of the events it stored for the first time, for the ingest function's metrics. */
export function batchCoverage(
  inputs: readonly {
    readonly event: AuditEvent;
    readonly attributed: boolean;
    readonly hiddenName: boolean;
    readonly newFields?: readonly string[] | undefined;
  }[],
): BatchCoverage {
  const coverage = emptyCoverage();
  for (const { event, attributed, hiddenName, newFields } of inputs) {
    coverage.events += 1;
    if (expectsPerson(event) && (attributed || !hiddenName)) {
      coverage.expected += 1;
      if (attributed) coverage.attributed += 1;
    }
    if (event.category === Category.Other) coverage.unknownNames += 1;
    if (newFields && newFields.length > 0) coverage.newFields += 1;
  }
  coverage.unattributed = coverage.expected - coverage.attributed;
  return coverage;
}
