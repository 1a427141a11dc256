import secureJson from "secure-json-parse";

const PROTOTYPE_KEYS = /__proto__|constructor/;

/**
 * Parses untrusted JSON. `__proto__` and `constructor.prototype` keys are removed rather than trusted, so a
 * crafted record cannot pollute prototypes of objects the pipeline builds from it.
 */
export function parseUntrustedJson(text: string): unknown {
  // A key can only spell `__proto__` or `constructor` literally or with `\u` escapes: text with neither
  // cannot hold one. One plain scan for both words costs a quarter of the library's two escape-aware ones.
  if (text.charCodeAt(0) !== 0xfeff && !text.includes("\\u") && !PROTOTYPE_KEYS.test(text)) {
    return JSON.parse(text);
  }
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

/**
 * Why a text is not JSON, without quoting it: V8's messages quote a piece of the input, which may be a
 * one-time code or a typed password, and rejection reasons are logged and kept.
 */
export function jsonErrorReason(error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (/Unexpected end of JSON input|Unterminated string/.test(message)) return "invalid JSON: truncated";
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position !== undefined) return `invalid JSON at position ${position}`;
  return "invalid JSON";
}
