/**
 * Settings every idc-audit function shares: Node.js 22 on arm64 (Graviton), an ESM bundle, JSON logs kept
 * three months, and Powertools configured so that whole events are never logged.
 */
import { type StageConfig, stageMetricsNamespace } from "./config.ts";

export const FUNCTION_DEFAULTS = {
  runtime: "nodejs22.x",
  architecture: "arm64",
  nodejs: { format: "esm" },
  logging: { format: "json", retention: "3 months" },
} satisfies Partial<sst.aws.FunctionArgs>;

/** Powertools settings; POWERTOOLS_LOGGER_LOG_EVENT stays "false" so no handler logs whole events. */
export function powertoolsEnvironment(service: string): Record<string, string> {
  return {
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_LOG_LEVEL: "INFO",
    POWERTOOLS_LOGGER_LOG_EVENT: "false",
    // Each stage's metrics apart: the alarms of one stage must not read another's (a preview, a test account).
    POWERTOOLS_METRICS_NAMESPACE: stageMetricsNamespace($app.stage),
  };
}

/** What every function that ingests events is given: the table, the directory and the alert topic. */
export interface IngestingFunctionDependencies {
  readonly config: StageConfig;
  readonly table: sst.aws.Dynamo;
  readonly tableWriter: sst.Linkable<Record<string, unknown>>;
  readonly identityStore: sst.Linkable<Record<string, unknown>>;
  readonly topic: sst.aws.SnsTopic;
  readonly alertPublisher: sst.Linkable<Record<string, unknown>>;
}

/** The environment of the functions that ingest events (from the queue or from trail log objects). */
export function ingestEnvironment(
  service: string,
  config: StageConfig,
  tableName: $util.Input<string>,
  alertTopicArn: $util.Input<string>,
): Record<string, $util.Input<string>> {
  return {
    TABLE_NAME: tableName,
    IDENTITY_STORE_ID: config.identityStoreId,
    IDENTITY_STORE_REGION: config.identityStoreRegion,
    ALERT_TOPIC_ARN: alertTopicArn,
    ...powertoolsEnvironment(service),
  };
}
