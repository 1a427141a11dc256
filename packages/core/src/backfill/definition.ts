/**
 * The distributed backfill's state machine, as Amazon States Language: one Distributed Map whose S3 item reader
 * lists the trail bucket under a prefix, batching objects to the backfill function, with capped concurrency, a
 * tolerated failure percentage and a result writer that lists every failed batch afterwards.
 *
 * SST 4.17.1's `Map` component writes `ProcessorConfig` and `MaxConcurrency` but has no `ItemReader`,
 * `ItemBatcher`, `ToleratedFailurePercentage` or `ResultWriter` (see `.sst/platform/src/components/aws/
 * step-functions/map.ts`), so infra/ passes this definition to `aws.sfn.StateMachine` as it is.
 */

export interface BackfillDefinitionOptions {
  /** The backfill function's ARN. */
  readonly functionArn: string;
  /** The bucket results are written to, and the key prefix under it. */
  readonly resultBucket: string;
  readonly resultPrefix: string;
  /** Child workflows running at once (each handles one batch of objects). */
  readonly maxConcurrency: number;
  /** Share of item batches that may fail before the whole run fails, 0-100. */
  readonly toleratedFailurePercentage: number;
  /** Objects per item batch (one Lambda invocation). */
  readonly objectsPerBatch: number;
}

/**
 * What an execution is started with: the bucket and prefix to list and, optionally, the days to keep (the
 * function skips objects outside them: CloudTrail's keys carry their day, S3 cannot list by it).
 */
export interface BackfillExecutionInput {
  readonly bucket: string;
  readonly prefix: string;
  readonly since?: string;
  readonly until?: string;
}

/** The batch input every item batch receives beside its `Items` (Step Functions' `ItemBatcher.BatchInput`). */
export interface BackfillBatchInput {
  readonly bucket: string;
  readonly since?: string | null;
  readonly until?: string | null;
}

export const MAP_STATE = "BackfillObjects";

/** Object batches are retried on Lambda's transient errors, never on the function's own failure. */
const LAMBDA_TRANSIENT_ERRORS = [
  "Lambda.ServiceException",
  "Lambda.AWSLambdaException",
  "Lambda.SdkClientException",
  "Lambda.TooManyRequestsException",
];

export function backfillDefinition(options: BackfillDefinitionOptions): Record<string, unknown> {
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
    throw new RangeError(`maxConcurrency must be a positive integer: ${options.maxConcurrency}`);
  }
  if (!(options.toleratedFailurePercentage >= 0 && options.toleratedFailurePercentage <= 100)) {
    throw new RangeError(`toleratedFailurePercentage must be 0..100: ${options.toleratedFailurePercentage}`);
  }
  if (!Number.isInteger(options.objectsPerBatch) || options.objectsPerBatch < 1) {
    throw new RangeError(`objectsPerBatch must be a positive integer: ${options.objectsPerBatch}`);
  }
  return {
    Comment: "idc-audit: backfill CloudTrail log objects from the trail bucket (see infra/README.md)",
    QueryLanguage: "JSONPath",
    StartAt: MAP_STATE,
    States: {
      [MAP_STATE]: {
        Type: "Map",
        ItemReader: {
          Resource: "arn:aws:states:::s3:listObjectsV2",
          Parameters: { "Bucket.$": "$.bucket", "Prefix.$": "$.prefix" },
        },
        ItemBatcher: {
          MaxItemsPerBatch: options.objectsPerBatch,
          BatchInput: {
            "bucket.$": "$.bucket",
            // Optional in the execution input: a missing field would fail the path, so the CLI always sends both
            // (null for an open end).
            "since.$": "$.since",
            "until.$": "$.until",
          },
        },
        MaxConcurrency: options.maxConcurrency,
        ToleratedFailurePercentage: options.toleratedFailurePercentage,
        ItemProcessor: {
          ProcessorConfig: { Mode: "DISTRIBUTED", ExecutionType: "STANDARD" },
          StartAt: "IngestObjects",
          States: {
            IngestObjects: {
              Type: "Task",
              Resource: "arn:aws:states:::lambda:invoke",
              Parameters: { FunctionName: options.functionArn, "Payload.$": "$" },
              OutputPath: "$.Payload",
              Retry: [
                { ErrorEquals: LAMBDA_TRANSIENT_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2 },
              ],
              End: true,
            },
          },
        },
        ResultWriter: {
          Resource: "arn:aws:states:::s3:putObject",
          Parameters: { Bucket: options.resultBucket, Prefix: options.resultPrefix },
        },
        End: true,
      },
    },
  };
}
