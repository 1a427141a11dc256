export * from "./guardduty-finding.ts";
export * from "./map-backfill.ts";
export * from "./reconcile-schedule.ts";
export * from "./s3-backfill.ts";
export * from "./sqs-ingest.ts";
