export * from "./collections.ts";
export * from "./errors.ts";
export * from "./json.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./private.ts";
export * from "./time.ts";
