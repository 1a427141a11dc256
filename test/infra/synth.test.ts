/**
 * Offline synth of sst.config.ts (scripts/synth/synth.ts) for three stages: `production` with backfill, `dev`
 * without, both keeping their data because nothing declares them disposable, and `pr-42` declared disposable.
 * Assertions on every resource's inputs: ingest wiring, storage and its protection, encryption, least privilege.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ATTRIBUTION_MIN_EVENTS, ATTRIBUTION_RATE_THRESHOLD } from "../../infra/alarms.ts";
import {
  MISSING_METRIC,
  OBJECTS_PER_BATCH,
  RECONCILE_SCHEDULE,
  RECONCILE_SERVICE,
  RESULT_PREFIX,
  RESULT_RETENTION_DAYS,
  TOLERATED_FAILURE_PERCENTAGE,
} from "../../infra/backfill-settings.ts";
import {
  DEFAULT_BACKFILL_MAX_CONCURRENCY,
  DEFAULT_INGEST_MAX_CONCURRENCY,
  stageMetricsNamespace,
} from "../../infra/config.ts";
import {
  IDENTITY_STORE_ACTIONS,
  IDENTITY_STORE_GROUP_ACTIONS,
  TABLE_FINDING_ACTIONS,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from "../../infra/grants.ts";
import {
  EVENT_PATTERN_MAX_LENGTH,
  GUARDDUTY_RULE_STATE,
  guardDutyFindingPattern,
  INGEST_RULE_STATE,
  ingestRulePatterns,
  roleSessionRulePattern,
} from "../../infra/pattern.ts";

import { backfillDefinition } from "../../packages/core/src/backfill/definition.ts";
import { INGEST_SERVICE, IngestMetric } from "../../packages/core/src/shared/metrics.ts";
import { Keys } from "../../packages/core/src/timeline/keys.ts";
import { sstEnv } from "../../scripts/synth/sst-env.ts";
import {
  BASE_ENV,
  grants,
  IDENTITY_STORE,
  list,
  named,
  ofType,
  type PolicyStatement,
  ROOT,
  roleStatements,
  runSynth,
  type SynthResource,
  type SynthResult,
  statementsOf,
  TRAIL_BUCKET,
} from "./synth-helper.ts";

interface StageCase {
  readonly stage: string;
  readonly env: Record<string, string>;
  /** The stage names a trail bucket, so it has the backfill function. */
  readonly backfill: boolean;
  /** The stage is declared disposable, so nothing protects or retains its data. */
  readonly disposable: boolean;
}

const STAGES: readonly StageCase[] = [
  // `production` is the stage name SST's own templates use; `dev` shows protection does not depend on the name.
  {
    stage: "production",
    env: { ...BASE_ENV, IDC_AUDIT_TRAIL_BUCKET: TRAIL_BUCKET },
    backfill: true,
    disposable: false,
  },
  { stage: "dev", env: BASE_ENV, backfill: false, disposable: false },
  {
    stage: "pr-42",
    env: { ...BASE_ENV, IDC_AUDIT_DISPOSABLE_STAGE: "true" },
    backfill: false,
    disposable: true,
  },
];

const synths = new Map<string, SynthResult>();

beforeAll(async () => {
  // One after the other: the machine is small, and each synth takes a few seconds.
  for (const { stage, env } of STAGES) synths.set(stage, await runSynth(stage, env));
});

function synthOf(stage: string): SynthResult {
  const result = synths.get(stage);
  if (!result) throw new Error(`no synth of stage ${stage}`);
  return result;
}

const arnOf = (resource: SynthResource) => String(resource.state?.arn);
const fnArn = (result: SynthResult, name: string) =>
  arnOf(named(result, "aws:lambda/function:Function", `${name}Function`));
const queueArn = (result: SynthResult, name: string) =>
  arnOf(named(result, "aws:sqs/queue:Queue", `${name}Queue`));
const keyArn = (result: SynthResult) => arnOf(named(result, "aws:kms/key:Key", "QueueKey"));
const tableArn = (result: SynthResult) => arnOf(named(result, "aws:dynamodb/table:Table", "AuditTableTable"));
const topicArn = (result: SynthResult) => arnOf(named(result, "aws:sns/topic:Topic", "AlertTopicTopic"));
const sorted = (values: Iterable<string>) => [...values].sort();
const eventRules = (result: SynthResult) => ofType(result, "aws:cloudwatch/eventRule:EventRule");
/** The rules that feed the ingest queue: the catalogue's and the role-session rule. */
const ingestRules = (result: SynthResult) =>
  eventRules(result).filter((rule) => rule.name.startsWith("Ingest"));

/** Every policy document in the synth: role inline policies, trust policies, queue, key and topic policies. */
function allPolicies(result: SynthResult): { where: string; statements: PolicyStatement[] }[] {
  const policies: { where: string; statements: PolicyStatement[] }[] = [];
  for (const resource of result.resources) {
    const where = `${resource.type} ${resource.name}`;
    const inputs = resource.inputs;
    if (typeof inputs.policy === "string") policies.push({ where, statements: statementsOf(inputs.policy) });
    if (typeof inputs.assumeRolePolicy === "string") {
      policies.push({ where: `${where} trust`, statements: statementsOf(inputs.assumeRolePolicy) });
    }
    for (const inline of (inputs.inlinePolicies ?? []) as { policy: string }[]) {
      policies.push({ where: `${where} inline`, statements: statementsOf(inline.policy) });
    }
  }
  return policies;
}

describe.each(STAGES)("synth of stage $stage", ({ stage, backfill, disposable }) => {
  const result = () => synthOf(stage);

  it("asks the CLI only for what a deploy provides", () => {
    const methods = new Set(result().rpc.map((call) => call.method));
    expect(sorted(methods)).toEqual(["Provider.Aws.Bootstrap", "Runtime.Build"]);
  });

  it("resolves every handler to a source file, as SST's build does before deploying", () => {
    // ingest, GuardDuty findings and the query API on every stage, backfill where the stage names a bucket.
    // The distributed backfill's function and the daily reconciliation come with the trail bucket too.
    expect(result().builds.length).toBe(backfill ? 6 : 3);
    for (const build of result().builds)
      expect(build.source, `${build.functionID}: ${build.handler}`).toBeDefined();
  });

  it(
    disposable
      ? "removes everything on `sst remove` when the stage is declared disposable"
      : "retains tables on removal and refuses `sst remove` when the stage is not declared disposable",
    () => {
      expect(result().app.removal).toBe(disposable ? "remove" : "retain");
      expect(result().app.protect).toBe(!disposable);
    },
  );

  it("routes Identity Center events from the default bus with CloudTrail management events enabled", () => {
    const rules = eventRules(result()).filter((rule) => /^IngestRule\d+$/.test(rule.name));
    const patterns = ingestRulePatterns();
    expect(rules).toHaveLength(patterns.length);
    for (const [index, rule] of rules.entries()) {
      expect(rule.inputs.eventBusName).toBe("default");
      expect(rule.inputs.state).toBe(INGEST_RULE_STATE);
      expect(rule.inputs.state).toBe("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
      expect(String(rule.inputs.eventPattern).length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_LENGTH);
      expect(JSON.parse(String(rule.inputs.eventPattern))).toEqual(patterns[index]);
      expect(rule.inputs.scheduleExpression).toBeUndefined();
    }
  });

  it("routes this account's AWSReservedSSO_ role sessions to the ingest queue, read-only calls included", () => {
    const rule = named(result(), "aws:cloudwatch/eventRule:EventRule", "IngestRoleSessionRule");
    expect(rule.inputs.eventBusName).toBe("default");
    expect(rule.inputs.state).toBe("ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
    expect(String(rule.inputs.eventPattern).length).toBeLessThanOrEqual(EVENT_PATTERN_MAX_LENGTH);
    const pattern = JSON.parse(String(rule.inputs.eventPattern));
    expect(pattern).toEqual(roleSessionRulePattern());
    expect(pattern.$or[0].detail.userIdentity.sessionContext.sessionIssuer.userName).toEqual([
      { prefix: "AWSReservedSSO_" },
    ]);
    expect(pattern.$or[1].detail.requestParameters.roleArn).toEqual([{ wildcard: "*/AWSReservedSSO_*" }]);
    const target = named(result(), "aws:cloudwatch/eventTarget:EventTarget", "IngestRoleSessionTarget");
    expect(target.inputs.rule).toBe(rule.state?.name);
    expect(target.inputs.arn).toBe(queueArn(result(), "IngestQueue"));
  });

  it("targets the ingest queue from every ingest rule, with an explicit retry policy and a target DLQ", () => {
    const rules = ingestRules(result());
    const targets = ofType(result(), "aws:cloudwatch/eventTarget:EventTarget").filter((target) =>
      target.name.startsWith("Ingest"),
    );
    expect(rules.length).toBe(ingestRulePatterns().length + 1);
    expect(sorted(targets.map((target) => String(target.inputs.rule)))).toEqual(
      sorted(rules.map((rule) => String(rule.state?.name))),
    );
    for (const target of targets) {
      expect(target.inputs.arn).toBe(queueArn(result(), "IngestQueue"));
      expect(target.inputs.eventBusName).toBe("default");
      const retry = target.inputs.retryPolicy as Record<string, number>;
      expect(retry.maximumRetryAttempts).toBeGreaterThan(0);
      expect(retry.maximumEventAgeInSeconds).toBeGreaterThanOrEqual(3600);
      expect((target.inputs.deadLetterConfig as { arn: string }).arn).toBe(
        queueArn(result(), "IngestDeliveryDeadLetterQueue"),
      );
    }
  });

  it("lets EventBridge send to the queue and to the target DLQ, only from the ingest rules", () => {
    const ruleArns = sorted(ingestRules(result()).map(arnOf));
    for (const [policyName, queueName] of [
      ["IngestQueuePolicy", "IngestQueue"],
      ["IngestDeliveryDeadLetterQueuePolicy", "IngestDeliveryDeadLetterQueue"],
    ] as const) {
      const policy = named(result(), "aws:sqs/queuePolicy:QueuePolicy", policyName);
      const queue = named(result(), "aws:sqs/queue:Queue", `${queueName}Queue`);
      expect(policy.inputs.queueUrl).toBe(queue.state?.url);
      const statements = statementsOf(policy.inputs.policy);
      expect(statements).toHaveLength(1);
      const [statement] = statements;
      expect(statement?.Effect).toBe("Allow");
      expect(statement?.Principal).toEqual({ Service: "events.amazonaws.com" });
      expect(list(statement?.Action)).toEqual(["sqs:SendMessage"]);
      expect(list(statement?.Resource)).toEqual([arnOf(queue)]);
      expect(sorted(list(statement?.Condition?.ArnEquals?.["aws:SourceArn"]))).toEqual(ruleArns);
    }
  });

  it("encrypts every queue with the customer managed key and dead-letters after a few receives", () => {
    const key = keyArn(result());
    for (const queue of ofType(result(), "aws:sqs/queue:Queue")) {
      expect(queue.inputs.kmsMasterKeyId, queue.name).toBe(key);
    }
    const ingest = named(result(), "aws:sqs/queue:Queue", "IngestQueueQueue");
    const redrive = JSON.parse(String(ingest.inputs.redrivePolicy)) as Record<string, unknown>;
    expect(redrive.deadLetterTargetArn).toBe(queueArn(result(), "IngestDeadLetterQueue"));
    expect(redrive.maxReceiveCount).toBeGreaterThanOrEqual(3);
    expect(redrive.maxReceiveCount).toBeLessThanOrEqual(10);
    const fn = named(result(), "aws:lambda/function:Function", "IngestFunction");
    expect(Number(ingest.inputs.visibilityTimeoutSeconds)).toBeGreaterThanOrEqual(
      6 * Number(fn.inputs.timeout),
    );
  });

  it("consumes the queue in batches with partial batch responses and capped concurrency", () => {
    const mappings = ofType(result(), "aws:lambda/eventSourceMapping:EventSourceMapping");
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.inputs ?? {};
    expect(mapping.eventSourceArn).toBe(queueArn(result(), "IngestQueue"));
    expect(mapping.functionName).toBe(fnArn(result(), "Ingest"));
    expect(mapping.functionResponseTypes).toEqual(["ReportBatchItemFailures"]);
    expect(Number(mapping.batchSize)).toBeGreaterThan(1);
    expect(Number(mapping.batchSize)).toBeLessThanOrEqual(10);
    expect(mapping.scalingConfig).toEqual({ maximumConcurrency: DEFAULT_INGEST_MAX_CONCURRENCY });
  });

  it("stores everything in one on-demand table with PITR, SSE and no TTL", () => {
    const tables = ofType(result(), "aws:dynamodb/table:Table");
    expect(tables).toHaveLength(1);
    const table = tables[0] as SynthResource;
    expect(table.inputs.hashKey).toBe("pk");
    expect(table.inputs.rangeKey).toBe("sk");
    expect(table.inputs.attributes).toEqual([
      { name: "pk", type: "S" },
      { name: "sk", type: "S" },
    ]);
    expect(table.inputs.globalSecondaryIndexes ?? []).toEqual([]);
    expect(table.inputs.localSecondaryIndexes ?? []).toEqual([]);
    expect(table.inputs.billingMode).toBe("PAY_PER_REQUEST");
    expect(table.inputs.pointInTimeRecovery).toEqual({ enabled: true });
    expect(table.inputs.serverSideEncryption).toMatchObject({ enabled: true });
    expect(table.inputs.ttl).toBeUndefined();
  });

  it(
    disposable
      ? "leaves the table unprotected when the stage is declared disposable"
      : "deletion-protects, retains and Pulumi-protects the table when the stage is not declared disposable",
    () => {
      const table = named(result(), "aws:dynamodb/table:Table", "AuditTableTable");
      expect(table.inputs.deletionProtectionEnabled).toBe(!disposable);
      expect(table.retainOnDelete).toBe(!disposable);
      expect(table.protect).toBe(!disposable);
    },
  );

  it("publishes alerts to an encrypted topic", () => {
    const topic = named(result(), "aws:sns/topic:Topic", "AlertTopicTopic");
    expect(topic.inputs.kmsMasterKeyId).toBe(keyArn(result()));
  });

  it("runs every function on nodejs22.x, arm64, as an ESM bundle, never logging whole events", () => {
    const functions = ofType(result(), "aws:lambda/function:Function");
    expect(sorted(functions.map((fn) => fn.name))).toEqual(
      backfill
        ? [
            "ApiFunction",
            "BackfillFunction",
            "BackfillMapFunction",
            "GuardDutyFunction",
            "IngestFunction",
            "ReconcileFunction",
          ]
        : ["ApiFunction", "GuardDutyFunction", "IngestFunction"],
    );
    for (const fn of functions) {
      expect(fn.inputs.runtime, fn.name).toBe("nodejs22.x");
      expect(fn.inputs.architectures, fn.name).toEqual(["arm64"]);
      const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      expect(env.POWERTOOLS_LOGGER_LOG_EVENT ?? "false", fn.name).toBe("false");
    }
    for (const build of result().builds) {
      expect((build.input.properties as Record<string, unknown>).format, build.functionID).toBe("esm");
    }
  });

  it("gives the ingest functions their contract environment", () => {
    const expected = (service: string) => ({
      TABLE_NAME: named(result(), "aws:dynamodb/table:Table", "AuditTableTable").state?.name,
      IDENTITY_STORE_ID: IDENTITY_STORE.id,
      IDENTITY_STORE_REGION: IDENTITY_STORE.region,
      ALERT_TOPIC_ARN: topicArn(result()),
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_LOG_LEVEL: "INFO",
    });
    const ingest = named(result(), "aws:lambda/function:Function", "IngestFunction");
    expect(ingest.inputs.handler).toBe("functions/ingest.handler");
    expect((ingest.inputs.environment as { variables: object }).variables).toMatchObject(
      expected("idc-audit-ingest"),
    );
    const api = named(result(), "aws:lambda/function:Function", "ApiFunction");
    expect(api.inputs.handler).toBe("functions/api.handler");
    expect((api.inputs.environment as { variables: Record<string, string> }).variables.TABLE_NAME).toBe(
      expected("").TABLE_NAME,
    );
    if (backfill) {
      const backfillFn = named(result(), "aws:lambda/function:Function", "BackfillFunction");
      expect(backfillFn.inputs.handler).toBe("functions/backfill.handler");
      expect((backfillFn.inputs.environment as { variables: object }).variables).toMatchObject(
        expected("idc-audit-backfill"),
      );
    }
  });

  it("serves the query API on a function URL with AWS_IAM auth and no public invoke permission", () => {
    const urls = ofType(result(), "aws:lambda/functionUrl:FunctionUrl");
    expect(urls).toHaveLength(1);
    expect(urls[0]?.inputs.authorizationType).toBe("AWS_IAM");
    expect(urls[0]?.inputs.cors).toBeUndefined();
    expect(urls[0]?.inputs.functionName).toBe(
      named(result(), "aws:lambda/function:Function", "ApiFunction").state?.name,
    );
    for (const permission of ofType(result(), "aws:lambda/permission:Permission")) {
      expect(permission.inputs.principal, permission.name).not.toBe("*");
    }
  });

  it("lets only lambda.amazonaws.com assume the function roles", () => {
    const roles = ofType(result(), "aws:iam/role:Role").filter(
      (role) => role.name !== "BackfillStateMachineRole",
    );
    expect(roles.length).toBe(ofType(result(), "aws:lambda/function:Function").length);
    for (const role of roles) {
      const statements = statementsOf(role.inputs.assumeRolePolicy);
      expect(statements, role.name).toHaveLength(1);
      expect(statements[0]?.Effect).toBe("Allow");
      expect(statements[0]?.Principal, role.name).toEqual({ Service: "lambda.amazonaws.com" });
      expect(list(statements[0]?.Action)).toEqual(["sts:AssumeRole"]);
    }
  });

  it("grants no wildcard action and no NotAction in any policy", () => {
    const policies = allPolicies(result());
    expect(policies.length).toBeGreaterThan(5);
    for (const { where, statements } of policies) {
      for (const statement of statements) {
        expect(statement.NotAction, where).toBeUndefined();
        for (const action of list(statement.Action)) expect(action, where).not.toContain("*");
      }
    }
  });

  it("grants each function exactly the actions it uses, on exactly its resources", () => {
    const identityStoreArns = [
      `arn:aws:identitystore::${IDENTITY_STORE.accountId}:identitystore/${IDENTITY_STORE.id}`,
      "arn:aws:identitystore:::user/*",
      "arn:aws:identitystore:::group/*",
    ];
    const shared = (result: SynthResult) => ({
      [tableArn(result)]: sorted(TABLE_WRITE_ACTIONS),
      // The store itself carries both grants; users and groups only their own action(s).
      [identityStoreArns[0] as string]: sorted([...IDENTITY_STORE_ACTIONS, ...IDENTITY_STORE_GROUP_ACTIONS]),
      [identityStoreArns[1] as string]: sorted(IDENTITY_STORE_ACTIONS),
      [identityStoreArns[2] as string]: sorted(IDENTITY_STORE_GROUP_ACTIONS),
      [topicArn(result)]: ["sns:Publish"],
      [keyArn(result)]: ["kms:Decrypt", "kms:GenerateDataKey"],
    });
    const asObject = (map: Map<string, Set<string>>) =>
      Object.fromEntries([...map].map(([resource, actions]) => [resource, sorted(actions)]));

    expect(asObject(grants(result(), "Ingest"))).toEqual({
      ...shared(result()),
      [queueArn(result(), "IngestQueue")]: [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ],
    });
    expect(asObject(grants(result(), "Api"))).toEqual({ [tableArn(result())]: sorted(TABLE_READ_ACTIONS) });
    // GuardDuty findings: the table's reads and the marker's put, publishing to the alert topic (and its key),
    // and its own failure queue; no Identity Store, no other queue.
    expect(asObject(grants(result(), "GuardDuty"))).toEqual({
      [tableArn(result())]: ["dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:Query"],
      [topicArn(result())]: ["sns:Publish"],
      [keyArn(result())]: ["kms:Decrypt", "kms:GenerateDataKey"],
      [queueArn(result(), "GuardDutyFailureQueue")]: ["sqs:SendMessage"],
    });
    expect(sorted(TABLE_FINDING_ACTIONS)).toEqual([
      "dynamodb:BatchGetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
    ]);
    // The put is confined to published-finding markers: no timeline, profile or alert can be overwritten.
    const puts = roleStatements(result(), "GuardDuty").filter((statement) =>
      list(statement.Action).includes("dynamodb:PutItem"),
    );
    expect(puts).toHaveLength(1);
    expect(puts[0]?.Condition).toEqual({
      "ForAllValues:StringLike": { "dynamodb:LeadingKeys": `${Keys.findingPublished("").pk}*` },
    });
    if (backfill) {
      expect(asObject(grants(result(), "Backfill"))).toEqual({
        ...shared(result()),
        [`arn:aws:s3:::${TRAIL_BUCKET}/AWSLogs/*`]: ["s3:GetObject"],
        [queueArn(result(), "BackfillFailureQueue")]: ["sqs:SendMessage"],
      });
      // The distributed backfill's function reads the trail's objects, nothing else of the bucket.
      expect(asObject(grants(result(), "BackfillMap"))).toEqual({
        ...shared(result()),
        [`arn:aws:s3:::${TRAIL_BUCKET}/AWSLogs/*`]: ["s3:GetObject"],
      });
      // The reconciliation also lists, but only under the trail's prefix.
      expect(asObject(grants(result(), "Reconcile"))).toEqual({
        ...shared(result()),
        [`arn:aws:s3:::${TRAIL_BUCKET}`]: ["s3:ListBucket"],
        [`arn:aws:s3:::${TRAIL_BUCKET}/AWSLogs/*`]: ["s3:GetObject"],
      });
      const list = roleStatements(result(), "Reconcile").filter((statement) =>
        [statement.Action].flat().includes("s3:ListBucket"),
      );
      expect(list.map((statement) => statement.Condition)).toEqual([
        { StringLike: { "s3:prefix": "AWSLogs/*" } },
      ]);
    }
    // The function roles; the state machine's role is checked with the state machine.
    for (const role of ofType(result(), "aws:iam/role:Role").filter(
      (role) => role.name !== "BackfillStateMachineRole",
    )) {
      expect(role.inputs.managedPolicyArns, role.name).toEqual([
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
      ]);
    }
  });

  it("sends GuardDuty findings that name a temporary key to the GuardDuty function, failures to its queue", () => {
    const rule = named(result(), "aws:cloudwatch/eventRule:EventRule", "GuardDutyFindingRule");
    expect(rule.inputs.eventBusName).toBe("default");
    expect(rule.inputs.state).toBe(GUARDDUTY_RULE_STATE);
    expect(rule.inputs.state).toBe("ENABLED");
    expect(JSON.parse(String(rule.inputs.eventPattern))).toEqual({
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Finding"],
      detail: { resource: { accessKeyDetails: { accessKeyId: [{ prefix: "ASIA" }] } } },
    });
    expect(JSON.parse(String(rule.inputs.eventPattern))).toEqual(guardDutyFindingPattern());

    const target = named(result(), "aws:cloudwatch/eventTarget:EventTarget", "GuardDutyFindingTarget");
    expect(target.inputs.rule).toBe(rule.state?.name);
    expect(target.inputs.arn).toBe(fnArn(result(), "GuardDuty"));
    expect((target.inputs.deadLetterConfig as { arn: string }).arn).toBe(
      queueArn(result(), "GuardDutyFailureQueue"),
    );
    expect((target.inputs.retryPolicy as Record<string, number>).maximumRetryAttempts).toBeGreaterThan(0);

    // Only this rule may invoke the function, and only this rule may dead-letter into its queue.
    const permission = named(result(), "aws:lambda/permission:Permission", "GuardDutyInvokeFromRule");
    expect(permission.inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: arnOf(rule),
      function: named(result(), "aws:lambda/function:Function", "GuardDutyFunction").state?.name,
    });
    const policy = statementsOf(
      named(result(), "aws:sqs/queuePolicy:QueuePolicy", "GuardDutyFailureQueuePolicy").inputs.policy,
    );
    expect(policy).toHaveLength(1);
    expect(policy[0]?.Principal).toEqual({ Service: "events.amazonaws.com" });
    expect(list(policy[0]?.Action)).toEqual(["sqs:SendMessage"]);
    expect(list(policy[0]?.Condition?.ArnEquals?.["aws:SourceArn"])).toEqual([arnOf(rule)]);
    const invokeConfig = named(
      result(),
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "GuardDutyInvokeConfig",
    );
    expect(invokeConfig.inputs.destinationConfig).toEqual({
      onFailure: { destination: queueArn(result(), "GuardDutyFailureQueue") },
    });

    const fn = named(result(), "aws:lambda/function:Function", "GuardDutyFunction");
    expect(fn.inputs.handler).toBe("functions/guardduty.handler");
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(env).toMatchObject({
      TABLE_NAME: named(result(), "aws:dynamodb/table:Table", "AuditTableTable").state?.name,
      ALERT_TOPIC_ARN: topicArn(result()),
      POWERTOOLS_SERVICE_NAME: "idc-audit-guardduty",
    });
    // It needs no directory: the profiles it publishes are those ingestion stored.
    expect(env.IDENTITY_STORE_ID).toBeUndefined();
  });

  it("uses a rotating customer managed key that only the account and EventBridge (same account) may use", () => {
    const key = named(result(), "aws:kms/key:Key", "QueueKey");
    expect(key.inputs.enableKeyRotation).toBe(true);
    const statements = statementsOf(key.inputs.policy);
    const principals = statements.map((statement) => statement.Principal);
    expect(principals).toEqual([
      { AWS: "arn:aws:iam::123456789012:root" },
      { Service: "events.amazonaws.com" },
      { Service: "cloudwatch.amazonaws.com" },
    ]);
    const eventBridge = statements[1];
    expect(sorted(list(eventBridge?.Action))).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(eventBridge?.Condition).toEqual({ StringEquals: { "aws:SourceAccount": "123456789012" } });
    // CloudWatch may use the key only for this stage's alarms, which publish to the encrypted alert topic.
    const cloudWatch = statements[2];
    expect(sorted(list(cloudWatch?.Action))).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    expect(cloudWatch?.Condition).toEqual({
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:*:123456789012:alarm:idc-audit-${stage}-*` },
    });
    expect(list(statements[0]?.Action)).toContain("kms:PutKeyPolicy");
  });

  it("backfills from the trail bucket only when the stage names one", () => {
    const notifications = ofType(result(), "aws:s3/bucketNotification:BucketNotification");
    if (!backfill) {
      expect(notifications).toHaveLength(0);
      return;
    }
    expect(notifications).toHaveLength(1);
    const notification = notifications[0]?.inputs ?? {};
    expect(notification.bucket).toBe(TRAIL_BUCKET);
    expect(notification.lambdaFunctions).toEqual([
      {
        lambdaFunctionArn: fnArn(result(), "Backfill"),
        events: ["s3:ObjectCreated:*"],
        filterPrefix: "AWSLogs/",
        filterSuffix: ".json.gz",
      },
    ]);
    const permission = named(result(), "aws:lambda/permission:Permission", "BackfillInvokeFromTrailBucket");
    expect(permission.inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "s3.amazonaws.com",
      sourceArn: `arn:aws:s3:::${TRAIL_BUCKET}`,
      sourceAccount: "123456789012",
    });
    const invokeConfig = named(
      result(),
      "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
      "BackfillInvokeConfig",
    );
    expect(invokeConfig.inputs.destinationConfig).toEqual({
      onFailure: { destination: queueArn(result(), "BackfillFailureQueue") },
    });
  });

  it("alarms on the dead-letter queues, function errors, the attribution rate and the canary, to the alert topic", () => {
    const alarms = ofType(result(), "aws:cloudwatch/metricAlarm:MetricAlarm");
    const byName = new Map(alarms.map((alarm) => [alarm.name, alarm.inputs]));
    for (const alarm of alarms) {
      expect(alarm.inputs.alarmActions, alarm.name).toEqual([topicArn(result())]);
      expect(alarm.inputs.okActions, alarm.name).toEqual([topicArn(result())]);
      expect(String(alarm.inputs.name)).toMatch(new RegExp(`^idc-audit-${stage}-`));
      // The daily reconciliation's alarm keeps "missing": a day it did not run is no evidence either way.
      if (alarm.name !== "ReconcileMissingAlarm") expect(alarm.inputs.treatMissingData).toBe("notBreaching");
    }
    const queues = ["IngestDeadLetterQueue", "IngestDeliveryDeadLetterQueue", "GuardDutyFailureQueue"];
    if (backfill) queues.push("BackfillFailureQueue");
    const functions = [
      "Ingest",
      "GuardDuty",
      "Api",
      ...(backfill ? ["Backfill", "BackfillMap", "Reconcile"] : []),
    ];
    expect(sorted(byName.keys())).toEqual(
      sorted([
        ...queues.map((queue) => `${queue}Alarm`),
        ...functions.map((fn) => `${fn}ErrorsAlarm`),
        "AttributionRateAlarm",
        "UncataloguedAlarm",
        ...(backfill ? ["ReconcileMissingAlarm"] : []),
      ]),
    );
    for (const queue of queues) {
      expect(byName.get(`${queue}Alarm`)).toMatchObject({
        namespace: "AWS/SQS",
        metricName: "ApproximateNumberOfMessagesVisible",
        dimensions: { QueueName: named(result(), "aws:sqs/queue:Queue", `${queue}Queue`).state?.name },
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
      });
    }
    for (const fn of functions) {
      expect(byName.get(`${fn}ErrorsAlarm`)).toMatchObject({
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: {
          FunctionName: named(result(), "aws:lambda/function:Function", `${fn}Function`).state?.name,
        },
        threshold: 0,
      });
    }

    // The canary reads what the ingest function publishes: the same namespace, service and metric names.
    type Query = {
      id: string;
      expression?: string;
      metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string };
    };
    const queriesOf = (name: string) => (byName.get(name)?.metricQueries ?? []) as Query[];
    const metricsOf = (name: string) =>
      queriesOf(name).flatMap((query) => (query.metric ? [query.metric] : []));
    for (const name of ["AttributionRateAlarm", "UncataloguedAlarm"]) {
      for (const metric of metricsOf(name)) {
        expect(metric).toMatchObject({
          namespace: `idc-audit/${stage}`,
          dimensions: { service: INGEST_SERVICE },
          stat: "Sum",
        });
      }
    }
    // ...the namespace the ingest function publishes in: its stage's own, so stages never share alarms.
    const ingestEnv = (
      named(result(), "aws:lambda/function:Function", "IngestFunction").inputs.environment as {
        variables: Record<string, string>;
      }
    ).variables;
    expect(ingestEnv.POWERTOOLS_METRICS_NAMESPACE).toBe(`idc-audit/${stage}`);
    expect(metricsOf("AttributionRateAlarm").map((metric) => metric.metricName)).toEqual([
      IngestMetric.Attributed,
      IngestMetric.Unattributed,
      IngestMetric.LateAttributed,
    ]);
    const rate = queriesOf("AttributionRateAlarm").find((query) => query.expression);
    expect(rate?.expression).toBe(
      `IF((attributed + unattributed) >= ${ATTRIBUTION_MIN_EVENTS}, 100 * (attributed + late) / (attributed + unattributed), 100)`,
    );
    expect(byName.get("AttributionRateAlarm")).toMatchObject({
      comparisonOperator: "LessThanThreshold",
      threshold: ATTRIBUTION_RATE_THRESHOLD,
    });
    expect(metricsOf("UncataloguedAlarm").map((metric) => metric.metricName)).toEqual([
      IngestMetric.UnknownNames,
      IngestMetric.NewFields,
    ]);
    expect(queriesOf("UncataloguedAlarm").find((query) => query.expression)?.expression).toBe(
      "unknownNames + newFields",
    );
    expect(byName.get("UncataloguedAlarm")).toMatchObject({
      comparisonOperator: "GreaterThanThreshold",
      threshold: 0,
    });
  });
});

describe("distributed backfill and daily reconciliation (stage production, with a trail bucket)", () => {
  const result = () => synthOf("production");
  const machine = () => named(result(), "aws:sfn/stateMachine:StateMachine", "BackfillStateMachine");
  const resultsBucket = () => named(result(), "aws:s3/bucket:Bucket", "BackfillResults");
  const stateMachineArn = "arn:aws:states:us-east-1:123456789012:stateMachine:idc-audit-production-backfill";

  it("exists only where the stage names a trail bucket", () => {
    expect(ofType(synthOf("dev"), "aws:sfn/stateMachine:StateMachine")).toEqual([]);
    const alarmsOnDev = ofType(synthOf("dev"), "aws:cloudwatch/metricAlarm:MetricAlarm");
    expect(alarmsOnDev.map((alarm) => alarm.name)).not.toContain("ReconcileMissingAlarm");
    expect(ofType(result(), "aws:sfn/stateMachine:StateMachine")).toHaveLength(1);
  });

  it("is a Distributed Map over an S3 listing, batching objects to the backfill function", () => {
    expect(machine().inputs.type).toBe("STANDARD");
    expect(machine().inputs.name).toBe("idc-audit-production-backfill");
    const definition = JSON.parse(String(machine().inputs.definition));
    expect(definition).toEqual(
      backfillDefinition({
        functionArn: fnArn(result(), "BackfillMap"),
        resultBucket: String(resultsBucket().state?.bucket),
        resultPrefix: RESULT_PREFIX,
        maxConcurrency: DEFAULT_BACKFILL_MAX_CONCURRENCY,
        toleratedFailurePercentage: TOLERATED_FAILURE_PERCENTAGE,
        objectsPerBatch: OBJECTS_PER_BATCH,
      }),
    );
    const map = definition.States[definition.StartAt];
    expect(map.Type).toBe("Map");
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe("DISTRIBUTED");
    expect(map.ItemReader).toEqual({
      Resource: "arn:aws:states:::s3:listObjectsV2",
      Parameters: { "Bucket.$": "$.bucket", "Prefix.$": "$.prefix" },
    });
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(OBJECTS_PER_BATCH);
    expect(map.ItemBatcher.BatchInput).toEqual({
      "bucket.$": "$.bucket",
      "since.$": "$.since",
      "until.$": "$.until",
    });
    expect(map.MaxConcurrency).toBe(DEFAULT_BACKFILL_MAX_CONCURRENCY);
    expect(map.ToleratedFailurePercentage).toBe(TOLERATED_FAILURE_PERCENTAGE);
    expect(map.ToleratedFailurePercentage).toBeGreaterThan(0);
    expect(map.ResultWriter).toEqual({
      Resource: "arn:aws:states:::s3:putObject",
      Parameters: { Bucket: resultsBucket().state?.bucket, Prefix: RESULT_PREFIX },
    });
    const task = map.ItemProcessor.States[map.ItemProcessor.StartAt];
    expect(task.Resource).toBe("arn:aws:states:::lambda:invoke");
    expect(task.Parameters.FunctionName).toBe(fnArn(result(), "BackfillMap"));
    // The function's own failure is not retried: it already tried every object, and says which failed.
    expect(task.Retry.flatMap((retry: { ErrorEquals: string[] }) => retry.ErrorEquals)).not.toContain(
      "States.ALL",
    );
  });

  it("takes its concurrency from the stage parameter", async () => {
    const custom = await runSynth("production", {
      ...BASE_ENV,
      IDC_AUDIT_TRAIL_BUCKET: TRAIL_BUCKET,
      IDC_AUDIT_BACKFILL_MAX_CONCURRENCY: "40",
    });
    const definition = JSON.parse(
      String(named(custom, "aws:sfn/stateMachine:StateMachine", "BackfillStateMachine").inputs.definition),
    );
    expect(definition.States[definition.StartAt].MaxConcurrency).toBe(40);
  });

  it("lets only Step Functions of this account assume its role, which lists only the trail prefix, invokes only the backfill function, starts only itself and writes only its results", () => {
    const role = named(result(), "aws:iam/role:Role", "BackfillStateMachineRole");
    expect(machine().inputs.roleArn).toBe(role.state?.arn);
    expect(role.inputs.managedPolicyArns ?? []).toEqual([]);
    const trust = statementsOf(role.inputs.assumeRolePolicy);
    expect(trust).toEqual([
      {
        Effect: "Allow",
        Principal: { Service: "states.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
      },
    ]);
    const statements = ((role.inputs.inlinePolicies ?? []) as { policy: string }[]).flatMap((policy) =>
      statementsOf(policy.policy),
    );
    const fn = fnArn(result(), "BackfillMap");
    const bucket = String(resultsBucket().state?.arn);
    expect(
      statements.map(({ Effect, Action, Resource, Condition }) => ({
        Effect,
        Action: sorted(list(Action)),
        Resource: sorted(list(Resource)),
        Condition,
      })),
    ).toEqual([
      {
        Effect: "Allow",
        Action: ["s3:ListBucket"],
        Resource: [`arn:aws:s3:::${TRAIL_BUCKET}`],
        Condition: { StringLike: { "s3:prefix": ["AWSLogs/*"] } },
      },
      {
        Effect: "Allow",
        Action: ["lambda:InvokeFunction"],
        Resource: [fn],
        Condition: undefined,
      },
      {
        Effect: "Allow",
        Action: ["states:StartExecution"],
        Resource: [stateMachineArn],
        Condition: undefined,
      },
      {
        Effect: "Allow",
        Action: ["states:DescribeExecution", "states:RedriveExecution", "states:StopExecution"],
        Resource: ["arn:aws:states:us-east-1:123456789012:execution:idc-audit-production-backfill/*"],
        Condition: undefined,
      },
      {
        Effect: "Allow",
        Action: ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"],
        Resource: [`${bucket}/${RESULT_PREFIX}/*`],
        Condition: undefined,
      },
    ]);
    expect(machine().state?.arn).toBe(stateMachineArn);
  });

  it("keeps results private, encrypted and for a limited time", () => {
    const bucket = String(resultsBucket().state?.bucket);
    const block = named(
      result(),
      "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
      "BackfillResultsPublicAccessBlock",
    );
    expect(block.inputs).toMatchObject({
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const encryption = named(
      result(),
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "BackfillResultsEncryption",
    );
    expect(encryption.inputs.rules).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
    ]);
    const expiry = named(
      result(),
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "BackfillResultsExpiry",
    );
    expect((expiry.inputs.rules as { expiration: { days: number } }[])[0]?.expiration.days).toBe(
      RESULT_RETENTION_DAYS,
    );
    expect(resultsBucket().inputs.forceDestroy).toBe(false);
  });

  it("reconciles yesterday every day and alarms on the alert topic when events were missing twice running", () => {
    const rule = named(result(), "aws:cloudwatch/eventRule:EventRule", "ReconcileScheduleRule");
    expect(rule.inputs.scheduleExpression).toBe(RECONCILE_SCHEDULE);
    expect(rule.inputs.scheduleExpression).toBe("cron(30 1 * * ? *)");
    expect(rule.inputs.state).toBe("ENABLED");
    const target = named(result(), "aws:cloudwatch/eventTarget:EventTarget", "ReconcileScheduleTarget");
    expect(target.inputs.rule).toBe(rule.state?.name);
    expect(target.inputs.arn).toBe(fnArn(result(), "Reconcile"));
    const permission = named(result(), "aws:lambda/permission:Permission", "ReconcileSchedulePermission");
    expect(permission.inputs).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      sourceArn: arnOf(rule),
    });
    const fn = named(result(), "aws:lambda/function:Function", "ReconcileFunction");
    expect(fn.inputs.handler).toBe("functions/reconcile.handler");
    const env = (fn.inputs.environment as { variables: Record<string, string> }).variables;
    expect(env).toMatchObject({
      TRAIL_BUCKET: TRAIL_BUCKET,
      TRAIL_LOG_PREFIX: "AWSLogs/",
      POWERTOOLS_SERVICE_NAME: RECONCILE_SERVICE,
      POWERTOOLS_METRICS_NAMESPACE: stageMetricsNamespace("production"),
    });
    const alarm = named(result(), "aws:cloudwatch/metricAlarm:MetricAlarm", "ReconcileMissingAlarm");
    expect(alarm.inputs).toMatchObject({
      namespace: "idc-audit/production",
      metricName: MISSING_METRIC,
      dimensions: { service: RECONCILE_SERVICE },
      statistic: "Maximum",
      period: 86400,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      alarmActions: [topicArn(result())],
    });
  });
});

describe("sst-env.d.ts", () => {
  it("is what `sst deploy` would generate for the production stage (regenerate: see infra/README.md)", () => {
    const committed = readFileSync(path.join(ROOT, "sst-env.d.ts"), "utf8");
    expect(committed).toBe(sstEnv(synthOf("production")));
  });
});
