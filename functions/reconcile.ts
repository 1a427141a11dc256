import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { S3Client } from "@aws-sdk/client-s3";
import { S3ObjectSource } from "@idc-audit/core/cloudtrail/s3-source";
import { createReconcileScheduleHandler } from "@idc-audit/core/lambda";
import { toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

const logger = new Logger({ serviceName: "idc-audit-reconcile" });
// Embedded metric format: the metric is a log line CloudWatch extracts, so the role needs no PutMetricData.
const metrics = new Metrics({ serviceName: "idc-audit-reconcile" });
const objects = new S3ObjectSource(new S3Client({}));

/** Daily: yesterday's trail objects against the table; missing events ingested and counted as a metric. */
export const handler = middy(
  createReconcileScheduleHandler({
    logger: toAuditLogger(logger),
    objects,
    listFolders: (location) => objects.listFolders(location),
    trail: { bucket: process.env.TRAIL_BUCKET ?? "", prefix: process.env.TRAIL_LOG_PREFIX ?? "AWSLogs/" },
    publish: (_day, counts) => {
      metrics.addMetric("MissingEvents", MetricUnit.Count, counts.missing);
      metrics.addMetric("ReconciledEvents", MetricUnit.Count, counts.events);
      metrics.publishStoredMetrics();
    },
  }),
).use(injectLambdaContext(logger, { logEvent: false, resetKeys: true }));
