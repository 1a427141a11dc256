export * from "./counts.ts";
export * from "./queries.ts";
