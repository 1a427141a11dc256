export * from "./sqs-ingest.ts";
