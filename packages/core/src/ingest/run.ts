import type { Location, ReadItem } from "../cloudtrail/reader.ts";
import type { Alert } from "../detect/detector.ts";
import { normalize } from "../normalize/normalize.ts";
import type { AuditEvent, NormalizedRecord } from "../normalize/types.ts";
import type { Pipeline } from "./pipeline.ts";

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

/** Classifies one read item: a normalized record to store, or a count (ignored) or a rejection. */
export function classifyItem(
  item: ReadItem,
):
  | { kind: "audited"; record: NormalizedRecord }
  | { kind: "ignored" }
  | { kind: "rejected"; rejection: Rejection } {
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
  if (result.status === "ignored") return { kind: "ignored" };
  return {
    kind: "rejected",
    rejection: {
      location: item.location,
      reason: result.reason,
      ...(result.eventId ? { eventId: result.eventId } : {}),
    },
  };
}

/**
 * Streams records into the pipeline in batches. Memory holds one batch; the counts account for every record.
 * The CLI and the backfill function both come through here.
 */
export async function ingestStream(
  items: AsyncIterable<ReadItem>,
  pipeline: Pipeline,
  options: IngestRunOptions = {},
): Promise<IngestCounts> {
  // Large batches share join and detection reads between more events; memory holds one batch (a few MB).
  const batchSize = options.batchSize ?? 2000;
  const counts = emptyCounts();
  let batch: NormalizedRecord[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    const result = await pipeline.ingest(current);
    counts.stored += result.stored.length;
    counts.duplicates += result.duplicates;
    await options.onBatch?.(counts, result.stored, result.alerts);
  };
  for await (const item of items) {
    counts.read += 1;
    const classified = classifyItem(item);
    if (classified.kind === "audited") {
      options.onAudited?.(classified.record.event);
      batch.push(classified.record);
      if (batch.length >= batchSize) await flush();
    } else if (classified.kind === "ignored") {
      counts.ignored += 1;
    } else {
      counts.rejected += 1;
      await options.onRejected?.(classified.rejection);
    }
  }
  await flush();
  await options.onBatch?.(counts, [], []);
  return counts;
}
