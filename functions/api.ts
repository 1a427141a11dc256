import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { createFunctionUrlHandler } from "@idc-audit/core/api";
import { toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

// Requests and answers are never logged: they name the people and addresses being looked up.
const logger = new Logger({ serviceName: "idc-audit-api" });

/** Function URL (AWS_IAM auth) → the analyst API's read-only routes over the timeline table. */
export const handler = middy(createFunctionUrlHandler({ logger: toAuditLogger(logger) })).use(
  injectLambdaContext(logger, { logEvent: false, resetKeys: true }),
);
