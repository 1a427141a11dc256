/**
 * Backfill from the trail bucket: each new CloudTrail log object (`AWSLogs/…/*.json.gz`) invokes the backfill
 * function, which reads it with s3:GetObject and ingests its records with the same code as the live path.
 * Only when the stage names a trail bucket (IDC_AUDIT_TRAIL_BUCKET); the bucket must be in this account and
 * region. Invocations that still fail after Lambda's async retries land in an encrypted failure queue.
 */
import { trailLogPrefix } from "./config.ts";
import { FUNCTION_DEFAULTS, type IngestingFunctionDependencies, ingestEnvironment } from "./functions.ts";

interface BackfillDependencies extends IngestingFunctionDependencies {
  readonly key: aws.kms.Key;
}

export function createBackfill(deps: BackfillDependencies) {
  const { config, key } = deps;
  const bucket = config.trailBucket;
  if (bucket === undefined) return undefined;

  const partition = aws.getPartitionOutput().partition;
  const accountId = aws.getCallerIdentityOutput().accountId;
  const bucketArn = $interpolate`arn:${partition}:s3:::${bucket}`;
  const prefix = trailLogPrefix(config);

  const failureQueue = new sst.aws.Queue("BackfillFailureQueue", {
    transform: {
      queue: {
        kmsMasterKeyId: key.arn,
        kmsDataKeyReusePeriodSeconds: 300,
        messageRetentionSeconds: 14 * 86400,
      },
    },
  });

  const fn = new sst.aws.Function("Backfill", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: ingest new CloudTrail log objects from the trail bucket",
    handler: "functions/backfill.handler",
    timeout: "5 minutes",
    memory: "1024 MB",
    environment: ingestEnvironment("idc-audit-backfill", config, deps.table.name, deps.topic.arn),
    link: [deps.tableWriter, deps.identityStore, deps.alertPublisher],
    permissions: [
      { actions: ["s3:GetObject"], resources: [$interpolate`${bucketArn}/${prefix}*`] },
      ...(config.trailKmsKeyArn === undefined
        ? []
        : [{ actions: ["kms:Decrypt"], resources: [config.trailKmsKeyArn] }]),
      { actions: ["sqs:SendMessage"], resources: [failureQueue.arn] },
      { actions: ["kms:GenerateDataKey"], resources: [key.arn] },
    ],
  });

  const invokeConfig = new aws.lambda.FunctionEventInvokeConfig("BackfillInvokeConfig", {
    functionName: fn.name,
    maximumRetryAttempts: 2,
    maximumEventAgeInSeconds: 6 * 3600,
    destinationConfig: { onFailure: { destination: failureQueue.arn } },
  });

  const permission = new aws.lambda.Permission("BackfillInvokeFromTrailBucket", {
    action: "lambda:InvokeFunction",
    function: fn.name,
    principal: "s3.amazonaws.com",
    sourceArn: bucketArn,
    sourceAccount: accountId,
  });

  // Note: an S3 bucket has ONE notification configuration; this resource owns it (see infra/README.md).
  const notification = new aws.s3.BucketNotification(
    "BackfillNotification",
    {
      bucket,
      lambdaFunctions: [
        {
          lambdaFunctionArn: fn.arn,
          events: ["s3:ObjectCreated:*"],
          filterPrefix: prefix,
          filterSuffix: ".json.gz",
        },
      ],
    },
    { dependsOn: [permission] },
  );

  return { fn, failureQueue, invokeConfig, permission, notification };
}
