import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { createSqsIngestHandler } from "@idc-audit/core/lambda";
import { toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

// Whole events are never logged: they carry one-time codes and typed names (POWERTOOLS_LOGGER_LOG_EVENT off).
const logger = new Logger({ serviceName: "idc-audit-ingest" });

/** SQS (EventBridge envelopes of Identity Center CloudTrail events) → session timelines in DynamoDB. */
export const handler = middy(createSqsIngestHandler({ logger: toAuditLogger(logger) })).use(
  injectLambdaContext(logger, { logEvent: false, resetKeys: true }),
);
