import type { S3Event } from "aws-lambda";
import { readObject } from "../cloudtrail/reader.ts";
import { isLogObject, type ObjectSource } from "../cloudtrail/s3.ts";
import { type IngestCounts, ingestStream } from "../ingest/run.ts";
import type { Runtime } from "../runtime/index.ts";
import type { AuditLogger } from "../shared/logger.ts";
import { containerRuntime } from "./container.ts";

export interface S3BackfillDependencies {
  readonly logger: AuditLogger;
  readonly objects: ObjectSource;
  readonly openRuntime?: () => Promise<Runtime>;
}

/** S3 event keys are URL-encoded, spaces as `+`. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/**
 * The backfill function: each new CloudTrail log object in the trail bucket is read and ingested through the
 * same stream code as `idc-audit ingest`. Rejected records are logged by location and reason (never their
 * content); a store failure throws, so Lambda retries the object and finally sends it to the failure queue.
 */
export function createS3BackfillHandler(dependencies: S3BackfillDependencies) {
  const { logger, objects } = dependencies;
  const runtime = containerRuntime(dependencies.openRuntime, logger);
  return async (event: S3Event): Promise<{ objects: number; counts: IngestCounts[] }> => {
    const { pipeline } = await runtime();
    const counts: IngestCounts[] = [];
    for (const record of event.Records) {
      const bucket = record.s3.bucket.name;
      const key = decodeS3Key(record.s3.object.key);
      if (!isLogObject(key)) {
        // Digest files (integrity proofs) share the trail's prefix and suffix but hold no events.
        logger.info("object skipped", { bucket, key });
        continue;
      }
      const result = await ingestStream(readObject(objects, bucket, key), pipeline, {
        onRejected: (rejection) => logger.error("record rejected", { ...rejection }),
      });
      logger.info("object ingested", { bucket, key, ...result });
      counts.push(result);
    }
    return { objects: event.Records.length, counts };
  };
}
