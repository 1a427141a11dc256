/// <reference path="./.sst/platform/config.d.ts" />

// idc-audit: `npx sst deploy --stage <stage>` with the stage's parameters in `.env.<stage>`; see infra/README.md.
// One concern per file under infra/. Those files use SST's globals, so they are imported inside run().
export default $config({
  async app(input) {
    // SST refuses top-level imports in this file; it awaits app(), so a dynamic import works here too.
    const { isDisposableStage } = await import("./infra/config.ts");
    // Every stage keeps its data unless `.env.<stage>` declares it disposable (IDC_AUDIT_DISPOSABLE_STAGE=true):
    // SST loads that file before evaluating app(). Kept data means `removal: "retain"` (SST retains tables and
    // buckets when the stage or the resource is removed) and `protect` (`sst remove` refuses to run at all).
    const keepsData = !isDisposableStage(process.env, input?.stage ?? "");
    return {
      name: "idc-audit",
      removal: keepsData ? "retain" : "remove",
      protect: keepsData,
      home: "aws",
      providers: { aws: { version: "7.20.0" } },
    };
  },
  async run() {
    const { loadStageConfig } = await import("./infra/config.ts");
    const { enforceLambdaOnlyTrust } = await import("./infra/iam.ts");
    const { createKey } = await import("./infra/encryption.ts");
    const { createStorage } = await import("./infra/storage.ts");
    const { createAlerts } = await import("./infra/alerts.ts");
    const { createIdentityStoreLink } = await import("./infra/identity.ts");
    const { createIngest } = await import("./infra/ingest.ts");
    const { createBackfill } = await import("./infra/backfill.ts");
    const { createDistributedBackfill } = await import("./infra/backfill-distributed.ts");
    const { createReconcile } = await import("./infra/reconcile.ts");
    const { createApi } = await import("./infra/api.ts");
    const { createGuardDutyFindings } = await import("./infra/guardduty.ts");
    const { createMonitoring } = await import("./infra/monitoring.ts");

    const config = loadStageConfig(process.env, $app.stage);
    enforceLambdaOnlyTrust();

    const key = createKey();
    const { table, tableWriter, tableReader, tableFindingResponder } = createStorage(config);
    const { topic, alertPublisher } = createAlerts(key);
    const identityStore = createIdentityStoreLink(config);
    const shared = { config, key, table, tableWriter, identityStore, topic, alertPublisher };
    const ingest = createIngest(shared);
    const backfill = createBackfill(shared);
    const distributedBackfill = createDistributedBackfill(shared);
    const reconcile = createReconcile(shared);
    const api = createApi({ table, tableReader });
    const guardDuty = createGuardDutyFindings({ key, table, tableFindingResponder, topic, alertPublisher });
    createMonitoring({
      topic,
      queues: {
        IngestDeadLetterQueue: ingest.deadLetterQueue,
        IngestDeliveryDeadLetterQueue: ingest.deliveryDeadLetterQueue,
        GuardDutyFailureQueue: guardDuty.failureQueue,
        ...(backfill ? { BackfillFailureQueue: backfill.failureQueue } : {}),
      },
      functions: {
        Ingest: ingest.fn,
        GuardDuty: guardDuty.fn,
        Api: api.fn,
        ...(backfill ? { Backfill: backfill.fn } : {}),
        ...(distributedBackfill ? { BackfillMap: distributedBackfill.fn } : {}),
        ...(reconcile ? { Reconcile: reconcile.fn } : {}),
      },
    });

    return {
      table: table.name,
      ingestQueue: ingest.queue.url,
      ingestDeadLetterQueue: ingest.deadLetterQueue.url,
      ingestDeliveryDeadLetterQueue: ingest.deliveryDeadLetterQueue.url,
      alertTopic: topic.arn,
      apiUrl: api.fn.url,
      backfillFunction: backfill?.fn.name,
      backfillStateMachine: distributedBackfill?.stateMachine.arn,
      backfillResultsBucket: distributedBackfill?.results.bucket,
      reconcileFunction: reconcile?.fn.name,
      guardDutyFunction: guardDuty.fn.name,
      guardDutyFailureQueue: guardDuty.failureQueue.url,
    };
  },
});
