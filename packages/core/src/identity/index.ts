export * from "./export.ts";
export * from "./identity-store.ts";
export * from "./port.ts";
