import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { S3Client } from "@aws-sdk/client-s3";
import { S3ObjectSource } from "@idc-audit/core/cloudtrail/s3-source";
import { createMapBackfillHandler } from "@idc-audit/core/lambda";
import { toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

const logger = new Logger({ serviceName: "idc-audit-backfill" });

/** The distributed backfill's item batches (objects listed by the Map's S3 reader) → the same ingest stream. */
export const handler = middy(
  createMapBackfillHandler({ logger: toAuditLogger(logger), objects: new S3ObjectSource(new S3Client({})) }),
).use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
