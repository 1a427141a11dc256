export * from "./finding.ts";
export * from "./ingest.ts";
export * from "./items.ts";
export * from "./link.ts";
export * from "./normalize.ts";
export * from "./queries.ts";
export * from "./types.ts";
