export * from "./format.ts";
export { type CliIo, main } from "./main.ts";
