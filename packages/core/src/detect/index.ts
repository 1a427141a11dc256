export * from "./detector.ts";
export * from "./rules.ts";
