export * from "./analyst.ts";
export * from "./items.ts";
export * from "./keys.ts";
export * from "./queries.ts";
export * from "./store.ts";
