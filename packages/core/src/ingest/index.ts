export * from "./enrich.ts";
export * from "./pipeline.ts";
export * from "./run.ts";
