/**
 * Distributed backfill: a Step Functions state machine whose Distributed Map lists the trail bucket under a
 * prefix (S3 ListObjectsV2 item reader), hands batches of log objects to the backfill-map function, runs at most
 * IDC_AUDIT_BACKFILL_MAX_CONCURRENCY of them at once, tolerates a few failed batches, and writes every batch's
 * result (failed ones with their objects and reason) to a results bucket. Started by
 * `idc-audit backfill s3://… --distributed`. Only when the stage names a trail bucket.
 *
 * SST's `sst.aws.StepFunctions` Map cannot express an item reader, batcher or result writer (SST 4.17.1), so this
 * is `aws.sfn.StateMachine` with the definition built by a pure, tested function.
 */
import {
  type BackfillDefinitionOptions,
  backfillDefinition,
} from "../packages/core/src/backfill/definition.ts";
import {
  OBJECTS_PER_BATCH,
  RESULT_PREFIX,
  RESULT_RETENTION_DAYS,
  TOLERATED_FAILURE_PERCENTAGE,
} from "./backfill-settings.ts";
import { type StageConfig, trailLogPrefix } from "./config.ts";
import { FUNCTION_DEFAULTS, type IngestingFunctionDependencies, ingestEnvironment } from "./functions.ts";

type DistributedBackfillDependencies = IngestingFunctionDependencies;

/** The trail's objects may be read by the function, and by nothing else here; with its KMS key when given. */
export function trailReadPermissions(config: StageConfig, bucketArn: $util.Input<string>) {
  return [
    { actions: ["s3:GetObject"], resources: [$interpolate`${bucketArn}/${trailLogPrefix(config)}*`] },
    ...(config.trailKmsKeyArn === undefined
      ? []
      : [{ actions: ["kms:Decrypt"], resources: [config.trailKmsKeyArn] }]),
  ];
}

export function createDistributedBackfill(deps: DistributedBackfillDependencies) {
  const { config } = deps;
  const bucket = config.trailBucket;
  if (bucket === undefined) return undefined;

  const partition = aws.getPartitionOutput().partition;
  const region = aws.getRegionOutput().region;
  const accountId = aws.getCallerIdentityOutput().accountId;
  const bucketArn = $interpolate`arn:${partition}:s3:::${bucket}`;
  const prefix = trailLogPrefix(config);

  const results = new aws.s3.Bucket("BackfillResults", { forceDestroy: config.disposable });
  new aws.s3.BucketPublicAccessBlock("BackfillResultsPublicAccessBlock", {
    bucket: results.bucket,
    blockPublicAcls: true,
    blockPublicPolicy: true,
    ignorePublicAcls: true,
    restrictPublicBuckets: true,
  });
  new aws.s3.BucketServerSideEncryptionConfiguration("BackfillResultsEncryption", {
    bucket: results.bucket,
    rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
  });
  new aws.s3.BucketLifecycleConfiguration("BackfillResultsExpiry", {
    bucket: results.bucket,
    rules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: RESULT_RETENTION_DAYS } }],
  });

  const fn = new sst.aws.Function("BackfillMap", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: ingest a batch of CloudTrail log objects for the distributed backfill",
    handler: "functions/backfill-map.handler",
    timeout: "15 minutes",
    memory: "1024 MB",
    environment: ingestEnvironment("idc-audit-backfill", config, deps.table.name, deps.topic.arn),
    link: [deps.tableWriter, deps.identityStore, deps.alertPublisher],
    permissions: trailReadPermissions(config, bucketArn),
  });

  // Named, so that its role can allow it to start its own child workflows without depending on it.
  const name = `${$app.name}-${$app.stage}-backfill`;
  const stateMachineArn = $interpolate`arn:${partition}:states:${region}:${accountId}:stateMachine:${name}`;
  const executionArns = $interpolate`arn:${partition}:states:${region}:${accountId}:execution:${name}/*`;
  const resultsArn = $interpolate`${results.arn}/${RESULT_PREFIX}/*`;

  const role = new aws.iam.Role("BackfillStateMachineRole", {
    assumeRolePolicy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "states.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": accountId } },
        },
      ],
    }),
    inlinePolicies: [
      {
        name: "backfill",
        policy: $jsonStringify({
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ListTrailPrefix",
              Effect: "Allow",
              Action: ["s3:ListBucket"],
              Resource: [bucketArn],
              Condition: { StringLike: { "s3:prefix": [`${prefix}*`] } },
            },
            {
              Sid: "InvokeBackfillFunction",
              Effect: "Allow",
              // The definition invokes the unqualified ARN; no version or alias is published.
              Action: ["lambda:InvokeFunction"],
              Resource: [fn.arn],
            },
            {
              // A Distributed Map runs each batch as a child workflow of this state machine.
              Sid: "RunChildWorkflows",
              Effect: "Allow",
              Action: ["states:StartExecution"],
              Resource: [stateMachineArn],
            },
            {
              // Child executions are `execution:<name>/<map run label>:<id>`; redriving the parent redrives them.
              Sid: "ManageChildWorkflows",
              Effect: "Allow",
              Action: ["states:DescribeExecution", "states:RedriveExecution", "states:StopExecution"],
              Resource: [executionArns],
            },
            {
              Sid: "WriteResults",
              Effect: "Allow",
              Action: [
                "s3:AbortMultipartUpload",
                "s3:GetObject",
                "s3:ListMultipartUploadParts",
                "s3:PutObject",
              ],
              Resource: [resultsArn],
            },
          ],
        }),
      },
    ],
  });

  const definitionOptions = (functionArn: string, resultBucket: string): BackfillDefinitionOptions => ({
    functionArn,
    resultBucket,
    resultPrefix: RESULT_PREFIX,
    maxConcurrency: config.backfillMaxConcurrency,
    toleratedFailurePercentage: TOLERATED_FAILURE_PERCENTAGE,
    objectsPerBatch: OBJECTS_PER_BATCH,
  });
  const stateMachine = new aws.sfn.StateMachine("BackfillStateMachine", {
    name,
    type: "STANDARD",
    roleArn: role.arn,
    definition: $resolve([fn.arn, results.bucket]).apply(([functionArn, resultBucket]) =>
      JSON.stringify(backfillDefinition(definitionOptions(functionArn, resultBucket))),
    ),
  });

  return { fn, role, stateMachine, results };
}
