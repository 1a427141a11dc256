export * from "./analyst.ts";
export * from "./items.ts";
export * from "./keys.ts";
export * from "./permissions.ts";
export * from "./queries.ts";
export * from "./store.ts";
