export * from "./ingest.ts";
export * from "./model.ts";
export * from "./queries.ts";
