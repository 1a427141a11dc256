import type { Readable } from "node:stream";
import type { BackfillBatchInput } from "../backfill/definition.ts";
import { type DayRange, keyInRange } from "../backfill/range.ts";
import { readObject } from "../cloudtrail/reader.ts";
import { isLogObject, type ObjectSource, type S3Location } from "../cloudtrail/s3.ts";
import { ingestStream } from "../ingest/run.ts";
import type { Runtime } from "../runtime/index.ts";
import { AuditError, describeError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { containerRuntime } from "./container.ts";

/** One object as the Distributed Map's S3 `listObjectsV2` item reader gives it. */
export interface MapObjectItem {
  readonly Key: string;
  readonly Size?: number;
  readonly Etag?: string;
  readonly LastModified?: string;
  readonly StorageClass?: string;
}

/** What the Map's `ItemBatcher` hands one invocation. */
export interface MapItemBatch {
  readonly Items: readonly MapObjectItem[];
  readonly BatchInput: BackfillBatchInput;
}

/** Counts of one item batch: what the result writer keeps for each succeeded batch. */
export interface MapBatchResult {
  /** Objects in the batch. */
  objects: number;
  /** Digests, other files and objects outside the day range: not read. */
  skipped: number;
  /** Records read from the objects read. */
  read: number;
  stored: number;
  duplicates: number;
  ignored: number;
  rejected: number;
  /** Objects that could not be read or stored. */
  failures: number;
}

/** Some objects of a batch failed: the Map counts the batch as failed and its result lists it with this cause. */
export class BackfillBatchError extends AuditError {
  constructor(
    readonly failed: readonly { key: string; reason: string }[],
    readonly counts: MapBatchResult,
  ) {
    super(
      "BACKFILL_OBJECTS_FAILED",
      // The cause lands in the result writer's FAILED file; Step Functions caps it at 32 KiB.
      `${failed.length} of ${counts.objects} objects failed: ${failed
        .slice(0, 20)
        .map(({ key, reason }) => `${key} (${reason.slice(0, 300)})`)
        .join("; ")}${failed.length > 20 ? "; …" : ""}`,
    );
  }
}

export interface MapBackfillDependencies {
  readonly logger: AuditLogger;
  readonly objects: ObjectSource;
  readonly openRuntime?: () => Promise<Runtime>;
}

/** Notes an object's open failure, which the reader turns into a rejection, so the object counts as failed. */
class WatchedSource implements ObjectSource {
  readonly failedOpens = new Map<string, string>();
  constructor(private readonly inner: ObjectSource) {}
  list(location: S3Location): AsyncGenerator<string> {
    return this.inner.list(location);
  }
  async open(bucket: string, key: string): Promise<Readable> {
    try {
      return await this.inner.open(bucket, key);
    } catch (error) {
      this.failedOpens.set(key, describeError(error));
      throw error;
    }
  }
}

/**
 * The distributed backfill's function: one batch of objects listed by the Map's item reader, each read and
 * ingested through the same stream code as `idc-audit ingest` and the per-object backfill. Every object is
 * tried; if any could not be read or stored, the batch fails (after the others are stored) naming them, so
 * the Map counts it against its tolerated failures and its result writer lists it.
 */
export function createMapBackfillHandler(dependencies: MapBackfillDependencies) {
  const { logger } = dependencies;
  const runtime = containerRuntime(dependencies.openRuntime, logger);
  return async (batch: MapItemBatch): Promise<MapBatchResult> => {
    const bucket = batch.BatchInput?.bucket;
    if (typeof bucket !== "string" || !Array.isArray(batch.Items)) {
      throw new AuditError(
        "BAD_BATCH",
        "an item batch needs Items and BatchInput.bucket (see infra/README.md)",
      );
    }
    const { pipeline } = await runtime();
    const range: DayRange = {
      ...(batch.BatchInput.since ? { since: batch.BatchInput.since } : {}),
      ...(batch.BatchInput.until ? { until: batch.BatchInput.until } : {}),
    };
    const result: MapBatchResult = {
      objects: batch.Items.length,
      skipped: 0,
      read: 0,
      stored: 0,
      duplicates: 0,
      ignored: 0,
      rejected: 0,
      failures: 0,
    };
    const failed: { key: string; reason: string }[] = [];
    for (const { Key: key } of batch.Items) {
      if (!isLogObject(key) || !keyInRange(key, range)) {
        result.skipped += 1;
        continue;
      }
      const source = new WatchedSource(dependencies.objects);
      try {
        const counts = await ingestStream(readObject(source, bucket, key), pipeline, {
          onRejected: (rejection) => logger.error("record rejected", { ...rejection }),
        });
        const openFailure = source.failedOpens.get(key);
        if (openFailure !== undefined) throw new Error(`cannot read object: ${openFailure}`);
        result.read += counts.read;
        result.stored += counts.stored;
        result.duplicates += counts.duplicates;
        result.ignored += counts.ignored;
        result.rejected += counts.rejected;
        logger.info("object ingested", { bucket, key, ...counts });
      } catch (error) {
        const reason = describeError(error);
        result.failures += 1;
        failed.push({ key, reason });
        logger.error("object failed", { bucket, key, reason });
      }
    }
    if (failed.length > 0) throw new BackfillBatchError(failed, result);
    return result;
  };
}
