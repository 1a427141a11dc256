export * from "./address-episodes.ts";
export * from "./detector.ts";
export * from "./rules.ts";
