export * from "./detector.ts";
export * from "./episodes.ts";
export * from "./rules.ts";
