import type { Location, ReadItem } from "../cloudtrail/reader.ts";
import { type BatchCoverage, emptyCoverage } from "../coverage/counts.ts";
import type { Alert } from "../detect/detector.ts";
import { normalize } from "../normalize/normalize.ts";
import type { AuditEvent, NormalizedRecord } from "../normalize/types.ts";
import { normalizeRoleRecord } from "../roles/normalize.ts";
import type { RoleEvent } from "../roles/types.ts";
import { type BatchResult, type Pipeline, withTeachingPass } from "./pipeline.ts";

/** `read` = `stored` + `duplicates` + `ignored` + `rejected`: every record is accounted for. */
export interface IngestCounts {
  read: number;
  stored: number;
  duplicates: number;
  ignored: number;
  rejected: number;
}

export interface Rejection {
  readonly location: Location;
  readonly reason: string;
  readonly eventId?: string;
}

export interface IngestRunOptions {
  /** Records handed to the pipeline at once. */
  readonly batchSize?: number;
  /**
   * Batches in memory at once, at most: those being stored and the one being read, which is read while fewer
   * are being stored. Default 2: mostly two batches are stored side by side, one batch's joins and detections
   * running while the store writes the other's items, and the next is read while one is stored. 1 reads and
   * stores one batch after the other.
   */
  readonly batchesInFlight?: number;
  readonly onRejected?: (rejection: Rejection) => void | Promise<void>;
  readonly onBatch?: (
    counts: IngestCounts,
    stored: readonly AuditEvent[],
    alerts: readonly Alert[],
  ) => void | Promise<void>;
  /** Every audited record read, duplicates included (before storing). */
  readonly onAudited?: (event: AuditEvent) => void;
}

export function emptyCounts(): IngestCounts {
  return { read: 0, stored: 0, duplicates: 0, ignored: 0, rejected: 0 };
}

export type ClassifiedItem =
  | { kind: "audited"; record: NormalizedRecord }
  | { kind: "role"; event: RoleEvent }
  /** Another role's call: a role-session event if its session was chained from one, else ignored. */
  | { kind: "chain-candidate"; event: RoleEvent }
  | { kind: "ignored" }
  | { kind: "rejected"; rejection: Rejection };

/**
 * Classifies one read item: an Identity Center event, an event of an Identity Center role session in a
 * member account, or a count (ignored) or a rejection. The one routing decision every entry point shares.
 */
export function classifyItem(item: ReadItem): ClassifiedItem {
  if (item.kind === "rejected") {
    return {
      kind: "rejected",
      rejection: {
        location: item.location,
        reason: item.reason,
        ...(item.eventId ? { eventId: item.eventId } : {}),
      },
    };
  }
  const result = normalize(item.record);
  if (result.status === "audited") return { kind: "audited", record: result.record };
  if (result.status === "ignored") {
    const role = normalizeRoleRecord(result.record);
    if (role.status === "role") return { kind: "role", event: role.event };
    if (role.status === "chain-candidate") return { kind: "chain-candidate", event: role.event };
    if (role.status === "outside") return { kind: "ignored" };
    return {
      kind: "rejected",
      rejection: { location: item.location, reason: role.reason, eventId: result.eventId },
    };
  }
  return {
    kind: "rejected",
    rejection: {
      location: item.location,
      reason: result.reason,
      ...(result.eventId ? { eventId: result.eventId } : {}),
    },
  };
}

/** One batch of both kinds of events, as the reader and the queue deliver them. */
export interface MixedBatch {
  readonly records: readonly NormalizedRecord[];
  readonly roleEvents: readonly RoleEvent[];
  readonly chainCandidates?: readonly RoleEvent[];
}

/** A batch being gathered from classified items, every entry point the same way. */
export class MixedBatchBuilder {
  records: NormalizedRecord[] = [];
  roleEvents: RoleEvent[] = [];
  chainCandidates: RoleEvent[] = [];

  /** Adds an item to be stored; false for an ignored or rejected one, which the caller counts. */
  add(classified: ClassifiedItem): boolean {
    if (classified.kind === "audited") this.records.push(classified.record);
    else if (classified.kind === "role") this.roleEvents.push(classified.event);
    else if (classified.kind === "chain-candidate") this.chainCandidates.push(classified.event);
    else return false;
    return true;
  }

  get size(): number {
    return this.records.length + this.roleEvents.length + this.chainCandidates.length;
  }

  /** The batch gathered so far; the builder starts a new one. */
  take(): { records: NormalizedRecord[]; roleEvents: RoleEvent[]; chainCandidates: RoleEvent[] } {
    const batch = {
      records: this.records,
      roleEvents: this.roleEvents,
      chainCandidates: this.chainCandidates,
    };
    this.records = [];
    this.roleEvents = [];
    this.chainCandidates = [];
    return batch;
  }
}

export interface MixedBatchResult {
  readonly stored: AuditEvent[];
  readonly storedRoleEvents: RoleEvent[];
  readonly duplicates: number;
  /** Chain candidates whose session was not chained from an Identity Center role session. */
  readonly ignored: number;
  readonly alerts: Alert[];
  /** The canary's counts of the Identity Center events stored. */
  readonly coverage: BatchCoverage;
}

/** Stores a batch: Identity Center events through the pipeline, role-session events through its role join. */
export async function ingestBatch(pipeline: Pipeline, batch: MixedBatch): Promise<MixedBatchResult> {
  const result = await ingestRoleSessions(pipeline, batch, await ingestIdentityCenter(pipeline, batch));
  // The people its role sessions named were enriched after its Identity Center events were stored.
  return withTeachingPass(result, await pipeline.teachLearnedNames());
}

/** `detectAfter`: the batch before this one, whose end the detections wait for (`Pipeline.ingest`). */
async function ingestIdentityCenter(
  pipeline: Pipeline,
  batch: MixedBatch,
  detectAfter?: Promise<unknown>,
): Promise<BatchResult> {
  return batch.records.length > 0
    ? pipeline.ingest(batch.records, detectAfter ? { detectAfter } : {})
    : { stored: [], duplicates: 0, alerts: [], coverage: emptyCoverage() };
}

/** The role-session part of a batch whose Identity Center events are stored (`identityCenter`). */
async function ingestRoleSessions(
  pipeline: Pipeline,
  batch: MixedBatch,
  identityCenter: BatchResult,
): Promise<MixedBatchResult> {
  const candidates = batch.chainCandidates ?? [];
  const roles =
    batch.roleEvents.length > 0 || candidates.length > 0
      ? await pipeline.roles.ingest(batch.roleEvents, candidates)
      : { stored: [], duplicates: 0, ignored: 0, alerts: [] };
  return {
    stored: identityCenter.stored,
    storedRoleEvents: roles.stored,
    duplicates: identityCenter.duplicates + roles.duplicates,
    ignored: roles.ignored,
    alerts: [...identityCenter.alerts, ...roles.alerts],
    coverage: identityCenter.coverage,
  };
}

/**
 * Streams records into the pipeline in batches. Memory holds `batchesInFlight` batches: those being stored and
 * the one being read. The counts account for every record. The CLI and the backfill function both come through
 * here.
 *
 * Batches are stored side by side (`batchesInFlight`) with the table, counts and alerts of one ordered delivery:
 * the Identity Center pipeline waits, per event, for a batch still storing it, and each batch's detections wait
 * for the batch before (`Pipeline.ingest`); the role-session join, whose chained sessions rely on the batches
 * before them, takes them one after the other, in order, as the counts and `onBatch` do.
 */
export async function ingestStream(
  items: AsyncIterable<ReadItem>,
  pipeline: Pipeline,
  options: IngestRunOptions = {},
): Promise<IngestCounts> {
  // Large batches share join and detection reads between more events; memory holds two (a few MB each).
  const batchSize = options.batchSize ?? 2000;
  const batchesInFlight = options.batchesInFlight ?? 2;
  if (!Number.isInteger(batchesInFlight) || batchesInFlight < 1)
    throw new RangeError(`batchesInFlight must be a positive whole number, not ${batchesInFlight}`);
  // NaN would make one batch of the whole input: no `batch.size >= NaN` ever ends one.
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive whole number, not ${batchSize}`);
  const counts = emptyCounts();
  const batch = new MixedBatchBuilder();
  // The batches being stored, oldest first; each ends after the one before it.
  const storing: Promise<void>[] = [];
  let previous: Promise<void> = Promise.resolve();
  // Set as soon as a batch fails: no batch is started after that.
  let failed = false;
  const store = (taken: MixedBatch): Promise<void> => {
    const before = previous;
    const identityCenter = ingestIdentityCenter(pipeline, taken, before);
    return (async () => {
      const stored = await identityCenter;
      // An earlier batch's failure ends this one too, before its role sessions or its counts.
      await before;
      const result = await ingestRoleSessions(pipeline, taken, stored);
      counts.stored += result.stored.length + result.storedRoleEvents.length;
      counts.duplicates += result.duplicates;
      counts.ignored += result.ignored;
      await options.onBatch?.(counts, result.stored, result.alerts);
    })();
  };
  const flush = async () => {
    if (batch.size === 0) return;
    // A batch failed: raise its failure (each batch ends with the one before it) instead of starting another.
    if (failed) while (storing.length > 0) await storing.shift();
    previous = store(batch.take());
    // Until it is awaited reading goes on, and an unobserved rejection must not end the process first.
    previous.catch(() => {
      failed = true;
    });
    storing.push(previous);
    // The next batch is read while fewer are being stored. A failure is raised here, by the await of the batch
    // that failed (or of a later one, which ends with it).
    while (storing.length >= batchesInFlight) await storing.shift();
  };
  try {
    for await (const item of items) {
      counts.read += 1;
      const classified = classifyItem(item);
      if (classified.kind === "audited") options.onAudited?.(classified.record.event);
      if (batch.add(classified)) {
        if (batch.size >= batchSize) await flush();
      } else if (classified.kind === "rejected") {
        counts.rejected += 1;
        await options.onRejected?.(classified.rejection);
      } else {
        counts.ignored += 1;
      }
    }
    await flush();
    while (storing.length > 0) await storing.shift();
    // Names the last batches' role sessions taught (their people are enriched after the batch's events).
    const taught = await pipeline.teachLearnedNames();
    if (taught.alerts.length > 0) await options.onBatch?.(counts, [], taught.alerts);
  } catch (error) {
    // Nothing may still be writing once the caller hears of the failure (it may close the store next).
    await Promise.allSettled(storing);
    throw error;
  }
  await options.onBatch?.(counts, [], []);
  return counts;
}
