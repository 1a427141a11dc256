export * from "./definition.ts";
export * from "./range.ts";
export * from "./reconcile.ts";
