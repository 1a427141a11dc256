import { type ReadItem, readInputs } from "../cloudtrail/reader.ts";
import type { ObjectSource } from "../cloudtrail/s3.ts";
import { storedEvents } from "../coverage/counts.ts";
import type { Pipeline } from "../ingest/pipeline.ts";
import {
  type ClassifiedItem,
  classifyItem,
  ingestBatch,
  MixedBatchBuilder,
  type Rejection,
} from "../ingest/run.ts";
import { UsageError } from "../shared/errors.ts";
import { commitKey } from "../timeline/items.ts";
import { type ItemKey, itemKeyString, Keys } from "../timeline/keys.ts";
import type { TableStore } from "../timeline/store.ts";
import { type DayRange, keyInRange } from "./range.ts";

/** `idc-audit reconcile --json`, and what the daily reconciliation publishes. */
export interface ReconcileCounts {
  /** Log objects (or files) read. */
  objects: number;
  /** Identity Center and role-session events in them (each record: a record delivered twice counts twice). */
  events: number;
  /** Events whose commit item the table holds (a second copy of a missing event counts here). */
  present: number;
  /** Events the table did not hold. */
  missing: number;
  /** Missing events stored by this run (less than `missing` only if some failed or were stored meanwhile). */
  ingested: number;
}

export interface ReconcileOptions {
  /** Events checked (and missing ones ingested) at once. */
  readonly batchSize?: number;
  readonly onMissing?: (event: { eventId: string; eventName: string; location: string }) => void;
  readonly onRejected?: (rejection: Rejection) => void | Promise<void>;
  readonly onObject?: (name: string) => void;
}

/** Where a reconciliation reads: a trail bucket prefix (`s3://…`) or a local archive folder, and the days. */
export interface ReconcileSource {
  readonly path: string;
  readonly range: DayRange;
  readonly objects?: ObjectSource;
}

/** The log objects of the range, read one at a time: S3 keys and local paths both carry CloudTrail's day. */
export function readArchive(
  source: ReconcileSource,
  onObject?: (name: string) => void,
): AsyncGenerator<ReadItem> {
  if (source.path.startsWith("s3://") && !source.objects)
    throw new UsageError("reading s3:// needs an object source");
  return readInputs([source.path], {
    ...(source.objects ? { objects: source.objects } : {}),
    ...(onObject ? { onFile: onObject } : {}),
    keep: (pathOrKey) => keyInRange(pathOrKey.replaceAll("\\", "/"), source.range),
  });
}

type Checked = Extract<ClassifiedItem, { kind: "audited" | "role" | "chain-candidate" }>;

function eventOf(item: Checked): { eventId: string; eventName: string; key: ItemKey } {
  if (item.kind === "audited") {
    const { event } = item.record;
    return { eventId: event.eventId, eventName: event.eventName, key: commitKey(event) };
  }
  const { event } = item;
  return {
    eventId: event.eventId,
    eventName: event.eventName,
    key: Keys.roleSessionEvent(event.roleSessionId, event.eventTime, event.eventId),
  };
}

/**
 * Compares the Identity Center and role-session events of an archive with the table, by each event's commit
 * item (the item whose presence means "stored", see `commitKey` and `RoleItems.event`), and ingests the
 * missing ones through the same batch ingestion as `idc-audit ingest`. Calls of other roles' sessions count
 * only when ingestion finds them chained from an Identity Center role session (stored now or before).
 */
export async function reconcile(
  source: ReconcileSource,
  runtime: { readonly store: TableStore; readonly pipeline: Pipeline },
  options: ReconcileOptions = {},
): Promise<ReconcileCounts> {
  const batchSize = options.batchSize ?? 1000;
  const counts: ReconcileCounts = { objects: 0, events: 0, present: 0, missing: 0, ingested: 0 };
  let pending: { item: Checked; location: string }[] = [];

  const flush = async () => {
    if (pending.length === 0) return;
    const checking = pending;
    pending = [];
    const described = checking.map(({ item, location }) => ({ item, location, ...eventOf(item) }));
    // A role-session event's commit item is its entry; an Identity Center event is stored as `storedEvents`
    // says (its canary item, marked, or in a table an earlier version wrote, the item that version wrote last).
    const roleKeys = described.flatMap(({ item, key }) => (item.kind === "audited" ? [] : [key]));
    const audited = described.flatMap(({ item }) => (item.kind === "audited" ? [item.record.event] : []));
    const storedIds = await storedEvents(runtime.store, audited);
    const storedRoleKeys = new Set((await runtime.store.getAll(roleKeys)).map(itemKeyString));
    const isPresent = (entry: (typeof described)[number]) =>
      entry.item.kind === "audited"
        ? storedIds.has(entry.eventId)
        : storedRoleKeys.has(itemKeyString(entry.key));
    const batch = new MixedBatchBuilder();
    const candidates: typeof described = [];
    const repeats: typeof described = [];
    const queued = new Set<string>();
    for (const entry of described) {
      const id = itemKeyString(entry.key);
      if (isPresent(entry)) {
        counts.events += 1;
        counts.present += 1;
        continue;
      }
      if (queued.has(id)) {
        // The same event delivered twice: the copy is present once the first is ingested below.
        repeats.push(entry);
        continue;
      }
      queued.add(id);
      batch.add(entry.item);
      if (entry.item.kind === "chain-candidate") {
        candidates.push(entry);
        continue;
      }
      counts.events += 1;
      counts.missing += 1;
      options.onMissing?.({ eventId: entry.eventId, eventName: entry.eventName, location: entry.location });
    }
    if (batch.size === 0) return;
    const result = await ingestBatch(runtime.pipeline, batch.take());
    counts.ingested += result.stored.length + result.storedRoleEvents.length;
    const storedRoleIds = new Set(result.storedRoleEvents.map((event) => event.eventId));
    for (const entry of repeats) {
      if (entry.item.kind === "chain-candidate" && !storedRoleIds.has(entry.eventId)) continue;
      counts.events += 1;
      counts.present += 1;
    }
    for (const entry of candidates) {
      // A chained session's call, stored now: it was missing. Any other role's call is not audited at all.
      if (!storedRoleIds.has(entry.eventId)) continue;
      counts.events += 1;
      counts.missing += 1;
      options.onMissing?.({ eventId: entry.eventId, eventName: entry.eventName, location: entry.location });
    }
  };

  for await (const item of readArchive(source, (name) => {
    counts.objects += 1;
    options.onObject?.(name);
  })) {
    const classified = classifyItem(item);
    if (classified.kind === "rejected") {
      await options.onRejected?.(classified.rejection);
      continue;
    }
    if (classified.kind === "ignored") continue;
    pending.push({ item: classified, location: item.location });
    if (pending.length >= batchSize) await flush();
  }
  await flush();
  return counts;
}
