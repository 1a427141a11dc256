import { dayPrefixes, previousDay } from "../backfill/range.ts";
import { type ReconcileCounts, reconcile } from "../backfill/reconcile.ts";
import type { ObjectSource, S3Location } from "../cloudtrail/s3.ts";
import type { Runtime } from "../runtime/index.ts";
import { AuditError } from "../shared/errors.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { containerRuntime } from "./container.ts";

export interface ReconcileScheduleDependencies {
  readonly logger: AuditLogger;
  readonly objects: ObjectSource;
  /** The "folders" under a prefix of the trail bucket (S3 `Delimiter: "/"`). */
  readonly listFolders: (location: S3Location) => AsyncIterable<string>;
  /** The trail bucket and its log prefix (`AWSLogs/` or `<prefix>/AWSLogs/`). */
  readonly trail: S3Location;
  /** Publishes the day's counts (the function: `MissingEvents` as a CloudWatch metric). */
  readonly publish: (day: string, counts: ReconcileCounts) => void;
  readonly now?: () => Date;
  readonly openRuntime?: () => Promise<Runtime>;
}

/**
 * The daily reconciliation: yesterday's log objects compared with the table, missing events ingested, and the
 * number missing published. Missing events on two days running mean a broken rule or a full dead-letter queue.
 */
export function createReconcileScheduleHandler(dependencies: ReconcileScheduleDependencies) {
  const { logger, trail } = dependencies;
  const runtime = containerRuntime(dependencies.openRuntime, logger);
  return async (): Promise<ReconcileCounts & { day: string }> => {
    if (trail.bucket === "") {
      // Checked here, not at import: a bundle must load without its environment (and fail clearly when run).
      throw new AuditError(
        "CONFIG",
        "TRAIL_BUCKET is not set: the trail bucket to reconcile (infra/reconcile.ts)",
      );
    }
    const opened = await runtime();
    const day = previousDay(dependencies.now?.() ?? new Date());
    const total: ReconcileCounts = { objects: 0, events: 0, present: 0, missing: 0, ingested: 0 };
    const list = (prefix: string) => dependencies.listFolders({ bucket: trail.bucket, prefix });
    for await (const prefix of dayPrefixes(list, trail.prefix, day)) {
      const counts = await reconcile(
        {
          path: `s3://${trail.bucket}/${prefix}`,
          range: { since: day, until: day },
          objects: dependencies.objects,
        },
        opened,
        {
          onMissing: (event) => logger.warn("event was missing", event),
          onRejected: (rejection) => logger.error("record rejected", { ...rejection }),
        },
      );
      for (const name of Object.keys(total) as (keyof ReconcileCounts)[]) total[name] += counts[name];
    }
    logger.info("day reconciled", { day, ...total });
    dependencies.publish(day, total);
    return { day, ...total };
  };
}
