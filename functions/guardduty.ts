import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { createGuardDutyFindingHandler } from "@idc-audit/core/lambda";
import { toAuditLogger } from "@idc-audit/core/shared";
import middy from "@middy/core";

// Findings are never logged whole: the answer names a person, their portal session and sign-in address.
const logger = new Logger({ serviceName: "idc-audit-guardduty" });

/** EventBridge "GuardDuty Finding" → the person behind its access key, published once to the alert topic. */
export const handler = middy(createGuardDutyFindingHandler({ logger: toAuditLogger(logger) })).use(
  injectLambdaContext(logger, { logEvent: false, resetKeys: true }),
);
