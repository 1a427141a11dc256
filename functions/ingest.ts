import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { createSqsIngestHandler } from "@idc-audit/core/lambda";
import { INGEST_SERVICE, METRICS_NAMESPACE, toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

// Whole events are never logged: they carry one-time codes and typed names (POWERTOOLS_LOGGER_LOG_EVENT off).
const logger = new Logger({ serviceName: INGEST_SERVICE });
// Embedded metric format: one JSON line per batch on stdout, turned into metrics by CloudWatch (no API call).
// The deploy names the stage's namespace (POWERTOOLS_METRICS_NAMESPACE); an option would override it.
const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? METRICS_NAMESPACE,
  serviceName: INGEST_SERVICE,
});

/** SQS (EventBridge envelopes of Identity Center CloudTrail events) → session timelines in DynamoDB. */
export const handler = middy(createSqsIngestHandler({ logger: toAuditLogger(logger), metrics })).use(
  injectLambdaContext(logger, { logEvent: false, resetKeys: true }),
);
