export * from "./errors.ts";
export * from "./lambda.ts";
export * from "./pagination.ts";
export * from "./route.ts";
export * from "./server.ts";
