export * from "./catalogue.ts";
export * from "./reader.ts";
