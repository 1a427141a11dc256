export * from "./format.ts";
export { type CliIo, main, parseTime } from "./main.ts";
