/// <reference path="./.sst/platform/config.d.ts" />

// idc-audit: `npx sst deploy --stage <stage>` with the stage's parameters in `.env.<stage>`; see infra/README.md.
// One concern per file under infra/. Those files use SST's globals, so they are imported inside run().
export default $config({
  app(input) {
    const production = input?.stage === "prod";
    return {
      name: "idc-audit",
      // Production keeps its data (tables, buckets) when the stage is removed, and cannot be removed at all
      // while `protect` is set.
      removal: production ? "retain" : "remove",
      protect: production,
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
    const { createApi } = await import("./infra/api.ts");
    const { createGuardDutyFindings } = await import("./infra/guardduty.ts");

    const config = loadStageConfig(process.env, $app.stage);
    enforceLambdaOnlyTrust();

    const key = createKey();
    const { table, tableWriter, tableReader, tableFindingResponder } = createStorage();
    const { topic, alertPublisher } = createAlerts(key);
    const identityStore = createIdentityStoreLink(config);
    const shared = { config, key, table, tableWriter, identityStore, topic, alertPublisher };
    const ingest = createIngest(shared);
    const backfill = createBackfill(shared);
    const api = createApi({ table, tableReader });
    const guardDuty = createGuardDutyFindings({ key, table, tableFindingResponder, topic, alertPublisher });

    return {
      table: table.name,
      ingestQueue: ingest.queue.url,
      ingestDeadLetterQueue: ingest.deadLetterQueue.url,
      ingestDeliveryDeadLetterQueue: ingest.deliveryDeadLetterQueue.url,
      alertTopic: topic.arn,
      apiUrl: api.fn.url,
      backfillFunction: backfill?.fn.name,
      guardDutyFunction: guardDuty.fn.name,
      guardDutyFailureQueue: guardDuty.failureQueue.url,
    };
  },
});
