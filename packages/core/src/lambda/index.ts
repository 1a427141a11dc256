export * from "./guardduty-finding.ts";
export * from "./s3-backfill.ts";
export * from "./sqs-ingest.ts";
