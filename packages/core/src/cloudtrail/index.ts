export * from "./catalogue.ts";
export * from "./reader.ts";
export * from "./s3.ts";
