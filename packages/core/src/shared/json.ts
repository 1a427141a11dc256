import secureJson from "secure-json-parse";

/**
 * Parses untrusted JSON. `__proto__` and `constructor.prototype` keys are removed rather than trusted, so a
 * crafted record cannot pollute prototypes of objects the pipeline builds from it.
 */
export function parseUntrustedJson(text: string): unknown {
  return secureJson.parse(text, undefined, { protoAction: "remove", constructorAction: "remove" });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function stringField(object: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function recordField(
  object: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const value = object?.[key];
  return isRecord(value) ? value : undefined;
}
