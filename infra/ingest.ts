import { FUNCTION_DEFAULTS, type IngestingFunctionDependencies, ingestEnvironment } from "./functions.ts";
import { INGEST_RULE_STATE, ingestRulePatterns, roleSessionRulePattern } from "./pattern.ts";

export const INGEST_FUNCTION_TIMEOUT_SECONDS = 60;
/** A message is moved to the dead-letter queue after this many failed receives. */
export const INGEST_MAX_RECEIVE_COUNT = 5;

const FOURTEEN_DAYS = 14 * 24 * 3600;

interface IngestDependencies extends IngestingFunctionDependencies {
  readonly key: aws.kms.Key;
}

function encryptedQueueArgs(key: aws.kms.Key, retentionSeconds: number) {
  return {
    kmsMasterKeyId: key.arn,
    kmsDataKeyReusePeriodSeconds: 300,
    messageRetentionSeconds: retentionSeconds,
  };
}

/** Lets EventBridge send to `queue`, only on behalf of `rules`. SST adds no such policy for a raw rule target. */
function allowRulesToSend(name: string, queue: sst.aws.Queue, rules: aws.cloudwatch.EventRule[]) {
  return new aws.sqs.QueuePolicy(name, {
    queueUrl: queue.url,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "EventBridgeSendsFromIngestRules",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queue.arn,
          Condition: { ArnEquals: { "aws:SourceArn": rules.map((rule) => rule.arn) } },
        },
      ],
    }),
  });
}

export function createIngest(deps: IngestDependencies) {
  const { config, key } = deps;

  const patterns = ingestRulePatterns();
  const catalogueRules = patterns.map(
    (pattern, index) =>
      new aws.cloudwatch.EventRule(`IngestRule${index + 1}`, {
        description: `idc-audit: IAM Identity Center CloudTrail events (${index + 1} of ${patterns.length})`,
        eventBusName: "default",
        eventPattern: JSON.stringify(pattern),
        state: INGEST_RULE_STATE,
      }),
  );
  // This account's AWSReservedSSO_* role sessions, to the same queue: the ingest function tells them apart.
  const roleSessionRule = new aws.cloudwatch.EventRule("IngestRoleSessionRule", {
    description: "idc-audit: this account's IAM Identity Center role sessions (AWSReservedSSO_* roles)",
    eventBusName: "default",
    eventPattern: JSON.stringify(roleSessionRulePattern()),
    state: INGEST_RULE_STATE,
  });
  const rules = [...catalogueRules, roleSessionRule];

  const deadLetterQueue = new sst.aws.Queue("IngestDeadLetterQueue", {
    transform: { queue: encryptedQueueArgs(key, FOURTEEN_DAYS) },
  });
  const deliveryDeadLetterQueue = new sst.aws.Queue("IngestDeliveryDeadLetterQueue", {
    transform: { queue: encryptedQueueArgs(key, FOURTEEN_DAYS) },
  });
  const queue = new sst.aws.Queue("IngestQueue", {
    // Six times the function timeout, as AWS recommends for SQS event sources, so a batch that is retried
    // under throttling is not made visible again while still being processed.
    visibilityTimeout: `${6 * INGEST_FUNCTION_TIMEOUT_SECONDS} seconds`,
    dlq: { queue: deadLetterQueue.arn, retry: INGEST_MAX_RECEIVE_COUNT },
    transform: { queue: encryptedQueueArgs(key, FOURTEEN_DAYS) },
  });

  const queuePolicy = allowRulesToSend("IngestQueuePolicy", queue, rules);
  const deliveryDeadLetterPolicy = allowRulesToSend(
    "IngestDeliveryDeadLetterQueuePolicy",
    deliveryDeadLetterQueue,
    rules,
  );

  const targets = rules.map(
    (rule, index) =>
      new aws.cloudwatch.EventTarget(
        rule === roleSessionRule ? "IngestRoleSessionTarget" : `IngestTarget${index + 1}`,
        {
          rule: rule.name,
          eventBusName: "default",
          arn: queue.arn,
          // Explicit rather than implied: EventBridge keeps retrying a failing delivery for up to a day.
          retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 24 * 3600 },
          deadLetterConfig: { arn: deliveryDeadLetterQueue.arn },
        },
        { dependsOn: [queuePolicy, deliveryDeadLetterPolicy] },
      ),
  );

  const fn = new sst.aws.Function("Ingest", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: ingest Identity Center events from the EventBridge queue",
    handler: "functions/ingest.handler",
    timeout: `${INGEST_FUNCTION_TIMEOUT_SECONDS} seconds`,
    memory: "512 MB",
    environment: ingestEnvironment("idc-audit-ingest", config, deps.table.name, deps.topic.arn),
    link: [deps.tableWriter, deps.identityStore, deps.alertPublisher],
    permissions: [
      {
        actions: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
        ],
        resources: [queue.arn],
      },
      { actions: ["kms:Decrypt"], resources: [key.arn] },
    ],
  });

  const subscription = queue.subscribe(fn.arn, {
    batch: { size: 10, window: "5 seconds", partialResponses: true },
    transform: {
      eventSourceMapping: (args) => {
        // Caps concurrent invocations (and so Identity Store lookups) whatever the queue depth.
        args.scalingConfig = { maximumConcurrency: config.ingestMaxConcurrency };
      },
    },
  });

  return {
    rules,
    roleSessionRule,
    targets,
    queue,
    deadLetterQueue,
    deliveryDeadLetterQueue,
    fn,
    subscription,
  };
}
