/**
 * GuardDuty findings, answered: findings on the default bus that name a temporary access key (pattern.ts) →
 * the `GuardDuty` function, which publishes the person, external ids, portal session and sign-in address
 * behind the key to the alert topic, once per finding id.
 *
 * The function reads the table (the role-session queries) and writes one marker item per published finding;
 * it publishes to the alert topic only. EventBridge invokes it asynchronously: after the target's retries an
 * undeliverable event, and after Lambda's two async retries a failing one (a store or SNS outage, an event
 * that is not a finding), lands in an encrypted failure queue with the event.
 */
import { FUNCTION_DEFAULTS, powertoolsEnvironment } from "./functions.ts";
import { GUARDDUTY_RULE_STATE, guardDutyFindingPattern } from "./pattern.ts";

interface GuardDutyDependencies {
  readonly key: aws.kms.Key;
  readonly table: sst.aws.Dynamo;
  readonly tableFindingResponder: sst.Linkable<Record<string, unknown>>;
  readonly topic: sst.aws.SnsTopic;
  readonly alertPublisher: sst.Linkable<Record<string, unknown>>;
}

export function createGuardDutyFindings(deps: GuardDutyDependencies) {
  const { key } = deps;

  const rule = new aws.cloudwatch.EventRule("GuardDutyFindingRule", {
    description: "idc-audit: GuardDuty findings that name a temporary access key (ASIA…)",
    eventBusName: "default",
    eventPattern: JSON.stringify(guardDutyFindingPattern()),
    state: GUARDDUTY_RULE_STATE,
  });

  const failureQueue = new sst.aws.Queue("GuardDutyFailureQueue", {
    transform: {
      queue: {
        kmsMasterKeyId: key.arn,
        kmsDataKeyReusePeriodSeconds: 300,
        messageRetentionSeconds: 14 * 86400,
      },
    },
  });

  const fn = new sst.aws.Function("GuardDuty", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: answer GuardDuty findings about role session keys on the alert topic",
    handler: "functions/guardduty.handler",
    timeout: "30 seconds",
    memory: "512 MB",
    environment: {
      TABLE_NAME: deps.table.name,
      ALERT_TOPIC_ARN: deps.topic.arn,
      ...powertoolsEnvironment("idc-audit-guardduty"),
    },
    link: [deps.tableFindingResponder, deps.alertPublisher],
    permissions: [
      // Lambda's on-failure destination sends as the function's role; the queue is encrypted with the key,
      // on which the AlertPublisher link already grants kms:GenerateDataKey.
      { actions: ["sqs:SendMessage"], resources: [failureQueue.arn] },
    ],
  });

  const invokeConfig = new aws.lambda.FunctionEventInvokeConfig("GuardDutyInvokeConfig", {
    functionName: fn.name,
    maximumRetryAttempts: 2,
    maximumEventAgeInSeconds: 6 * 3600,
    destinationConfig: { onFailure: { destination: failureQueue.arn } },
  });

  const permission = new aws.lambda.Permission("GuardDutyInvokeFromRule", {
    action: "lambda:InvokeFunction",
    function: fn.name,
    principal: "events.amazonaws.com",
    sourceArn: rule.arn,
  });

  // EventBridge writes events it could not deliver to the failure queue too: only from this rule.
  const failureQueuePolicy = new aws.sqs.QueuePolicy("GuardDutyFailureQueuePolicy", {
    queueUrl: failureQueue.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeDeadLettersFromGuardDutyRule",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: failureQueue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
        },
      ],
    }),
  });

  const target = new aws.cloudwatch.EventTarget(
    "GuardDutyFindingTarget",
    {
      rule: rule.name,
      eventBusName: "default",
      arn: fn.arn,
      retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 24 * 3600 },
      deadLetterConfig: { arn: failureQueue.arn },
    },
    { dependsOn: [permission, failureQueuePolicy] },
  );

  return { rule, target, fn, permission, invokeConfig, failureQueue, failureQueuePolicy };
}
