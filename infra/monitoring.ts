/**
 * The canary and the pipeline's health: CloudWatch alarms on the dead-letter queues, on function errors, on the
 * attribution rate falling and on event names or `userIdentity` fields nobody has catalogued appearing. Every
 * alarm notifies the alert topic (and again when it recovers). What to do when each fires: README, "Monitoring".
 *
 * The canary's numbers are the ingest function's per-batch metrics (Powertools, embedded metric format:
 * `packages/core/src/shared/metrics.ts`), so the alarms cost no API call at ingest.
 */
import { INGEST_SERVICE, IngestMetric } from "../packages/core/src/shared/metrics.ts";
import {
  ATTRIBUTION_MIN_EVENTS,
  ATTRIBUTION_RATE_EXPRESSION,
  ATTRIBUTION_RATE_THRESHOLD,
  alarmName,
} from "./alarms.ts";
import { stageMetricsNamespace } from "./config.ts";

interface MonitoringDependencies {
  readonly topic: sst.aws.SnsTopic;
  readonly queues: Readonly<Record<string, sst.aws.Queue>>;
  readonly functions: Readonly<Record<string, sst.aws.Function>>;
}

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();

export function createMonitoring(deps: MonitoringDependencies) {
  const actions = {
    alarmActions: [deps.topic.arn],
    okActions: [deps.topic.arn],
  };
  const alarms: aws.cloudwatch.MetricAlarm[] = [];
  // One is enough to look: a message not stored, an invocation that threw.
  const anyInFiveMinutes = {
    period: 300,
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
    ...actions,
  };

  // A message in a dead-letter queue is an event not stored: one is enough to look.
  for (const [name, queue] of Object.entries(deps.queues)) {
    alarms.push(
      new aws.cloudwatch.MetricAlarm(`${name}Alarm`, {
        name: alarmName($app.stage, kebab(name)),
        alarmDescription: `idc-audit: messages in ${name} (events not stored). README, Monitoring.`,
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: queue.nodes.queue.name },
        statistic: "Maximum",
        ...anyInFiveMinutes,
      }),
    );
  }

  for (const [name, fn] of Object.entries(deps.functions)) {
    alarms.push(
      new aws.cloudwatch.MetricAlarm(`${name}ErrorsAlarm`, {
        name: alarmName($app.stage, `${kebab(name)}-errors`),
        alarmDescription: `idc-audit: the ${name} function failed (an invocation threw). README, Monitoring.`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: fn.name },
        statistic: "Sum",
        ...anyInFiveMinutes,
      }),
    );
  }

  const ingestMetric = (id: string, metricName: string, period: number) => ({
    id,
    returnData: false,
    metric: {
      namespace: stageMetricsNamespace($app.stage),
      metricName,
      dimensions: { service: INGEST_SERVICE },
      period,
      stat: "Sum",
    },
  });

  // Attributed (now or by a later batch) over the events that name or imply a person, per hour. A shape change
  // that hides who acted shows here first: events keep arriving, fewer of them resolve to anyone.
  const attributionRate = new aws.cloudwatch.MetricAlarm("AttributionRateAlarm", {
    name: alarmName($app.stage, "attribution-rate"),
    alarmDescription: `idc-audit canary: under ${ATTRIBUTION_RATE_THRESHOLD}% of the events that name or imply a person were attributed to one in an hour (of hours with ${ATTRIBUTION_MIN_EVENTS}+ such events). Run idc-audit coverage. README, Monitoring.`,
    metricQueries: [
      ingestMetric("attributed", IngestMetric.Attributed, 3600),
      ingestMetric("unattributed", IngestMetric.Unattributed, 3600),
      ingestMetric("late", IngestMetric.LateAttributed, 3600),
      {
        id: "rate",
        label: "Attribution rate (%)",
        returnData: true,
        expression: ATTRIBUTION_RATE_EXPRESSION,
      },
    ],
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    comparisonOperator: "LessThanThreshold",
    threshold: ATTRIBUTION_RATE_THRESHOLD,
    treatMissingData: "notBreaching",
    ...actions,
  });

  // Any event name the catalogue does not know, or any userIdentity field its shape never had: the first sign
  // of AWS's next change (the 2024 and 2025 changes each added fields before anything else moved).
  const uncatalogued = new aws.cloudwatch.MetricAlarm("UncataloguedAlarm", {
    name: alarmName($app.stage, "unknown-names-or-new-fields"),
    alarmDescription:
      "idc-audit canary: events with a name the catalogue does not know or a userIdentity field never seen in their shape. Run idc-audit coverage. README, Monitoring.",
    metricQueries: [
      ingestMetric("unknownNames", IngestMetric.UnknownNames, 300),
      ingestMetric("newFields", IngestMetric.NewFields, 300),
      {
        id: "uncatalogued",
        label: "Uncatalogued events",
        returnData: true,
        expression: "unknownNames + newFields",
      },
    ],
    evaluationPeriods: 1,
    comparisonOperator: "GreaterThanThreshold",
    threshold: 0,
    treatMissingData: "notBreaching",
    ...actions,
  });
  alarms.push(attributionRate, uncatalogued);

  return { alarms, attributionRate, uncatalogued };
}
