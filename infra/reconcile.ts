/**
 * Daily reconciliation: EventBridge delivers CloudTrail events best effort, so once a day a function compares
 * yesterday's trail log objects with the table, ingests what is missing and publishes `MissingEvents` (embedded
 * metric format, so no PutMetricData grant). An alarm notifies the alert topic when events were missing two
 * days running (a broken rule, a full dead-letter queue). Only when the stage names a trail bucket.
 */

import { alarmName } from "./alarms.ts";
import { trailReadPermissions } from "./backfill-distributed.ts";
import { MISSING_METRIC, RECONCILE_SCHEDULE, RECONCILE_SERVICE } from "./backfill-settings.ts";
import { stageMetricsNamespace, trailLogPrefix } from "./config.ts";
import { FUNCTION_DEFAULTS, type IngestingFunctionDependencies, ingestEnvironment } from "./functions.ts";

type ReconcileDependencies = IngestingFunctionDependencies;

export function createReconcile(deps: ReconcileDependencies) {
  const { config } = deps;
  const bucket = config.trailBucket;
  if (bucket === undefined) return undefined;
  const partition = aws.getPartitionOutput().partition;
  const bucketArn = $interpolate`arn:${partition}:s3:::${bucket}`;
  const prefix = trailLogPrefix(config);
  // The stage's namespace, which its environment (powertoolsEnvironment) gives the function too.
  const namespace = stageMetricsNamespace($app.stage);

  const fn = new sst.aws.Function("Reconcile", {
    ...FUNCTION_DEFAULTS,
    description: "idc-audit: daily, ingest yesterday's trail events the table is missing and count them",
    handler: "functions/reconcile.handler",
    timeout: "15 minutes",
    memory: "1024 MB",
    environment: {
      ...ingestEnvironment(RECONCILE_SERVICE, config, deps.table.name, deps.topic.arn),
      TRAIL_BUCKET: bucket,
      TRAIL_LOG_PREFIX: prefix,
    },
    link: [deps.tableWriter, deps.identityStore, deps.alertPublisher],
    permissions: [
      {
        // Listing folders down to each region's day: only under the trail's prefix.
        actions: ["s3:ListBucket"],
        resources: [bucketArn],
        conditions: [{ test: "StringLike", variable: "s3:prefix", values: [`${prefix}*`] }],
      },
      ...trailReadPermissions(config, bucketArn),
    ],
  });

  const schedule = new sst.aws.Cron("ReconcileSchedule", { schedule: RECONCILE_SCHEDULE, function: fn.arn });

  const alarm = new aws.cloudwatch.MetricAlarm("ReconcileMissingAlarm", {
    // Named like every alarm of the stage: the key policy lets CloudWatch publish only those to the topic.
    name: alarmName($app.stage, "reconcile-missing-events"),
    alarmDescription:
      "idc-audit: trail events were missing from the table two days running (EventBridge rule or ingest queue)",
    namespace,
    metricName: MISSING_METRIC,
    dimensions: { service: RECONCILE_SERVICE },
    statistic: "Maximum",
    period: 86400,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 0,
    comparisonOperator: "GreaterThanThreshold",
    // No datapoint means the reconciliation did not run; its own errors are in its logs, the alarm stays put.
    treatMissingData: "missing",
    alarmActions: [deps.topic.arn],
    okActions: [deps.topic.arn],
  });

  return { fn, schedule, alarm };
}
