export * from "./fields.ts";
export * from "./normalize.ts";
export * from "./schema.ts";
export * from "./types.ts";
